// UI tests of the capture editor's layout in a real VS Code (code-server + chromium): at 1000×700 with the
// editor about 650 px wide, every toolbar button and every column header can be reached (the list scrolls
// sideways, its header with it, labels whole), a column dragged wider stays wider, a hidden column leaves header and rows; a 64 GiB ramblock's page map reaches its last GiB. Writes docs/screenshots/editor-06-narrow.png.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FrameLocator, Locator } from 'playwright-core';
import { ROOT, assertPrerequisites, buildExtension, launchVSCode, type VSCodeSession, type Workbench } from './harness';
import { makeLargeCapture } from '../support/makeLargeCapture';
import { bigBlockCapture } from '../support/bigBlockCapture';

const GIB = 1024 ** 3;
const workspace = mkdtempSync(join(tmpdir(), 'mfd-ui-layout-'));
let vsc: VSCodeSession | undefined;
let wb: Workbench | undefined;

async function step<T>(name: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (wb)
      console.error(
        `failure screenshot: ${await wb.screenshot(`layout-${name}-failure`).catch(() => '')}\npage errors:\n${wb.pageErrors.join('\n')}`,
      );
    if (vsc) console.error(`code-server log: ${vsc.server.logFile}`);
    throw e;
  }
}

async function open(name: string): Promise<FrameLocator> {
  await wb!.quickOpen(name);
  const view = await wb!.webviewFrame();
  await view.locator('body[data-ready="true"]').waitFor({ timeout: 60_000 });
  await view.locator('.packet-list .layer .row:not(.pending)').first().waitFor({ timeout: 60_000 });
  return view;
}

type Box = { x: number; y: number; width: number; height: number };
const inside = (b: Box, o: Box) =>
  b.x >= o.x - 0.5 &&
  b.y >= o.y - 0.5 &&
  b.x + b.width <= o.x + o.width + 0.5 &&
  b.y + b.height <= o.y + o.height + 0.5;

/** The webview's box in the page: what of the editor the user sees. */
async function editorBox(): Promise<Box> {
  const b = await wb!.page.locator('iframe.webview.ready:visible').first().boundingBox();
  assert.ok(b, 'the webview is shown');
  return b;
}

/**
 * Whether the element is what the user sees at its centre (not clipped away, not covered). A disabled button
 * takes no pointer events: it must then lie wholly inside every clipping ancestor.
 */
async function hitAtCentre(l: Locator): Promise<boolean> {
  return l.evaluate((e: Element) => {
    const r = e.getBoundingClientRect();
    if (e.hasAttribute('disabled')) {
      for (let a = e.parentElement; a; a = a.parentElement) {
        if (getComputedStyle(a).overflow === 'visible') continue;
        const c = a.getBoundingClientRect();
        if (r.left < c.left - 0.5 || r.right > c.right + 0.5 || r.top < c.top - 0.5 || r.bottom > c.bottom + 0.5)
          return false;
      }
      return true;
    }
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return !!hit && (hit === e || e.contains(hit));
  });
}

/** Scrolls the list sideways with the mouse wheel (Shift+wheel, as a user does) until the header is inside it. */
async function scrollToHeader(view: FrameLocator, header: Locator): Promise<Box> {
  const vp = (await view.locator('.packet-list .viewport').boundingBox())!;
  await wb!.page.mouse.move(vp.x + vp.width / 2, vp.y + vp.height / 2);
  for (let i = 0; i < 40; i++) {
    const b = (await header.boundingBox())!;
    if (b.x >= vp.x - 0.5 && b.x + b.width <= vp.x + vp.width + 0.5) return b;
    await wb!.page.mouse.wheel(b.x < vp.x ? -80 : 80, 0);
    await wb!.page.waitForTimeout(50);
  }
  assert.fail(`header ${await header.textContent()} never scrolled into the list`);
}

before(async () => {
  assertPrerequisites();
  buildExtension();
  await makeLargeCapture(join(workspace, 'narrow.mfd'), { packets: 400, syncEvery: 100 });
  await bigBlockCapture(join(workspace, 'big-block.mfd'), 64);
  vsc = await launchVSCode();
  wb = await vsc.openWorkbench(workspace, { extensionDevelopmentPath: ROOT });
  await wb.page.setViewportSize({ width: 1000, height: 700 });
  await wb.waitForExplorerItem('narrow.mfd');
});

after(async () => {
  await vsc?.dispose();
  rmSync(workspace, { recursive: true, force: true });
});

test('1000×700, editor ~650 px wide: every toolbar button and column header is reachable', { timeout: 300_000 }, () =>
  step('narrow', async () => {
    const view = await open('narrow.mfd');
    // The side bar takes the rest: drag its edge until the editor is about 650 px wide.
    let ed = await editorBox();
    const sidebar = (await wb!.page.locator('.part.sidebar').boundingBox())!;
    const edge = sidebar.x + sidebar.width - 1;
    await wb!.page.mouse.move(edge + 1, sidebar.y + sidebar.height / 2);
    await wb!.page.mouse.down();
    await wb!.page.mouse.move(edge + 1 + (ed.width - 650), sidebar.y + sidebar.height / 2, { steps: 8 });
    await wb!.page.mouse.up();
    await wb!.page.waitForTimeout(500);
    ed = await editorBox();
    assert.ok(ed.width > 610 && ed.width < 690, `the editor is about 650 px wide (${ed.width})`);
    const page = { x: 0, y: 0, width: 1000, height: 700 };

    // Toolbars: summary actions and diagnostic counts, the filter bar, the list's Columns button.
    const buttons = view.locator(
      '.summary .actions vscode-button, .summary .diag-count, .filter vscode-button, .list-foot .list-tool',
    );
    const n = await buttons.count();
    assert.ok(n >= 11, `toolbar buttons (${n})`);
    for (let i = 0; i < n; i++) {
      const b = buttons.nth(i);
      await b.scrollIntoViewIfNeeded();
      const box = await b.boundingBox();
      const label = (await b.getAttribute('aria-label')) ?? (await b.textContent());
      assert.ok(box && inside(box, ed) && inside(box, page), `${label}: inside the editor (${JSON.stringify(box)})`);
      assert.ok(await hitAtCentre(b), `${label}: not clipped or covered`);
    }

    // Column headers: each scrolled into the list, whole, and over its column's cells.
    const headers = view.locator('.packet-list .header-row .cell:not([hidden])');
    const cols = await headers.count();
    assert.equal(cols, 9, 'every column shown by default');
    const rowCells = view.locator('.packet-list .layer .row:not([hidden]):not(.pending)').first().locator('.cell');
    for (let i = 0; i < cols; i++) {
      const h = headers.nth(i);
      const box = await scrollToHeader(view, h);
      assert.ok(inside(box, ed), `${await h.textContent()}: inside the editor`);
      assert.ok(await hitAtCentre(h), `${await h.textContent()}: not covered`);
      const cell = (await rowCells.nth(i).boundingBox())!;
      assert.ok(Math.abs(cell.x - box.x) < 1 && Math.abs(cell.width - box.width) < 1, 'header and rows aligned');
      const clipped = await h.locator('.label').evaluate((l: Element) => {
        const c = l.parentElement!.getBoundingClientRect();
        const r = l.getBoundingClientRect();
        return l.scrollWidth > l.clientWidth + 0.5 || r.left < c.left - 0.5 || r.right > c.right + 0.5;
      });
      assert.equal(clipped, false, `${await h.textContent()}: label not clipped`);
    }

    // Sorted by packet_num: the label and its sort icon still fit.
    const pn = view.locator('.packet-list .header-row .cell').filter({ hasText: 'packet_num' });
    await scrollToHeader(view, pn);
    await pn.click();
    await view
      .locator('.packet-list .header-row .cell[aria-sort="ascending"]')
      .filter({ hasText: 'packet_num' })
      .waitFor();
    const fits = await pn.evaluate((c: Element) => {
      const r = c.getBoundingClientRect();
      return [...c.children].every((k) => {
        const b = k.getBoundingClientRect();
        return b.width === 0 || (b.left >= r.left - 0.5 && b.right <= r.right + 0.5);
      });
    });
    assert.ok(fits, '"packet_num ▲" is whole');
    await wb!.screenshot('editor-06-narrow');
    copyFileSync(
      join(ROOT, 'test-artifacts', 'screenshots', 'editor-06-narrow.png'),
      join(ROOT, 'docs', 'screenshots', 'editor-06-narrow.png'),
    );

    // Resize: drag the Epoch header's right edge 40 px to the right.
    const epoch = view.locator('.packet-list .header-row .cell').filter({ hasText: 'Epoch' });
    const e0 = await scrollToHeader(view, epoch);
    await wb!.page.mouse.move(e0.x + e0.width - 2, e0.y + e0.height / 2);
    await wb!.page.mouse.down();
    await wb!.page.mouse.move(e0.x + e0.width + 38, e0.y + e0.height / 2, { steps: 5 });
    await wb!.page.mouse.up();
    const e1 = (await epoch.boundingBox())!;
    assert.ok(Math.abs(e1.width - (e0.width + 40)) < 3, `Epoch dragged wider: ${e0.width} → ${e1.width}`);

    // Hide Epoch from the Columns menu; the choice survives reloading the window.
    await view.locator('.list-foot .list-tool').click();
    await view.locator('.col-menu [role="menuitemcheckbox"]').filter({ hasText: 'Epoch' }).click();
    await epoch.waitFor({ state: 'hidden' });
    assert.equal(await view.locator('.packet-list .header-row .cell:not([hidden])').count(), 8);
    const cells = await view
      .locator('.packet-list .layer .row:not([hidden])')
      .first()
      .locator('.cell:not([hidden])')
      .count();
    assert.equal(cells, 8, 'rows follow the header');
    await wb!.page.keyboard.press('Escape');
    // Back to every column for what follows.
    await view.locator('.list-foot .list-tool').click();
    await view.locator('.col-menu [role="menuitem"]').filter({ hasText: 'Reset columns' }).click();
    assert.equal(await view.locator('.packet-list .header-row .cell:not([hidden])').count(), 9);
  }),
);

test(
  'a 64 GiB ramblock: a click near the end of the page map selects a page in its last GiB',
  { timeout: 300_000 },
  () =>
    step('big-block', async () => {
      const view = await open('big-block.mfd');
      await view.locator('vscode-button').filter({ hasText: 'Page map' }).click();
      await view
        .locator('.pm-info')
        .filter({ hasText: /pc\.ram: 16,777,216 pages/ })
        .waitFor({ timeout: 120_000 });
      const scroller = view.locator('.pagemap .canvas-scroll');
      const canvas = view.locator('.pagemap canvas');
      const dims = await canvas.evaluate((c: HTMLCanvasElement) => [c.width, c.height]);
      assert.ok(dims[0] <= 16384 && dims[1] <= 16384, `the canvas stays small: ${dims.join('×')}`);
      // The scrollbar dragged to the bottom, then a click on the last row drawn.
      const height = await scroller.evaluate((s: Element) => {
        s.scrollTop = s.scrollHeight;
        return s.scrollHeight;
      });
      assert.ok(height > 30000, `the map is taller than the old 30,000 px cut (${height})`);
      await wb!.page.waitForTimeout(200);
      const box = (await canvas.boundingBox())!;
      await canvas.click({ position: { x: 2, y: box.height - 2 } });
      const info = view.locator('.pm-info').filter({ hasText: /^page \d+ \(offset 0x[0-9a-f]+\)/ });
      await info.waitFor();
      const offset = Number(/offset (0x[0-9a-f]+)/.exec((await info.textContent()) ?? '')![1]);
      assert.ok(offset >= 63 * GIB && offset < 64 * GIB, `offset ${offset.toString(16)} is in the last GiB`);
      // The very last page (a zero page): End on the keyboard, and its writer listed.
      await canvas.focus();
      await wb!.page.keyboard.press('End');
      await wb!.page.keyboard.press('Enter');
      await view
        .locator('.pm-info')
        .filter({ hasText: `offset 0x${(64 * GIB - 4096).toString(16)}` })
        .filter({ hasText: '1 write' })
        .waitFor();
      await view.locator('.pm-writers .writer').filter({ hasText: 'zero page' }).waitFor();
    }),
);
