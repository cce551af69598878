import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryByteSource } from '../capture/fileAccessor';
import { openCaptureFromSource } from '../capture/openCapture';
import { MfdBuilder } from '../capture/mfdWriter';
import { analyzeCapture } from '../analysis';
import { replayCapture } from '../replay/replay';
import { MultifdChannelEncoder, page } from '../../../test/support/multifdEncoder';
import { liveMigration } from '../../../test/support/hardwareCompression/liveScenario';
import type { Diagnostic } from './diagnostic';

const PS = 4096;
const analyzeBytes = async (bytes: Uint8Array) =>
  analyzeCapture(await openCaptureFromSource(new MemoryByteSource(bytes)));
const only = (ds: Diagnostic[], code: string) => ds.filter((d) => d.code === code);

describe('9.0–9.2 with compression: zero-only packets never sent', () => {
  it('names the missing packet_num, and the replay shows the zero pages that never arrived', async () => {
    const s = liveMigration({ method: 'qpl', version: '9.2', pageSize: PS, channels: 2 }, true);
    const dropped = s.sent.filter((p) => !p.written);
    assert.equal(dropped.length, 1);
    assert.deepEqual(dropped[0].zero.sort(), [3 * PS, 7 * PS]);
    const a = await analyzeBytes(s.capture());
    const w = only(a.diagnostics, 'multifd.release-bug.zero-only-dropped');
    assert.equal(w.length, 1);
    assert.equal(w[0].severity, 'warning');
    assert.match(
      w[0].message,
      new RegExp(
        `^packet_num ${dropped[0].packetNum} is missing between stream \\d+ packet \\d+ and stream \\d+ packet \\d+: with compression a 9.0–9.2 sender`,
      ),
    );
    const next = s.sent.find((p) => p.packetNum === dropped[0].packetNum + 1);
    // The packet after the gap is the next channel's SYNC or data packet: the warning points at a real packet.
    assert.ok(w[0].location.stream !== undefined && w[0].location.packet !== undefined, JSON.stringify(next));
    // The destination keeps the old data of pages 3 and 7: exactly what the wire carried.
    const r = await replayCapture(a, { outDir: mkdtempSync(join(tmpdir(), 'mfd-bug-')), workers: false });
    const image = new Uint8Array(readFileSync(r.blocks[0].file));
    assert.ok(Buffer.from(image).equals(Buffer.from(s.wireRam)));
    assert.ok(!Buffer.from(image).equals(Buffer.from(s.sourceRam)));
    assert.ok(
      image.subarray(3 * PS, 4 * PS).some((b) => b !== 0),
      'page 3 kept its data',
    );
  });

  it('a 10.0 sender writes the zero-only packet: no warning, RAM identical', async () => {
    const s = liveMigration({ method: 'qpl', version: '10.0', pageSize: PS, channels: 2 }, true);
    assert.ok(s.sent.every((p) => p.written));
    const a = await analyzeBytes(s.capture());
    assert.deepEqual(only(a.diagnostics, 'multifd.release-bug.zero-only-dropped'), []);
    assert.equal(a.versionHint.text, '≥ 10.0');
  });

  it('zlib from 9.0: a gap is flagged; the same gap without compression is not', async () => {
    for (const method of ['zlib', 'none'] as const) {
      const ch = new MultifdChannelEncoder({ version: '9.0', pageSize: PS, channelId: 0, method });
      ch.sync(0);
      await ch.packet({ ramblock: 'pc.ram', normal: [{ offset: 0, data: page(PS, 1) }], zero: [PS], packetNum: 1 });
      await ch.packet({ ramblock: 'pc.ram', normal: [{ offset: 2 * PS, data: page(PS, 2) }], packetNum: 4 });
      ch.sync(5);
      const a = await analyzeBytes(new MfdBuilder().meta({ pageSize: PS }).data(0, ch.bytes()).build());
      const w = only(a.diagnostics, 'multifd.release-bug.zero-only-dropped');
      if (method === 'none') assert.deepEqual(w, []);
      else {
        assert.equal(w.length, 1);
        assert.match(w[0].message, /^packet_num 2…3 are missing between stream 0 packet 1 and stream 0 packet 2/);
        assert.deepEqual([w[0].location.stream, w[0].location.packet], [0, 2]);
      }
    }
  });
});

describe('receivers that do not mark data pages received', () => {
  for (const [method, version] of [
    ['qpl', '9.2'],
    ['qatzip', '9.2'],
    ['uadk', '10.0'],
  ] as const) {
    it(`${method} ${version}: pages going from data to zero are named`, async () => {
      const s = liveMigration({ method, version, pageSize: PS, channels: 2 });
      const a = await analyzeBytes(s.capture());
      const w = only(a.diagnostics, 'multifd.release-bug.received-map');
      // Pages 0 and 4 (round 2) and 13 (round 3) go from data to zero; they may ride in one packet or more.
      const named = w.flatMap((d) =>
        [...d.message.matchAll(/pc\.ram:0x([0-9a-f]+) \(data from stream (\d+) packet (\d+)\)/g)].map((m) =>
          parseInt(m[1], 16),
        ),
      );
      assert.deepEqual(
        named.sort((x, y) => x - y),
        [0, 4 * PS, 13 * PS],
      );
      for (const d of w) {
        assert.equal(d.severity, 'warning');
        const sent = s.sent.find(
          (p) => p.written && p.channel === d.location.stream! - 1 && p.packet === d.location.packet,
        );
        assert.ok(
          sent && sent.zero.some((o) => [0, 4 * PS, 13 * PS].includes(o)),
          'located at the packet carrying the zero pages',
        );
      }
      assert.match(
        w[0].message,
        method === 'uadk'
          ? /a uadk receiver \(multifd-uadk\.c sets no received bit/
          : new RegExp(`a ${method} receiver of 9\\.`),
      );
    });
  }

  it('qpl from a 10.0 sender (zero-only packets show ≥ 10.0): nothing to flag', async () => {
    const s = liveMigration({ method: 'qpl', version: '10.0', pageSize: PS, channels: 2 }, true);
    const a = await analyzeBytes(s.capture());
    assert.deepEqual(only(a.diagnostics, 'multifd.release-bug.received-map'), []);
  });
});

describe('SYNC packets with pages from a pre-9.0 sender', () => {
  it('names the SYNC packets that carry pages, for a 9.2 destination', async () => {
    const ch = new MultifdChannelEncoder({ version: '8.2', pageSize: PS, channelId: 0 });
    await ch.packet({ ramblock: 'pc.ram', normal: [{ offset: 0, data: page(PS, 1) }], packetNum: 0 });
    await ch.packet({
      ramblock: 'pc.ram',
      normal: [
        { offset: PS, data: page(PS, 2) },
        { offset: 2 * PS, data: page(PS, 3) },
      ],
      sync: true,
      packetNum: 1,
    });
    await ch.packet({ ramblock: 'pc.ram', normal: [{ offset: 3 * PS, data: page(PS, 4) }], sync: true, packetNum: 2 });
    const a = await analyzeBytes(new MfdBuilder().meta({ pageSize: PS }).data(0, ch.bytes()).build());
    const w = only(a.diagnostics, 'multifd.release-bug.sync-with-pages');
    assert.equal(w.length, 1);
    assert.equal(w[0].severity, 'warning');
    assert.match(
      w[0].message,
      /^stream 0 \(channel 0\): 2 SYNC packet\(s\) carry 3 page\(s\), as senders before 9\.0 do: packet 1 \(packet_num 1, 2 page\(s\)\), packet 3 \(packet_num 2, 1 page\(s\)\)\. A 9\.2 destination .*QEMU issue 2720/,
    );
    assert.deepEqual([w[0].location.stream, w[0].location.packet], [0, 1]);
  });

  it('a 9.2 sender (clean SYNCs) is not flagged', async () => {
    const ch = new MultifdChannelEncoder({ version: '9.2', pageSize: PS, channelId: 0 });
    ch.sync(0);
    await ch.packet({ ramblock: 'pc.ram', normal: [{ offset: 0, data: page(PS, 1) }], packetNum: 1 });
    ch.sync(2);
    const a = await analyzeBytes(new MfdBuilder().meta({ pageSize: PS }).data(0, ch.bytes()).build());
    assert.deepEqual(only(a.diagnostics, 'multifd.release-bug.sync-with-pages'), []);
  });
});
