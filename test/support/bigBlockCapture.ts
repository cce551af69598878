/**
 * A small multifd capture of a very large ramblock, for the page map's reach: one channel whose packets mark one
 * zero page in every GiB of the block and its very last page (plus a normal page at 0), so a 64 GiB "pc.ram" of
 * 4 KiB pages (16,777,216 pages) takes a few KiB of capture. The block's size comes from its highest offset.
 */
import { MfdFileWriter } from '../../extension/core/capture/mfdWriter';
import { MultifdChannelEncoder, page } from './multifdEncoder';

export interface BigBlockCapture {
  path: string;
  blockBytes: number;
  pageSize: number;
  /** Offsets of the zero pages sent, ascending; the last is the block's last page. */
  zeroOffsets: number[];
}

const GIB = 1024 ** 3;

export async function bigBlockCapture(path: string, blockGiB = 64, pageSize = 4096): Promise<BigBlockCapture> {
  const blockBytes = blockGiB * GIB;
  const zeroOffsets = [...Array.from({ length: blockGiB }, (_, g) => g * GIB + pageSize), blockBytes - pageSize];
  const w = await MfdFileWriter.create(path, true);
  await w.meta({
    tool: 'bigBlockCapture',
    pageSize,
    parameters: { 'multifd-channels': 1, 'multifd-compression': 'none', 'zero-page-detection': 'multifd' },
  });
  await w.open(1, { label: 'multifd channel 0', client: '127.0.0.1:40000', server: '127.0.0.1:4444' });
  const enc = new MultifdChannelEncoder({ version: '10.0', pageSize, channelId: 0 });
  await enc.packet({ ramblock: 'pc.ram', normal: [{ offset: 0, data: page(pageSize, 1) }], zero: [], packetNum: 1 });
  // A packet holds 128 offsets at 4 KiB pages: 16 zero pages a packet keeps several packets in the list.
  for (let i = 0; i < zeroOffsets.length; i += 16)
    await enc.packet({ ramblock: 'pc.ram', zero: zeroOffsets.slice(i, i + 16), packetNum: 2 + i / 16 });
  enc.sync(2 + Math.ceil(zeroOffsets.length / 16));
  await w.data(1, enc.bytes(), 'toDestination');
  await w.close(1, 'eof');
  await w.finish();
  return { path, blockBytes, pageSize, zeroOffsets };
}
