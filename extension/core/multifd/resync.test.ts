import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryByteSource } from '../capture/fileAccessor';
import { StreamBytes } from '../capture/streamBytes';
import { StreamHoleError, type StreamHole } from '../capture/captureEnded';
import { DiagnosticSink } from '../diagnostics/diagnostic';
import { StringTable } from '../util/growableArrays';
import { indexMultifdStream } from './indexMultifdStream';
import { provedBoundaryFrom } from './resync';
import { MultifdChannelEncoder, page } from '../../../test/support/multifdEncoder';

const PS = 4096;
const HEADER = 1344; // 320 + 128 offsets × 8, at 4 KiB pages
const PAGES = 16;
const PACKET = HEADER + PAGES * PS;
/** Where packet k (1-based) starts: after the 64-byte handshake and the setup SYNC. */
const headerOf = (k: number) => 64 + HEADER + (k - 1) * PACKET;

/** A 10.0 nocomp channel: setup SYNC, packets 1…5 of 16 pages each (pages (k-1)·16 …), a SYNC (packet_num 6). */
async function channel(): Promise<Uint8Array> {
  const e = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 0, method: 'none' });
  e.sync(0);
  for (let k = 1; k <= 5; k++) {
    const normal = Array.from({ length: PAGES }, (_, i) => {
      const n = (k - 1) * PAGES + i;
      return { offset: n * PS, data: page(PS, n) };
    });
    await e.packet({ ramblock: 'pc.ram', normal, packetNum: k });
  }
  e.sync(6);
  return e.bytes();
}

/** The stream with `holes` cut out, as a pcap reader gives it: segments around the holes, offsets unchanged. */
function withHoles(b: Uint8Array, holes: StreamHole[]): StreamBytes {
  const starts: number[] = [];
  let pos = 0;
  for (const h of holes) {
    if (h.streamOffset > pos) starts.push(pos);
    pos = h.streamOffset + h.length;
  }
  if (pos < b.length) starts.push(pos);
  const s = Float64Array.from(starts);
  return new StreamBytes(new MemoryByteSource(b), s, s, new Float64Array(s.length), b.length, holes);
}

async function index(stream: StreamBytes) {
  const sink = new DiagnosticSink();
  const idx = await indexMultifdStream(stream, 1, { pageSize: PS, names: new StringTable(), sink });
  return { idx, sink };
}

describe('stream bytes with holes', () => {
  it('reads around a hole, and a read that touches one throws naming it', async () => {
    const b = Uint8Array.from({ length: 100 }, (_, i) => i);
    const s = withHoles(b, [{ streamOffset: 40, length: 10 }]);
    assert.equal(s.length, 100);
    assert.deepEqual([...(await s.read(30, 40))], [30, 31, 32, 33, 34, 35, 36, 37, 38, 39]);
    assert.deepEqual([...(await s.read(50, 53))], [50, 51, 52]);
    await assert.rejects(s.read(39, 41), (e: unknown) => {
      assert.ok(e instanceof StreamHoleError);
      assert.deepEqual(e.hole, { streamOffset: 40, length: 10 });
      return true;
    });
    assert.deepEqual(s.holeIn(0, 40), undefined);
    assert.deepEqual(s.holeIn(49, 60), { streamOffset: 40, length: 10 });
    assert.equal(s.presentUntil(10), 40);
    assert.equal(s.presentUntil(45), 45);
    assert.equal(s.presentUntil(50), 100);
    assert.equal(s.fileOffsetOf(45), 40, 'in a hole: where the bytes before it end');
  });
});

describe('multifd resync after a hole', () => {
  it('a hole over a packet header: the hole is named at its offset, decoding resumes at the next header', async () => {
    const b = await channel();
    // From 800 bytes into packet 3's header to 200 bytes into its payload.
    const hole = { streamOffset: headerOf(3) + 800, length: 1000 };
    const { idx, sink } = await index(withHoles(b, [hole]));
    const d = sink.items.filter((x) => x.code === 'multifd.resync');
    assert.equal(d.length, 1, JSON.stringify(sink.items));
    assert.equal(d[0].severity, 'error');
    assert.equal(d[0].location.streamOffset, hole.streamOffset);
    assert.match(d[0].message, new RegExp(`1000 byte\\(s\\) at stream offset ${hole.streamOffset} are missing`));
    assert.match(d[0].message, new RegExp(`resumed at stream offset ${headerOf(4)}`));
    assert.match(
      d[0].message,
      new RegExp(`${headerOf(4) - hole.streamOffset - hole.length} byte\\(s\\) after the hole were skipped`),
    );
    // Setup SYNC, packets 1, 2, 4, 5, final SYNC.
    const nums = Array.from({ length: idx.packets.length }, (_, r) => idx.packets.packetNum.get(r));
    assert.deepEqual(nums, [0, 1, 2, 4, 5, 6]);
    assert.equal(idx.packets.headerOffset.get(3), headerOf(4));
    assert.equal(idx.complete, true);
    assert.deepEqual(
      idx.holes.map((h) => [h.streamOffset, h.resumedAt, h.scanned, h.rowBefore, h.rowAfter]),
      [[hole.streamOffset, headerOf(4), true, 2, 3]],
    );
  });

  it('a hole inside a payload: the surviving header frames the packet, nothing is skipped', async () => {
    const b = await channel();
    const hole = { streamOffset: headerOf(4) + HEADER + 5000, length: 700 };
    const { idx, sink } = await index(withHoles(b, [hole]));
    const d = sink.items.find((x) => x.code === 'multifd.resync');
    assert.ok(d, JSON.stringify(sink.items));
    assert.equal(d.location.streamOffset, hole.streamOffset);
    assert.equal(d.location.packet, 4);
    assert.match(d.message, /inside the payload of packet 4 \(packet_num 4\), whose header survived/);
    assert.match(d.message, new RegExp(`resumed at its end, stream offset ${headerOf(5)} \\(nothing skipped\\)`));
    assert.equal(idx.packets.length, 7);
    assert.deepEqual(idx.holes[0].scanned, false);
  });

  it('a hole (1 or 300 bytes) at every offset of a small stream: never a crash, always a diagnostic, never a header inside a hole', async () => {
    const e = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 0, method: 'none' });
    e.sync(0);
    await e.packet({ ramblock: 'pc.ram', normal: [{ offset: 0, data: page(PS, 1) }], packetNum: 1 });
    await e.packet({ ramblock: 'pc.ram', normal: [{ offset: PS, data: page(PS, 2) }], packetNum: 2 });
    e.sync(3);
    const b = e.bytes();
    for (let at = 0; at < b.length; at++) {
      const hole = { streamOffset: at, length: Math.min(at % 2 ? 1 : 300, b.length - at) };
      const stream = withHoles(b, [hole]);
      const { idx, sink } = await index(stream);
      assert.ok(
        sink.items.some((x) => x.code === 'multifd.resync' || x.code === 'multifd.hole-unrecovered'),
        `hole at ${at}: ${JSON.stringify(sink.items.map((x) => x.code))}`,
      );
      for (let r = 0; r < idx.packets.length; r++) {
        const h = idx.packets.headerOffset.get(r);
        assert.equal(stream.holeIn(h, h + idx.packets.headerLength.get(r)), undefined, `hole at ${at}: row ${r}`);
      }
    }
  });

  it('the scan needs two checked headers one framing apart: a lone magic in a payload is no boundary', async () => {
    const b = await channel();
    // Forge a header start (magic, version, flags 0) inside packet 2's payload, after a hole in packet 1.
    const forged = headerOf(2) + HEADER + 100;
    b.set([0x11, 0x22, 0x33, 0x44, 0, 0, 0, 1, 0, 0, 0, 0], forged);
    const s = withHoles(b, [{ streamOffset: headerOf(2) + 10, length: 20 }]);
    const q = await provedBoundaryFrom(s, headerOf(2) + 30, { pageSize: PS });
    assert.equal(q, headerOf(3));
  });
});
