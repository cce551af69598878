// UI tests of the capture editor in a real VS Code (code-server + chromium, see test/vscode/harness):
// opens a synthetic capture, checks the three linked panes, keyboard navigation, the filter's error state,
// the page map, the CSP (no console errors), and measures first paint and scrolling on a large capture.
//   MFD_UI_LARGE_PACKETS=200000   size of the large capture (default 200000; 0 skips the performance test)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { ROOT, assertPrerequisites, buildExtension, launchVSCode, type VSCodeSession, type Workbench } from './harness';
import { makeLargeCapture } from '../support/makeLargeCapture';

const workspace = mkdtempSync(join(tmpdir(), 'mfd-ui-'));
let vsc: VSCodeSession | undefined;
let wb: Workbench | undefined;
let view: FrameLocator;

async function failure(name: string, e: unknown): Promise<never> {
  if (wb) {
    const shot = await wb.screenshot(`${name}-failure`).catch(() => undefined);
    console.error(`failure screenshot: ${shot}\npage errors:\n${wb.pageErrors.join('\n')}`);
  }
  if (vsc) console.error(`code-server log: ${vsc.server.logFile}`);
  throw e;
}

const MILLION = 1_000_000;

before(async () => {
  assertPrerequisites();
  buildExtension();
  await makeLargeCapture(join(workspace, 'small.mfd'), { packets: 2000, syncEvery: 400 });
  const large = Number(process.env.MFD_UI_LARGE_PACKETS ?? 200_000);
  if (large > 0) await makeLargeCapture(join(workspace, 'large.mfd'), { packets: large });
  // A million rows, past where a capped spacer used to leave the last rows out of reach. 64 KiB pages and no data
  // keep each packet small (about 380 bytes), so the file stays near 366 MiB.
  await makeLargeCapture(join(workspace, 'million.mfd'), {
    packets: MILLION,
    pageSize: 65536,
    normalEvery: 0,
    syncEvery: 0,
  });
  vsc = await launchVSCode();
  wb = await vsc.openWorkbench(workspace, { extensionDevelopmentPath: ROOT });
  await wb.waitForExplorerItem('small.mfd');
});

after(async () => {
  await vsc?.dispose();
  rmSync(workspace, { recursive: true, force: true });
});

test('the capture opens in the custom editor with summary, list, details and bytes', { timeout: 180_000 }, async () => {
  try {
    await wb!.quickOpen('small.mfd');
    view = await wb!.webviewFrame();
    await view.locator('body[data-ready="true"]').waitFor({ timeout: 60_000 });
    await assert.doesNotReject(view.locator('.summary .fact').filter({ hasText: 'page size' }).waitFor());
    const rows = view.locator('.packet-list .layer .row:not([hidden])');
    const n = await rows.count();
    assert.ok(n > 5 && n < 200, `only visible rows are in the DOM (${n})`);
    assert.match((await view.locator('.list-status').textContent()) ?? '', /2,\d{3} packets/);

    // Keyboard: focus the list, ArrowDown selects, details and header bytes follow.
    await view.locator('.packet-list').focus();
    await wb!.page.keyboard.press('ArrowDown');
    await view.locator('.tree .item').filter({ hasText: 'MultiFDPacket_t' }).waitFor();
    await view.locator('.tree .item').filter({ hasText: 'zero_pages' }).click();
    assert.equal(await view.locator('.hex .b.hl').count(), 4, 'zero_pages highlights its 4 bytes');
    await wb!.page.keyboard.press('Enter'); // on a field: stays in the header tab
    await view.locator('.tree .item.zero').first().click();
    assert.equal(await view.locator('.hex .b.hl').count(), 8, 'an offset[] entry highlights 8 bytes');
    await wb!.page.keyboard.press('Enter');
    await view.locator('.hex-caption').filter({ hasText: 'zero page offset[' }).waitFor();
    await wb!.screenshot('editor-01-panes');
  } catch (e) {
    await failure('editor-01', e);
  }
});

test('the filter turns red on a syntax error and filters on the host', { timeout: 120_000 }, async () => {
  try {
    const input = view.locator('vscode-textfield#filter-input input');
    await input.fill('channel == ');
    await input.press('Enter');
    await view.locator('.filter.invalid .filter-message').filter({ hasText: 'ends too early' }).waitFor();
    await wb!.screenshot('editor-02-filter-error');
    await input.fill('sync');
    await input.press('Enter');
    await view.locator('.list-status').filter({ hasText: 'match the filter' }).waitFor();
    assert.equal(await view.locator('.filter.invalid').count(), 0);
    await input.fill('');
    await input.press('Enter');
    await view
      .locator('.list-status')
      .filter({ hasText: /^[\d,]+ packets( and [\d,]+ main-channel rows)?$/ })
      .waitFor();
  } catch (e) {
    await failure('editor-02', e);
  }
});

test('page map shows the ramblock and lists the writers of a page', { timeout: 120_000 }, async () => {
  try {
    await view.locator('vscode-button').filter({ hasText: 'Page map' }).click();
    await view.locator('.pm-info').filter({ hasText: 'pc.ram:' }).waitFor({ timeout: 60_000 });
    await view.locator('.pagemap canvas').click({ position: { x: 2, y: 2 } });
    await view.locator('.pm-writers .writer').first().waitFor();
    await wb!.screenshot('editor-03-page-map');
    assert.deepEqual(
      wb!.pageErrors.filter((e) => /Content.Security.Policy|Refused/i.test(e)),
      [],
      'no CSP violations',
    );
  } catch (e) {
    await failure('editor-03', e);
  }
});

test('commands are in the palette under "Multifd"', { timeout: 60_000 }, async () => {
  try {
    // The command opens its own input box, so drive the palette directly (runCommand waits for it to close).
    const box = wb!.page.locator('.quick-input-widget .quick-input-box input');
    await wb!.page.keyboard.press('F1');
    await box.fill('>Multifd: Go to Packet');
    await wb!.page
      .locator('.quick-input-widget .quick-input-list .monaco-list-row.focused')
      .filter({ hasText: 'Multifd: Go to Packet' })
      .waitFor();
    await wb!.page.keyboard.press('Enter');
    await wb!.page.locator('.quick-input-widget').filter({ hasText: 'stream:index' }).waitFor();
    await box.fill('1:10');
    await wb!.page.keyboard.press('Enter');
    await view.locator('.tree .item').filter({ hasText: 'packet 10,' }).waitFor();
  } catch (e) {
    await failure('editor-04', e);
  }
});

test(
  'large capture: first paint and scrolling (figures printed)',
  { timeout: 600_000, skip: Number(process.env.MFD_UI_LARGE_PACKETS ?? 200_000) === 0 },
  async () => {
    try {
      const t0 = Date.now();
      await wb!.quickOpen('large.mfd');
      const v = await wb!.webviewFrame();
      await v.locator('body[data-ready="true"]').waitFor({ timeout: 300_000 });
      await v.locator('.packet-list .layer .row:not(.pending)').first().waitFor();
      const firstPaint = Date.now() - t0;
      // Scroll through the list: 60 jumps of a page, measured inside the webview with requestAnimationFrame.
      const frames = await v.locator('.viewport').evaluate(async (vp: Element) => {
        const times: number[] = [];
        let last = performance.now();
        for (let i = 0; i < 60; i++) {
          vp.scrollTop += vp.clientHeight * 37;
          await new Promise((r) => requestAnimationFrame(() => r(null)));
          const now = performance.now();
          times.push(now - last);
          last = now;
        }
        return times;
      });
      // Rows of the new position arrive from the host (getRows) shortly after the jump.
      const t1 = Date.now();
      await v.locator('.packet-list .layer .row:not(.pending):not([hidden])').first().waitFor({ timeout: 10_000 });
      const fill = Date.now() - t1;
      frames.sort((a, b) => a - b);
      const p95 = frames[Math.floor(frames.length * 0.95)];
      console.log(
        `# large capture: first paint ${firstPaint} ms (indexing included); scroll frame p50 ${frames[30].toFixed(1)} ms, p95 ${p95.toFixed(1)} ms; rows filled ${fill} ms after the last jump`,
      );
      await wb!.screenshot('editor-05-large');
      // Figures are printed, not asserted: this machine is shared and noisy (timing targets live in npm run bench).
      // What must hold whatever the load: the list stays virtualized after scrolling through 200k rows.
      const inDom = await v.locator('.packet-list .layer .row').count();
      assert.ok(inDom > 0 && inDom < 500, `only visible rows are in the DOM after scrolling (${inDom})`);
    } catch (e) {
      await failure('editor-05', e);
    }
  },
);

test('a 1,000,000-row list reaches its last row with End and with the scrollbar', { timeout: 600_000 }, async () => {
  try {
    await wb!.quickOpen('million.mfd');
    const v = await wb!.webviewFrame();
    await v.locator('body[data-ready="true"]').waitFor({ timeout: 300_000 });
    await v.locator('.packet-list .layer .row:not(.pending)').first().waitFor({ timeout: 120_000 });
    const status = await v.locator('.packet-list .list-status').textContent();
    assert.match(status ?? '', /1,000,000 packets/);
    const lastRow = v.locator(`.packet-list .layer .row[aria-rowindex="${MILLION + 1}"]:not(.pending):not([hidden])`);
    // Whether the last row lies wholly inside the list's viewport.
    const lastRowInView = async () =>
      lastRow.evaluate((row: Element) => {
        const vp = row.closest('.viewport')!.getBoundingClientRect();
        const r = row.getBoundingClientRect();
        return r.top >= vp.top - 0.5 && r.bottom <= vp.bottom + 0.5;
      });

    await v.locator('.packet-list .layer .row').first().click();
    await v.locator('.packet-list').press('End');
    await lastRow.waitFor({ timeout: 30_000 });
    assert.equal(await lastRowInView(), true, 'End: the last row is in view');
    assert.equal(await lastRow.getAttribute('aria-selected'), 'true', 'End selects the last row');

    await v.locator('.packet-list').press('Home');
    await v.locator('.packet-list .layer .row[aria-rowindex="2"]:not([hidden])').waitFor({ timeout: 30_000 });
    // The scrollbar dragged to the bottom: the viewport scrolled as far as it goes.
    await v.locator('.packet-list .viewport').evaluate((vp: Element) => {
      vp.scrollTop = vp.scrollHeight;
    });
    await lastRow.waitFor({ timeout: 30_000 });
    assert.equal(await lastRowInView(), true, 'scrollbar at the bottom: the last row is in view');
  } catch (e) {
    await failure('editor-million', e);
  }
});
