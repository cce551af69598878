import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHROMIUM, assertPrerequisites } from './paths';

/** Flags verified with Debian's chromium as root in a container (as root it does not start without --no-sandbox). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchChromiumOptions {
  /** Default true; MFD_HEADFUL=1 turns it off (needs a display). */
  headless?: boolean;
  /** Slow every Playwright action down by this many ms (debugging). */
  slowMo?: number;
}

export async function launchChromium(opts: LaunchChromiumOptions = {}): Promise<Browser> {
  assertPrerequisites({ browser: true });
  const { chromium } = await import('playwright-core');
  const headless = opts.headless ?? process.env.MFD_HEADFUL !== '1';
  return chromium.launch({
    executablePath: CHROMIUM,
    headless,
    args: headless ? CHROMIUM_ARGS : CHROMIUM_ARGS.filter((a) => a !== '--headless'),
    slowMo: opts.slowMo,
    timeout: 60_000,
  });
}

/** A fresh context + page with a viewport that fits the workbench, editor and a side bar. */
export async function newPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  return { context, page };
}
