// UI tests of the main channel in the packet list, in a real VS Code (code-server + chromium) with the .vsix
// installed: a real QEMU 7.2 capture lists its main-channel records among the multifd packets, `stream == 0`
// keeps exactly the records `mfd sections` and `mfd inspect` count, a ZERO record's details show its fields;
// a capture with the return path on shows PONG rows with their times; a main-channel diagnostic in the
// Problems panel reveals its row.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { ROOT, assertPrerequisites, launchVSCode, packageVsix, type VSCodeSession, type Workbench } from './harness';
import { mainChannelCapture } from '../support/mainChannelCapture';

const SAMPLE = 'qemu72-nocomp.mfd';
const RP = 'return-path.mfd';
const workspace = mkdtempSync(join(tmpdir(), 'mfd-ui-main-'));
let vsc: VSCodeSession | undefined;
let wb: Workbench | undefined;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the CLI's JSON, checked field by field
function mfd(...args: string[]): any {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'mfd.js'), ...args, '--json'], { encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  return JSON.parse(r.stdout);
}

async function step<T>(name: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (wb)
      console.error(
        `failure screenshot: ${await wb.screenshot(`main-${name}-failure`).catch(() => '')}\npage errors:\n${wb.pageErrors.join('\n')}`,
      );
    if (vsc) console.error(`code-server log: ${vsc.server.logFile}`);
    throw e;
  }
}

async function open(name: string): Promise<FrameLocator> {
  await wb!.quickOpen(name);
  const view = await wb!.webviewFrame();
  await view.locator('body[data-ready="true"]').waitFor({ timeout: 60_000 });
  await view.locator('.list-status').filter({ hasText: 'main-channel rows' }).waitFor({ timeout: 60_000 });
  return view;
}

/** Applies a filter and returns how many rows it keeps. */
async function filterCount(view: FrameLocator, filter: string): Promise<number> {
  // fill() sets the whole text at once: typed keys would open the field completion on the way.
  const input = view.locator('vscode-textfield#filter-input input');
  await input.fill(filter);
  await input.press('Enter');
  // The list marks the filter it shows once the host has applied it.
  const list = view.locator('.packet-list');
  for (let i = 0; (await list.getAttribute('data-filter')) !== filter; i++) {
    assert.ok(i < 300, `the filter "${filter}" was applied`);
    await wb!.page.waitForTimeout(100);
  }
  const text = (await view.locator('.list-status').textContent()) ?? '';
  const m = /^([\d,]+) of /.exec(text);
  if (!filter) return Number(/^([\d,]+) packets and ([\d,]+)/.exec(text)![2].replace(/,/g, ''));
  assert.ok(m, `status after "${filter}": ${text}`);
  return Number(m[1].replace(/,/g, ''));
}

before(async () => {
  assertPrerequisites();
  copyFileSync(join(ROOT, 'samples', SAMPLE), join(workspace, SAMPLE));
  writeFileSync(join(workspace, RP), mainChannelCapture({ zeroRecords: 300 }).bytes);
  vsc = await launchVSCode({ installExtensions: [packageVsix()] });
  wb = await vsc.openWorkbench(workspace);
  await wb.waitForExplorerItem(SAMPLE);
});

after(async () => {
  await vsc?.dispose();
  rmSync(workspace, { recursive: true, force: true });
});

test(
  'a real 7.2 capture: main-channel rows, stream == 0 keeps what mfd sections and mfd inspect count',
  { timeout: 240_000 },
  () =>
    step('counts', async () => {
      const sections = mfd('sections', join(workspace, SAMPLE)).mainChannel;
      const inspect = mfd('inspect', join(workspace, SAMPLE));
      const mainStream = inspect.streams.find((s: { kind: string }) => s.kind === 'main');
      const expected = sections.recordCount + mainStream.main.records + sections.returnPath.messages.length;
      const view = await open(SAMPLE);
      const status = (await view.locator('.list-status').textContent()) ?? '';
      assert.match(
        status,
        new RegExp(`^${inspect.totals.packets} packets and ${expected.toLocaleString('en-US')} main-channel rows`),
      );
      assert.equal(
        await filterCount(view, `stream == ${sections.streamId}`),
        expected,
        'stream == 0: every main-channel row',
      );
      assert.equal(await filterCount(view, 'kind == "main"'), sections.rows.length, 'the records mfd sections lists');
      assert.equal(await filterCount(view, 'record == "ZERO"'), inspect.totals.mainZeroRecords, 'ZERO records');
      assert.equal(await filterCount(view, 'section == "timer"'), 1);
      // A ZERO record: its row names block and offset, its details show the record's fields through the layout.
      assert.ok((await filterCount(view, 'record == "ZERO" && ramblock == "mem"')) > 0);
      const row = view.locator('.packet-list .layer .row:not([hidden])').first();
      assert.match((await row.textContent()) ?? '', /0 \/ main.*ZERO.*mem @0x/);
      await row.click();
      await view.locator('.tree .item').filter({ hasText: 'RAM record (save_page_header)' }).waitFor();
      const addr = view.locator('.tree .item').filter({ hasText: /^addr/ }).first();
      await addr.waitFor();
      assert.match((await addr.textContent()) ?? '', /ZERO/);
      await addr.click();
      // Its bytes are highlighted in the bytes pane: the 8-byte addr word.
      await view.locator('.bytes .b.hl').first().waitFor();
      assert.equal(await view.locator('.bytes .b.hl').count(), 8, 'the addr field: 8 bytes highlighted');
      await wb!.screenshot('main-01-zero-record');
      // A command row, filterable by name.
      assert.equal(
        await filterCount(view, 'kind == "main" && record == "COMMAND"'),
        sections.rows.filter((r: { command?: unknown }) => r.command).length,
      );
    }),
);

test('a main-channel diagnostic in the Problems panel reveals its row', { timeout: 120_000 }, () =>
  step('problems', async () => {
    const view = await wb!.webviewFrame();
    await filterCount(view, '');
    await wb!.page.keyboard.press('Control+Shift+M');
    const entry = wb!.page.locator('.markers-panel .monaco-list-row').filter({ hasText: 'main.vmdesc' }).first();
    await entry.waitFor({ timeout: 30_000 });
    // The code is a link to the row (the entry's line is the row's index in the main channel).
    await entry.getByText('main.vmdesc', { exact: true }).click();
    const selected = view.locator('.packet-list .layer .row.selected');
    await selected.filter({ hasText: 'VMDESCRIPTION' }).waitFor({ timeout: 30_000 });
    await wb!.screenshot('main-02-problem-revealed');
  }),
);

test('the return path: PONG rows with their times, each matched to its PING', { timeout: 120_000 }, () =>
  step('return-path', async () => {
    const sections = mfd('sections', join(workspace, RP)).mainChannel;
    assert.ok(sections.returnPath.messages.length >= 2, 'the generated capture carries return-path messages');
    const view = await open(RP);
    assert.equal(await filterCount(view, 'returnpath'), sections.returnPath.messages.length);
    const pong = view.locator('.packet-list .layer .row:not([hidden])').filter({ hasText: 'PONG' }).first();
    await pong.waitFor();
    const text = (await pong.textContent()) ?? '';
    assert.match(text, /0 \/ return path/);
    assert.match(text, /answers the PING at main-channel offset \d+/);
    const time = ((await pong.locator('.c-time').textContent()) ?? '').trim();
    assert.ok(Number(time) > 0, `a PONG has its capture time (${time})`);
    await pong.click();
    await view.locator('.tree .item').filter({ hasText: 'return path PONG' }).waitFor();
    await view
      .locator('.tree .item')
      .filter({ hasText: /^value/ })
      .first()
      .waitFor();
    assert.equal(await filterCount(view, 'command == "PING"'), sections.pings.length);
    const ping = view.locator('.packet-list .layer .row:not([hidden])').first();
    assert.match((await ping.textContent()) ?? '', /COMMAND PING \(value 1\); PONG at return-path offset 0/);
    await wb!.screenshot('main-03-return-path');
  }),
);
