import type { CaptureAnalysis } from '../analysisTypes';
import type { StreamBytes } from '../capture/streamBytes';
import { readReturnPath, type ReturnPathMessage } from '../returnpath/returnPath';
import { readCommandAt, type CommandArguments } from './commandArguments';
import { QEMU_VM_COMMAND, QEMU_VM_EOF, QEMU_VM_VMDESCRIPTION } from './constants';
import type { MainSectionEntry } from './mainChannelTypes';
import type { IterativeBody } from './iterativeSection';

/**
 * Every top-level record of the main channel the index walked (configuration, sections, commands with their
 * arguments, EOF, VM description), each with its stream and file byte range, and the return path's messages
 * with PING matched to its PONG: what `mfd sections` prints.
 */

export interface SectionListRow {
  kind: string;
  /** Stream offsets [start, end) in the source → destination direction. */
  start: number;
  end: number;
  fileOffset: number;
  sectionId?: number;
  idstr?: string;
  instanceId?: number;
  versionId?: number;
  /** Device sections decoded through the VM description: the body's range. */
  body?: { start: number; end: number };
  /** dirty-bitmap and VFIO sections: the body's chunks or markers, each with its range and fields. */
  iterative?: IterativeBody;
  command?: { number: number; name: string; length: number; arguments: CommandArguments };
  /** A record inside a PACKAGED blob (postcopy's LISTEN, device state, RUN): the PACKAGED command's stream offset. */
  inPackage?: number;
  problem?: { offset: number; message: string };
}

export interface ReturnPathRow extends ReturnPathMessage {
  fileOffset: number;
  /** PONG: the PING (main-channel stream offset) it answers; PING rows get `pong` in `pings`. */
  answers?: number;
}

export interface PingRow {
  value: number;
  offset: number;
  timeNs?: number;
  pong?: { offset: number; timeNs?: number };
}

export interface SectionList {
  streamId: number;
  bytes: number;
  rows: SectionListRow[];
  /** How many top-level records the walk saw (rows stop at the index's cap). */
  recordCount: number;
  complete: boolean;
  stoppedAt?: { streamOffset: number; reason: string };
  returnPath: {
    bytes: number;
    messages: ReturnPathRow[];
    problems: { offset: number; fileOffset: number; message: string }[];
  };
  pings: PingRow[];
}

export async function buildSectionList(analysis: CaptureAnalysis): Promise<SectionList | undefined> {
  const main = analysis.main;
  if (!main) return undefined;
  const s = analysis.streams.find((x) => x.id === main.streamId);
  if (!s) return undefined;
  const toDst = s.stream.toDestination;
  // Raw dumps carry no times; only containers that record them (.mfd, pcap) do.
  const timed =
    analysis.capture.format === 'mfd' || analysis.capture.format === 'pcap' || analysis.capture.format === 'pcapng';
  const rows: SectionListRow[] = [];
  const entries = main.sections;
  for (let i = 0; i < entries.length; i++) rows.push(await rowOf(toDst, entries[i], entries[i + 1], main.bytes));
  markPackaged(rows);
  const rp = await readReturnPath(s.stream.toSource);
  const toSrc = s.stream.toSource;
  const messages: ReturnPathRow[] = rp.messages.map((m) => ({
    ...m,
    timeNs: timed ? m.timeNs : undefined,
    fileOffset: toSrc.fileOffsetOf(m.offset),
  }));
  const pings: PingRow[] = [];
  for (const r of rows) {
    if (r.command?.name !== 'PING' || typeof r.command.arguments.value !== 'number') continue;
    pings.push({
      value: r.command.arguments.value,
      offset: r.start,
      ...(timed ? { timeNs: toDst.timestampOf(r.start) } : {}),
    });
  }
  // Each PONG answers the earliest unanswered PING with its value (QEMU answers in order).
  for (const m of messages) {
    if (m.name !== 'PONG') continue;
    const p = pings.find((x) => !x.pong && x.value === m.fields.value);
    if (!p) continue;
    p.pong = { offset: m.offset, ...(m.timeNs !== undefined ? { timeNs: m.timeNs } : {}) };
    m.answers = p.offset;
  }
  return {
    streamId: main.streamId,
    bytes: main.bytes,
    rows,
    recordCount: main.sectionCount,
    complete: main.complete,
    stoppedAt: main.stoppedAt,
    returnPath: {
      bytes: toSrc.length,
      messages,
      problems: rp.problems.map((p) => ({ ...p, fileOffset: toSrc.fileOffsetOf(p.offset) })),
    },
    pings,
  };
}

/** The rows a PACKAGED command's blob holds (QEMU nests one level) name that command: `mfd sections` nests them. */
function markPackaged(rows: SectionListRow[]): void {
  let pkg: { at: number; end: number } | undefined;
  for (const r of rows) {
    if (pkg && r.start < pkg.end) r.inPackage = pkg.at;
    else pkg = undefined;
    const length = r.command?.name === 'PACKAGED' ? r.command.arguments.packageLength : undefined;
    if (!pkg && typeof length === 'number') pkg = { at: r.start, end: r.end + length };
  }
}

async function rowOf(
  stream: StreamBytes,
  e: MainSectionEntry,
  next: MainSectionEntry | undefined,
  length: number,
): Promise<SectionListRow> {
  const row: SectionListRow = {
    kind: e.typeName,
    start: e.streamOffset,
    end: next?.streamOffset ?? length,
    fileOffset: stream.fileOffsetOf(e.streamOffset),
  };
  if (e.type === QEMU_VM_EOF) row.end = e.streamOffset + 1;
  else if (e.type === QEMU_VM_COMMAND) {
    const c = await readCommandAt(stream, e.streamOffset);
    // PACKAGED's records follow it as rows of their own: its range is its header and length.
    row.end = c.end;
    row.command = { number: c.command, name: c.name, length: c.length, arguments: c.arguments };
    if (c.problem) row.problem = c.problem;
  } else if (e.type !== QEMU_VM_VMDESCRIPTION) {
    row.sectionId = e.id;
    if (e.idstr !== undefined) row.idstr = e.idstr;
    if (e.instanceId !== undefined) row.instanceId = e.instanceId;
    if (e.versionId !== undefined) row.versionId = e.versionId;
    if (e.bodyOffset !== undefined && e.bodyEnd !== undefined) row.body = { start: e.bodyOffset, end: e.bodyEnd };
    if (e.iterative) row.iterative = e.iterative;
  }
  if (e.typeName === 'CONFIGURATION') delete row.sectionId;
  return row;
}
