import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryByteSource } from '../capture/fileAccessor';
import { StreamBytes } from '../capture/streamBytes';
import { DiagnosticSink } from '../diagnostics/diagnostic';
import { StringTable } from '../util/growableArrays';
import { ChannelDecoder } from '../replay/channelDecoder';
import { MULTIFD_PACKET_SIZE } from './constants';
import { decodeHeaderImage, offsetBytesToRead } from './headerImage';
import { indexMultifdStream } from './indexMultifdStream';
import { checkPageCounts } from './packetChecks';
import { effectiveRamblockName, offsetEntryPosition, readRamPacketHeader } from './packetHeaders';
import { headerReader, readPacketHeader, readPacketPages } from './packetPages';
import { MultifdChannelEncoder, page } from '../../../test/support/multifdEncoder';

const PS = 4096;
const streamOf = (b: Uint8Array) => StreamBytes.contiguous(new MemoryByteSource(b), 0, b.length);
const pages = (n: number, base: number) =>
  Array.from({ length: n }, (_, i) => ({ offset: (base + i) * PS, data: page(PS, base + i) }));

async function zlibChannel(): Promise<Uint8Array> {
  const e = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 0, method: 'zlib' });
  e.sync(0);
  for (let k = 0; k < 4; k++)
    await e.packet({ ramblock: 'pc.ram', normal: pages(3, 10 * k), zero: [(100 + k) * PS], packetNum: k + 1 });
  e.sync(5);
  return e.bytes();
}

test('header readers, packet pages and the effective ramblock name agree with what was encoded', async () => {
  const bytes = await zlibChannel();
  const stream = streamOf(bytes);
  const idx = await indexMultifdStream(stream, 1, {
    pageSize: PS,
    names: new StringTable(),
    sink: new DiagnosticSink(),
  });
  const header = await readPacketHeader(headerReader(stream), idx.packets, 2);
  const h = readRamPacketHeader(header);
  assert.deepEqual(
    [h.normalPages, h.zeroPages, h.pagesAlloc, h.packetNum, h.ramblock, h.ramblockTerminated],
    [3, 1, MULTIFD_PACKET_SIZE / PS, 2, 'pc.ram', true],
  );
  const p = await readPacketPages(headerReader(stream), idx.packets, 2, PS);
  assert.deepEqual(p, { block: 'pc.ram', normalOffsets: [10 * PS, 11 * PS, 12 * PS], zeroOffsets: [101 * PS] });
  assert.deepEqual(await readPacketPages(headerReader(stream), idx.packets, 0, PS), {
    block: '',
    normalOffsets: [],
    zeroOffsets: [],
  });
  assert.deepEqual([...idx.ramblockLookups], ['pc.ram']);
  assert.equal(effectiveRamblockName('x'.repeat(256)), 'x'.repeat(255));
  assert.equal(effectiveRamblockName('pc.ram'), 'pc.ram');

  // The same header as a debuggee would hold it: fixed part, then as many offsets as the receiver reads.
  const fixed = header.subarray(0, offsetEntryPosition(0));
  assert.equal(offsetBytesToRead(fixed, PS), offsetEntryPosition(4) - offsetEntryPosition(0));
  const image = decodeHeaderImage(header.subarray(0, offsetEntryPosition(4)), PS);
  assert.deepEqual(image.problems, []);
  assert.deepEqual([image.normalOffsets, image.zeroOffsets], [p.normalOffsets, p.zeroOffsets]);
});

test('the count check returns problems in QEMU words and raises nothing', () => {
  assert.deepEqual(checkPageCounts({ pagesAlloc: 128, normalPages: 3, zeroPages: 1 }, PS), []);
  assert.deepEqual(
    checkPageCounts({ pagesAlloc: 200, normalPages: 201, zeroPages: 0 }, PS).map((p) => p.code),
    ['multifd.pages-alloc', 'multifd.normal-pages'],
  );
  // Without a page size, pages_alloc cannot be bounded; the other checks still run.
  assert.deepEqual(
    checkPageCounts({ pagesAlloc: 10, normalPages: 4, zeroPages: 7 }).map((p) => p.code),
    ['multifd.zero-pages'],
  );
});

test('the channel decoder serves replay in order and the editor in any order', async () => {
  const bytes = await zlibChannel();
  const stream = streamOf(bytes);
  const idx = await indexMultifdStream(stream, 1, {
    pageSize: PS,
    names: new StringTable(),
    sink: new DiagnosticSink(),
  });
  const expected = (k: number) => Buffer.concat(pages(3, 10 * k).map((x) => x.data));

  const inOrder = new ChannelDecoder(idx, stream);
  assert.deepEqual(Buffer.from(await inOrder.decode(3)), expected(2)); // decodes rows 1 and 2 first, keeps row 1's pages
  assert.deepEqual(Buffer.from(await inOrder.decode(2)), expected(1));
  await assert.rejects(inOrder.decode(2), /packet 2 was already decoded/);
  await assert.rejects(inOrder.decode(0), /packet 0 carries no pages/);
  inOrder.close();

  const random = new ChannelDecoder(idx, stream, { randomAccess: true, keep: 1 });
  const seen: number[] = [];
  const [a, b] = await Promise.all([random.decode(4, (r) => seen.push(r)), random.decode(1)]);
  assert.deepEqual(Buffer.from(a), expected(3));
  assert.deepEqual(Buffer.from(b), expected(0)); // an earlier packet: the codec stream starts over
  assert.deepEqual(Buffer.from(await random.decode(1)), expected(0)); // kept
  assert.deepEqual(Buffer.from(await random.decode(3)), expected(2));
  random.close();
});
