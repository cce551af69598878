import { be16, be32, be64, cString, hex, uuidString } from '../util/bytes';

/**
 * A wire structure declared once, as data. The same declaration drives decoding, the packet-details
 * tree, byte highlighting in the bytes pane, the filter language's field names and the docs.
 */
export type FieldType = 'u8' | 'u16be' | 'u32be' | 'u64be' | 'bytes' | 'cstring' | 'uuid';

export interface FieldSpec {
  /** QEMU's own name for the field (as in the C struct). */
  name: string;
  offset: number;
  width: number;
  type: FieldType;
  /** What the field means, in QEMU's words. */
  meaning: string;
  /** First QEMU release giving the slot this meaning (older senders write 0 there). */
  since?: string;
  /** Name of the field in the filter language and packet list, when it has one. */
  filterName?: string;
  /** Optional text explaining a value, e.g. decoded flags. */
  explain?: (value: number | string) => string;
}

export interface ArraySpec {
  name: string;
  offset: number;
  elementWidth: number;
  type: 'u64be';
  meaning: string;
}

export interface StructLayout {
  /** The C struct, e.g. `MultiFDPacket_t`. */
  cStruct: string;
  /** Size of the fixed part in bytes. */
  fixedSize: number;
  fields: readonly FieldSpec[];
  /** Variable-length tail (the offset[] array of RAM packets). */
  array?: ArraySpec;
}

export interface DecodedField {
  name: string;
  offset: number;
  width: number;
  value: number | string;
  /** The value as shown: hex for magic/flags, decoded names for enums. */
  display: string;
  meaning: string;
  since?: string;
}

export function readField(spec: FieldSpec, b: Uint8Array, base = 0): number | string {
  const o = base + spec.offset;
  switch (spec.type) {
    case 'u8':
      return b[o];
    case 'u16be':
      return be16(b, o);
    case 'u32be':
      return be32(b, o);
    case 'u64be':
      return be64(b, o);
    case 'cstring':
      return cString(b, o, spec.width).text;
    case 'uuid':
      return uuidString(b.subarray(o, o + spec.width));
    case 'bytes':
      return hex(b.subarray(o, o + spec.width), spec.width);
  }
}

export function decodeFields(layout: StructLayout, b: Uint8Array, base = 0): DecodedField[] {
  return layout.fields
    .filter((f) => base + f.offset + f.width <= b.length)
    .map((f) => {
      const value = readField(f, b, base);
      const shown =
        typeof value === 'number' && (f.name === 'magic' || f.name === 'flags')
          ? '0x' + value.toString(16)
          : String(value);
      return {
        name: f.name,
        offset: f.offset,
        width: f.width,
        value,
        display: f.explain ? `${shown} (${f.explain(value)})` : shown,
        meaning: f.meaning,
        since: f.since,
      };
    });
}

/** Field specs by name, so decoders read fields through the declaration rather than magic numbers. */
export function fieldMap<L extends StructLayout>(layout: L): Record<string, FieldSpec> {
  return Object.fromEntries(layout.fields.map((f) => [f.name, f]));
}

/** The named fields of a layout, typed; a name the layout does not declare fails at load time. */
export function fieldsOf<N extends string>(layout: StructLayout, names: readonly N[]): Record<N, FieldSpec> {
  const all = fieldMap(layout);
  const out = {} as Record<N, FieldSpec>;
  for (const n of names) {
    const f = all[n];
    if (!f) throw new Error(`${layout.cStruct} declares no field ${n}`);
    out[n] = f;
  }
  return out;
}

export function readU32(spec: FieldSpec, b: Uint8Array, base = 0): number {
  return be32(b, base + spec.offset);
}

export function readU64(spec: FieldSpec, b: Uint8Array, base = 0): number {
  return be64(b, base + spec.offset);
}

/** A NUL-padded C string field, and whether a NUL ends it within its width. */
export function readCString(spec: FieldSpec, b: Uint8Array, base = 0): { text: string; terminated: boolean } {
  return cString(b, base + spec.offset, spec.width);
}
