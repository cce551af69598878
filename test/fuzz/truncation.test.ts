import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryByteSource } from '../../extension/core/capture/fileAccessor';
import { openCaptureFromSource } from '../../extension/core/capture/openCapture';
import { analyzeCapture, type CaptureAnalysis } from '../../extension/core/analysis';
import { trimCapture } from './trimCapture';
import { SEEDS_DIR } from './seeds';

async function analyze(b: Uint8Array): Promise<CaptureAnalysis> {
  return analyzeCapture(await openCaptureFromSource(new MemoryByteSource(b)));
}

function rows(a: CaptureAnalysis, streamId: number) {
  const m = a.multifd.find((x) => x.streamId === streamId);
  if (!m) return [];
  return Array.from({ length: m.packets.length }, (_, i) => m.packets.row(i));
}

test('a small real capture (QEMU 10.0, zstd) cut at every byte: everything before the cut decodes, the cut is reported with its offset', async () => {
  const full = await trimCapture(readFileSync(join(SEEDS_DIR, 'real-10.0-zstd.mfd')), {
    packets: 3,
    mainBytes: 1024,
    multifdBytes: 6000,
  });
  const whole = await analyze(full);
  assert.ok(
    whole.multifd.some((m) => m.normalPages > 0),
    'the capture carries pages',
  );
  for (let cut = 16; cut < full.length; cut++) {
    const a = await analyze(full.subarray(0, cut));
    const trunc = a.diagnostics.filter(
      (d) =>
        d.code === 'capture.truncated-record' ||
        d.code.endsWith('truncated-payload') ||
        d.code.endsWith('truncated-header') ||
        d.code === 'multifd.init.truncated',
    );
    const onBoundary = a.diagnostics.every((d) => d.code !== 'capture.truncated-record');
    if (!onBoundary) {
      const d = a.diagnostics.find((x) => x.code === 'capture.truncated-record')!;
      assert.ok(
        d.location.fileOffset! >= 16 && d.location.fileOffset! <= cut,
        `cut ${cut}: reported at ${d.location.fileOffset}`,
      );
    }
    for (const s of a.capture.streams) {
      const got = rows(a, s.id);
      const ref = rows(whole, s.id);
      // Every packet decoded before the cut is the packet the whole capture has there.
      for (let i = 0; i < got.length; i++) {
        const complete = got[i].headerOffset + got[i].headerLength + got[i].payloadLength <= s.toDestination.length;
        if (complete)
          assert.deepEqual(
            { ...got[i], timestampNs: 0 },
            { ...ref[i], timestampNs: 0 },
            `cut ${cut}, stream ${s.id}, packet ${i}`,
          );
      }
      const m = a.multifd.find((x) => x.streamId === s.id);
      if (m && !m.complete)
        assert.ok(
          trunc.some((d) => d.location.stream === s.id || d.code === 'capture.truncated-record'),
          `cut ${cut}: stream ${s.id} stops without a diagnostic`,
        );
    }
  }
});
