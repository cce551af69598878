/**
 * A synthetic `.mfd` whose main channel carries the records the packet list shows as rows, with the return
 * path on (OPEN_RETURN_PATH, PING answered by PONG, SHUT at the end), as a 7.2-style legacy sender writes
 * it: every page a ZERO record on the main channel. For the packet-list tests and the UI test:
 *
 *   node --import tsx test/support/mainChannelCapture.ts OUT.mfd [--zero-records N]
 */
import { writeFileSync } from 'node:fs';
import { MfdBuilder } from '../../extension/core/capture/mfdWriter';
import { filledPage } from './mainchannel/testStreams';
import { MainStreamEncoder } from './mainchannel/mainStreamEncoder';

export const MAIN_CAPTURE_PS = 4096;

export interface MainChannelCaptureOptions {
  /** ZERO records in the RAM section's PART (default 200). */
  zeroRecords?: number;
  /** PING values sent; each is answered by a PONG on the return path (default [1, 2]). */
  pings?: number[];
}

export interface MainChannelCapture {
  bytes: Uint8Array;
  zeroRecords: number;
  /** RAM records: MEM_SIZE, EOS ×3, the ZEROs, one PAGE. */
  ramRecords: number;
  /** Top-level records: CONFIGURATION, commands, the RAM sections, the timer FULL, EOF, VMDESCRIPTION. */
  topLevel: number;
  returnPathMessages: number;
}

const be32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

export function mainChannelCapture(o: MainChannelCaptureOptions = {}): MainChannelCapture {
  const ps = MAIN_CAPTURE_PS;
  const zeros = o.zeroRecords ?? 200;
  const pings = o.pings ?? [1, 2];
  const e = new MainStreamEncoder().header().configuration({ machineType: 'pc-i440fx-7.2', capabilities: [] });
  e.command(1); // OPEN_RETURN_PATH
  for (const v of pings) e.command(2, be32(v)); // PING
  e.sectionStart(2, 'ram', 0, 4)
    .memSize([{ name: 'pc.ram', usedLength: (zeros + 1) * ps }])
    .eos()
    .footer(2);
  e.sectionPart(2);
  for (let k = 0; k < zeros; k++) e.zero(k * ps, k === 0 ? 'pc.ram' : undefined);
  e.page(zeros * ps, undefined, filledPage(ps, 7))
    .eos()
    .footer(2);
  e.sectionEnd(2).eos().footer(2);
  e.sectionFull(3, 'timer', 0, 2).raw([0, 0, 0, 1, 0, 0, 0, 2]).footer(3);
  e.eof();
  e.vmDescription({
    page_size: ps,
    devices: [
      {
        name: 'timer',
        instance_id: 0,
        vmsd_name: 'timer',
        version: 2,
        fields: [
          { name: 'cpu_ticks_offset', type: 'int32', size: 4 },
          { name: 'cpu_clock_offset', type: 'int32', size: 4 },
        ],
      },
    ],
  });
  const main = e.bytes();
  // The return path: a PONG per PING, then SHUT(0) when the destination is done.
  const rp = (type: number, body: number[]) => Uint8Array.from([0, type, 0, body.length, ...body]);
  const b = new MfdBuilder().meta({ pageSize: ps, parameters: { 'zero-page-detection': 'legacy' } });
  b.open(0, { label: 'main channel', client: '127.0.0.1:50000', server: '127.0.0.1:4444' });
  // Sent in chunks as a socket would carry them, so records get distinct times.
  const CHUNK = 16 * 1024;
  for (let at = 0; at < main.length; at += CHUNK) {
    b.data(0, main.subarray(at, Math.min(main.length, at + CHUNK)));
    if (at === 0) for (const v of pings) b.data(0, rp(2, be32(v)), 'toSource');
  }
  b.data(0, rp(1, be32(0)), 'toSource');
  b.close(0);
  return {
    bytes: b.build(),
    zeroRecords: zeros,
    ramRecords: 1 + 3 + zeros + 1,
    topLevel: 1 + 1 + pings.length + 3 + 1 + 1 + 1,
    returnPathMessages: pings.length + 1,
  };
}

if (require.main === module) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: mainChannelCapture.ts OUT.mfd [--zero-records N]');
  const i = process.argv.indexOf('--zero-records');
  const c = mainChannelCapture({ zeroRecords: i > 0 ? Number(process.argv[i + 1]) : undefined });
  writeFileSync(out, c.bytes);
  console.log(JSON.stringify({ path: out, ...c, bytes: c.bytes.length }));
}
