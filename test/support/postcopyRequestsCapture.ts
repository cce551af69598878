import { MfdBuilder } from '../../extension/core/capture/mfdWriter';
import { filledPage } from './mainchannel/testStreams';
import { MainStreamEncoder } from './mainchannel/mainStreamEncoder';

/**
 * A synthetic `.mfd` of a postcopy migration whose destination requested pages, with chosen capture times (ms):
 * page 0 goes in precopy; the switch (PACKAGED with POSTCOPY_LISTEN and POSTCOPY_RUN) follows; then, on the
 * main channel, page 3 at 10 ms, page 5 and the ZERO page 6 at 16 ms. On the return path: REQ_PAGES_ID for page
 * 3 at 2 ms (answered after 8 ms), REQ_PAGES for page 5 at 12 ms (4 ms), for page 0 at 18 ms (only precopy
 * carried it: never answered), for page 6 at 19 ms (it came at 16 ms: on its way when requested).
 */

export const PC_PS = 4096;
const MS = 1e6;

const be32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const be64 = (n: number) => [...be32(Math.floor(n / 2 ** 32)), ...be32(n >>> 0)];
const rp = (type: number, body: number[]) => Uint8Array.from([0, type, 0, body.length, ...body]);

export const POSTCOPY_REQUESTS_EXPECTED = {
  requests: 4,
  pagesRequested: 4,
  answered: 2,
  beforeRequest: 1,
  unanswered: 1,
  latency: { minMs: 4, medianMs: 6, p95Ms: 8, maxMs: 8 },
};

export function postcopyRequestsCapture(): Uint8Array {
  const ps = PC_PS;
  const precopy = new MainStreamEncoder().header().configuration({ machineType: 'pc-q35-10.0', capabilities: [] });
  precopy.command(1); // OPEN_RETURN_PATH
  precopy.command(3, [...be64(ps), ...be64(ps)]); // POSTCOPY_ADVISE
  precopy
    .sectionStart(2, 'ram', 0, 4)
    .memSize([{ name: 'pc.ram', usedLength: 8 * ps }])
    .eos()
    .footer(2);
  precopy.sectionPart(2).page(0, 'pc.ram', filledPage(ps, 1)).eos().footer(2);
  const pkg = new MainStreamEncoder().command(4).command(5).bytes(); // POSTCOPY_LISTEN, POSTCOPY_RUN
  precopy.command(7, be32(pkg.length)).raw(pkg); // PACKAGED
  precopy.sectionPart(2).page(3 * ps, 'pc.ram', filledPage(ps, 3));
  const later = new MainStreamEncoder().page(5 * ps, undefined, filledPage(ps, 5)).zero(6 * ps, undefined);
  const end = new MainStreamEncoder().eos().footer(2).sectionEnd(2).eos().footer(2).eof();

  const b = new MfdBuilder().meta({ pageSize: ps });
  b.open(0, { client: '127.0.0.1:50000', server: '127.0.0.1:4444' }, 0.5 * MS);
  const main = precopy.bytes();
  const switchEnd = main.length - (8 + ps); // the first postcopy PAGE record comes in its own chunk
  b.data(0, main.subarray(0, switchEnd), 'toDestination', 1 * MS);
  b.data(0, rp(3, [...be64(3 * ps), ...be32(ps), 6, ...Buffer.from('pc.ram')]), 'toSource', 2 * MS);
  b.data(0, main.subarray(switchEnd), 'toDestination', 10 * MS);
  b.data(0, rp(4, [...be64(5 * ps), ...be32(ps)]), 'toSource', 12 * MS);
  b.data(0, later.bytes(), 'toDestination', 16 * MS);
  b.data(0, rp(4, [...be64(0), ...be32(ps)]), 'toSource', 18 * MS);
  b.data(0, rp(4, [...be64(6 * ps), ...be32(ps)]), 'toSource', 19 * MS);
  b.data(0, end.bytes(), 'toDestination', 20 * MS);
  b.data(0, rp(1, be32(0)), 'toSource', 21 * MS);
  b.close(0, 'eof', 22 * MS);
  return b.build();
}
