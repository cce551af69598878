import { decodeFields } from '../core/layout/fieldLayout';
import { DEVICE_STATE_HEADER_SIZE, FLAG_DEVICE_STATE, FLAG_SYNC, MULTIFD_MAGIC, MULTIFD_PACKET_SIZE, MULTIFD_VERSION, RAM_PACKET_FIXED_SIZE, methodOf } from '../core/multifd/constants';
import { DEVICE_STATE_LAYOUT, RAM_PACKET_LAYOUT } from '../core/multifd/layouts';
import { packetOffsets, type DecodedPacket } from '../core/multifd/readPacket';
import type { PacketSummary } from '../core/multifd/packetTable';
import { be32, be64, cString } from '../core/util/bytes';

/**
 * Decoding a MultiFDPacket_t from a live debug session's memory (QEMU stopped in multifd_recv_unfill_packet
 * or in a send thread, at `p->packet`), through DAP evaluate + readMemory. The packet buffer holds the wire
 * image (QEMU fills it with cpu_to_be32/64 and receives into it), so it decodes exactly like a captured
 * header. Works with any adapter that implements readMemory (cppdbg, CodeLLDB, lldb-dap, this replay
 * adapter). No `vscode` import: `request` is session.customRequest in the extension, a DebugClient in tests.
 */

/** Sends one DAP request, resolves with the response body, rejects with the adapter's error message. */
export type DapRequest = (command: string, args: Record<string, unknown>) => Promise<unknown>;

export interface LiveDecodeInput {
  /** An expression (`p->packet`) evaluated in `frameId`, or an address (`0x7f…`). */
  expression?: string;
  /** A memory reference as the adapter gave it (skips evaluate). */
  memoryReference?: string;
  frameId?: number;
  /** Target page size, when known, bounds offset[] (512 KiB / page size entries). */
  pageSize?: number;
}

export interface LiveDecodedPacket extends DecodedPacket {
  memoryReference: string;
  /** The address the adapter reported for the first byte read. */
  address?: string;
  /** Inconsistencies QEMU's receiver would reject (multifd_ram_unfill_packet's checks). */
  problems: string[];
}

export class LiveDecodeError extends Error {}

const MAX_OFFSETS = 4096;

function dapMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function resolveReference(request: DapRequest, input: LiveDecodeInput): Promise<string> {
  if (input.memoryReference) return input.memoryReference;
  const expr = input.expression?.trim();
  if (!expr) throw new LiveDecodeError('give an expression (for example p->packet) or an address');
  if (/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(expr)) return expr.startsWith('0x') ? expr.toLowerCase() : `0x${Number(expr).toString(16)}`;
  let body: { result?: string; memoryReference?: string } | undefined;
  try {
    body = (await request('evaluate', { expression: expr, frameId: input.frameId, context: 'watch' })) as typeof body;
  } catch (e) {
    throw new LiveDecodeError(`the debug adapter could not evaluate "${expr}": ${dapMessage(e)}`);
  }
  if (body?.memoryReference) return body.memoryReference;
  const m = /0x[0-9a-fA-F]+/.exec(body?.result ?? '');
  if (m) return m[0].toLowerCase();
  throw new LiveDecodeError(`"${expr}" evaluated to "${body?.result ?? ''}", which is not an address: pass a MultiFDPacket_t pointer such as p->packet`);
}

async function read(request: DapRequest, memoryReference: string, offset: number, count: number): Promise<{ bytes: Uint8Array; address?: string }> {
  let body: { address?: string; data?: string; unreadableBytes?: number } | undefined;
  try {
    body = (await request('readMemory', { memoryReference, offset, count })) as typeof body;
  } catch (e) {
    const msg = dapMessage(e);
    if (/not supported|unrecognized|unknown request|not implemented/i.test(msg)) throw new LiveDecodeError(`the debug adapter does not support readMemory (${msg})`);
    throw new LiveDecodeError(`readMemory of ${count} bytes at ${memoryReference}+${offset} failed: ${msg}`);
  }
  if (!body || (body.data === undefined && body.unreadableBytes === undefined)) throw new LiveDecodeError('the debug adapter answered readMemory without data: it does not support reading memory');
  const bytes = new Uint8Array(Buffer.from(body.data ?? '', 'base64'));
  if (bytes.length < count) {
    throw new LiveDecodeError(`memory at ${body.address ?? memoryReference}${offset ? `+${offset}` : ''} is unreadable: ${bytes.length} of ${count} bytes read${body.unreadableBytes ? `, ${body.unreadableBytes} unreadable` : ''}`);
  }
  return { bytes, address: body.address };
}

export async function decodePacketFromMemory(request: DapRequest, input: LiveDecodeInput): Promise<LiveDecodedPacket> {
  const memoryReference = await resolveReference(request, input);
  const first = await read(request, memoryReference, 0, RAM_PACKET_FIXED_SIZE);
  const fixed = first.bytes;
  const magic = be32(fixed, 0);
  if (magic !== MULTIFD_MAGIC) {
    throw new LiveDecodeError(`no MultiFDPacket_t at ${first.address ?? memoryReference}: magic is 0x${magic.toString(16).padStart(8, '0')}, not 0x11223344 (pass the packet pointer, p->packet, not the channel struct p)`);
  }
  const problems: string[] = [];
  const version = be32(fixed, 4);
  if (version !== MULTIFD_VERSION) problems.push(`version ${version}, QEMU expects ${MULTIFD_VERSION}`);
  const flags = be32(fixed, 8);
  const base = { memoryReference, address: first.address };
  if (flags & FLAG_DEVICE_STATE) {
    const header = fixed.subarray(0, DEVICE_STATE_HEADER_SIZE);
    const idstr = cString(header, 12, 256);
    if (!idstr.terminated) problems.push('idstr is not NUL-terminated');
    const summary = summaryOf({ kind: 'device-state', flags, headerLength: DEVICE_STATE_HEADER_SIZE, ramblock: idstr.text, instanceId: be32(header, 268), nextPacketSize: be32(header, 272) });
    return { ...base, summary, header, fields: decodeFields(DEVICE_STATE_LAYOUT, header), normalOffsets: [], zeroOffsets: [], offsetsFieldOffset: DEVICE_STATE_LAYOUT.fixedSize, problems };
  }
  const pagesAlloc = be32(fixed, 12);
  const normal = be32(fixed, 16);
  const zero = be32(fixed, 32);
  const limit = input.pageSize ? MULTIFD_PACKET_SIZE / input.pageSize : undefined;
  if (limit !== undefined && pagesAlloc > limit) problems.push(`pages_alloc ${pagesAlloc} is more than 512 KiB / page size = ${limit} ("received packet with ${pagesAlloc} pages, expected ${limit}")`);
  if (normal > pagesAlloc) problems.push(`normal_pages ${normal} exceeds pages_alloc ${pagesAlloc}`);
  else if (zero > pagesAlloc - normal) problems.push(`zero_pages ${zero} exceeds pages_alloc - normal_pages = ${pagesAlloc - normal}`);
  const capacity = Math.min(pagesAlloc, limit ?? pagesAlloc, MAX_OFFSETS);
  const used = Math.min(normal + zero, capacity);
  let header = fixed;
  if (used > 0) {
    const rest = await read(request, memoryReference, RAM_PACKET_FIXED_SIZE, used * 8);
    header = new Uint8Array(RAM_PACKET_FIXED_SIZE + used * 8);
    header.set(fixed, 0);
    header.set(rest.bytes, RAM_PACKET_FIXED_SIZE);
  }
  const block = cString(header, 64, 256);
  if (!block.terminated) problems.push('ramblock is not NUL-terminated (QEMU forces ramblock[255] = 0)');
  const { normalOffsets, zeroOffsets } = packetOffsets(header, normal, zero, capacity);
  if (input.pageSize) {
    const bad = [...normalOffsets, ...zeroOffsets].filter((o) => o % input.pageSize! !== 0);
    if (bad.length) problems.push(`${bad.length} offset(s) not page-aligned, first 0x${bad[0].toString(16)}`);
  }
  const summary = summaryOf({ kind: 'ram', flags, headerLength: header.length, ramblock: block.text, pagesAlloc, normalPages: normal, zeroPages: zero, nextPacketSize: be32(header, 20), packetNum: be64(header, 24) });
  return { ...base, summary, header, fields: decodeFields(RAM_PACKET_LAYOUT, header), normalOffsets, zeroOffsets, offsetsFieldOffset: RAM_PACKET_FIXED_SIZE, problems };
}

function summaryOf(p: Partial<PacketSummary> & Pick<PacketSummary, 'kind' | 'flags' | 'headerLength' | 'ramblock'>): PacketSummary {
  return {
    stream: -1,
    index: -1,
    headerOffset: 0,
    payloadOffset: p.headerLength,
    payloadLength: 0,
    sync: (p.flags & FLAG_SYNC) !== 0,
    method: methodOf(p.flags),
    pagesAlloc: 0,
    normalPages: 0,
    zeroPages: 0,
    nextPacketSize: 0,
    packetNum: -1,
    instanceId: 0,
    epoch: -1,
    timestampNs: 0,
    severity: 0,
    ...p,
  };
}

/** One line for a title: "MultiFDPacket_t at 0x7f…: packet_num 12, mem, 5 normal + 123 zero". */
export function describeLivePacket(d: LiveDecodedPacket): string {
  const s = d.summary;
  const where = d.address ?? d.memoryReference;
  if (s.kind === 'device-state') return `MultiFDPacketDeviceState_t at ${where}: ${s.ramblock} instance ${s.instanceId}, ${s.nextPacketSize} bytes`;
  return `MultiFDPacket_t at ${where}: packet_num ${s.packetNum}${s.sync ? ' SYNC' : ''}, ${s.ramblock || '(no ramblock)'}, ${s.normalPages} normal + ${s.zeroPages} zero`;
}
