import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCaptureFile } from '../analysis';
import { buildCaptureStats } from './captureStats';
import type { CaptureStats } from './statsTypes';
import { walkCapture } from '../../../test/support/statsWalk';
import { assertStatsMatchWalk } from '../../../test/support/statsCheck';
import { main } from '../../cli/mfd';
import { postcopyRequestsCapture } from '../../../test/support/postcopyRequestsCapture';

/**
 * mfd stats on the bundled real captures, against a separate reading of the same files (test/support/statsWalk.ts):
 * bytes, packets, SYNC and marker times, throughput over the same bins, every epoch's figures, re-sent pages,
 * iterations and the downtime.
 */

const root = join(__dirname, '..', '..', '..');
const SAMPLES = ['qemu72-nocomp.mfd', 'qemu10-zlib-legacy-live.mfd', 'qemu10-zstd-multifd-zero.mfd'];

async function statsOf(path: string, options = {}): Promise<CaptureStats> {
  const a = await analyzeCaptureFile(path);
  try {
    return await buildCaptureStats(a, options);
  } finally {
    await a.capture.source.close();
  }
}

for (const name of SAMPLES) {
  test(`mfd stats equals an independent count: ${name}`, async () => {
    const path = join(root, 'samples', name);
    const stats = await statsOf(path);
    assertStatsMatchWalk(path, stats);
  });
}

test('the figures differ where the captures do: re-sent pages in the live one, 7.2 repeating pages at batch edges', async () => {
  const live = await statsOf(join(root, 'samples', 'qemu10-zlib-legacy-live.mfd'));
  const resent = live.epochs.reduce((n, e) => n + e.resentPages, 0);
  assert.ok(resent > 1000, `re-sent pages in the live capture: ${resent}`);
  assert.ok(live.derived.iterations > 5, `iterations: ${live.derived.iterations}`);
  const old = await statsOf(join(root, 'samples', 'qemu72-nocomp.mfd'));
  assert.equal(
    old.epochs.reduce((n, e) => n + e.repeatedPages, 0),
    3,
  );
  assert.equal(
    old.epochs.reduce((n, e) => n + e.resentPages, 0),
    0,
  );
  assert.deepEqual(
    old.phases.map((p) => p.name),
    ['setup', 'iteration', 'switchover', 'end'],
  );
  assert.equal(old.phases[2].deviceState?.sections, 30);
  const zstd = await statsOf(join(root, 'samples', 'qemu10-zstd-multifd-zero.mfd'));
  const ratio = zstd.streams[1].compression?.ratio ?? 0;
  assert.ok(ratio > 1.5, `zstd compression ratio ${ratio}`);
});

test('series are downsampled for drawing, the figures are not', async () => {
  const path = join(root, 'samples', 'qemu10-zlib-legacy-live.mfd');
  const fine = await statsOf(path, { binWidth: 1e6, maxPoints: 40 });
  const coarse = await statsOf(path, { binWidth: 1e6, maxPoints: 5000 });
  assert.ok(fine.series.points <= 40);
  assert.equal(coarse.series.points, coarse.axis.bins);
  assert.deepEqual(fine.streams, coarse.streams);
  assert.deepEqual(fine.epochs, coarse.epochs);
  for (const [i, lane] of fine.series.lanes.entries()) {
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    assert.equal(sum(lane.bytes), fine.streams[i].bytes);
    assert.equal(sum(lane.bytes), sum(coarse.series.lanes[i].bytes));
  }
});

test('a raw multifd dump has no times: the x axis is the byte position, and no throughput is claimed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mfd-stats-'));
  try {
    const path = join(root, 'samples', 'qemu10-zstd-multifd-zero.mfd');
    const walk = walkCapture(path);
    const w = walk.find((x) => x.kind === 'multifd')!;
    const file = readFileSync(path);
    // The channel's bytes, cut out of the container record by record.
    const chunks: Buffer[] = [];
    let pos = file.readUInt16LE(10);
    while (pos + 16 <= file.length) {
      const len = file.readUInt32LE(pos + 4);
      if (file[pos] === 3 && (file[pos + 1] & 1) === 0 && file.readUInt16LE(pos + 2) === w.id)
        chunks.push(file.subarray(pos + 16, pos + 16 + len));
      pos += 16 + len;
    }
    const dump = join(dir, 'channel.bin');
    writeFileSync(dump, Buffer.concat(chunks));
    const stats = await statsOf(dump);
    assert.equal(stats.axis.kind, 'bytes');
    assert.match(stats.axis.reason, /byte position/);
    assert.equal(stats.streams[0].bytes, w.bytes);
    assert.equal(stats.streams[0].packets, w.packets.length);
    assert.equal(stats.streams[0].throughput, null);
    assert.equal(stats.derived.downtime, undefined);
    assert.equal(stats.streams[0].syncs.length, w.packets.filter((p) => p.sync).length);
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t), interactive: false };
    assert.equal(await main(['stats', dump, '--bin', '20ms'], io), 2);
    assert.match(out.join(''), /x axis is bytes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mfd stats --json prints the same figures as the core, and text names the axis', async () => {
  const path = join(root, 'samples', 'qemu72-nocomp.mfd');
  const out: string[] = [];
  const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t), interactive: false };
  assert.equal(await main(['stats', path, '--json'], io), 0);
  const json = JSON.parse(out.join('')) as CaptureStats;
  assert.deepEqual(json, JSON.parse(JSON.stringify(await statsOf(path))));
  out.length = 0;
  assert.equal(await main(['stats', path], io), 0);
  const text = out.join('');
  assert.match(text, /x axis: time/);
  assert.match(text, /iteration 1/);
  assert.match(text, /downtime \d+\.\d+ ms/);
});

test('postcopy: the switchover ends at POSTCOPY_RUN, then the postcopy phase; return-path messages and page requests at their times', async () => {
  // A synthetic capture with chosen times (test/support/postcopyRequestsCapture.ts): the precopy part and the
  // switch at 1 ms, the first postcopy page at 10 ms, more at 16 ms, the end at 20 ms; requests at 2, 12, 18, 19 ms.
  const dir = mkdtempSync(join(tmpdir(), 'mfd-stats-pc-'));
  try {
    const path = join(dir, 'postcopy.mfd');
    writeFileSync(path, postcopyRequestsCapture());
    const stats = await statsOf(path);
    assert.deepEqual(
      stats.phases.map((p) => p.name),
      ['setup', 'iteration', 'switchover', 'postcopy', 'end'],
    );
    const [, , sw, pc, end] = stats.phases;
    assert.equal(sw.end, 1e6);
    assert.equal(pc.startOffset, sw.endOffset);
    assert.equal(pc.end, 20e6);
    assert.equal(end.start, 20e6);
    assert.deepEqual(stats.derived.downtime, { start: 1e6, end: 1e6, duration: 0, lastIteration: 0, deviceState: 0 });
    assert.deepEqual(stats.returnPath, [
      { name: 'REQ_PAGES_ID', at: 2e6 },
      { name: 'REQ_PAGES', at: 12e6 },
      { name: 'REQ_PAGES', at: 18e6 },
      { name: 'REQ_PAGES', at: 19e6 },
      { name: 'SHUT', at: 21e6 },
    ]);
    assert.deepEqual(
      stats.pageRequests.map((r) => [r.at, r.start / 4096, r.answered, r.maxLatencyMs]),
      [
        [2e6, 3, 1, 8],
        [12e6, 5, 1, 4],
        [18e6, 0, 0, undefined],
        [19e6, 6, 0, undefined],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
