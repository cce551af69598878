// UI tests of tcpdump captures in a real VS Code (code-server + chromium), with the .vsix installed: the bundled
// real tcpdump sample opens through Open With… and shows the counts `mfd inspect` finds; a pcap holding two
// migrations asks which one with a quick pick, remembers the choice, and switches with Choose Migration in Capture….
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { ROOT, assertPrerequisites, launchVSCode, packageVsix, type VSCodeSession, type Workbench } from './harness';
import { openWithInspector, pickQuickItem as pickQuickItemIn } from './harness/openWith';
import { openCapture } from '../../extension/core/capture/openCapture';
import { streamKindOf } from '../../extension/core/layout/streamMagic';
import { pcapFile, tcpConnection, type TcpFrame } from '../support/pcapWriter';

const SAMPLE = 'qemu10-zstd-live.pcap';
const TWO = 'two-migrations.pcap';
const workspace = mkdtempSync(join(tmpdir(), 'mfd-ui-pcap-'));
let vsc: VSCodeSession | undefined;
let wb: Workbench | undefined;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the JSON of `mfd inspect`, checked field by field
function inspect(file: string, ...args: string[]): any {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'mfd.js'), 'inspect', file, '--json', ...args], {
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
        `failure screenshot: ${await wb.screenshot(`pcap-${name}-failure`).catch(() => '')}\npage errors:\n${wb.pageErrors.join('\n')}`,
      );
    if (vsc) console.error(`code-server log: ${vsc.server.logFile}`);
    throw e;
  }
}

/**
 * The sample's migration sent twice: to port 4444 as captured (main channel and every multifd channel), then,
 * a minute later, to port 5555 with the main channel and only the first multifd channel.
 */
async function twoMigrationPcap(): Promise<Buffer> {
  const cap = await openCapture(join(ROOT, 'samples', SAMPLE));
  try {
    const streams: { toServer: Uint8Array; toClient: Uint8Array; main: boolean }[] = [];
    for (const s of cap.streams) {
      const toServer = await s.toDestination.read(0, s.toDestination.length);
      streams.push({
        toServer,
        toClient: await s.toSource.read(0, s.toSource.length),
        main: streamKindOf(toServer.subarray(0, 4)) === 'main',
      });
    }
    streams.sort((a, b) => Number(b.main) - Number(a.main));
    const frames: TcpFrame[] = [];
    const send = (port: number, list: typeof streams, startUs: number) =>
      list.forEach((s, i) =>
        frames.push(
          ...tcpConnection({
            client: ['127.0.0.1', 40000 + port + i],
            server: ['127.0.0.1', port],
            toServer: s.toServer,
            toClient: s.toClient,
            mss: 16000,
            startUs: startUs + i * 1000,
          }),
        ),
      );
    send(4444, streams, 1_700_000_000_000_000);
    send(5555, streams.slice(0, 2), 1_700_000_060_000_000);
    return pcapFile('ethernet', frames);
  } finally {
    await cap.source.close();
  }
}

const openWith = (name: string) => openWithInspector(wb!, name);
const pickQuickItem = (text: string | RegExp) => pickQuickItemIn(wb!, text);

async function readyView(): Promise<FrameLocator> {
  const view = await wb!.webviewFrame();
  await view.locator('body[data-ready="true"]').waitFor({ timeout: 90_000 });
  await view.locator('.list-status').filter({ hasText: 'packets' }).waitFor();
  return view;
}

const factLocator = (view: FrameLocator, label: string) =>
  view.locator('.summary .fact').filter({ has: view.locator('.k', { hasText: new RegExp(`^${label}$`) }) });
const factText = async (view: FrameLocator, label: string) =>
  ((await factLocator(view, label).locator('.v').textContent()) ?? '').trim();
const factNumber = async (view: FrameLocator, label: string) =>
  Number((await factText(view, label)).replace(/[^\d]/g, ''));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the JSON of `mfd inspect`
async function assertCounts(view: FrameLocator, j: any): Promise<void> {
  const status = view.locator('.list-status');
  // The list holds every multifd packet, then the main channel's rows ("N packets and M main-channel rows").
  const packetsShown = /^([\d,]+) packets/.exec((await status.textContent()) ?? '')?.[1] ?? '';
  assert.equal(Number(packetsShown.replace(/,/g, '')), j.totals.packets, 'packets in the list');
  assert.equal(await factNumber(view, 'packets'), j.totals.packets);
  assert.equal(await factNumber(view, 'normal pages'), j.totals.normalPages);
  assert.equal(await factNumber(view, 'zero pages'), j.totals.zeroPages);
  assert.equal(await factNumber(view, 'channels'), j.channels);
  // Per stream: the channels fact's tooltip lists each multifd stream's packets.
  const perStream = (await factLocator(view, 'channels').getAttribute('title')) ?? '';
  for (const s of j.streams.filter((x: { kind: string }) => x.kind === 'multifd'))
    assert.match(perStream, new RegExp(`stream ${s.id}: channel ${s.channel}, ${s.packets} packets`));
}

before(async () => {
  assertPrerequisites();
  copyFileSync(join(ROOT, 'samples', SAMPLE), join(workspace, SAMPLE));
  writeFileSync(join(workspace, TWO), await twoMigrationPcap());
  vsc = await launchVSCode({ installExtensions: [packageVsix()] });
  wb = await vsc.openWorkbench(workspace);
  await wb.waitForExplorerItem(SAMPLE);
});

after(async () => {
  await vsc?.dispose();
  rmSync(workspace, { recursive: true, force: true });
});

test('the real tcpdump sample opens with Open With… and shows the counts mfd inspect finds', { timeout: 240_000 }, () =>
  step('sample', async () => {
    const j = inspect(join(workspace, SAMPLE));
    assert.equal(j.format, 'pcap');
    const streams = j.streams.filter((s: { kind: string }) => s.kind === 'multifd');
    assert.ok(streams.length >= 2 && j.totals.packets > 0, 'the sample holds a multifd migration');
    assert.equal(
      streams.reduce((n: number, s: { packets: number }) => n + s.packets, 0),
      j.totals.packets,
    );
    assert.equal(
      streams.reduce((n: number, s: { normalPages: number }) => n + s.normalPages, 0),
      j.totals.normalPages,
    );
    assert.equal(
      streams.reduce((n: number, s: { zeroPages: number }) => n + s.zeroPages, 0),
      j.totals.zeroPages,
    );
    await openWith(SAMPLE);
    const view = await readyView();
    await assertCounts(view, j);
    assert.equal(await factText(view, 'input'), 'tcpdump capture (pcap)');
    assert.equal(await factLocator(view, 'migration').count(), 0, 'one migration in the file: none to name');
    // A packet with data pages, and one of its pages decoded from the channel's zstd stream.
    await view.locator('.packet-list .layer .row:not([hidden])').filter({ hasText: 'ZSTD' }).first().click();
    const entry = view.locator('.tree .item.normal').first();
    await entry.waitFor();
    await entry.dblclick();
    await view.locator('body').evaluate(() => getSelection()?.removeAllRanges()); // the double click selected a word
    await view
      .locator('.hex-caption')
      .filter({ hasText: /normal page .* decoded: decoded from the channel's zstd stream/ })
      .waitFor({ timeout: 60_000 });
    await wb!.screenshot('pcap-01-tcpdump-sample');
  }),
);

test(
  'a pcap with two migrations: a quick pick chooses one, the choice is remembered, Choose Migration switches',
  { timeout: 300_000 },
  () =>
    step('two', async () => {
      const first = inspect(join(workspace, TWO), '--migration', '1');
      const second = inspect(join(workspace, TWO), '--migration', '2');
      assert.equal(second.channels, first.channels - 1, 'the second migration has one multifd channel fewer');
      await wb!.runCommand('View: Close All Editors');
      await openWith(TWO);
      // The editor's own quick pick: one item per migration, with the destination, start time, connections and bytes.
      const items = wb!.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
      await items.filter({ hasText: 'to 127.0.0.1:5555' }).first().waitFor({ state: 'visible', timeout: 60_000 });
      assert.equal(await items.count(), 2);
      const texts = await items.allTextContents();
      assert.match(texts[0], /Migration 1: to 127\.0\.0\.1:4444.*started 2023-11-14T22:13:20\.000Z/);
      assert.match(texts[0], new RegExp(`${first.streams.length} connections, [\\d,]+ bytes to the destination`));
      assert.match(texts[1], /Migration 2: to 127\.0\.0\.1:5555.*started 2023-11-14T22:14:20\.000Z.*2 connections/);
      await wb!.screenshot('pcap-02-choose-migration');
      await pickQuickItem('Migration 2: to 127.0.0.1:5555');
      let view = await readyView();
      await assertCounts(view, second);
      assert.match(
        await factText(view, 'migration'),
        /^2 of 2: to 127\.0\.0\.1:5555, started 2023-11-14T22:14:20\.000Z, 2 connections$/,
      );

      // Switch: the editor reopens on migration 1.
      await wb!.runCommand('Multifd: Choose Migration in Capture…', 30_000, { opensQuickInput: true });
      await pickQuickItem('Migration 1: to 127.0.0.1:4444');
      await wb!.page.waitForTimeout(500);
      view = await readyView();
      await factLocator(view, 'migration')
        .locator('.v')
        .filter({ hasText: /^1 of 2/ })
        .waitFor({ timeout: 60_000 });
      await assertCounts(view, first);
      await wb!.screenshot('pcap-03-migration-switched');

      // Reopen: no question, the remembered migration.
      await wb!.runCommand('View: Close All Editors');
      await wb!.page.locator('.tabs-container .tab').filter({ hasText: TWO }).waitFor({ state: 'detached' });
      await openWith(TWO);
      view = await readyView();
      assert.match(await factText(view, 'migration'), /^1 of 2: to 127\.0\.0\.1:4444/);
      assert.equal(
        await wb!.page
          .locator('.quick-input-widget .quick-input-list .monaco-list-row')
          .filter({ hasText: 'Migration 2' })
          .isVisible(),
        false,
        'no quick pick on reopen',
      );
      await assertCounts(view, first);
    }),
);
