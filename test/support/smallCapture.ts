/**
 * Small synthetic captures for replay tests: a main channel announcing `pc.ram` and multifd channels carrying a
 * few data and zero pages, as QEMU 10.0 sends them.
 */
import { writeFileSync } from 'node:fs';
import { MfdBuilder } from '../../extension/core/capture/mfdWriter';
import { MainStreamEncoder } from './mainchannel/mainStreamEncoder';
import { MultifdChannelEncoder, page } from './multifdEncoder';

export const SMALL_PS = 4096;

/** `pages` pages of pc.ram, all sent as data (one packet per 64 pages) on one channel. */
export async function smallCapture(pages = 64): Promise<Uint8Array> {
  const m = new MainStreamEncoder().header().configuration({ machineType: 'pc' });
  m.sectionStart(2, 'ram')
    .memSize([{ name: 'pc.ram', usedLength: pages * SMALL_PS }])
    .flush()
    .eos()
    .footer(2)
    .sectionPart(2)
    .flush()
    .eos()
    .footer(2)
    .sectionEnd(2)
    .eos()
    .footer(2)
    .eof();
  const ch = new MultifdChannelEncoder({ version: '10.0', pageSize: SMALL_PS, channelId: 0 });
  ch.sync(0);
  let num = 1;
  for (let p = 0; p < pages; p += 64) {
    const normal = [];
    for (let k = p; k < Math.min(pages, p + 64); k++)
      normal.push({ offset: k * SMALL_PS, data: page(SMALL_PS, k + 1) });
    await ch.packet({ ramblock: 'pc.ram', normal, packetNum: num++ });
  }
  ch.sync(num);
  return new MfdBuilder().meta({ tool: 'test', pageSize: SMALL_PS }).data(0, m.bytes()).data(1, ch.bytes()).build();
}

export async function writeSmallCapture(path: string, pages = 64): Promise<string> {
  writeFileSync(path, await smallCapture(pages));
  return path;
}
