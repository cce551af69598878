import { MfdBuilder } from '../../extension/core/capture/mfdWriter';
import { filledPage } from './mainchannel/testStreams';
import { MainStreamEncoder } from './mainchannel/mainStreamEncoder';

/**
 * A synthetic `.mfd` of a postcopy-preempt migration, with chosen capture times (ms). Stream 0, the main channel:
 * POSTCOPY_ADVISE, pages 0 and 1 in precopy, the switch (PACKAGED with POSTCOPY_LISTEN and POSTCOPY_RUN) at
 * 4 ms, then page 2 on the main channel at 10 ms, EOS, EOF. Stream 1, the preempt channel (no magic, opened
 * after the main channel): page 3 naming its block at 5 ms, the ZERO page 1 with CONTINUE at 6 ms, and, with
 * `copyOfMainPage` (6 ms or later), page 2 again (other data) at that time, then the chosen `tail` bytes.
 */

export const PREEMPT_PS = 4096;
const MS = 1e6;
const be32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const be64 = (n: number) => [...be32(Math.floor(n / 2 ** 32)), ...be32(n >>> 0)];

export interface PreemptCaptureOptions {
  /** Without POSTCOPY_ADVISE no preempt channel can exist: the stream without magic stays undecoded. */
  advise?: boolean;
  /** Capture time (ms) of a preempt-channel copy of page 2 (the main channel's comes at 10 ms). */
  copyOfMainPage?: number;
  /** Bytes sent on the preempt channel after its records. */
  tail?: Uint8Array;
}

export function preemptCapture(o: PreemptCaptureOptions = {}): Uint8Array {
  const ps = PREEMPT_PS;
  const precopy = new MainStreamEncoder().header().configuration({ machineType: 'pc-q35-10.0', capabilities: [] });
  if (o.advise !== false) precopy.command(3, [...be64(ps), ...be64(ps)]); // POSTCOPY_ADVISE
  precopy
    .sectionStart(2, 'ram', 0, 4)
    .memSize([{ name: 'pc.ram', usedLength: 8 * ps }])
    .eos()
    .footer(2);
  precopy.sectionPart(2).page(0, 'pc.ram', filledPage(ps, 1)).page(ps, undefined, filledPage(ps, 1)).eos().footer(2);
  const pkg = new MainStreamEncoder().command(4).command(5).bytes(); // POSTCOPY_LISTEN, POSTCOPY_RUN
  precopy.command(7, be32(pkg.length)).raw(pkg); // PACKAGED
  const postcopy = new MainStreamEncoder().sectionPart(2).page(2 * ps, 'pc.ram', filledPage(ps, 2));
  const end = new MainStreamEncoder().eos().footer(2).sectionEnd(2).eos().footer(2).eof();

  const first = new MainStreamEncoder().page(3 * ps, 'pc.ram', filledPage(ps, 3));
  const second = new MainStreamEncoder().zero(ps, undefined);
  const copy = new MainStreamEncoder().page(2 * ps, undefined, filledPage(ps, 9));

  const b = new MfdBuilder().meta({ pageSize: ps });
  b.open(0, { client: '127.0.0.1:50000', server: '127.0.0.1:4444' }, 0.5 * MS);
  b.data(0, precopy.bytes(), 'toDestination', 1 * MS);
  b.open(1, { client: '127.0.0.1:50002', server: '127.0.0.1:4444' }, 4 * MS);
  b.data(1, first.bytes(), 'toDestination', 5 * MS);
  b.data(1, second.bytes(), 'toDestination', 6 * MS);
  if (o.copyOfMainPage !== undefined && o.copyOfMainPage < 10)
    b.data(1, copy.bytes(), 'toDestination', o.copyOfMainPage * MS);
  b.data(0, postcopy.bytes(), 'toDestination', 10 * MS);
  if (o.copyOfMainPage !== undefined && o.copyOfMainPage >= 10)
    b.data(1, copy.bytes(), 'toDestination', o.copyOfMainPage * MS);
  if (o.tail) b.data(1, o.tail, 'toDestination', 11 * MS);
  b.data(0, end.bytes(), 'toDestination', 12 * MS);
  b.close(1, 'eof', 13 * MS);
  b.close(0, 'eof', 13 * MS);
  return b.build();
}

/** The 8-byte record word: offset | flags, big-endian. */
export function ramWord(offset: number, flags: number): Uint8Array {
  return Uint8Array.from(be64(offset + flags));
}
