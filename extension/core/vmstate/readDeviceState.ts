import type { StreamBytes } from '../capture/streamBytes';
import { fieldKind, NULLPTR_MARKER } from './fieldTypes';
import type { FieldDescription, StructDescription } from './deviceDescriptions';

/**
 * Walks a device section's body with its VM description: each field's bytes at its stream offset, structs
 * recursively, subsections (0x05, name, be32 version) after the fields. The description is the only layout the
 * stream has: where the bytes disagree with it (a subsection marker that is not there, the stream ending early),
 * the walk stops with a problem naming the offset, never guessing past it.
 */

export type FieldValue = number | bigint | boolean | string;

export interface DecodedField {
  name: string;
  type: string;
  /** Stream offset and length of the field's bytes (for a struct or subsection: all of them). */
  offset: number;
  length: number;
  index?: number;
  /** Integers, booleans, capability names; absent for structs and raw bytes. */
  value?: FieldValue;
  /** The raw bytes of the field (kept up to KEEP_BYTES; a larger field keeps only its offset and length). */
  bytes?: Uint8Array;
  /** Fields of a struct, or of a subsection. */
  children?: DecodedField[];
  /** For a subsection: its version_id as sent. */
  version?: number;
  subsection?: boolean;
}

export interface DecodeProblem {
  offset: number;
  message: string;
}

export interface DecodedState {
  fields: DecodedField[];
  /** Stream offset just after the last byte the description accounts for. */
  end: number;
  problem?: DecodeProblem;
}

const QEMU_VM_SUBSECTION = 0x05;
/** Raw bytes kept per field for display; larger fields keep only their offset and length. */
const KEEP_BYTES = 1 << 20;
/**
 * Fields one section keeps when decoded for display (a real device has at most a few thousand): past it the
 * section's decoding stops with a problem at that offset, so a description of 10^6 elements cannot make
 * `mfd devices` or `mfd extract` hold 10^6 objects. Delimiting (keepFields: false) has no such limit.
 */
export const MAX_KEPT_FIELDS = 100_000;

class Cursor {
  /** Set when fields are only delimited: readStruct then keeps nothing. */
  delimitOnly = false;
  kept = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  constructor(
    private readonly stream: StreamBytes,
    public pos: number,
  ) {}

  async take(n: number, keep: boolean): Promise<Uint8Array | undefined> {
    if (this.pos + n > this.stream.length) throw new EndOfStream(this.pos, n, this.stream.length);
    let out: Uint8Array | undefined;
    if (keep) {
      const end = this.bufStart + this.buf.length;
      if (this.pos < this.bufStart || this.pos + n > end) {
        this.bufStart = this.pos;
        this.buf = await this.stream.read(this.pos, this.pos + Math.max(n, 64 << 10));
      }
      out = this.buf.subarray(this.pos - this.bufStart, this.pos - this.bufStart + n);
    }
    this.pos += n;
    return out;
  }
}

class EndOfStream extends Error {
  constructor(
    readonly at: number,
    readonly wanted: number,
    readonly length: number,
  ) {
    super(`the stream ends at ${length}, ${wanted} byte(s) wanted at ${at}`);
  }
}

class Mismatch extends Error {
  constructor(
    readonly at: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Decodes one section body (after its header) that `desc` describes, starting at stream offset `start`.
 * `keepFields: false` only delimits it (the index's walk): no field is kept, so memory does not grow with
 * the number of fields a description lists.
 */
export async function readDeviceState(
  stream: StreamBytes,
  start: number,
  desc: StructDescription,
  options: { keepFields?: boolean } = {},
): Promise<DecodedState> {
  const cursor = new Cursor(stream, start);
  const fields: DecodedField[] = [];
  if (options.keepFields === false) cursor.delimitOnly = true;
  try {
    await readStruct(cursor, desc, fields);
    return { fields, end: cursor.pos };
  } catch (e) {
    if (e instanceof EndOfStream)
      return {
        fields,
        end: cursor.pos,
        problem: {
          offset: e.at,
          message: `${e.message}: the description of "${desc.vmsdName}" runs past the end of the stream`,
        },
      };
    if (e instanceof Mismatch) return { fields, end: cursor.pos, problem: { offset: e.at, message: e.message } };
    throw e;
  }
}

async function readStruct(c: Cursor, desc: StructDescription, out: DecodedField[]): Promise<void> {
  for (const f of desc.fields) {
    if (f.arrayLen === undefined) {
      const d = await readField(c, f, f.index);
      if (!c.delimitOnly) out.push(d);
      continue;
    }
    for (let k = 0; k < f.arrayLen; k++) {
      if (c.delimitOnly && skippable(f)) await c.take(f.size, false);
      else {
        const d = await readField(c, f, k);
        if (!c.delimitOnly) out.push(d);
      }
    }
  }
  for (const sub of desc.subsections) {
    const at = c.pos;
    const head = await c.take(1, true);
    if (!head || head[0] !== QEMU_VM_SUBSECTION)
      throw new Mismatch(
        at,
        `subsection "${sub.vmsdName}" of "${desc.vmsdName}" expected at ${at} (0x05), found 0x${(head?.[0] ?? 0).toString(16).padStart(2, '0')}`,
      );
    const nameLen = (await c.take(1, true))?.[0] ?? 0;
    const name = new TextDecoder().decode((await c.take(nameLen, true))?.slice());
    const v = await c.take(4, true);
    const version = v ? new DataView(v.buffer, v.byteOffset, 4).getUint32(0) : 0;
    if (name !== sub.vmsdName)
      throw new Mismatch(at, `subsection "${name}" found at ${at}, where the description has "${sub.vmsdName}"`);
    const children: DecodedField[] = [];
    await readStruct(c, sub, children);
    out.push({ name, type: 'subsection', offset: at, length: c.pos - at, children, version, subsection: true });
  }
}

/** A field whose bytes need no look when only delimiting: its size is all there is to it. */
function skippable(f: FieldDescription): boolean {
  const k = fieldKind(f.type).kind;
  return k === 'int' || k === 'bool' || k === 'bytes';
}

async function readField(c: Cursor, f: FieldDescription, index: number | undefined): Promise<DecodedField> {
  const offset = c.pos;
  if (!c.delimitOnly && ++c.kept > MAX_KEPT_FIELDS)
    throw new Mismatch(
      offset,
      `more than ${MAX_KEPT_FIELDS} fields in one section; decoding stops at ${offset} (field "${f.name}") to keep memory bounded`,
    );
  const kind = fieldKind(f.type);
  const base = { name: f.name, type: f.type, offset, ...(index !== undefined ? { index } : {}) };
  switch (kind.kind) {
    case 'struct': {
      if (!f.struct) throw new Mismatch(offset, `field "${f.name}" is a struct without a description`);
      const children: DecodedField[] = [];
      await readStruct(c, f.struct, children);
      return { ...base, length: c.pos - offset, children };
    }
    case 'capability': {
      const len = (await c.take(1, true))?.[0] ?? 0;
      const text = new TextDecoder().decode((await c.take(len, true))?.slice());
      return { ...base, length: 1 + len, value: text };
    }
    case 'nullptr': {
      const b = (await c.take(f.size, true))?.slice();
      if (!b || b[0] !== NULLPTR_MARKER)
        throw new Mismatch(offset, `field "${f.name}" is a NULL pointer, whose marker 0x30 is not at ${offset}`);
      return { ...base, length: f.size, bytes: b };
    }
    case 'bool': {
      const b = (await c.take(f.size, true)) ?? new Uint8Array(0);
      return { ...base, length: f.size, value: b.length > 0 && b[0] !== 0, bytes: b };
    }
    case 'int': {
      // A view of the read-ahead window, not a copy: small fields share their 64 KiB buffer.
      const b = (await c.take(f.size, true)) ?? new Uint8Array(0);
      return { ...base, length: f.size, value: integerOf(b, kind.signed), bytes: b };
    }
    case 'bytes': {
      const keep = f.size <= KEEP_BYTES;
      const b = await c.take(f.size, keep);
      return { ...base, length: f.size, ...(b ? { bytes: b.slice() } : {}) };
    }
  }
}

function integerOf(b: Uint8Array, signed: boolean): number | bigint {
  let v = 0n;
  const n = b.length;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[i]);
  if (signed && n > 0 && v >= 1n << BigInt(8 * n - 1)) v -= 1n << BigInt(8 * n);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
