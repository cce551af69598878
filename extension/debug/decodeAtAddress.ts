import { hex32, MULTIFD_STREAM_MAGIC } from '../core/layout/streamMagic';
import {
  checkHeaderImageStart,
  decodeHeaderImage,
  HEADER_IMAGE_FIXED_BYTES,
  offsetBytesToRead,
} from '../core/multifd/headerImage';
import { readPacketHdr } from '../core/multifd/packetHeaders';
import { decodedPacket, type LiveDecodedPacket } from '../core/multifd/readPacket';

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

export type { LiveDecodedPacket } from '../core/multifd/readPacket';

export class LiveDecodeError extends Error {}

function dapMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function resolveReference(request: DapRequest, input: LiveDecodeInput): Promise<string> {
  if (input.memoryReference) return input.memoryReference;
  const expr = input.expression?.trim();
  if (!expr) throw new LiveDecodeError('give an expression (for example p->packet) or an address');
  if (/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(expr))
    return expr.startsWith('0x') ? expr.toLowerCase() : `0x${Number(expr).toString(16)}`;
  let body: { result?: string; memoryReference?: string } | undefined;
  try {
    body = (await request('evaluate', { expression: expr, frameId: input.frameId, context: 'watch' })) as typeof body;
  } catch (e) {
    throw new LiveDecodeError(`the debug adapter could not evaluate "${expr}": ${dapMessage(e)}`);
  }
  if (body?.memoryReference) return body.memoryReference;
  const m = /0x[0-9a-fA-F]+/.exec(body?.result ?? '');
  if (m) return m[0].toLowerCase();
  throw new LiveDecodeError(
    `"${expr}" evaluated to "${body?.result ?? ''}", which is not an address: pass a MultiFDPacket_t pointer such as p->packet`,
  );
}

async function read(
  request: DapRequest,
  memoryReference: string,
  offset: number,
  count: number,
): Promise<{ bytes: Uint8Array; address?: string }> {
  let body: { address?: string; data?: string; unreadableBytes?: number } | undefined;
  try {
    body = (await request('readMemory', { memoryReference, offset, count })) as typeof body;
  } catch (e) {
    const msg = dapMessage(e);
    if (/not supported|unrecognized|unknown request|not implemented/i.test(msg))
      throw new LiveDecodeError(`the debug adapter does not support readMemory (${msg})`);
    throw new LiveDecodeError(`readMemory of ${count} bytes at ${memoryReference}+${offset} failed: ${msg}`);
  }
  if (!body || (body.data === undefined && body.unreadableBytes === undefined))
    throw new LiveDecodeError('the debug adapter answered readMemory without data: it does not support reading memory');
  const bytes = new Uint8Array(Buffer.from(body.data ?? '', 'base64'));
  if (bytes.length < count) {
    throw new LiveDecodeError(
      `memory at ${body.address ?? memoryReference}${offset ? `+${offset}` : ''} is unreadable: ${bytes.length} of ${count} bytes read${body.unreadableBytes ? `, ${body.unreadableBytes} unreadable` : ''}`,
    );
  }
  return { bytes, address: body.address };
}

export async function decodePacketFromMemory(request: DapRequest, input: LiveDecodeInput): Promise<LiveDecodedPacket> {
  const memoryReference = await resolveReference(request, input);
  const first = await read(request, memoryReference, 0, HEADER_IMAGE_FIXED_BYTES);
  const fixed = first.bytes;
  if (checkHeaderImageStart(fixed)?.code === 'multifd.bad-magic') {
    const magic = readPacketHdr(fixed).magic;
    throw new LiveDecodeError(
      `no MultiFDPacket_t at ${first.address ?? memoryReference}: magic is ${hex32(magic)}, not ${hex32(MULTIFD_STREAM_MAGIC.value)} (pass the packet pointer, p->packet, not the channel struct p)`,
    );
  }
  let header = fixed;
  const more = offsetBytesToRead(fixed, input.pageSize);
  if (more > 0) {
    const rest = await read(request, memoryReference, fixed.length, more);
    header = new Uint8Array(fixed.length + more);
    header.set(fixed, 0);
    header.set(rest.bytes.subarray(0, more), fixed.length);
  }
  const image = decodeHeaderImage(header, input.pageSize);
  header = header.subarray(0, image.summary.headerLength);
  return {
    memoryReference,
    address: first.address,
    ...decodedPacket(image.summary, header, image),
    problems: image.problems.map((p) => p.message),
  };
}

/** One line for a title: "MultiFDPacket_t at 0x7f…: packet_num 12, mem, 5 normal + 123 zero". */
export function describeLivePacket(d: LiveDecodedPacket): string {
  const s = d.summary;
  const where = d.address ?? d.memoryReference;
  if (s.kind === 'device-state')
    return `MultiFDPacketDeviceState_t at ${where}: ${s.ramblock} instance ${s.instanceId}, ${s.nextPacketSize} bytes`;
  return `MultiFDPacket_t at ${where}: packet_num ${s.packetNum}${s.sync ? ' SYNC' : ''}, ${s.ramblock || '(no ramblock)'}, ${s.normalPages} normal + ${s.zeroPages} zero`;
}
