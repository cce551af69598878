/**
 * How each VMState field type of the VM description is read, declared once as data. The names are the `info->name`
 * strings of QEMU's migration/vmstate-types.c that the description carries. Every integer is big-endian
 * (qemu_put_be32 and the like): "int32 le" is "less or equal" (load_int32_le checks 0 <= loaded <= current), not
 * little-endian, and real captures carry PCI devices' version_id 2 as 00 00 00 02. The "equal" variants check the
 * value against the destination's; their signedness is the base type's. Every type not listed is shown as the hex
 * of its declared size, as QEMU's analyze-migration.py shows it.
 */

export type FieldKind =
  | { kind: 'int'; signed: boolean }
  | { kind: 'bool' }
  | { kind: 'capability' }
  | { kind: 'nullptr' }
  | { kind: 'struct' }
  | { kind: 'bytes' };

export const FIELD_TYPES: Record<string, FieldKind> = {
  bool: { kind: 'bool' },
  int8: { kind: 'int', signed: true },
  int16: { kind: 'int', signed: true },
  int32: { kind: 'int', signed: true },
  int64: { kind: 'int', signed: true },
  'int32 equal': { kind: 'int', signed: true },
  'int64 equal': { kind: 'int', signed: true },
  'int32 le': { kind: 'int', signed: true },
  uint8: { kind: 'int', signed: false },
  uint16: { kind: 'int', signed: false },
  uint32: { kind: 'int', signed: false },
  uint64: { kind: 'int', signed: false },
  'uint8 equal': { kind: 'int', signed: false },
  'uint16 equal': { kind: 'int', signed: false },
  'uint32 equal': { kind: 'int', signed: false },
  capability: { kind: 'capability' },
  nullptr: { kind: 'nullptr' },
  struct: { kind: 'struct' },
};

export function fieldKind(type: string): FieldKind {
  return FIELD_TYPES[type] ?? { kind: 'bytes' };
}

/** The byte QEMU writes for a NULL pointer in an array of pointers (VMS_ARRAY_OF_POINTER_AUTO_ALLOC). */
export const NULLPTR_MARKER = 0x30;

/**
 * Where analyze-migration.py (as of QEMU 10.x) reads a type differently from QEMU's own loader; `mfd extract`
 * follows QEMU, and docs/device-state.md lists these.
 */
export const ANALYZE_MIGRATION_DIFFERENCES: Record<string, string> = {
  'uint8 equal': 'analyze-migration.py reads it as signed; it is an unsigned byte',
  'uint16 equal': 'analyze-migration.py reads it as signed; it is an unsigned 16-bit value',
};
