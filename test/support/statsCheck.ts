import assert from 'node:assert/strict';
import type { CaptureStats } from '../../extension/core/stats/statsTypes';
import { walkCapture, type WalkedStream } from './statsWalk';

/**
 * Checks `mfd stats` figures against the separate reading of the same .mfd file (statsWalk.ts): bytes, packets,
 * SYNC and marker times, throughput over the same bins, every epoch's figures, re-sent pages, iterations and
 * the downtime.
 */
export function assertStatsMatchWalk(path: string, stats: CaptureStats): void {
  const walk = walkCapture(path, stats.pageSize);
  const axis = stats.axis;
  assert.equal(axis.kind, 'time');
  assert.deepEqual(
    stats.streams.map((s) => s.id),
    walk.map((w) => w.id),
  );

  for (const w of walk) {
    const s = stats.streams.find((x) => x.id === w.id)!;
    assert.equal(s.bytes, w.bytes, `stream ${w.id} bytes`);
    assert.equal(s.first, w.first, `stream ${w.id} first`);
    assert.equal(s.last, w.last, `stream ${w.id} last`);
    const bins = new Float64Array(axis.bins);
    for (const g of w.segments) bins[Math.floor((g.ts - axis.start) / axis.binWidth)] += g.length;
    close(s.throughput?.peakBytesPerSecond, Math.max(...bins) / (axis.binWidth / 1e9), `stream ${w.id} peak`);
    close(s.throughput?.averageBytesPerSecond, w.bytes / ((w.last! - w.first!) / 1e9), `stream ${w.id} average`);
    if (w.kind === 'multifd') {
      assert.equal(s.channel, w.channel);
      assert.equal(s.packets, w.packets.length, `stream ${w.id} packets`);
      assert.deepEqual(
        s.syncs,
        w.packets.filter((p) => p.sync).map((p) => p.ts),
        `stream ${w.id} SYNC times`,
      );
      assert.equal(
        s.dataPages,
        w.packets.reduce((n, p) => n + p.normal, 0),
      );
      assert.equal(
        s.zeroPages,
        w.packets.reduce((n, p) => n + p.zero, 0),
      );
    } else {
      assert.equal(w.kind, 'main');
      const times = (k: string) => w.records.filter((r) => r.kind === k).map((r) => r.ts);
      assert.deepEqual(s.flushes, times('FLUSH'), 'MULTIFD_FLUSH times');
      assert.deepEqual(s.eos, times('EOS'), 'EOS times');
      assert.deepEqual(s.ramRecords, {
        total: w.records.length,
        page: times('PAGE').length,
        zero: times('ZERO').length,
      });
    }
  }

  const expected = expectedEpochs(walk, stats.pageSize);
  assert.equal(stats.epochs.length, expected.length, 'epochs');
  stats.epochs.forEach((e, i) => {
    const x = expected[i];
    const at = `epoch ${i}`;
    assert.equal(e.packets, x.packets, `${at} packets`);
    assert.equal(e.dataPages, x.dataPages, `${at} data pages`);
    assert.equal(e.zeroPages, x.zeroPages, `${at} zero pages`);
    assert.equal(e.mainDataPages, x.mainDataPages, `${at} main data`);
    assert.equal(e.mainZeroPages, x.mainZeroPages, `${at} main zero`);
    assert.equal(e.resentPages, x.resent, `${at} re-sent`);
    assert.equal(e.repeatedPages, x.repeated, `${at} repeated`);
    assert.deepEqual(
      e.channels.map(({ channel, packets, dataPages, zeroPages, wireBytes }) => ({
        channel,
        packets,
        dataPages,
        zeroPages,
        wireBytes,
      })),
      x.channels,
      `${at} channels`,
    );
    assert.equal(e.compression.rawBytes, x.rawBytes, `${at} raw bytes`);
    assert.equal(e.compression.payloadBytes, x.payloadBytes, `${at} payload bytes`);
  });

  // Iterations: the PART sections grouped by the sync markers before them; the downtime from the first record
  // after the last PART (or the first packet of its epoch) to QEMU_VM_EOF.
  const m = walk.find((w) => w.kind === 'main')!;
  const markerKind = m.records.some((r) => r.kind === 'FLUSH') ? 'FLUSH' : 'EOS';
  const markers = m.records.filter((r) => r.kind === markerKind).map((r) => r.pos);
  const before = (offset: number) => markers.filter((p) => p < offset).length;
  const parts = m.sections.filter((s) => s.type === 0x02);
  assert.equal(stats.derived.iterations, new Set(parts.map((p) => before(p.offset))).size, 'iterations');
  const lastPart = m.sections.indexOf(parts[parts.length - 1]);
  const switchOffset = m.sections[lastPart + 1].offset;
  const switchEpoch = before(switchOffset);
  const firstOfEpoch = [
    ...walk.flatMap((w) => w.packets.filter((p) => p.epoch >= switchEpoch).map((p) => p.ts)),
    ...m.records.filter((r) => r.kind !== 'MEM_SIZE' && r.epoch >= switchEpoch).map((r) => r.ts),
  ];
  const start = Math.min(m.tsAt(switchOffset), ...firstOfEpoch);
  const end = m.tsAt(m.eofOffset!);
  const deviceStart = m.tsAt(m.sections.find((s) => s.type === 0x04)!.offset);
  assert.deepEqual(stats.derived.downtime, {
    start,
    end,
    duration: end - start,
    lastIteration: deviceStart - start,
    deviceState: end - deviceStart,
  });
  const allFirst = Math.min(...walk.map((w) => w.first!));
  const allLast = Math.max(...walk.map((w) => w.last!));
  assert.equal(stats.derived.total, allLast - allFirst);
}

function close(actual: number | null | undefined, expected: number, what: string): void {
  assert.ok(actual !== null && actual !== undefined, `${what}: missing`);
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} ≠ ${expected}`);
}

/** What the walk says an epoch holds, counted straight from its packets and records. */
function expectedEpochs(walk: WalkedStream[], pageSize: number) {
  const multifd = walk.filter((w) => w.kind === 'multifd');
  const main = walk.find((w) => w.kind === 'main');
  const records = main?.records.filter((r) => r.kind !== 'MEM_SIZE') ?? [];
  const count = Math.max(
    ...multifd.flatMap((m) => m.packets.map((p) => p.epoch + 1)),
    ...(main?.records.map((r) => r.epoch + 1) ?? [0]),
  );
  const lastEpoch = new Map<string, number>();
  const out = [];
  for (let e = 0; e < count; e++) {
    const pages: string[] = [];
    const ep = {
      packets: 0,
      dataPages: 0,
      zeroPages: 0,
      mainDataPages: 0,
      mainZeroPages: 0,
      rawBytes: 0,
      payloadBytes: 0,
      channels: multifd.map((m) => {
        const ps = m.packets.filter((p) => p.epoch === e);
        return {
          channel: m.channel,
          packets: ps.length,
          dataPages: ps.reduce((n, p) => n + p.normal, 0),
          zeroPages: ps.reduce((n, p) => n + p.zero, 0),
          wireBytes: ps.reduce((n, p) => n + p.wire, 0),
        };
      }),
      resent: 0,
      repeated: 0,
    };
    for (const m of multifd)
      for (const p of m.packets.filter((q) => q.epoch === e)) {
        ep.packets++;
        ep.dataPages += p.normal;
        ep.zeroPages += p.zero;
        ep.rawBytes += p.normal * pageSize;
        ep.payloadBytes += p.payload;
        for (const o of p.offsets) pages.push(`${p.block}:${o}`);
      }
    for (const r of records.filter((q) => q.epoch === e)) {
      if (r.kind !== 'ZERO' && r.kind !== 'PAGE') continue;
      const zero = r.kind === 'ZERO';
      ep.zeroPages += zero ? 1 : 0;
      ep.mainZeroPages += zero ? 1 : 0;
      ep.dataPages += zero ? 0 : 1;
      ep.mainDataPages += zero ? 0 : 1;
      pages.push(`${r.block}:${r.offset}`);
    }
    const seen = new Set<string>();
    for (const page of pages) {
      if (seen.has(page)) ep.repeated++;
      else {
        seen.add(page);
        if (lastEpoch.has(page)) ep.resent++;
        lastEpoch.set(page, e);
      }
    }
    out.push(ep);
  }
  return out;
}
