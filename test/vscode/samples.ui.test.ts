// UI tests on a real sample capture in a real VS Code (code-server + chromium), with the .vsix installed as a
// user would: the packet list and summary agree with `mfd inspect`, a packet with zero pages shows its zero-page
// offsets highlighted, a filter narrows the list, Replay Capture… run from the palette rebuilds the same RAM as
// `mfd replay` into a folder of its own and offers to open an image, Compare without keeping the images names the
// page that differs and removes its temporary folder, and a capture full of hostile names renders them as text.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, assertPrerequisites, launchVSCode, packageVsix, type VSCodeSession, type Workbench } from './harness';
import { pickQuickItem } from './harness/openWith';
import { hostileCapture, HOSTILE_TEXT } from '../fuzz/hostileCapture';

const SAMPLE = 'qemu10-zstd-multifd-zero.mfd';
const workspace = mkdtempSync(join(tmpdir(), 'mfd-ui-samples-'));
const replayOut = join(workspace, 'replay-ui');
let vsc: VSCodeSession | undefined;
let wb: Workbench | undefined;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the JSON of `mfd inspect`, checked field by field
function inspect(file: string): any {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'mfd.js'), 'inspect', file, '--json'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function step<T>(name: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (wb)
      console.error(
        `failure screenshot: ${await wb.screenshot(`samples-${name}-failure`).catch(() => '')}\npage errors:\n${wb.pageErrors.join('\n')}`,
      );
    if (vsc) console.error(`code-server log: ${vsc.server.logFile}`);
    throw e;
  }
}

before(async () => {
  assertPrerequisites();
  copyFileSync(join(ROOT, 'samples', SAMPLE), join(workspace, SAMPLE));
  writeFileSync(join(workspace, 'hostile.mfd'), await hostileCapture());
  // Replay offers the configured folder first; it does not exist yet, so replay creates it.
  vsc = await launchVSCode({
    installExtensions: [packageVsix()],
    settings: { 'multifdInspector.replay.defaultFolder': replayOut },
  });
  wb = await vsc.openWorkbench(workspace);
  await wb.waitForExplorerItem(SAMPLE);
});

after(async () => {
  await vsc?.dispose();
  rmSync(workspace, { recursive: true, force: true });
});

test('a real sample: list and summary show the counts mfd inspect finds', { timeout: 180_000 }, () =>
  step('counts', async () => {
    const j = inspect(join(workspace, SAMPLE));
    await wb!.quickOpen(SAMPLE);
    const view = await wb!.webviewFrame();
    await view.locator('body[data-ready="true"]').waitFor({ timeout: 60_000 });
    const status = view.locator('.list-status');
    await status.filter({ hasText: 'packets' }).waitFor();
    // The list holds every multifd packet, then the main channel's rows ("N packets and M main-channel rows").
    const packetsShown = /^([\d,]+) packets/.exec((await status.textContent()) ?? '')?.[1] ?? '';
    assert.equal(Number(packetsShown.replace(/,/g, '')), j.totals.packets, 'packets in the list');
    const fact = async (label: string) =>
      Number(
        (
          (await view
            .locator('.summary .fact')
            .filter({ has: view.locator('.k', { hasText: new RegExp(`^${label}$`) }) })
            .locator('.v')
            .textContent()) ?? ''
        ).replace(/[^\d]/g, ''),
      );
    assert.equal(await fact('packets'), j.totals.packets);
    assert.equal(await fact('normal pages'), j.totals.normalPages);
    assert.equal(await fact('zero pages'), j.totals.zeroPages);
    assert.equal(await fact('channels'), j.channels);
    await wb!.screenshot('samples-01-real-capture');
  }),
);

test('filter zero > 0, select a packet: its zero-page offsets are listed and highlighted', { timeout: 120_000 }, () =>
  step('zero', async () => {
    const view = await wb!.webviewFrame();
    const box = view.locator('#filter-input');
    await box.click();
    await wb!.page.keyboard.press('Control+A');
    await wb!.page.keyboard.type('zero > 0 && normal > 0');
    await wb!.page.keyboard.press('Enter');
    const rows = view.locator('.packet-list .layer .row:not([hidden])');
    await view.locator('.list-status').filter({ hasText: /of/ }).waitFor({ timeout: 30_000 });
    const first = rows.first();
    const zeroCell = Number(((await first.locator('.cell').nth(6).textContent()) ?? '').trim()); // the zero column
    await first.click();
    await view.locator('.tree .item').filter({ hasText: 'offset[] zero pages' }).waitFor();
    const zeroItems = view.locator('.tree .item.zero');
    const n = await zeroItems.count();
    assert.ok(n > 0, 'zero-page offsets are listed');
    assert.equal(n, zeroCell, 'one highlighted entry per zero page');
    // Highlighted: zero-page entries are styled apart from normal ones.
    const zeroColor = await zeroItems.first().evaluate((e) => getComputedStyle(e.querySelector('.value') ?? e).color);
    const normalColor = await view
      .locator('.tree .item.normal')
      .first()
      .evaluate((e) => getComputedStyle(e.querySelector('.value') ?? e).color);
    assert.notEqual(zeroColor, normalColor, 'zero-page offsets stand out from normal ones');
    await zeroItems.first().click();
    await zeroItems.first().scrollIntoViewIfNeeded();
    await wb!.screenshot('samples-02-zero-pages');
  }),
);

test('Replay Capture… from the palette rebuilds the same RAM as mfd replay', { timeout: 300_000 }, () =>
  step('replay', async () => {
    const out = replayOut;
    assert.ok(!existsSync(out), 'the configured folder does not exist yet: replay creates it');
    await wb!.runCommand('Multifd: Replay Capture…', 30_000, { opensQuickInput: true });
    // The first choice is the configured folder (without the setting: <capture>.replay beside the capture).
    const first = wb!.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').first();
    await first.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match((await first.textContent()) ?? '', /Into replay-ui\/ \(multifdInspector\.replay\.defaultFolder\)/);
    await pickQuickItem(wb!, /Into replay-ui\//);
    const toast = await wb!.waitForNotification(/Replayed into/, 180_000);
    assert.match((await toast.textContent()) ?? '', /Replayed into \S*replay-ui: mem \([\d,]+ pages written/);
    for (const button of ['Reveal in Explorer', 'Open Image'])
      assert.equal(await toast.getByRole('button', { name: button }).count(), 1, `the notification offers ${button}`);
    await wb!.screenshot('samples-03-replay-done');
    const cli = join(workspace, 'replay-cli');
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'dist', 'mfd.js'), 'replay', join(workspace, SAMPLE), '--out', cli, '--json'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    for (const b of JSON.parse(r.stdout).blocks as { file: string }[]) {
      const name = b.file.slice(cli.length + 1);
      assert.ok(existsSync(join(out, name)), `${name} written by the editor's replay`);
      assert.ok(readFileSync(join(out, name)).equals(readFileSync(b.file)), `${name} is the same as mfd replay's`);
    }
    await toast.getByRole('button', { name: 'Open Image' }).click();
    // Several blocks: the editor asks which image; mem's opens in an editor tab.
    await pickQuickItem(wb!, /^mem/);
    await wb!.page.locator('.tabs-container .tab').filter({ hasText: 'mem.ram' }).first().waitFor({ timeout: 30_000 });
  }),
);

test(
  'Compare With Reference RAM… without keeping the images names the page that differs and leaves nothing',
  { timeout: 300_000 },
  () =>
    step('compare', async () => {
      // The reference: mfd replay's own image of mem, with one byte of page 5 changed.
      const refDir = mkdtempSync(join(tmpdir(), 'mfd-ui-reference-'));
      const r = spawnSync(
        process.execPath,
        [join(ROOT, 'dist', 'mfd.js'), 'replay', join(workspace, SAMPLE), '--out', refDir, '--json'],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
      const reference = join(refDir, 'mem.ram');
      const ram = readFileSync(reference);
      ram[5 * 4096 + 17] ^= 0xff;
      writeFileSync(reference, ram);
      const temporaries = () => readdirSync(tmpdir()).filter((n) => n.startsWith('mfd-compare-')).length;
      const before = temporaries();
      try {
        await wb!.runCommand('View: Close All Editors');
        await wb!.quickOpen(SAMPLE);
        const view = await wb!.webviewFrame();
        await view.locator('body[data-ready="true"]').waitFor({ timeout: 60_000 });
        await view.locator('.packet-list .row').first().waitFor({ timeout: 60_000 });
        await wb!.runCommand('Multifd: Compare With Reference RAM…', 30_000, { opensQuickInput: true });
        // Several ramblocks: choose mem only.
        const input = wb!.page.locator('.quick-input-widget .quick-input-box input');
        await input.waitFor({ state: 'visible', timeout: 30_000 });
        await input.fill('mem');
        // A click on the row ticks it (the list is filtered to mem); then OK.
        await wb!.page
          .locator('.quick-input-widget .quick-input-list .monaco-list-row')
          .filter({ hasText: 'mem' })
          .first()
          .click();
        await wb!.page
          .locator('.quick-input-widget .quick-input-header')
          .getByText('1 Selected')
          .waitFor({ timeout: 10_000 });
        await input.press('Enter');
        // The reference image, through VS Code's own (simple) file dialog: its path typed in.
        for (let i = 0; i < 100 && !(await input.inputValue()).startsWith('/'); i++) await wb!.page.waitForTimeout(100);
        await input.fill(reference);
        // The dialog's own accept button ("Use for mem"): Enter on a typed path may only navigate.
        await wb!.page.locator('.quick-input-widget .monaco-button').filter({ hasText: 'Use for mem' }).click();
        await pickQuickItem(wb!, 'Compare without keeping the images');
        const toast = await wb!.waitForNotification(/Compared \(images not kept\)/, 180_000);
        assert.match((await toast.textContent()) ?? '', /1 page differs from the reference/);
        assert.equal(await toast.getByRole('button', { name: 'Open Image' }).count(), 0, 'no image to open');
        assert.equal(temporaries(), before, 'the temporary folder is removed');
      } finally {
        rmSync(refDir, { recursive: true, force: true });
      }
    }),
);

test('hostile names in a capture render as text, never as HTML', { timeout: 120_000 }, () =>
  step('hostile', async () => {
    await wb!.quickOpen('hostile.mfd');
    const view = await wb!.webviewFrame();
    await view.locator('body[data-ready="true"]').waitFor({ timeout: 60_000 });
    await view
      .locator('.packet-list .row')
      .filter({ hasText: '<img src=x onerror=alert(1)>' })
      .first()
      .waitFor({ timeout: 30_000 });
    assert.equal(await view.locator('img').count(), 0, 'no <img> element was created from a capture string');
    const scripts = await view
      .locator('script')
      .evaluateAll((els) => els.map((e) => (e as HTMLScriptElement).outerHTML.slice(0, 200)));
    assert.deepEqual(
      scripts.filter((t) => /<img|onerror|alert\(|pwned/.test(t)),
      [],
      `no script came from a capture string: ${scripts.join(' | ')}`,
    );
    assert.notEqual(await wb!.page.title(), 'pwned');
    await view.locator('.packet-list .row').filter({ hasText: '<img src=x onerror=alert(1)>' }).first().click();
    await view.locator('.tree .item').filter({ hasText: '<img src=x onerror=alert(1)>' }).first().waitFor();
    assert.ok(HOSTILE_TEXT.length > 0);
    assert.deepEqual(
      wb!.pageErrors.filter((e) => /Content.Security.Policy|Refused to/i.test(e)),
      [],
      'no CSP violation was even attempted',
    );
    await wb!.screenshot('samples-04-hostile-names');
  }),
);
