import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { format } from 'node:util';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser';
import { startCodeServer, type CodeServer } from './codeServer';
import { registerCleanup } from './cleanup';
import { LOGS_DIR } from './paths';
import { Workbench } from './workbench';

export interface ExtensionHostTestOptions {
  /** Folder with the extension's package.json (the development extension). */
  extensionDevelopmentPath: string;
  /** The runner module (exports `run(): Promise<void>`) or a folder with index.js, as for @vscode/test-electron. */
  extensionTestsPath: string;
  /** Folder to open; default: a new empty temporary folder. */
  workspace?: string;
  /** Extra environment for the extension host (it inherits code-server's environment). */
  env?: Record<string, string>;
  /** Overall limit for one run (default 180 s). */
  timeoutMs?: number;
  /** Receives each line the extension host logs (mocha's reporter output among them). Default: stdout. */
  onLog?: (line: string) => void;
  /** Pass all workbench log lines through, including known chatter (default: MFD_VSCODE_VERBOSE=1). */
  verbose?: boolean;
  /** Screenshot taken when the run times out (default test-artifacts/screenshots/exthost-timeout.png). */
  timeoutScreenshot?: string;
}

/**
 * Workbench chatter that the web workbench logs on every run (connection set-up, the disabled gallery, shutdown);
 * dropped unless `verbose` (or MFD_VSCODE_VERBOSE=1). The extension host's own console output is never dropped.
 */
const NOISE = [
  /^(Resolving|Resolved) connection token/,
  /^Creating a socket \(/,
  /^Ignoring fetching additional builtin extensions from gallery/,
  /^Updating additional builtin extensions cache/,
  /^ChatSessionStore: /,
  /^Creation of workbench contribution '.*' took \d+ms/,
  /^\[Service Worker\] registered/,
  /^\[lifecycle\] Long running operations during shutdown are unsupported in the web/,
  /open-vsx|ENOTFOUND|getaddrinfo/,
];

/**
 * Runs an extension-host test suite inside code-server's Node extension host, the way @vscode/test-electron does in
 * desktop VS Code: the runner's `run()` promise decides the exit code. Resolves to that code (0 = all passed).
 * Rejects on infrastructure failures (server or browser did not start, time-out).
 */
export async function runExtensionHostTests(opts: ExtensionHostTestOptions): Promise<number> {
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const onLog = opts.onLog ?? ((line: string) => process.stdout.write(`${line}\n`));
  const verbose = opts.verbose ?? process.env.MFD_VSCODE_VERBOSE === '1';
  let workspace = opts.workspace;
  let tmpWorkspace: string | undefined;
  let unregister = () => {};
  if (!workspace) {
    const dir = mkdtempSync(join(tmpdir(), 'mfd-exthost-ws-'));
    tmpWorkspace = workspace = dir;
    unregister = registerCleanup(() => rmSync(dir, { recursive: true, force: true }));
  }

  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let wb: Workbench | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    server = await startCodeServer({ env: opts.env, logName: 'code-server-exthost' });
    browser = await launchChromium();

    let settle!: (code: number) => void;
    const exitCode = new Promise<number>((res) => (settle = res));
    const srv = server;

    wb = await Workbench.open(browser, server, {
      folder: workspace,
      extensionDevelopmentPath: resolve(opts.extensionDevelopmentPath),
      extensionTestsPath: resolve(opts.extensionTestsPath),
      noWait: true,
      timeoutMs,
      beforeNavigate: async (page) => {
        await page.exposeFunction('codeAutomationLog', (type: unknown, args: unknown) => {
          const text = Array.isArray(args) ? format(...args) : typeof args === 'string' ? args : format(args);
          if (!verbose && NOISE.some((re) => re.test(text))) return;
          for (const line of text.replace(/\n$/, '').split('\n')) onLog(type === 'error' ? `[error] ${line}` : line);
        });
        await page.exposeFunction('codeAutomationExit', (code: number, logs?: unknown) => {
          saveWorkbenchLogs(logs);
          settle(typeof code === 'number' ? code : 1);
        });
      },
    });

    const timedOut = new Promise<never>((_, rej) => {
      timer = setTimeout(async () => {
        if (wb && opts.timeoutScreenshot !== '') {
          await wb.screenshot(opts.timeoutScreenshot ?? 'exthost-timeout').catch(() => {});
        }
        rej(
          new Error(
            `extension-host tests did not finish within ${timeoutMs} ms. code-server log (${srv.logFile}):\n${tail(srv.log())}\n${tail(wb?.pageErrors.join('\n') ?? '')}`,
          ),
        );
      }, timeoutMs);
    });
    const serverDied = srv.exited.then((code) => {
      throw new Error(`code-server exited (${code}) during the test run:\n${tail(srv.log())}`);
    });
    return await Promise.race([exitCode, timedOut, serverDied]);
  } finally {
    if (timer) clearTimeout(timer);
    await wb?.close();
    await browser?.close().catch(() => {});
    await server?.stop().catch(() => {});
    if (tmpWorkspace) rmSync(tmpWorkspace, { recursive: true, force: true });
    unregister();
  }
}

function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** The workbench hands its own log files to codeAutomationExit; keep them for post-mortems. */
function saveWorkbenchLogs(logs: unknown): void {
  if (!Array.isArray(logs)) return;
  try {
    const dir = join(LOGS_DIR, `workbench-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    for (const entry of logs) {
      if (!entry || typeof entry !== 'object') continue;
      const { relativePath, contents } = entry as { relativePath?: unknown; contents?: unknown };
      if (typeof relativePath !== 'string' || typeof contents !== 'string') continue;
      const file = resolve(dir, relativePath);
      if (!file.startsWith(dir)) continue;
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, contents);
    }
  } catch {
    /* diagnostics only */
  }
}
