import type { StreamBytes } from '../capture/streamBytes';
import { MIG_CMD_NAMES, QEMU_VM_COMMAND } from './constants';

/**
 * The arguments of one QEMU_VM_COMMAND, read again from the stream where the index recorded the command (the
 * index keeps only its offset). Layouts from the senders in migration/savevm.c (qemu_savevm_command_send and
 * the qemu_savevm_send_* helpers): be16 command, be16 length, then the command's own bytes.
 */

export type CommandArguments = Record<string, number | string | bigint | { start: bigint; length: bigint }[]>;

export interface DecodedCommand {
  command: number;
  name: string;
  /** Stream offset of the QEMU_VM_COMMAND byte. */
  offset: number;
  /** Bytes after the 5-byte record header (be16 command, be16 length). */
  length: number;
  /** Stream offset just after the command's bytes (for PACKAGED: where the packaged stream starts). */
  end: number;
  arguments: CommandArguments;
  /** What does not fit what QEMU sends, at a stream offset. */
  problem?: { offset: number; message: string };
}

/** QEMU's own upper bound on POSTCOPY_RAM_DISCARD entries in one command (MAX_DISCARDS_PER_COMMAND). */
const MAX_DISCARDS_LISTED = 4096;

/** Reads the command at `offset` (its QEMU_VM_COMMAND byte). */
export async function readCommandAt(stream: StreamBytes, offset: number): Promise<DecodedCommand> {
  const head = await stream.read(offset, offset + 5);
  if (head.length < 5 || head[0] !== QEMU_VM_COMMAND) {
    return {
      command: 0,
      name: 'unknown',
      offset,
      length: 0,
      end: offset + head.length,
      arguments: {},
      problem: { offset, message: `no QEMU_VM_COMMAND record at stream offset ${offset}` },
    };
  }
  const command = (head[1] << 8) | head[2];
  const length = (head[3] << 8) | head[4];
  const body = await stream.read(offset + 5, offset + 5 + length);
  const name = MIG_CMD_NAMES[command] ?? `unknown command ${command}`;
  const out: DecodedCommand = { command, name, offset, length, end: offset + 5 + length, arguments: {} };
  if (body.length < length) {
    out.problem = { offset, message: `${name} declares ${length} byte(s); the stream ends after ${body.length}` };
    return out;
  }
  const problem = (message: string) => (out.problem = { offset: offset + 5, message: `${name}: ${message}` });
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const text = (a: number, n: number) => new TextDecoder().decode(body.subarray(a, a + n));
  switch (name) {
    case 'PING':
      if (length !== 4) problem(`length ${length}; QEMU sends a be32 value (4 bytes)`);
      else out.arguments.value = dv.getUint32(0);
      break;
    case 'POSTCOPY_ADVISE':
      // 16 bytes when postcopy-ram is on: the source's page-size summary and its target page size; 0 otherwise.
      if (length === 16) {
        out.arguments.hostPageSizes = dv.getBigUint64(0);
        out.arguments.targetPageSize = dv.getBigUint64(8);
      } else if (length !== 0) problem(`length ${length}; QEMU sends 16 bytes (two be64 page sizes) or none`);
      break;
    case 'PACKAGED':
      if (length !== 4) problem(`length ${length}; QEMU sends a be32 package length (4 bytes)`);
      else out.arguments.packageLength = dv.getUint32(0);
      break;
    case 'RECV_BITMAP': {
      const n = body[0] ?? 0;
      if (length < 1 || 1 + n !== length) problem(`length ${length} does not fit its ramblock name of ${n} byte(s)`);
      else out.arguments.ramblock = text(1, n);
      break;
    }
    case 'POSTCOPY_RAM_DISCARD': {
      // loadvm_postcopy_ram_handle_discard: u8 version (0), u8 name length, the name, a nil byte, then
      // (be64 start, be64 length) byte ranges in the ramblock: length = 3 + name + 16 per range, at least one.
      const n = body[1] ?? 0;
      const pairsAt = 3 + n;
      if (length < 4 + 16 || pairsAt > length || (length - pairsAt) % 16 !== 0) {
        problem(`length ${length} is not 3 + a ${n}-byte ramblock name + 16 bytes per range (at least one)`);
        break;
      }
      out.arguments.version = body[0];
      out.arguments.ramblock = text(2, n);
      const ranges: { start: bigint; length: bigint }[] = [];
      const count = (length - pairsAt) / 16;
      for (let i = 0; i < Math.min(count, MAX_DISCARDS_LISTED); i++)
        ranges.push({ start: dv.getBigUint64(pairsAt + 16 * i), length: dv.getBigUint64(pairsAt + 16 * i + 8) });
      out.arguments.ranges = ranges;
      if (body[0] !== 0) problem(`version ${body[0]}; QEMU accepts only 0`);
      else if (body[2 + n] !== 0) problem(`byte ${2 + n} after the ramblock name is ${body[2 + n]}; QEMU wants a nil`);
      break;
    }
    default:
      // OPEN_RETURN_PATH, POSTCOPY_LISTEN, POSTCOPY_RUN, ENABLE_COLO, POSTCOPY_RESUME, SWITCHOVER_START carry nothing.
      if (length !== 0 && MIG_CMD_NAMES[command] !== undefined)
        problem(`length ${length}; QEMU sends no bytes with it`);
  }
  return out;
}
