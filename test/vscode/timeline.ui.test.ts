// UI test of the editor's Timeline view, in a real VS Code (code-server + chromium) with the .vsix installed, on a
// real QEMU 10.0 capture with 12 iterations (samples/qemu10-zlib-legacy-live.mfd): the derived figures, each
// epoch row and each lane's markers equal `mfd stats --json`; the cursor moved from the keyboard to a channel's
// fullest point shows that channel's peak throughput in the legend; an epoch row clicked (then another reached
// with the arrows) filters the packet list to as many rows as `mfd packets --json` lists packets in that epoch
// plus the main channel's RAM records of the epoch. The screenshot goes to docs/screenshots/timeline-01.png.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { analyzeCaptureFile } from '../../extension/core/analysis';
import type { CaptureStats, StreamStats } from '../../extension/core/stats/statsTypes';
import { ROOT, assertPrerequisites, launchVSCode, packageVsix, type VSCodeSession, type Workbench } from './harness';

const SAMPLE = 'qemu10-zlib-legacy-live.mfd';
const workspace = mkdtempSync(join(tmpdir(), 'mfd-ui-timeline-'));
let vsc: VSCodeSession | undefined;
let wb: Workbench | undefined;

function mfd(...args: string[]): string {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'mfd.js'), ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  return r.stdout;
}

// The test's own renderings of the CLI's numbers (what the view should print), written apart from the view's code.
const int = (n: number) => n.toLocaleString('en-US');
const ms = (ns: number) => `${(ns / 1e6).toFixed(3)} ms`;
function size(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}
const rate = (n: number | null) => (n === null ? '-' : `${size(n)}/s`);
const channelTitle = (s: StreamStats) =>
  s.kind === 'multifd' ? `multifd channel ${s.channel} (stream ${s.id})` : `main channel (stream ${s.id})`;

async function step<T>(name: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (wb)
      console.error(
        `failure screenshot: ${await wb.screenshot(`timeline-${name}-failure`).catch(() => '')}\npage errors:\n${wb.pageErrors.join('\n')}`,
      );
    if (vsc) console.error(`code-server log: ${vsc.server.logFile}`);
    throw e;
  }
}

/** Waits for the list to show a filter and returns how many rows it keeps. */
async function shownCount(view: FrameLocator, filter: string): Promise<number> {
  const list = view.locator('.packet-list');
  for (let i = 0; (await list.getAttribute('data-filter')) !== filter; i++) {
    assert.ok(i < 300, `the filter "${filter}" was applied (list shows "${await list.getAttribute('data-filter')}")`);
    await wb!.page.waitForTimeout(100);
  }
  const text = (await view.locator('.list-status').textContent()) ?? '';
  const m = /^([\d,]+) of /.exec(text);
  assert.ok(m, `status after "${filter}": ${text}`);
  return Number(m[1].replace(/,/g, ''));
}

before(async () => {
  assertPrerequisites();
  copyFileSync(join(ROOT, 'samples', SAMPLE), join(workspace, SAMPLE));
  vsc = await launchVSCode({ installExtensions: [packageVsix()] });
  wb = await vsc.openWorkbench(workspace);
  await wb.waitForExplorerItem(SAMPLE);
});

after(async () => {
  await vsc?.dispose();
  rmSync(workspace, { recursive: true, force: true });
});

test(
  "a real 10.0 capture: the Timeline's figures, epochs and markers are mfd stats', an epoch row filters the list",
  { timeout: 300_000 },
  () =>
    step('figures', async () => {
      const capture = join(workspace, SAMPLE);
      const stats = JSON.parse(mfd('stats', capture, '--json')) as CaptureStats;
      assert.equal(stats.axis.kind, 'time');
      assert.ok(stats.epochs.length > 20 && stats.derived.iterations === 12, 'the sample has its 12 iterations');
      // Per epoch, the packets `mfd packets` lists and the main channel's RAM records (the core's table).
      const packetsOf = new Map<number, number>();
      for (const line of mfd('packets', capture, '--json').split('\n').filter(Boolean)) {
        const p = JSON.parse(line) as { epoch: number };
        packetsOf.set(p.epoch, (packetsOf.get(p.epoch) ?? 0) + 1);
      }
      const ramRecordsOf = new Map<number, number>();
      const analysis = await analyzeCaptureFile(capture);
      try {
        const rec = analysis.main!.records;
        for (let j = 0; j < rec.length; j++)
          ramRecordsOf.set(rec.epoch.get(j), (ramRecordsOf.get(rec.epoch.get(j)) ?? 0) + 1);
      } finally {
        await analysis.capture.source.close();
      }

      await wb!.quickOpen(SAMPLE);
      await wb!.runCommand('View: Close Primary Side Bar');
      const view = await wb!.webviewFrame();
      await view.locator('body[data-ready="true"]').waitFor({ timeout: 60_000 });
      await view.locator('vscode-button', { hasText: 'Timeline' }).click();
      const rows = view.locator('.tl-epochs tbody tr');
      await rows.first().waitFor({ timeout: 60_000 });
      assert.match((await view.locator('.tl-head').textContent()) ?? '', /x: capture time/);

      // The derived figures.
      const figure = async (key: string) =>
        (await view.locator(`.tl-figure[data-figure="${key}"] dd`).textContent()) ?? '';
      assert.equal(await figure('total'), ms(stats.derived.total));
      assert.equal(await figure('iterations'), '12');
      const d = stats.derived.downtime!;
      assert.equal(
        await figure('downtime'),
        `${ms(d.duration)} (last iteration ${ms(d.lastIteration)} + device state ${ms(d.deviceState)})`,
      );
      for (const s of stats.streams) {
        assert.ok(s.throughput, `stream ${s.id} has a throughput`);
        const f = view.locator(`.tl-figure[data-figure="throughput-${s.id}"]`);
        assert.equal(await f.locator('dt').textContent(), channelTitle(s));
        assert.equal(
          await f.locator('dd').textContent(),
          `average ${rate(s.throughput.averageBytesPerSecond)}, peak ${rate(s.throughput.peakBytesPerSecond)}`,
        );
      }

      // Every epoch row, cell by cell.
      assert.equal(await rows.count(), stats.epochs.length);
      for (let i = 0; i < stats.epochs.length; i++) {
        const e = stats.epochs[i];
        const cells = await rows.nth(i).locator('td').allTextContents();
        assert.deepEqual(
          cells,
          [
            String(e.epoch),
            int(e.packets),
            int(e.dataPages),
            int(e.zeroPages),
            `${int(e.mainDataPages)} / ${int(e.mainZeroPages)}`,
            int(e.resentPages),
            e.balance === null ? '-' : e.balance.toFixed(2),
            e.compression.ratio === null ? '-' : `${e.compression.ratio.toFixed(2)}×`,
            e.channels
              .map((c) => `ch ${c.channel}: ${int(c.packets)}, ${int(c.dataPages)} + ${int(c.zeroPages)}`)
              .join('; '),
          ],
          `epoch ${e.epoch}`,
        );
        assert.equal(e.packets, packetsOf.get(e.epoch) ?? 0, `epoch ${e.epoch}: mfd packets agrees with mfd stats`);
      }

      // One lane per stream, its marker counts those of the stats; the phases lane.
      const lanes = view.locator('.tl-lane[data-stream]');
      assert.equal(await lanes.count(), stats.series.lanes.length);
      for (const s of stats.streams) {
        const title = (await view.locator(`.tl-lane[data-stream="${s.id}"] .tl-lane-title`).textContent()) ?? '';
        assert.ok(title.startsWith(channelTitle(s)), title);
        if (s.kind === 'multifd') assert.ok(title.includes(`${s.syncs.length} SYNC`), title);
        else {
          assert.ok(title.includes(`${s.flushes.length} MULTIFD_FLUSH`), title);
          assert.ok(title.includes(`${s.eos.length} EOS`), title);
        }
      }
      await view.locator('.tl-phases canvas').first().waitFor();

      // From the keyboard: channel 0's lane, Home, then right to its fullest point: the legend shows its peak.
      const ch = stats.streams.find((s) => s.kind === 'multifd')!;
      const series = stats.series.lanes.find((l) => l.stream === ch.id)!;
      assert.equal(stats.series.binsPerPoint, 1, 'one bin per point: the fullest point is the peak bin');
      const fullest = series.bytes.indexOf(Math.max(...series.bytes));
      const lane = view.locator(`.tl-lane[data-stream="${ch.id}"]`);
      await lane.focus();
      await lane.press('Home');
      for (let i = 0; i < fullest; i++) await lane.press('ArrowRight');
      const legendValue = lane.locator('.u-legend .u-series').nth(1).locator('.u-value');
      assert.equal(await legendValue.textContent(), rate(ch.throughput!.peakBytesPerSecond));
      const xValue = lane.locator('.u-legend .u-series').nth(0).locator('.u-value');
      assert.equal(Number(await xValue.textContent()), Number((ch.throughput!.peakAt / 1e6).toFixed(3)));

      // A click on epoch 1's row filters the packet list to it; Down twice reaches epoch 3.
      const expected = (k: number) => (packetsOf.get(k) ?? 0) + (ramRecordsOf.get(k) ?? 0);
      await view.locator('.tl-epochs tr[data-epoch="1"]').click();
      assert.equal(
        await shownCount(view, 'epoch == 1 && kind != "main" && kind != "return-path"'),
        expected(1),
        'epoch 1: its packets and RAM records',
      );
      assert.equal(
        await view.locator('vscode-textfield#filter-input input').inputValue(),
        'epoch == 1 && kind != "main" && kind != "return-path"',
      );
      await view.locator('.tl-epochs').press('ArrowDown');
      await view.locator('.tl-epochs').press('ArrowDown');
      assert.equal(await view.locator('.tl-epochs tr[aria-selected="true"]').getAttribute('data-epoch'), '3');
      assert.equal(
        await shownCount(view, 'epoch == 3 && kind != "main" && kind != "return-path"'),
        expected(3),
        'epoch 3: its packets and RAM records',
      );
      assert.ok(expected(3) > stats.epochs[3].packets, 'the legacy zero pages: RAM records in the epoch too');

      // The screenshot: the view from its top (the figures), the cursor left on channel 0's peak.
      await view.locator('.tl-body').evaluate((e) => e.scrollTo(0, 0));
      const shot = await wb!.screenshot('timeline-01');
      mkdirSync(join(ROOT, 'docs', 'screenshots'), { recursive: true });
      copyFileSync(shot, join(ROOT, 'docs', 'screenshots', 'timeline-01.png'));
    }),
);
