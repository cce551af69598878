import { plural } from '../extension/shared/plural';
import type { DeviceFieldInfo, DeviceSectionInfo } from '../extension/shared/protocol';

/** How the Devices view names and places sections and fields, and which bytes it shows around a field. */

/** `name` or `name[index]` for an array element. */
export function deviceFieldLabel(f: DeviceFieldInfo): string {
  return f.index !== undefined ? `${f.name}[${f.index}]` : f.name;
}

/** The value as mfd devices prints it; structs and subsections say what they hold. */
export function deviceFieldValue(f: DeviceFieldInfo): string {
  if (f.subsection) return `subsection, version ${f.version ?? '?'}, ${plural(f.childCount, 'field')}`;
  if (f.childCount) return `${f.type}, ${plural(f.childCount, 'field')}`;
  return f.value;
}

/** Where a field's bytes are in the stream: "int64, 8 bytes at 67266..67273". */
export function fieldBytesText(f: DeviceFieldInfo): string {
  const range = f.length ? `at ${f.offset}..${f.offset + f.length - 1}` : `at ${f.offset}`;
  return `${f.type}, ${plural(f.length, 'byte')} ${range}`;
}

export function deviceSectionMeaning(s: DeviceSectionInfo): string {
  const body = s.body ? `, body ${s.body.start}..${s.body.end - 1}` : '';
  return `${s.kind}, bytes ${s.start}..${s.end - 1}${body}`;
}

/** Bytes shown around a field at most: a field longer than that shows its first bytes, and says so. */
export const FIELD_WINDOW_MAX = 4096;
const CONTEXT = 32;
const LINE = 16;

/**
 * The stream range the bytes pane shows for a field: whole 16-byte lines around it, with a little context,
 * inside the payload [payloadStart, payloadEnd) of the section's row, at most FIELD_WINDOW_MAX bytes.
 */
export function fieldWindow(
  field: { offset: number; length: number },
  payloadStart: number,
  payloadEnd: number,
): { start: number; end: number } {
  const start = Math.max(payloadStart, Math.floor((field.offset - CONTEXT) / LINE) * LINE);
  const want = Math.ceil((field.offset + field.length + CONTEXT) / LINE) * LINE;
  const end = Math.min(payloadEnd, want, start + FIELD_WINDOW_MAX);
  return { start, end: Math.max(start, end) };
}
