import type { ByteSource } from '../fileAccessor';
import { walkPcapFrames, type PcapStructureProblem } from './pcapRecords';
import { HEADER_BYTES_NEEDED, isSupportedLinkType, parseTcpSegment } from './tcpSegment';
import { DirectionAssembler, type ReassembledDirection } from './tcpReassembly';

/**
 * Every TCP connection of a pcap/pcapng file, both directions reassembled. The side that sent the SYN is the
 * client (QEMU's source connects to the destination); for a connection already open when the capture began,
 * the server is the end whose port other connections share, else the one with the lower port.
 */

export interface TcpConnection {
  client: string;
  server: string;
  /** From the first and last frame of the connection, ns since the epoch. */
  firstNs: number;
  lastNs: number;
  sawSyn: boolean;
  reset: boolean;
  toServer: ReassembledDirection;
  toClient: ReassembledDirection;
  /** File offset of the connection's first frame. */
  firstFrameOffset: number;
}

export interface PcapScan {
  connections: TcpConnection[];
  frames: number;
  /** Frames that were not TCP (ARP, UDP, …), and frames whose TCP could not be read, with the first reason. */
  skipped: number;
  unreadable: { count: number; first?: { fileOffset: number; reason: string } };
  linkTypes: number[];
  problem?: PcapStructureProblem;
  firstNs: number;
}

interface Building {
  a: string;
  b: string;
  client?: string;
  firstNs: number;
  lastNs: number;
  reset: boolean;
  firstFrameOffset: number;
  dirs: Map<string, DirectionAssembler>;
}

export async function scanTcpConnections(source: ByteSource): Promise<PcapScan> {
  const open = new Map<string, Building>();
  const done: Building[] = [];
  const linkTypes = new Set<number>();
  let frames = 0;
  let skipped = 0;
  const unreadable: PcapScan['unreadable'] = { count: 0 };
  let firstNs = NaN;
  const unreadableFrame = (fileOffset: number, reason: string): void => {
    unreadable.count++;
    unreadable.first ??= { fileOffset, reason };
  };

  const problem = await walkPcapFrames(
    source,
    (f, head) => {
      frames++;
      if (Number.isNaN(firstNs)) firstNs = f.timeNs;
      linkTypes.add(f.linkType);
      if (!isSupportedLinkType(f.linkType))
        return unreadableFrame(f.dataOffset, `link type ${f.linkType} is not one tcpdump writes on Linux`);
      const seg = parseTcpSegment(f.linkType, head);
      if ('reason' in seg) {
        if (seg.skip) skipped++;
        else unreadableFrame(f.dataOffset, seg.reason);
        return;
      }
      const [a, b] = seg.source < seg.destination ? [seg.source, seg.destination] : [seg.destination, seg.source];
      const key = `${a}|${b}`;
      let c = open.get(key);
      // A new SYN on a 4-tuple already in use starts a new connection: ports get reused.
      if (c && seg.syn && !seg.ack && c.dirs.get(seg.source)?.started) {
        done.push(c);
        c = undefined;
      }
      if (!c) {
        c = {
          a,
          b,
          firstNs: f.timeNs,
          lastNs: f.timeNs,
          reset: false,
          firstFrameOffset: f.dataOffset,
          dirs: new Map(),
        };
        open.set(key, c);
      }
      c.lastNs = f.timeNs;
      let dir = c.dirs.get(seg.source);
      if (!dir) c.dirs.set(seg.source, (dir = new DirectionAssembler()));
      if (seg.syn) {
        if (!seg.ack) c.client ??= seg.source;
        dir.syn(seg.seq);
        return;
      }
      const wire = seg.payloadLength >= 0 ? seg.payloadLength : f.originalLength - seg.payloadOffset;
      const captured = Math.max(0, Math.min(wire, f.capturedLength - seg.payloadOffset));
      dir.segment(seg.seq, captured, wire, f.dataOffset + seg.payloadOffset, f.timeNs);
      if (seg.fin) dir.fin(seg.seq, wire);
      if (seg.rst) c.reset = true;
    },
    HEADER_BYTES_NEEDED,
  );

  const all = [...done, ...open.values()];
  const serverPorts = new Map<string, number>();
  for (const c of all) for (const end of [c.a, c.b]) serverPorts.set(end, (serverPorts.get(end) ?? 0) + 1);
  const connections = all
    .map((c): TcpConnection => {
      const client = c.client ?? guessClient(c, serverPorts);
      const server = client === c.a ? c.b : c.a;
      const toServer = c.dirs.get(client)?.finish() ?? emptyDirection();
      const toClient = c.dirs.get(server)?.finish() ?? emptyDirection();
      return {
        client,
        server,
        firstNs: c.firstNs,
        lastNs: c.lastNs,
        sawSyn: c.client !== undefined,
        reset: c.reset,
        toServer,
        toClient,
        firstFrameOffset: c.firstFrameOffset,
      };
    })
    .sort((x, y) => x.firstNs - y.firstNs || x.firstFrameOffset - y.firstFrameOffset);
  return {
    connections,
    frames,
    skipped,
    unreadable,
    linkTypes: [...linkTypes],
    problem,
    firstNs: Number.isNaN(firstNs) ? 0 : firstNs,
  };
}

function guessClient(c: Building, endpointUse: Map<string, number>): string {
  const ua = endpointUse.get(c.a) ?? 0;
  const ub = endpointUse.get(c.b) ?? 0;
  if (ua !== ub) return ua > ub ? c.b : c.a;
  const port = (e: string): number => Number(e.slice(e.lastIndexOf(':') + 1));
  return port(c.a) < port(c.b) ? c.b : c.a;
}

function emptyDirection(): ReassembledDirection {
  return { pieces: [], holes: [], overlaps: [], length: 0, sawSyn: false };
}
