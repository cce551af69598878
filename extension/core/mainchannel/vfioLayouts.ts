import type { FieldSpec, StructLayout } from '../layout/fieldLayout';

/**
 * A VFIO device's sections on the main channel (hw/vfio/migration.c), declared as data. The body is a run of
 * be64 markers `0xffffffffef10000N`; DEV_DATA_STATE is followed by a be64 size and that many bytes of the
 * device's own state, DEV_CONFIG_STATE by the device's config space (a VMState with no length of its own)
 * and END_OF_STATE. The section's SaveStateEntry idstr is the device's vmstate id followed by "/vfio".
 */

/** The high 32 bits every marker shares: all ones. */
export const VFIO_MIG_FLAG_HIGH = 0xffffffff;

/** The low 32 bits of each marker (0xef10 is VFIO's magic, the last 16 bits the flag). */
export const VFIO_MIG_FLAG_END_OF_STATE = 0xef100001;
export const VFIO_MIG_FLAG_DEV_CONFIG_STATE = 0xef100002;
export const VFIO_MIG_FLAG_DEV_SETUP_STATE = 0xef100003;
export const VFIO_MIG_FLAG_DEV_DATA_STATE = 0xef100004;
export const VFIO_MIG_FLAG_DEV_INIT_DATA_SENT = 0xef100005;
/** 10.1+: the config space comes over multifd, and the main channel says when it may be loaded. */
export const VFIO_MIG_FLAG_DEV_CONFIG_LOAD_READY = 0xef100006;

export const VFIO_MIG_FLAG_NAMES: Record<number, string> = {
  [VFIO_MIG_FLAG_END_OF_STATE]: 'END_OF_STATE',
  [VFIO_MIG_FLAG_DEV_CONFIG_STATE]: 'DEV_CONFIG_STATE',
  [VFIO_MIG_FLAG_DEV_SETUP_STATE]: 'DEV_SETUP_STATE',
  [VFIO_MIG_FLAG_DEV_DATA_STATE]: 'DEV_DATA_STATE',
  [VFIO_MIG_FLAG_DEV_INIT_DATA_SENT]: 'DEV_INIT_DATA_SENT',
  [VFIO_MIG_FLAG_DEV_CONFIG_LOAD_READY]: 'DEV_CONFIG_LOAD_READY',
};

/** The 8 bytes of END_OF_STATE, as the sender writes them: the end of a config space is found by them. */
export const VFIO_END_OF_STATE_BYTES = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xef, 0x10, 0x00, 0x01);

/** vfio_migration_init names the SaveStateEntry "<vmstate id>/vfio", or "vfio" when the device has no id. */
export function isVfioIdstr(idstr: string): boolean {
  return idstr === 'vfio' || idstr.endsWith('/vfio');
}

/** A marker's name, from its two halves; unknown values are shown whole. */
export function vfioMarkerName(high: number, low: number): string {
  const name = high === VFIO_MIG_FLAG_HIGH ? VFIO_MIG_FLAG_NAMES[low] : undefined;
  return name ?? `0x${high.toString(16).padStart(8, '0')}${low.toString(16).padStart(8, '0')}`;
}

const MARKER: FieldSpec = {
  name: 'marker',
  offset: 0,
  width: 8,
  type: 'bytes',
  meaning: 'VFIO_MIG_FLAG_*: 0xffffffff, VFIO magic 0xef10, flag',
};

/** One marker and, for DEV_DATA_STATE, the size of the data that follows it. */
export function vfioMarkerLayout(low: number): StructLayout {
  const name = VFIO_MIG_FLAG_NAMES[low] ?? 'unknown';
  const fields: FieldSpec[] = [{ ...MARKER, explain: () => name }];
  if (low === VFIO_MIG_FLAG_DEV_DATA_STATE)
    fields.push({
      name: 'data_size',
      offset: 8,
      width: 8,
      type: 'u64be',
      meaning: "bytes of the device's state that follow, read from its migration data fd",
    });
  return { cStruct: `VFIO_MIG_FLAG_${name}`, fixedSize: 8 * fields.length, fields };
}
