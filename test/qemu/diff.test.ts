import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigration, removeWorkDir, type MigrationOptions, type MigrationResult } from './migration';
import { qemuAvailable } from './qemuBinaries';
import { main } from '../../extension/cli/mfd';
import { analyzeCaptureFile } from '../../extension/core/analysis';
import { buildCaptureStats } from '../../extension/core/stats/captureStats';
import type { CaptureDiff } from '../../extension/core/diff/diffTypes';
import { walkCapture } from '../support/statsWalk';
import { assertStatsMatchWalk } from '../support/statsCheck';

/**
 * `mfd diff` and `mfd stats` on real migrations: a QEMU 7.2 and a 10.0 migration of the same guest fill (same
 * seed, guest paused), and two live 10.0 migrations whose guests dirtied their own pages. The ground truth for
 * RAM is each source's RAM file after the migration (the driver checked the destination against it).
 */

const PAGE = 4096;

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t), interactive: false };
  const code = await main(args, io);
  return { code, out: out.join('') };
}

async function diffJson(a: string, b: string): Promise<{ code: number; diff: CaptureDiff }> {
  const r = await cli(['diff', a, b, '--json']);
  return { code: r.code, diff: JSON.parse(r.out) as CaptureDiff };
}

/** Page offsets where two RAM files differ. */
function differingPages(a: string, b: string): number[] {
  const x = readFileSync(a);
  const y = readFileSync(b);
  assert.equal(x.length, y.length);
  const out: number[] = [];
  for (let p = 0; p < x.length; p += PAGE) if (x.compare(y, p, p + PAGE, p, p + PAGE) !== 0) out.push(p);
  return out;
}

async function statsMatchWalk(capture: string): Promise<void> {
  const a = await analyzeCaptureFile(capture);
  try {
    assertStatsMatchWalk(capture, await buildCaptureStats(a));
  } finally {
    await a.capture.source.close();
  }
}

function recorded(dir: string, name: string, o: Omit<MigrationOptions, 'out' | 'workDir'>) {
  return runMigration({ ...o, out: join(dir, `${name}.mfd`), workDir: join(dir, name) });
}

before(() => {
  assert.ok(qemuAvailable('7.2'), 'QEMU 7.2 is needed: run bash scripts/setup.sh');
});

describe('mfd diff: QEMU 7.2 and 10.0 migrating the same guest fill', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mfd-diff-versions-'));
  const common = { channels: 2, compression: 'none' as const, ramMiB: 32, live: false, seed: 5, nonZeroFraction: 0.3 };
  let old: MigrationResult;
  let cur: MigrationResult;
  before(async () => {
    old = await recorded(dir, 'qemu72', { ...common, qemu: '7.2' });
    cur = await recorded(dir, 'qemu10', { ...common, qemu: '10.0', zeroPageDetection: 'multifd' });
  });
  after(async () => {
    for (const r of [old, cur]) if (r) await removeWorkDir(r);
    rmSync(dir, { recursive: true, force: true });
  });

  test('both migrations completed, and the two guests hold the same RAM', () => {
    assert.equal(old.status, 'completed', old.error);
    assert.equal(cur.status, 'completed', cur.error);
    assert.deepEqual(differingPages(old.sourceRam, cur.sourceRam), []);
  });

  test('names the differing parameters, the zero-page path and no RAM difference', async (t) => {
    const { code, diff } = await diffJson(old.capture!, cur.capture!);
    assert.equal(code, 1, 'the captures differ');
    const summary = Object.fromEntries(diff.summary.map((x) => [x.name, x]));
    assert.equal(summary['source QEMU'].differs, true);
    assert.match(String(summary['source QEMU'].a), /^7\.2\./);
    assert.match(String(summary['source QEMU'].b), /^10\.0\./);
    assert.equal(summary['machine type'].differs, true);
    assert.deepEqual([summary['zero pages travel'].a, summary['zero pages travel'].b], ['main channel', 'multifd']);
    assert.deepEqual([summary['epochs end at'].a, summary['epochs end at'].b], ['EOS', 'MULTIFD_FLUSH']);
    // Differences first, then the equal ones.
    const firstEqual = diff.parameters.findIndex((p) => !p.differs);
    assert.ok(firstEqual > 0 && diff.parameters.slice(firstEqual).every((p) => !p.differs));
    const params = Object.fromEntries(diff.parameters.map((x) => [x.name, x]));
    assert.deepEqual(params['zero-page-detection'], { name: 'zero-page-detection', b: 'multifd', differs: true });
    assert.equal(params['multifd-compression'].differs, false);
    assert.equal(params['multifd-channels'].differs, false);
    const topics = diff.notes.map((n) => n.topic);
    assert.ok(
      topics.includes('zero-pages') && topics.includes('sync-mode') && topics.includes('machine-type'),
      topics.join(),
    );
    // 7.2 sends pages with SYNC; a 10.0 destination reads them, a 9.2 one would not.
    assert.ok(diff.a.syncPacketsWithPages > 0 && diff.b.syncPacketsWithPages === 0);
    const sync = diff.notes.find((n) => n.topic === 'sync-with-pages')!;
    assert.equal(sync.severity, 'info');
    assert.match(sync.text, /of A carry pages.*B's release \(10\.0\) reads them \(9\.2 did not: QEMU issue 2720/);
    const zero = diff.notes.find((n) => n.topic === 'zero-pages' && n.severity === 'info')!;
    assert.match(zero.text, /A as ZERO records on the main channel/);
    assert.match(zero.text, /B in the multifd packets' zero_pages/);

    const ram = diff.ram!;
    assert.equal(ram.complete, true, ram.problems.join('; '));
    const mem = ram.blocks.find((b) => b.block === 'mem')!;
    assert.equal(mem.pagesCompared, (32 << 20) / PAGE);
    assert.equal(mem.pagesDiffering, 0);
    assert.deepEqual(
      diff.ramblocks.filter((r) => r.status !== 'same'),
      [],
      'both machines announce the same ramblocks and sizes',
    );
    // Device state: both sides decoded, matched by idstr; the rename of hpet's num_timers is a field difference.
    assert.equal(diff.devices.unavailable, undefined);
    const both = diff.devices.diffs.filter((d) => d.status === 'both');
    assert.ok(both.length >= 20, `devices in both: ${both.length}`);
    assert.ok(both.some((d) => d.idstr === 'cpu'));

    t.diagnostic(
      `parameters differing: ${diff.parameters
        .filter((p) => p.differs)
        .map((p) => p.name)
        .join(
          ', ',
        )}; notes: ${topics.join(', ')}; devices with differing fields: ${both.filter((d) => d.fieldsDiffering > 0).length}; other blocks differing: ${
        ram.blocks
          .filter((b) => b.pagesDiffering > 0)
          .map((b) => `${b.block} ${b.pagesDiffering}`)
          .join(', ') || 'none'
      }`,
    );
    const text = await cli(['diff', old.capture!, cur.capture!]);
    assert.match(text.out, /≠ zero-page-detection: \(absent\) \| multifd/);
    assert.match(text.out, /= mem: 0 of 8192 page\(s\) differ/);
  });

  test('mfd stats equals an independent count on both', async () => {
    await statsMatchWalk(old.capture!);
    await statsMatchWalk(cur.capture!);
  });
});

describe('mfd diff: two live QEMU 10.0 migrations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mfd-diff-live-'));
  const common = {
    qemu: '10.0' as const,
    channels: 2,
    compression: 'zstd' as const,
    zeroPageDetection: 'multifd' as const,
    ramMiB: 32,
    live: true,
    seed: 9,
  };
  let first: MigrationResult;
  let second: MigrationResult;
  before(async () => {
    first = await recorded(dir, 'first', common);
    second = await recorded(dir, 'second', common);
  });
  after(async () => {
    for (const r of [first, second]) if (r) await removeWorkDir(r);
    rmSync(dir, { recursive: true, force: true });
  });

  test('both migrations completed with several dirty syncs', () => {
    for (const r of [first, second]) {
      assert.equal(r.status, 'completed', r.error);
      assert.equal(r.comparison?.equal, true);
      assert.ok((r.dirtySyncCount ?? 0) >= 3, `dirty syncs ${r.dirtySyncCount}`);
    }
  });

  test('names the pages that differ, each with its writer in both captures', async (t) => {
    const truth = differingPages(first.sourceRam, second.sourceRam);
    assert.ok(truth.length > 0, 'the two live guests wrote different pages');
    const { code, diff } = await diffJson(first.capture!, second.capture!);
    assert.equal(code, 1);
    assert.equal(diff.summary.filter((x) => x.differs && x.name.includes('QEMU')).length, 0);
    assert.equal(diff.ram!.complete, true, diff.ram!.problems.join('; '));
    const mem = diff.ram!.blocks.find((b) => b.block === 'mem')!;
    assert.equal(mem.pagesDiffering, truth.length);
    assert.deepEqual(
      mem.pages.map((p) => p.offset),
      truth,
    );
    for (const b of diff.ram!.blocks.filter((x) => x.block !== 'mem')) assert.equal(b.pagesDiffering, 0, b.block);

    // Each writer named is a packet of that capture that lists the page, in the last epoch that sends it.
    const walks = [walkCapture(first.capture!), walkCapture(second.capture!)];
    for (const p of mem.pages) {
      for (const [side, prov] of [
        [0, p.a],
        [1, p.b],
      ] as const) {
        assert.ok(prov.kind === 'normal' || prov.kind === 'zero', `0x${p.offset.toString(16)}: ${prov.text}`);
        const stream = walks[side].find((w) => w.id === prov.stream)!;
        const packet = stream.packets[prov.packetIndex!];
        const at = packet.offsets.indexOf(p.offset);
        assert.ok(at >= 0, `0x${p.offset.toString(16)} is in ${prov.text}`);
        assert.equal(at >= packet.normal, prov.kind === 'zero', prov.text);
        const lastEpoch = Math.max(
          ...walks[side].flatMap((w) => w.packets.filter((q) => q.offsets.includes(p.offset)).map((q) => q.epoch)),
        );
        assert.equal(prov.epoch, lastEpoch, prov.text);
      }
    }
    t.diagnostic(`pages differing in mem: ${truth.length} (source RAM files) = ${mem.pagesDiffering} (mfd diff)`);
    const text = await cli(['diff', first.capture!, second.capture!]);
    assert.match(text.out, new RegExp(`≠ mem: ${truth.length} of 8192 page\\(s\\) differ`));
    assert.match(text.out, /0x[0-9a-f]+: A (data|zero page) from stream \d+ \(channel \d\) packet \d+/);
  });

  test('mfd stats equals an independent count on both, re-sent pages included', async (t) => {
    for (const r of [first, second]) {
      await statsMatchWalk(r.capture!);
      const a = await analyzeCaptureFile(r.capture!);
      try {
        const stats = await buildCaptureStats(a);
        assert.ok(stats.epochs.reduce((n, e) => n + e.resentPages, 0) > 0, 'a live guest re-sends pages');
        assert.ok(stats.derived.iterations >= 3, `iterations ${stats.derived.iterations}`);
        t.diagnostic(
          `${stats.epochs.length} epochs, ${stats.derived.iterations} iterations, ${stats.epochs.reduce((n, e) => n + e.resentPages, 0)} pages re-sent, downtime ${((stats.derived.downtime?.duration ?? 0) / 1e6).toFixed(2)} ms (QEMU's own: ${r.timings.downtimeMs} ms)`,
        );
      } finally {
        await a.capture.source.close();
      }
    }
  });
});
