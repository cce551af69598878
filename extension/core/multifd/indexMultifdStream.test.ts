import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryByteSource } from '../capture/fileAccessor';
import { StreamBytes } from '../capture/streamBytes';
import { DiagnosticSink } from '../diagnostics/diagnostic';
import { StringTable } from '../util/growableArrays';
import { indexMultifdStream, type MultifdIndexContext } from './indexMultifdStream';
import { probeMultifdPageSize } from './pageSizeProbe';
import { readPacket } from './readPacket';
import { MultifdChannelEncoder, page, type SenderVersion } from '../../../test/support/multifdEncoder';

const PS = 4096;
const streamOf = (b: Uint8Array) => StreamBytes.contiguous(new MemoryByteSource(b), 0, b.length);
const ctx = (over: Partial<MultifdIndexContext> = {}): MultifdIndexContext => ({
  pageSize: PS,
  names: new StringTable(),
  sink: new DiagnosticSink(),
  ...over,
});
const pages = (n: number, base: number, kind: 'random' | 'zero' | 'pattern' = 'random') =>
  Array.from({ length: n }, (_, i) => ({ offset: (base + i) * PS, data: page(PS, base + i, kind) }));

/** A channel as a sender of `version` writes it: setup SYNC, two data batches, a SYNC, one more batch, final SYNC. */
async function channel(version: SenderVersion, method: 'none' | 'zlib' = 'none'): Promise<Uint8Array> {
  const e = new MultifdChannelEncoder({ version, pageSize: PS, channelId: 0, method });
  const old = version === '7.2' || version === '8.2';
  e.sync(0);
  await e.packet({ ramblock: 'pc.ram', normal: pages(128, 0), packetNum: 1 });
  await e.packet({ ramblock: 'pc.ram', normal: pages(3, 200), zero: old ? [] : [300 * PS, 301 * PS], packetNum: 2 });
  e.sync(3);
  if (old) await e.packet({ ramblock: 'pc.ram', normal: pages(5, 400), sync: true, packetNum: 4 });
  else {
    await e.packet({ ramblock: 'pc.ram', normal: pages(5, 400), packetNum: 4 });
    e.sync(5);
  }
  return e.bytes();
}

for (const version of ['7.2', '8.2', '9.0', '9.2', '10.0'] as SenderVersion[]) {
  for (const method of ['none', 'zlib'] as const) {
    test(`index ${version} ${method}: framing, counts, epochs and offsets`, async () => {
      const bytes = await channel(version, method);
      const c = ctx({ ramblocks: new Map([['pc.ram', 64 << 20]]) });
      const idx = await indexMultifdStream(streamOf(bytes), 1, c);
      const old = version === '7.2' || version === '8.2';
      assert.equal(idx.complete, true, JSON.stringify(c.sink.items));
      assert.equal(idx.decodedBytes, bytes.length);
      assert.equal(idx.handshake?.channelId, 0);
      assert.equal(idx.syncPackets, 3);
      assert.equal(idx.normalPages, 136);
      assert.equal(idx.zeroPages, old ? 0 : 2);
      assert.equal(idx.method, method);
      // ≤ 8.2: setup SYNC, 2 data, SYNC, pages+SYNC, empty trailer. ≥ 9.0: setup SYNC, 2 data, SYNC, data, SYNC.
      assert.equal(idx.packets.length, 6);
      const epochs = Array.from({ length: 6 }, (_, i) => idx.packets.epoch.get(i));
      assert.deepEqual(epochs, old ? [0, 1, 1, 1, 2, 3] : [0, 1, 1, 1, 2, 2]);
      assert.equal(c.sink.items.filter((d) => d.severity === 'error').length, 0, JSON.stringify(c.sink.items));
      const p = await readPacket(streamOf(bytes), idx.packets, 2, PS);
      assert.deepEqual(p.normalOffsets, [200 * PS, 201 * PS, 202 * PS]);
      assert.deepEqual(p.zeroOffsets, old ? [] : [300 * PS, 301 * PS]);
      assert.equal(p.fields.find((f) => f.name === 'normal_pages')?.value, 3);
      if (version === '7.2')
        assert.ok(
          c.sink.items.some((d) => d.code === 'multifd.payload-without-pages'),
          'stale next_packet_size is noticed',
        );
      const hintText = idx.hints.map((h) => h.reason).join('; ');
      if (old) assert.match(hintText, /pages together with SYNC/);
      if (version === '9.2' || version === '10.0') assert.match(hintText, /pages_alloc 0/);
    });
  }
}

test('page size probe: pages_alloc, and the 9.2+ SYNC with pages_alloc 0, for 4/16/64 KiB pages', async () => {
  for (const ps of [4096, 16384, 65536]) {
    for (const version of ['7.2', '9.2'] as SenderVersion[]) {
      const e = new MultifdChannelEncoder({ version, pageSize: ps, channelId: 0 });
      e.sync(0);
      await e.packet({ ramblock: 'mem', normal: [{ offset: 0, data: page(ps, 1) }], packetNum: 1 });
      e.sync(2);
      const r = await probeMultifdPageSize(streamOf(e.bytes()));
      assert.equal(r?.pageSize, ps, `${version} ${ps}`);
    }
  }
});

test('device-state packets (10.0) are framed by their own header and blob', async () => {
  const e = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 2 });
  e.sync(0).deviceState('0000:00:02.0/vfio', 0, new Uint8Array(1000).fill(7));
  await e.packet({ ramblock: 'pc.ram', normal: pages(1, 0), packetNum: 1 });
  e.sync(2);
  const c = ctx();
  const idx = await indexMultifdStream(streamOf(e.bytes()), 0, c);
  assert.equal(idx.complete, true);
  assert.equal(idx.deviceStatePackets, 1);
  const ds = idx.packets.row(1);
  assert.equal(ds.kind, 'device-state');
  assert.equal(ds.ramblock, '0000:00:02.0/vfio');
  assert.equal(ds.payloadLength, 1000);
  assert.equal(ds.packetNum, -1);
});

test('receiver checks: pages_alloc, normal_pages, zero_pages, unknown ramblock, offset range, compression mismatch', async () => {
  const e = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 0 });
  e.sync(0);
  await e.packet({ ramblock: 'pc.ram', normal: pages(1, 0), packetNum: 1 });
  await e.packet({ ramblock: 'nosuch', normal: pages(1, 1), packetNum: 2 });
  await e.packet({ ramblock: 'pc.ram', normal: [{ offset: 64 << 20, data: page(PS, 3) }], packetNum: 3 });
  const bytes = e.bytes();
  const v = new DataView(bytes.buffer);
  const packetLen = 1344;
  const p1 = 64 + packetLen; // first data packet header
  v.setUint32(p1 + 12, 0xffffffff); // pages_alloc
  const c = ctx({ ramblocks: new Map([['pc.ram', 64 << 20]]), expectedMethod: 'zlib' });
  const idx = await indexMultifdStream(streamOf(bytes), 5, c);
  const codes = c.sink.items.map((d) => d.code);
  assert.ok(codes.includes('multifd.pages-alloc'));
  assert.ok(codes.includes('multifd.unknown-ramblock'));
  assert.ok(codes.includes('multifd.offset-range'));
  assert.ok(codes.includes('multifd.compression-mismatch'));
  const pa = c.sink.items.find((d) => d.code === 'multifd.pages-alloc')!;
  assert.deepEqual([pa.location.stream, pa.location.packet, pa.location.streamOffset], [5, 1, p1 + 12]);
  assert.equal(idx.packets.row(1).severity, 3);
  assert.equal(idx.complete, true);
});

test('hostile sizes: next_packet_size 4 GiB ends in a truncated-payload diagnostic, not an allocation', async () => {
  const e = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 0, method: 'zlib' });
  e.sync(0);
  await e.packet({ ramblock: 'pc.ram', normal: pages(2, 0), packetNum: 1 });
  const bytes = e.bytes();
  new DataView(bytes.buffer).setUint32(64 + 1344 + 20, 0xffffffff);
  const c = ctx();
  const before = process.memoryUsage().rss;
  const idx = await indexMultifdStream(streamOf(bytes), 0, c);
  assert.ok(process.memoryUsage().rss - before < 64 << 20);
  const d = c.sink.items.find((x) => x.code === 'multifd.truncated-payload');
  assert.ok(d);
  assert.equal(d.location.packet, 1);
  assert.equal(idx.complete, false);
});

test('a ramblock name with no NUL is reported and does not run past its 256 bytes', async () => {
  const e = new MultifdChannelEncoder({ version: '9.2', pageSize: PS, channelId: 0 });
  e.sync(0);
  await e.packet({ ramblock: 'x'.repeat(300), normal: pages(1, 0), packetNum: 1 });
  const c = ctx();
  const idx = await indexMultifdStream(streamOf(e.bytes()), 0, c);
  assert.ok(c.sink.items.some((d) => d.code === 'multifd.ramblock-unterminated'));
  assert.equal(idx.packets.row(1).ramblock.length, 256);
});

test('a stream cut at every byte decodes everything before the cut and names the cut', async () => {
  const full = await channel('9.0');
  const whole = await indexMultifdStream(streamOf(full), 0, ctx());
  const boundaries = new Set<number>([64]);
  for (let i = 0; i < whole.packets.length; i++)
    boundaries.add(
      whole.packets.headerOffset.get(i) + whole.packets.headerLength.get(i) + whole.packets.payloadLength.get(i),
    );
  for (let cut = 0; cut < full.length; cut++) {
    const c = ctx();
    const idx = await indexMultifdStream(streamOf(full.subarray(0, cut)), 0, c);
    // Every packet that ended before the cut is there, unchanged.
    for (let i = 0; i < idx.packets.length; i++) {
      const end =
        whole.packets.headerOffset.get(i) + whole.packets.headerLength.get(i) + whole.packets.payloadLength.get(i);
      if (end <= cut) assert.deepEqual(idx.packets.row(i), whole.packets.row(i));
    }
    if (!boundaries.has(cut) && cut > 0) {
      const d = c.sink.items.find((x) => /truncated/.test(x.code));
      assert.ok(d, `cut at ${cut} reported`);
      assert.ok(d.location.streamOffset! <= cut);
    }
  }
});
