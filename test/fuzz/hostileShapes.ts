// Hostile capture shapes built in code (too large, or too regular, to keep as files), shared by the bombs and
// by the corpus writer (test/fuzz/writeRegressions.ts).
import { MfdBuilder } from '../../extension/core/capture/mfdWriter';
import { MainStreamEncoder } from '../support/mainchannel/mainStreamEncoder';
import { MultifdChannelEncoder } from '../support/multifdEncoder';

const PS = 4096;

/**
 * A 15 TiB ramblock (MEM_SIZE) and `pages` zero pages spread evenly over it, 128 to a packet: every page in a
 * region of its own, so any per-region allocation is paid once a page.
 */
export async function sparseZeroPagesCapture(pages = 65_536, blockBytes = 15 * 2 ** 40): Promise<Uint8Array> {
  const main = new MainStreamEncoder().header().configuration({ machineType: 'pc' });
  main
    .sectionStart(2, 'ram')
    .memSize([{ name: 'pc.ram', usedLength: blockBytes }])
    .flush()
    .eos()
    .footer(2)
    .sectionEnd(2)
    .eos()
    .footer(2)
    .eof();
  const ch = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 0 });
  ch.sync(0);
  const stride = Math.floor(blockBytes / pages / PS) * PS;
  let num = 1;
  for (let p = 0; p < pages; p += 128) {
    const zero: number[] = [];
    for (let k = p; k < Math.min(pages, p + 128); k++) zero.push(k * stride);
    await ch.packet({ ramblock: 'pc.ram', zero, packetNum: num++ });
  }
  ch.sync(num);
  return new MfdBuilder()
    .meta({ pageSize: PS, parameters: { 'zero-page-detection': 'multifd' } })
    .data(0, main.bytes())
    .data(1, ch.bytes())
    .build();
}

/** No main channel and `names` distinct ramblock names, one zero page each (64 KiB pages keep packets small). */
export async function manyRamblockNamesCapture(names = 260): Promise<Uint8Array> {
  const ps = 65536;
  const ch = new MultifdChannelEncoder({ version: '10.0', pageSize: ps, channelId: 0 });
  ch.sync(0);
  for (let i = 0; i < names; i++) await ch.packet({ ramblock: `block${i}`, zero: [ps * (i % 7)], packetNum: i + 1 });
  ch.sync(names + 1);
  return new MfdBuilder().meta({ pageSize: ps }).data(1, ch.bytes()).build();
}
