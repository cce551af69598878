/**
 * The VM description QEMU appends to the main channel (QEMU_VM_VMDESCRIPTION, migration/vmstate.c
 * vmstate_save_state_v's JSON writer): for each device section, its VMState as QEMU saved it (fields in order,
 * each with type and size, structs nested, arrays compressed as `array_len`, and the subsections that were sent).
 * This module only checks and normalises the JSON; readDeviceState.ts walks the bytes with it.
 */

export interface FieldDescription {
  name: string;
  type: string;
  size: number;
  /** Set on the copies an `array_len` field unfolds into. */
  index?: number;
  /**
   * `array_len`: this many elements of the field in a row. Kept as a count, not unfolded into copies, so a
   * description of 10^6 elements costs one entry; readDeviceState numbers the elements (`index`).
   */
  arrayLen?: number;
  struct?: StructDescription;
}

export interface StructDescription {
  vmsdName: string;
  version: number;
  /** The JSON gives no version: a device saved by an old-style save_state hook (vmstate_save_old_style, e.g. VFIO). */
  unversioned?: true;
  fields: FieldDescription[];
  subsections: StructDescription[];
}

export interface DeviceDescription extends StructDescription {
  name: string;
  instanceId: number;
}

export interface DeviceDescriptions {
  pageSize?: number;
  configuration?: StructDescription;
  devices: DeviceDescription[];
  /** By `name` and `instance_id`, as a section names its device. */
  byKey: Map<string, DeviceDescription>;
}

/** Bounds that keep a hostile description from costing more than a real one ever needs. */
export const DESCRIPTION_LIMITS = { maxDepth: 64, maxFields: 2_000_000, maxArrayLen: 1 << 20, maxFieldSize: 1 << 30 };

export class DescriptionError extends Error {}

export function deviceKey(name: string, instanceId: number): string {
  return `${name}\u0000${instanceId}`;
}

/** Normalises the JSON; throws DescriptionError naming the JSON path of the first thing that does not fit. */
export function parseDeviceDescriptions(json: unknown): DeviceDescriptions {
  const budget = { fields: 0 };
  const root = object(json, '$');
  const devicesJson = root.devices;
  if (!Array.isArray(devicesJson)) throw new DescriptionError('$.devices is not an array');
  const devices = devicesJson.map((d, i) => {
    const o = object(d, `$.devices[${i}]`);
    const s = struct(o, `$.devices[${i}]`, budget, 0);
    return {
      ...s,
      name: string(o.name, `$.devices[${i}].name`),
      instanceId: integer(o.instance_id, `$.devices[${i}].instance_id`),
    };
  });
  const byKey = new Map<string, DeviceDescription>();
  for (const d of devices) byKey.set(deviceKey(d.name, d.instanceId), d);
  const ps = root.page_size;
  return {
    pageSize: typeof ps === 'number' ? ps : undefined,
    configuration:
      root.configuration === undefined
        ? undefined
        : struct(object(root.configuration, '$.configuration'), '$.configuration', budget, 0),
    devices,
    byKey,
  };
}

function struct(
  o: Record<string, unknown>,
  path: string,
  budget: { fields: number },
  depth: number,
): StructDescription {
  if (depth > DESCRIPTION_LIMITS.maxDepth)
    throw new DescriptionError(`${path}: nested deeper than ${DESCRIPTION_LIMITS.maxDepth} levels`);
  const fieldsJson = o.fields ?? [];
  if (!Array.isArray(fieldsJson)) throw new DescriptionError(`${path}.fields is not an array`);
  const fields: FieldDescription[] = [];
  fieldsJson.forEach((f, i) => {
    const fp = `${path}.fields[${i}]`;
    const fo = object(f, fp);
    const size = integer(fo.size ?? 0, `${fp}.size`);
    if (size > DESCRIPTION_LIMITS.maxFieldSize)
      throw new DescriptionError(`${fp}.size ${size} is larger than any device state`);
    const base: FieldDescription = { name: string(fo.name, `${fp}.name`), type: string(fo.type, `${fp}.type`), size };
    if (fo.struct !== undefined)
      base.struct = struct(object(fo.struct, `${fp}.struct`), `${fp}.struct`, budget, depth + 1);
    // QEMU compresses runs of equal array elements into one entry with array_len; the reader unfolds them, numbered.
    const len = fo.array_len === undefined ? undefined : integer(fo.array_len, `${fp}.array_len`);
    if (len !== undefined && len > DESCRIPTION_LIMITS.maxArrayLen)
      throw new DescriptionError(`${fp}.array_len ${len} is beyond ${DESCRIPTION_LIMITS.maxArrayLen}`);
    if (len !== undefined) base.arrayLen = len;
    budget.fields += (len ?? 1) * (1 + (base.struct ? countFields(base.struct) : 0));
    if (budget.fields > DESCRIPTION_LIMITS.maxFields)
      throw new DescriptionError(`${fp}: the description unfolds to more than ${DESCRIPTION_LIMITS.maxFields} fields`);
    fields.push(base);
  });
  const subsJson = o.subsections ?? [];
  if (!Array.isArray(subsJson)) throw new DescriptionError(`${path}.subsections is not an array`);
  return {
    vmsdName: typeof o.vmsd_name === 'string' ? o.vmsd_name : '',
    version: typeof o.version === 'number' ? o.version : 0,
    ...(typeof o.version === 'number' ? {} : { unversioned: true as const }),
    fields,
    subsections: subsJson.map((s, i) =>
      struct(object(s, `${path}.subsections[${i}]`), `${path}.subsections[${i}]`, budget, depth + 1),
    ),
  };
}

function countFields(s: StructDescription): number {
  let n = 0;
  for (const f of s.fields) n += (f.arrayLen ?? 1) * (1 + (f.struct ? countFields(f.struct) : 0));
  for (const sub of s.subsections) n += countFields(sub);
  return n;
}

function object(v: unknown, path: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DescriptionError(`${path} is not an object`);
  return v as Record<string, unknown>;
}

function string(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new DescriptionError(`${path} is not a string`);
  return v;
}

function integer(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new DescriptionError(`${path} is not a non-negative integer`);
  return v;
}
