import type { StreamBytes } from '../capture/streamBytes';
import { be32 } from '../util/bytes';
import { isPlausiblePageSize, LIMITS, QEMU_VM_EOF, QEMU_VM_VMDESCRIPTION } from './constants';
import type { MainChannelIndex } from './mainChannelTypes';
import type { Reporter } from './mainReporter';

/** The trailing QEMU_VM_VMDESCRIPTION record: QEMU_VM_EOF, 0x06, be32 length, JSON to the end of the stream. */
export interface VmDescriptionFound {
  /** Stream offset of the 0x06 byte. */
  offset: number;
  /** Stream offset of the QEMU_VM_EOF byte just before it. */
  eofOffset: number;
  jsonOffset: number;
  jsonLength: number;
  /** The parsed JSON; undefined when it does not parse. */
  json?: unknown;
  parseError?: string;
  /** "page_size" of the JSON, when it is a plausible target page size. */
  pageSize?: number;
}

const TAIL_STEPS = [64 << 10, 1 << 20];
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Finds the VM description from the end of the stream, without walking the device state before it. A
 * candidate is accepted only if the whole record fits exactly: 0x00 0x06 len '{' … with len reaching the
 * last byte of the stream. JSON text cannot contain a raw 0x06, and the exact length makes a false match
 * in binary device state practically impossible. Reads at most LIMITS.vmDescriptionTail bytes.
 */
export async function findVmDescription(
  stream: StreamBytes,
  maxTail = LIMITS.vmDescriptionTail,
): Promise<VmDescriptionFound | undefined> {
  const length = stream.length;
  if (length < 7) return undefined;
  // QEMU writes the JSON without a trailing newline; anything else is not a VM description.
  const last = await stream.read(length - 1, length);
  if (last[0] !== CLOSE_BRACE) return undefined;
  for (const step of [...TAIL_STEPS, maxTail]) {
    const size = Math.min(length, step, maxTail);
    const start = length - size;
    const tail = await stream.read(start, length);
    const found = scanTail(tail, start, length);
    if (found !== undefined) return await parseAt(stream, found, length);
    if (size === length || size >= maxTail) break;
  }
  return undefined;
}

/** Latest candidate position (of the 0x06 byte) in a tail buffer that starts at stream offset `start`. */
function scanTail(tail: Uint8Array, start: number, length: number): number | undefined {
  for (let i = tail.length - 6; i >= 1; i--) {
    if (tail[i] !== QEMU_VM_VMDESCRIPTION || tail[i + 5] !== OPEN_BRACE || tail[i - 1] !== QEMU_VM_EOF) continue;
    const p = start + i;
    if (be32(tail, i + 1) === length - p - 5) return p;
  }
  return undefined;
}

async function parseAt(stream: StreamBytes, p: number, length: number): Promise<VmDescriptionFound> {
  const jsonOffset = p + 5;
  const jsonLength = length - jsonOffset;
  const found: VmDescriptionFound = { offset: p, eofOffset: p - 1, jsonOffset, jsonLength };
  Object.assign(found, await parseJson(stream, jsonOffset, jsonLength));
  return found;
}

/** Parses `len` bytes of JSON at `offset`; bounded by LIMITS.maxVmDescription. */
export async function parseJson(
  stream: StreamBytes,
  offset: number,
  len: number,
): Promise<{ json?: unknown; parseError?: string; pageSize?: number }> {
  if (len > LIMITS.maxVmDescription)
    return { parseError: `VM description of ${len} bytes is larger than the ${LIMITS.maxVmDescription}-byte limit` };
  try {
    const text = new TextDecoder('utf-8', { fatal: false }).decode(await stream.read(offset, offset + len));
    const json: unknown = JSON.parse(text);
    const out: { json?: unknown; pageSize?: number } = { json };
    const ps = json !== null && typeof json === 'object' ? (json as Record<string, unknown>)['page_size'] : undefined;
    if (typeof ps === 'number' && isPlausiblePageSize(ps)) out.pageSize = ps;
    return out;
  } catch (e) {
    return { parseError: e instanceof Error ? e.message : String(e) };
  }
}

/** Puts a found VM description into the index and says what it holds (and whether its page_size disagrees). */
export function recordVmDescription(
  ix: MainChannelIndex,
  vm: VmDescriptionFound,
  decodePageSize: number,
  report: Reporter,
): void {
  ix.vmDescriptionOffset = vm.offset;
  ix.eofOffset ??= vm.eofOffset;
  if (vm.json !== undefined) ix.vmDescription = vm.json;
  if (vm.pageSize !== undefined) ix.vmDescriptionPageSize = vm.pageSize;
  if (vm.parseError !== undefined) {
    report(
      'main.vmdesc',
      `VM description of ${vm.jsonLength} bytes does not parse: ${vm.parseError}`,
      vm.offset,
      undefined,
      'warning',
    );
    return;
  }
  report(
    'main.vmdesc',
    `VM description (${vm.jsonLength} bytes of JSON)${vm.pageSize ? `, page_size ${vm.pageSize}` : ', no usable page_size'}`,
    vm.offset,
  );
  if (vm.pageSize !== undefined && vm.pageSize !== decodePageSize)
    report(
      'multifd.page-size-conflict',
      `the VM description says page_size ${vm.pageSize}, but ${decodePageSize} is being used to decode RAM records`,
      vm.offset,
    );
}
