import { pcapFile, tcpConnection, type TcpFrame } from './pcapWriter';
import { MainStreamEncoder } from './mainchannel/mainStreamEncoder';
import { MultifdChannelEncoder, page } from './multifdEncoder';

/**
 * Tiny migrations as tcpdump would have captured them, for the hole cases of the pcap reader and the multifd
 * resync: a main channel and one multifd channel (nocomp or zlib), cut into small TCP segments so that any
 * byte of either stream can be made a hole by leaving its segment out.
 */

const PS = 4096;
export const HOLED_MSS = 256;

function mainChannel(): Uint8Array {
  const e = new MainStreamEncoder()
    .header()
    .configuration({ machineType: 'pc-i440fx-10.0' })
    .sectionStart(1, 'ram')
    .memSize([{ name: 'pc.ram', usedLength: 16 * PS }])
    .eos()
    .footer(1);
  e.sectionEnd(1).eos().footer(1).eof();
  return e.bytes();
}

export async function tinyMultifd(method: 'none' | 'zlib' = 'none'): Promise<Uint8Array> {
  const e = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 0, method });
  e.sync(0);
  await e.packet({ ramblock: 'pc.ram', normal: [{ offset: 0, data: page(PS, 1) }], zero: [8 * PS], packetNum: 1 });
  await e.packet({
    ramblock: 'pc.ram',
    normal: [
      { offset: PS, data: page(PS, 2) },
      { offset: 2 * PS, data: page(PS, 3) },
    ],
    packetNum: 2,
  });
  e.sync(3);
  return e.bytes();
}

/** The frames of the migration: the main channel's connection, then the multifd channel's. */
export async function tinyMigrationFrames(method: 'none' | 'zlib' = 'none'): Promise<{
  main: TcpFrame[];
  multifd: TcpFrame[];
}> {
  const server: [string, number] = ['127.0.0.1', 4444];
  // The main channel is short: smaller segments, so a hole can fall inside it after its magic.
  const main = tcpConnection({ client: ['127.0.0.1', 50000], server, toServer: mainChannel(), mss: 32 });
  const multifd = tcpConnection({
    client: ['127.0.0.1', 50001],
    server,
    toServer: await tinyMultifd(method),
    mss: HOLED_MSS,
    startUs: 1_700_000_000_001_000,
  });
  return { main, multifd };
}

/** Indexes (in `frames`) of the data segments: dropping one makes a hole of HOLED_MSS bytes (or fewer at the end). */
export function dataSegments(frames: TcpFrame[]): number[] {
  return frames.flatMap((f, i) => (f.payload && f.payload.length > 0 ? [i] : []));
}

/** A pcap of the tiny migration with the given multifd (and main) frames left out. */
export async function holedMigration(
  o: { dropMultifd?: number[]; dropMain?: number[]; snapMultifd?: Map<number, number>; method?: 'none' | 'zlib' } = {},
): Promise<Buffer> {
  const { main, multifd } = await tinyMigrationFrames(o.method);
  const keep = (frames: TcpFrame[], drop: number[] = [], snap?: Map<number, number>) =>
    frames.flatMap((f, i) => (drop.includes(i) ? [] : [snap?.has(i) ? { ...f, snap: snap.get(i) } : f]));
  return pcapFile('ethernet', [...keep(main, o.dropMain), ...keep(multifd, o.dropMultifd, o.snapMultifd)]);
}
