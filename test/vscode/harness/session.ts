import type { Browser } from 'playwright-core';
import { launchChromium, type LaunchChromiumOptions } from './browser';
import { startCodeServer, type CodeServer, type CodeServerOptions } from './codeServer';
import { Workbench, type OpenWorkbenchOptions } from './workbench';

/** code-server + chromium, started together and stopped together. */
export interface VSCodeSession {
  readonly server: CodeServer;
  readonly browser: Browser;
  /** Opens a new browser tab on the workbench for `folder` (explorer shown and populated before it resolves). */
  openWorkbench(folder?: string, opts?: Omit<OpenWorkbenchOptions, 'folder'>): Promise<Workbench>;
  /** Closes the browser, kills code-server's process group, deletes temporary dirs. Never throws. */
  dispose(): Promise<void>;
}

export interface LaunchVSCodeOptions extends CodeServerOptions, LaunchChromiumOptions {}

export async function launchVSCode(opts: LaunchVSCodeOptions = {}): Promise<VSCodeSession> {
  const server = await startCodeServer(opts);
  let browser: Browser;
  try {
    browser = await launchChromium(opts);
  } catch (e) {
    await server.stop();
    throw e;
  }
  const workbenches: Workbench[] = [];
  return {
    server,
    browser,
    async openWorkbench(folder, wopts = {}) {
      const wb = await Workbench.open(browser, server, { ...wopts, folder });
      workbenches.push(wb);
      return wb;
    },
    async dispose() {
      for (const wb of workbenches) await wb.close();
      await browser.close().catch(() => {});
      await server.stop().catch(() => {});
    },
  };
}
