import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkInput } from './checkInput';
import { dataSegments, holedMigration, tinyMigrationFrames, HOLED_MSS } from '../support/holedPcap';
import { MemoryByteSource } from '../../extension/core/capture/fileAccessor';
import { openCaptureFromSource } from '../../extension/core/capture/openCapture';
import { analyzeCapture } from '../../extension/core/analysis';

/**
 * A tiny migration's multifd channel with each of its segments dropped in turn, so that a hole falls on every
 * part of it (handshake, headers, offsets, payload, the last SYNC): never a finding (crash, hang, escape), the
 * hole always named at its exact stream offset, and what the indexer did after it always said.
 */
for (const method of ['none', 'zlib'] as const) {
  test(`a hole at every segment of a ${method} multifd channel: named at its offset, never a finding`, async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'mfd-pcap-holes-'));
    try {
      const { multifd } = await tinyMigrationFrames(method);
      const segments = dataSegments(multifd);
      assert.ok(segments.length > 30, `${segments.length} segments`);
      for (const [k, i] of segments.entries()) {
        const pcap = await holedMigration({ method, dropMultifd: [i] });
        const r = await checkInput(new Uint8Array(pcap), { timeoutMs: 10_000, workDir, maxRssGrowth: 256 << 20 });
        assert.equal(r.finding, undefined, `segment ${k}: ${r.finding?.message}`);
        const a = await analyzeCapture(
          await openCaptureFromSource(new MemoryByteSource(new Uint8Array(pcap)), 'x.pcap'),
        );
        const hole = a.diagnostics.find((d) => d.code === 'pcap.hole' && d.location.stream === 1);
        assert.ok(hole, `segment ${k}: ${JSON.stringify(a.diagnostics.map((d) => d.code))}`);
        assert.equal(hole.location.streamOffset, k * HOLED_MSS, `segment ${k}`);
        if (k === 0) continue; // the handshake's magic is gone: not known as a multifd channel
        assert.ok(
          a.diagnostics.some(
            (d) =>
              (d.code === 'multifd.resync' || d.code === 'multifd.hole-unrecovered') &&
              d.location.streamOffset === k * HOLED_MSS,
          ),
          `segment ${k}: ${JSON.stringify(a.diagnostics.filter((d) => d.severity !== 'info').map((d) => d.message))}`,
        );
      }
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
}
