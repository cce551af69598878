import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, FrameLocator, Locator, Page } from 'playwright-core';
import type { CodeServer } from './codeServer';
import { newPage } from './browser';
import { SCREENSHOTS_DIR } from './paths';

// Selectors are VS Code internals, checked against code-server 4.100.3 (VS Code 1.100.3): re-check on upgrade.
export const SEL = {
  workbench: '.monaco-workbench',
  explorerRow: '.explorer-folders-view .monaco-list-row',
  quickInput: '.quick-input-widget',
  quickInputBox: '.quick-input-widget .quick-input-box input',
  quickInputFocusedRow: '.quick-input-widget .quick-input-list .monaco-list-row.focused',
  activeTab: '.tabs-container .tab.active',
  webviewOuter: 'iframe.webview.ready',
  webviewInner: '#active-frame',
  toast: '.notifications-toasts .notification-toast',
} as const;

export interface WorkbenchUrlOptions {
  /** Folder to open (absolute or relative to the cwd); without it an empty window opens. */
  folder?: string;
  /** Load these extension folders as development extensions (like --extensionDevelopmentPath). */
  extensionDevelopmentPath?: string | string[];
  /** Run this test runner module in the extension host (like --extensionTestsPath). */
  extensionTestsPath?: string;
}

export interface OpenWorkbenchOptions extends WorkbenchUrlOptions {
  /** How long to wait for the workbench (and the explorer, with a folder). Default 90 s. */
  timeoutMs?: number;
  /** Called before navigation, e.g. to page.exposeFunction(). */
  beforeNavigate?: (page: Page) => Promise<void>;
  /** Skip waiting for the workbench to render (runExtensionHostTests waits for the exit call instead). */
  noWait?: boolean;
}

/** The workbench URL, with the `payload` query parameter the web workbench reads development options from. */
export function workbenchUrl(server: CodeServer, opts: WorkbenchUrlOptions = {}): string {
  const q = new URLSearchParams();
  if (opts.folder) q.set('folder', resolve(opts.folder));
  else q.set('ew', 'true');
  const payload: [string, string][] = [];
  const devPaths =
    opts.extensionDevelopmentPath === undefined ? [] : ([] as string[]).concat(opts.extensionDevelopmentPath);
  for (const p of devPaths) payload.push(['extensionDevelopmentPath', server.remoteUri(p)]);
  if (opts.extensionTestsPath) payload.push(['extensionTestsPath', server.remoteUri(opts.extensionTestsPath)]);
  if (payload.length) q.set('payload', JSON.stringify(payload));
  return `${server.url}?${q.toString()}`;
}

function sanitize(name: string): string {
  return name.replace(/\.png$/i, '').replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** One browser tab on the code-server workbench, with helpers for UI tests. */
export class Workbench {
  /** Browser console errors and uncaught page errors, for assertions or failure reports. */
  readonly pageErrors: string[] = [];

  private constructor(
    readonly page: Page,
    readonly context: BrowserContext,
    readonly server: CodeServer,
  ) {
    page.on('pageerror', (e) => this.pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') this.pageErrors.push(`console.error: ${m.text()}`);
    });
  }

  static async open(browser: Browser, server: CodeServer, opts: OpenWorkbenchOptions = {}): Promise<Workbench> {
    const { context, page } = await newPage(browser);
    const timeout = opts.timeoutMs ?? 90_000;
    page.setDefaultTimeout(30_000);
    const wb = new Workbench(page, context, server);
    if (opts.beforeNavigate) await opts.beforeNavigate(page);
    await page.goto(workbenchUrl(server, opts), { waitUntil: 'domcontentloaded', timeout });
    if (!opts.noWait) {
      await page.locator(SEL.workbench).waitFor({ state: 'visible', timeout });
      if (opts.folder) await page.locator(SEL.explorerRow).first().waitFor({ state: 'visible', timeout });
    }
    return wb;
  }

  /** Waits for a row with this text in the explorer tree (top-level entries, or expanded ones). */
  async waitForExplorerItem(name: string, timeoutMs = 60_000): Promise<Locator> {
    const row = this.page.locator(SEL.explorerRow).filter({ hasText: name }).first();
    await row.waitFor({ state: 'visible', timeout: timeoutMs });
    return row;
  }

  /** Opens a file by name with Quick Open (Ctrl+P) and waits for its editor tab to become active. */
  async quickOpen(fileName: string, timeoutMs = 30_000): Promise<void> {
    await this.openQuickInput('Control+P', timeoutMs);
    await this.page.locator(SEL.quickInputBox).fill(fileName);
    await this.page
      .locator(SEL.quickInputFocusedRow)
      .filter({ hasText: fileName })
      .waitFor({ state: 'visible', timeout: timeoutMs });
    await this.page.keyboard.press('Enter');
    await this.page
      .locator(SEL.activeTab)
      .filter({ hasText: fileName })
      .waitFor({ state: 'visible', timeout: timeoutMs });
  }

  /**
   * Runs a command by its title as shown in the palette (e.g. "MFD: Open Capture"), via F1. With
   * `opensQuickInput`, the command shows a quick pick of its own: that replaces the palette instead of hiding it.
   */
  async runCommand(title: string, timeoutMs = 30_000, opts: { opensQuickInput?: boolean } = {}): Promise<void> {
    await this.openQuickInput('F1', timeoutMs);
    await this.page.locator(SEL.quickInputBox).fill(`>${title}`);
    await this.page
      .locator(SEL.quickInputFocusedRow)
      .filter({ hasText: title })
      .waitFor({ state: 'visible', timeout: timeoutMs });
    await this.page.keyboard.press('Enter');
    if (opts.opensQuickInput) {
      await this.page.waitForFunction(
        (sel) => !(document.querySelector(sel) as HTMLInputElement | null)?.value.startsWith('>'),
        SEL.quickInputBox,
        { timeout: timeoutMs },
      );
      return;
    }
    await this.page.locator(SEL.quickInput).waitFor({ state: 'hidden', timeout: timeoutMs });
  }

  /**
   * The document inside the visible webview (custom editor or panel): VS Code nests it as
   * `iframe.webview.ready` → `#active-frame`. Waits until its body is there. `index` picks among several
   * visible webviews (default the first). Playwright locators pierce open shadow roots (vscode-elements).
   */
  async webviewFrame(opts: { index?: number; timeoutMs?: number } = {}): Promise<FrameLocator> {
    const timeout = opts.timeoutMs ?? 60_000;
    const outer = this.page.locator(`${SEL.webviewOuter}:visible`).nth(opts.index ?? 0);
    await outer.waitFor({ state: 'attached', timeout });
    const inner = outer.contentFrame().locator(SEL.webviewInner).contentFrame();
    await inner.locator('body').waitFor({ state: 'attached', timeout });
    return inner;
  }

  /** Waits for a notification toast containing `text`; returns it once its slide-in animation is over. */
  async waitForNotification(text: string | RegExp, timeoutMs = 30_000): Promise<Locator> {
    const toast = this.page.locator(SEL.toast).filter({ hasText: text }).first();
    await toast.waitFor({ state: 'visible', timeout: timeoutMs });
    await this.page.waitForTimeout(700);
    return toast;
  }

  /** Saves a PNG of the whole page as test-artifacts/screenshots/<name>.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    mkdirSync(SCREENSHOTS_DIR, { recursive: true });
    const path = join(SCREENSHOTS_DIR, `${sanitize(name)}.png`);
    await this.page.screenshot({ path, fullPage: false });
    return path;
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => {});
  }

  private async openQuickInput(key: string, timeoutMs: number): Promise<void> {
    const widget = this.page.locator(SEL.quickInput);
    // A key press can land while focus is moving (e.g. into a webview); retry a few times.
    for (let attempt = 0; ; attempt++) {
      if (await widget.isVisible()) {
        await this.page.keyboard.press('Escape');
        await widget.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => {});
      }
      await this.page.keyboard.press(key);
      try {
        await widget.waitFor({ state: 'visible', timeout: attempt < 3 ? 5_000 : timeoutMs });
        return;
      } catch (e) {
        if (attempt >= 3) throw e;
        // Give the workbench itself keyboard focus, then try again.
        await this.page
          .locator('.monaco-workbench .part.statusbar')
          .focus()
          .catch(() => {});
      }
    }
  }
}
