import type { DecodedField } from './readDeviceState';
import { fieldKind } from './fieldTypes';
import { hexBytes, intText } from './stateJson';

/** Raw bytes a field's text shows; the rest is summed up by its length. */
export const TEXT_BYTES = 32;

/**
 * A decoded field's value as one line of text, the same for `mfd devices` and the editor's Devices view:
 * integers as zero-padded hex of their size (negative ones with the signed value), booleans and capability names
 * as JSON, raw bytes in hex (the first TEXT_BYTES of them). Structs and subsections have no value of their own.
 */
export function fieldValueText(f: DecodedField): string {
  if (f.children) return '';
  const k = fieldKind(f.type);
  if (k.kind === 'int' && f.value !== undefined) return intText(f.value as number | bigint, f.length);
  if (k.kind === 'bool' || k.kind === 'capability') return JSON.stringify(f.value);
  if (k.kind === 'nullptr') return 'nullptr';
  if (!f.bytes) return f.length ? `(${f.length} bytes, not kept)` : '';
  const shown = hexBytes(f.bytes.subarray(0, TEXT_BYTES));
  return f.bytes.length > TEXT_BYTES ? `${shown} … (${f.bytes.length} bytes)` : shown;
}
