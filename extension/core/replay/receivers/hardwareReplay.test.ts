import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MemoryByteSource } from '../../capture/fileAccessor';
import { openCaptureFromSource } from '../../capture/openCapture';
import { analyzeCapture } from '../../analysis';
import { replayCapture } from '../replay';
import { liveMigration } from '../../../../test/support/hardwareCompression/liveScenario';
import type {
  HardwareMethod,
  HardwareSenderVersion,
  MigrationOptions,
} from '../../../../test/support/hardwareCompression/migrationSender';

const PS = 4096;
const tmp = () => mkdtempSync(join(tmpdir(), 'mfd-hw-replay-'));

async function replay(bytes: Uint8Array, workers: boolean) {
  const a = await analyzeCapture(await openCaptureFromSource(new MemoryByteSource(bytes)));
  const r = await replayCapture(a, { outDir: tmp(), workers });
  return { a, r, image: r.blocks.length ? new Uint8Array(readFileSync(r.blocks[0].file)) : new Uint8Array(0) };
}

const errors = <D extends { severity: string }>(ds: D[]) => ds.filter((d) => d.severity === 'error');

const cases: { method: HardwareMethod; version: HardwareSenderVersion; extra?: Partial<MigrationOptions> }[] = [
  { method: 'qpl', version: '9.1' },
  { method: 'qpl', version: '9.2' },
  { method: 'qpl', version: '10.0' },
  { method: 'uadk', version: '9.1' },
  { method: 'uadk', version: '10.0', extra: { uadk: { hardware: false } } },
  { method: 'uadk', version: '9.2', extra: { uadk: { hardware: true, omitAdler: true } } },
  { method: 'qatzip', version: '9.2' },
  { method: 'qatzip', version: '10.0', extra: { qatzip: { style: 'software', level: 6 } } },
];

describe('qpl, uadk and qatzip captures replay to the RAM they were built from', () => {
  for (const c of cases) {
    const label = `${c.method} ${c.version}${c.extra ? ' ' + JSON.stringify(c.extra) : ''}`;
    it(label, async () => {
      const s = liveMigration({ method: c.method, version: c.version, pageSize: PS, channels: 3, ...c.extra });
      // The scenario exercises what it claims: raw fallbacks, compressed pages, zero pages, several channels.
      const sizes = s.sent.flatMap((p) => p.sizes ?? []);
      if (c.method !== 'qatzip') assert.ok(sizes.includes(PS), 'some pages travel raw');
      if (c.method === 'qpl' || (c.method === 'uadk' && c.extra?.uadk?.hardware !== false))
        assert.ok(
          sizes.some((x) => x < PS),
          'some pages travel compressed',
        );
      if (c.method === 'uadk' && c.extra?.uadk?.hardware === false)
        assert.ok(
          sizes.every((x) => x === PS),
          'without the card every page is raw',
        );
      assert.ok(
        s.sent.some((p) => p.zero.length > 0 && p.normal.length > 0),
        'zero pages ride with data pages',
      );
      assert.deepEqual(new Set(s.sent.map((p) => p.channel)), new Set([0, 1, 2]));
      assert.ok(Buffer.from(s.wireRam).equals(Buffer.from(s.sourceRam)), 'nothing dropped in this scenario');
      for (const workers of [false, true]) {
        const { a, r, image } = await replay(s.capture(), workers);
        assert.deepEqual(errors(a.diagnostics), []);
        assert.deepEqual(errors(r.diagnostics), [], `workers ${workers}`);
        assert.equal(a.compression, c.method);
        assert.ok(Buffer.from(image).equals(Buffer.from(s.sourceRam)), `workers ${workers}: rebuilt RAM differs`);
        // Page 0 went data → zero → data across rounds: its last writer is the third round's packet (epochs count from 0).
        const p0 = r.provenanceOf('pc.ram', 0);
        assert.equal(p0.kind, 'normal');
        assert.equal(p0.epoch, 2);
        assert.equal(r.provenanceOf('pc.ram', 4 * PS).kind, 'zero');
      }
    });
  }
});

/** Replays a 10.0 capture whose packet 1 of channel 1 had its payload changed; returns the one decode error. */
async function corrupted(
  method: HardwareMethod,
  mutate: (payload: Uint8Array, normalPages: number) => Uint8Array,
  extra: Partial<MigrationOptions> = {},
) {
  const s = liveMigration({
    method,
    version: '10.0',
    pageSize: PS,
    channels: 2,
    ...extra,
    mutatePayload: (info, p) => (info.channel === 1 && info.packet === 1 ? mutate(p, info.normalPages) : p),
  });
  const target = s.sent.find((p) => p.channel === 1 && p.packet === 1)!;
  const { r } = await replay(s.capture(), false);
  const e = errors(r.diagnostics).filter((d) => d.code !== 'replay.stopped');
  // The decode workers report the same failure, page included.
  const viaWorkers = await replay(s.capture(), true);
  assert.deepEqual(
    errors(viaWorkers.r.diagnostics).map((d) => d.message),
    errors(r.diagnostics).map((d) => d.message),
  );
  assert.equal(e.length, 1, JSON.stringify(r.diagnostics, null, 1));
  assert.equal(e[0].location.stream, 2, 'channel 1 is stream 2');
  assert.equal(e[0].location.packet, 1);
  assert.ok(
    r.diagnostics.some((d) => d.code === 'replay.stopped' && d.location.stream === 2 && d.location.packet === 1),
  );
  return { d: e[0], target };
}

const be32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at);
const setBe32 = (b: Uint8Array, at: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(at, v);

describe('corrupted qpl, uadk and qatzip captures end in a diagnostic naming stream, packet and page', () => {
  it('qpl: a size array that lies', async () => {
    const { d, target } = await corrupted('qpl', (p) => {
      const q = new Uint8Array(p);
      setBe32(q, 0, be32(q, 0) - 1);
      return q;
    });
    assert.equal(d.code, 'replay.decompress');
    const last = target.normal.length - 1;
    assert.match(
      d.message,
      new RegExp(
        `^channel 1: qpl: the size array adds up to .*; \\d+ byte\\(s\\) after page ${last} belong to no page .*\\[page ${last} of the packet: pc.ram offset 0x${target.normal[last].toString(16)}\\]$`,
      ),
    );
  });

  it('uadk: a zlib stream with a bad header', async () => {
    let page = -1;
    const { d, target } = await corrupted('uadk', (p, n) => {
      const q = new Uint8Array(p);
      let pos = 4 * n;
      for (let i = 0; i < n; i++) {
        const len = be32(q, 4 * i);
        if (len < PS && page < 0) {
          page = i;
          q[pos] = 0x79; // CMF that fails the header check
        }
        pos += len;
      }
      return q;
    });
    assert.ok(page >= 0);
    assert.equal(d.code, 'replay.decompress');
    assert.match(
      d.message,
      new RegExp(
        `^channel 1: uadk: page ${page}: failed decompression .*incorrect header check.*\\[page ${page} of the packet: pc.ram offset 0x${target.normal[page].toString(16)}\\]$`,
      ),
    );
  });

  it('qatzip: a member cut short', async () => {
    const { d, target } = await corrupted('qatzip', (p) => p.subarray(0, p.length - 5));
    assert.equal(d.code, 'replay.decompress');
    assert.match(
      d.message,
      new RegExp(
        `^channel 1: qatzip: qzDecompress failed: member 0 \\(payload byte 0, page 0\\) is cut short.*\\[page 0 of the packet: pc.ram offset 0x${target.normal[0].toString(16)}\\]$`,
      ),
    );
  });

  it('qatzip: output smaller than normal_pages × page_size', async () => {
    const { qatzipPayload } = await import('../../../../test/support/hardwareCompression/pagePayloads');
    const { d, target } = await corrupted('qatzip', () => qatzipPayload([new Uint8Array(PS)]).bytes);
    assert.equal(d.code, 'replay.output-size');
    assert.match(
      d.message,
      new RegExp(
        `packet size received 4096 size expected ${target.normal.length * PS}.*\\[page 1 of the packet: pc.ram offset 0x${target.normal[1].toString(16)}\\]$`,
      ),
    );
  });
});
