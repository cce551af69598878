import type { DecodedField } from './readDeviceState';
import { fieldKind } from './fieldTypes';

/**
 * The decoded device state in the shape of analyze-migration.py's `state.json` (`-x`), so scripts written for it
 * keep working: one key per section, "idstr (section_id)"; fields by name in stream order, repeated names (array
 * elements) as a list; integers as zero-padded hex of their size, negative ones followed by the signed value in
 * parentheses; booleans as JSON booleans; every other type as its bytes in hex separated by spaces; subsections
 * as nested objects under their name. Values follow QEMU's encoding where analyze-migration.py does not (see
 * fieldTypes.ts ANALYZE_MIGRATION_DIFFERENCES).
 */

export type StateJson = { [key: string]: StateValue };
export type StateValue = string | boolean | StateJson | StateValue[];

export function fieldsAsStateJson(fields: DecodedField[]): StateJson {
  const out: StateJson = {};
  // Names whose value is a list made here (the elements of that name so far): appended to in place, so a
  // 10^6-element array costs linear time.
  const lists = new Set<string>();
  for (const f of fields) {
    const v = valueOf(f);
    if (!Object.prototype.hasOwnProperty.call(out, f.name)) out[f.name] = v;
    else if (lists.has(f.name)) (out[f.name] as StateValue[]).push(v);
    else {
      out[f.name] = [out[f.name], v];
      lists.add(f.name);
    }
  }
  return out;
}

function valueOf(f: DecodedField): StateValue {
  if (f.subsection || f.children) return fieldsAsStateJson(f.children ?? []);
  const kind = fieldKind(f.type);
  if (kind.kind === 'bool') return f.value === true;
  if (kind.kind === 'capability') return String(f.value ?? '');
  if (kind.kind === 'nullptr') return 'nullptr';
  if (kind.kind === 'int') return intText(f.value as number | bigint, f.length);
  return hexBytes(f.bytes);
}

export function intText(v: number | bigint, size: number): string {
  const big = BigInt(v);
  const width = size * 2;
  if (big >= 0n) return '0x' + big.toString(16).padStart(width, '0');
  const unsigned = (1n << BigInt(8 * size)) + big;
  return `0x${unsigned.toString(16).padStart(width, '0')} (${big.toString()})`;
}

export function hexBytes(b: Uint8Array | undefined): string {
  if (!b) return '';
  let s = '';
  for (let i = 0; i < b.length; i++) s += (i ? ' ' : '') + b[i].toString(16).padStart(2, '0');
  return s;
}

/** "section sizes" of the RAM section, as analyze-migration.py writes them: each block's used_length as 0x%016x. */
export function ramSectionSizes(blocks: { name: string; usedLength: number }[]): StateJson {
  return {
    'section sizes': Object.fromEntries(
      blocks.map((b) => ['' + b.name, '0x' + b.usedLength.toString(16).padStart(16, '0')]),
    ),
  };
}
