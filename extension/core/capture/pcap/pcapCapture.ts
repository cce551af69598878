import type { ByteSource } from '../fileAccessor';
import type { Capture, CaptureStream } from '../capture';
import { StreamBytes } from '../streamBytes';
import { CaptureFormatError } from '../captureFormatError';
import { DiagnosticSink } from '../../diagnostics/diagnostic';
import { streamKindOf } from '../../layout/streamMagic';
import { pcapFlavourOf } from './pcapRecords';
import { scanTcpConnections, type PcapScan, type TcpConnection } from './tcpConnections';
import type { ReassembledDirection } from './tcpReassembly';

/**
 * A tcpdump file as a capture: its TCP connections reassembled, grouped into migrations (a main channel and
 * the connections to the same destination endpoint that follow it), one migration chosen, its connections
 * in the order they opened as the capture's streams. Stream bytes stay in the pcap, read in place.
 */

export interface PcapOpenOptions {
  /** The destination's TCP port: picks the migration to that port. */
  port?: number;
  /** 1-based: the N-th migration in the file (with `port`, among those to that port). */
  migration?: number;
}

export interface PcapMigration {
  /** 1-based position in the file. */
  index: number;
  server: string;
  startNs: number;
  endNs: number;
  connections: TcpConnection[];
  bytes: number;
}

/** The file holds several migrations and none was chosen (or the choice matches none): the message lists them. */
export class PcapChoiceNeeded extends CaptureFormatError {
  constructor(
    message: string,
    readonly migrations: {
      index: number;
      server: string;
      port: number;
      startTime: string;
      connections: number;
      bytes: number;
    }[],
  ) {
    super(message);
  }
}

const CHECKED_OVERLAP_BYTES = 64 << 20;
/** Holes of one stream reported one by one; the rest in one line (a capture that dropped thousands of segments). */
const REPORTED_HOLES = 100;

export async function openPcapCapture(
  source: ByteSource,
  path: string,
  options: PcapOpenOptions = {},
): Promise<Capture> {
  const head = await source.read(0, 4);
  const flavour = pcapFlavourOf(head) ?? 'pcap';
  const scan = await scanTcpConnections(source);
  const sink = new DiagnosticSink();
  if (scan.problem)
    sink.report('pcap.truncated-file', `${flavour} structure: ${scan.problem.message}; frames after it are not read`, {
      fileOffset: scan.problem.fileOffset,
    });
  if (scan.unreadable.count > 0 && scan.unreadable.first)
    sink.report(
      'pcap.unreadable-frames',
      `${scan.unreadable.count} frame(s) whose link, IP or TCP headers could not be read; the first: ${scan.unreadable.first.reason}`,
      { fileOffset: scan.unreadable.first.fileOffset },
    );

  const migrations = await groupMigrations(source, scan);
  const chosen = choose(migrations, options, path);
  const streams: CaptureStream[] = [];
  if (!chosen) {
    sink.report(
      'pcap.no-migration',
      `no TCP connection in the file starts with QEVM or the multifd magic (${scan.connections.length} connection(s), ${scan.frames} frame(s) read)`,
      { fileOffset: 0 },
    );
  } else {
    for (const [id, c] of chosen.connections.entries()) {
      const multifd = (await streamKindOfConnection(source, c)) === 'multifd';
      const toDestination = await directionBytes(source, c.toServer, id, sink, scan.firstNs, 'the stream', multifd);
      const toSource = await directionBytes(source, c.toClient, id, sink, scan.firstNs, 'the return path');
      if (!c.sawSyn)
        sink.report(
          'pcap.no-syn',
          `stream ${id} (${c.client} → ${c.server}) was already open when the capture began: its offsets count from the first byte captured, so a stream that does not start with a magic cannot be decoded`,
          { stream: id, streamOffset: 0, fileOffset: c.firstFrameOffset },
        );
      if (c.reset)
        sink.report('capture.stream-reset', `stream ${id} (${c.client} → ${c.server}) was reset (RST)`, {
          stream: id,
          fileOffset: c.firstFrameOffset,
        });
      else if (c.toServer.finAt === undefined)
        sink.report(
          'pcap.open-at-end',
          `stream ${id} (${c.client} → ${c.server}): the capture ends before the connection closed (no FIN or RST): the source may have sent more than the ${toDestination.length} bytes captured`,
          { stream: id, streamOffset: toDestination.length },
        );
      streams.push({
        id,
        open: { client: c.client, server: c.server },
        closeReason: c.reset ? 'reset' : c.toServer.finAt !== undefined ? 'eof' : undefined,
        toDestination,
        toSource,
        openedAtNs: c.firstNs - scan.firstNs,
        closedAtNs: c.lastNs - scan.firstNs,
      });
    }
  }
  return {
    format: flavour,
    path,
    fileSize: source.size,
    source,
    meta: {
      tool: flavour,
      captureStart: new Date(scan.firstNs / 1e6).toISOString(),
      pcap: {
        frames: scan.frames,
        linkTypes: scan.linkTypes,
        connections: scan.connections.length,
        // index, server, port, startTime, connections, bytes: what a chooser lists (the editor's quick pick).
        migrations: summary(migrations),
        chosen: chosen ? { index: chosen.index, server: chosen.server } : undefined,
      },
    },
    notes: [],
    streams,
    diagnostics: sink.items,
  };
}

/**
 * One direction as stream bytes. A multifd channel keeps its holes: offsets count through them, and the
 * indexer resumes at the next packet boundary it can prove (multifd/resync.ts). Any other stream (the main
 * channel, the return path) ends where its first hole starts: nothing after it can be framed with certainty
 * there, and the bytes it hides would otherwise be read as the bytes after it.
 */
async function directionBytes(
  source: ByteSource,
  d: ReassembledDirection,
  id: number,
  sink: DiagnosticSink,
  t0: number,
  what = 'the stream',
  keepHoles = false,
): Promise<StreamBytes> {
  const first = d.holes[0];
  const length = first && !keepHoles ? first.streamOffset : d.length;
  const pieces = d.pieces.filter((p) => p.streamOffset < length);
  const holes = keepHoles ? d.holes : d.holes.slice(0, 1);
  let j = 0;
  for (const [n, hole] of holes.entries()) {
    if (n === REPORTED_HOLES) {
      const rest = holes.slice(n);
      sink.report(
        'pcap.hole',
        `${what} of stream ${id}: ${rest.length} more hole(s) from stream offset ${hole.streamOffset} on, ${rest.reduce((a, h) => a + h.length, 0)} byte(s) in all, are not listed one by one`,
        { stream: id, streamOffset: hole.streamOffset },
      );
      break;
    }
    while (j < pieces.length && pieces[j].streamOffset < hole.streamOffset) j++;
    const last = pieces[j - 1];
    const fileOffset = last ? last.fileOffset + last.length : undefined;
    const then = keepHoles
      ? 'decoding resumes at the next multifd packet boundary that can be proved (multifd.resync says where)'
      : `${d.length - hole.streamOffset} byte(s) from there on are not decoded (${what === 'the stream' ? 'only a multifd channel is resynchronised after a hole: the main channel stops there' : 'the return path is not resynchronised'})${d.holes.length > 1 ? ` (${d.holes.length} holes in all)` : ''}`;
    sink.report(
      'pcap.hole',
      `${what} of stream ${id}: ${hole.length} byte(s) at stream offset ${hole.streamOffset} are missing from the pcap (${hole.why})${keepHoles && holes.length > 1 ? ` (hole ${n + 1} of ${holes.length})` : ''}; ${then}`,
      { stream: id, streamOffset: hole.streamOffset, fileOffset },
    );
  }
  let checked = 0;
  for (const o of d.overlaps) {
    if (o.streamOffset >= length || checked >= CHECKED_OVERLAP_BYTES) break;
    const n = Math.min(o.length, length - o.streamOffset);
    checked += n;
    const [x, y] = await Promise.all([source.read(o.firstFileOffset, n), source.read(o.laterFileOffset, n)]);
    const at = firstDifference(x, y);
    if (at >= 0)
      sink.report(
        'pcap.retransmission-differs',
        `${what} of stream ${id}: two captured copies of stream offset ${o.streamOffset + at} disagree (file offsets ${o.firstFileOffset + at} and ${o.laterFileOffset + at}); the first copy is used`,
        { stream: id, streamOffset: o.streamOffset + at, fileOffset: o.laterFileOffset + at },
      );
  }
  if (pieces.length === 0) return StreamBytes.empty(source);
  return new StreamBytes(
    source,
    Float64Array.from(pieces, (p) => p.streamOffset),
    Float64Array.from(pieces, (p) => p.fileOffset),
    Float64Array.from(pieces, (p) => p.timeNs - t0),
    length,
    keepHoles ? d.holes : [],
  );
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** What the first captured bytes of a connection's source → destination direction say it is. */
async function streamKindOfConnection(source: ByteSource, c: TcpConnection): Promise<ReturnType<typeof streamKindOf>> {
  const first = c.toServer.pieces[0];
  const head =
    first && first.streamOffset === 0
      ? await source.read(first.fileOffset, Math.min(4, first.length))
      : new Uint8Array(0);
  return streamKindOf(head);
}

/** Connections grouped by destination endpoint; each main channel (QEVM) starts a migration. */
async function groupMigrations(source: ByteSource, scan: PcapScan): Promise<PcapMigration[]> {
  const byServer = new Map<string, PcapMigration[]>();
  const out: PcapMigration[] = [];
  for (const c of scan.connections) {
    const kind = await streamKindOfConnection(source, c);
    const list = byServer.get(c.server) ?? [];
    byServer.set(c.server, list);
    let current = list[list.length - 1];
    if (kind === 'main' || (!current && kind === 'multifd')) {
      current = { index: 0, server: c.server, startNs: c.firstNs, endNs: c.lastNs, connections: [], bytes: 0 };
      list.push(current);
      out.push(current);
    }
    if (!current) continue; // not a migration's connection
    current.connections.push(c);
    current.endNs = Math.max(current.endNs, c.lastNs);
    current.bytes += c.toServer.length;
  }
  out.sort((a, b) => a.startNs - b.startNs);
  out.forEach((m, i) => (m.index = i + 1));
  return out;
}

function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
}

function choose(migrations: PcapMigration[], options: PcapOpenOptions, path: string): PcapMigration | undefined {
  let candidates = migrations;
  if (options.port !== undefined) candidates = candidates.filter((m) => portOf(m.server) === options.port);
  if (options.migration !== undefined) {
    const m = candidates[options.migration - 1];
    if (!m)
      throw new PcapChoiceNeeded(
        `${path}: there is no migration ${options.migration}${options.port !== undefined ? ` to port ${options.port}` : ''}: ${describe(candidates.length ? candidates : migrations)}`,
        summary(candidates.length ? candidates : migrations),
      );
    return m;
  }
  if (options.port !== undefined && candidates.length === 0)
    throw new PcapChoiceNeeded(
      `${path}: no migration goes to port ${options.port}: ${describe(migrations)}`,
      summary(migrations),
    );
  if (candidates.length > 1)
    throw new PcapChoiceNeeded(
      `${path}: the file holds ${candidates.length} migrations; choose one with --port PORT (and --migration N): ${describe(candidates)}`,
      summary(candidates),
    );
  return candidates[0];
}

function summary(ms: PcapMigration[]): PcapChoiceNeeded['migrations'] {
  return ms.map((m) => ({
    index: m.index,
    server: m.server,
    port: portOf(m.server),
    startTime: new Date(m.startNs / 1e6).toISOString(),
    connections: m.connections.length,
    bytes: m.bytes,
  }));
}

function describe(ms: PcapMigration[]): string {
  return summary(ms)
    .map((m) => `${m.index}) to ${m.server} at ${m.startTime}, ${m.connections} connection(s), ${m.bytes} bytes`)
    .join('; ');
}
