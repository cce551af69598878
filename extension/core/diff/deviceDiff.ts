import type { CaptureAnalysis } from '../analysisTypes';
import { readDeviceStates, type DeviceState } from '../vmstate/deviceStates';
import { fieldKind } from '../vmstate/fieldTypes';
import type { DecodedField } from '../vmstate/readDeviceState';
import { hexBytes, intText } from '../vmstate/stateJson';
import type { DeviceDiff, FieldDiff } from './diffTypes';

/** Fields listed per device; fieldsDiffering counts them all. */
const MAX_FIELDS = 200;

/**
 * Device sections of both captures, decoded as `mfd devices` decodes them (the VM description), matched by idstr
 * and instance id; fields compared by path and value. Devices that differ come first.
 */
export async function diffDevices(
  a: CaptureAnalysis,
  b: CaptureAnalysis,
): Promise<{ unavailable?: { a?: string; b?: string }; diffs: DeviceDiff[] }> {
  const [sa, sb] = await Promise.all([readDeviceStates(a), readDeviceStates(b)]);
  const byKey = (ds: DeviceState[]) => new Map(ds.map((d) => [`${d.idstr}\u0000${d.instanceId}`, d]));
  const ma = byKey(sa.devices);
  const mb = byKey(sb.devices);
  const diffs: DeviceDiff[] = [];
  for (const key of new Set([...ma.keys(), ...mb.keys()])) {
    const x = ma.get(key);
    const y = mb.get(key);
    const any = (x ?? y)!;
    const d: DeviceDiff = {
      idstr: any.idstr,
      instanceId: any.instanceId,
      status: x && y ? 'both' : x ? 'only-a' : 'only-b',
      ...(x ? { versionA: x.versionId, sectionA: x.sectionId } : {}),
      ...(y ? { versionB: y.versionId, sectionB: y.sectionId } : {}),
      fields: [],
      fieldsDiffering: 0,
    };
    if (x && y) {
      const fa = flatten(x.decoded.fields);
      const fb = flatten(y.decoded.fields);
      for (const path of new Set([...fa.keys(), ...fb.keys()])) {
        const va = fa.get(path);
        const vb = fb.get(path);
        if (va === vb) continue;
        d.fieldsDiffering++;
        if (d.fields.length < MAX_FIELDS) {
          const f: FieldDiff = { path };
          if (va !== undefined) f.a = va;
          if (vb !== undefined) f.b = vb;
          d.fields.push(f);
        }
      }
    }
    diffs.push(d);
  }
  const weight = (d: DeviceDiff) =>
    d.status !== 'both' ? 0 : d.versionA !== d.versionB ? 1 : d.fieldsDiffering > 0 ? 2 : 3;
  diffs.sort((p, q) => weight(p) - weight(q) || p.idstr.localeCompare(q.idstr) || p.instanceId - q.instanceId);
  const unavailable =
    sa.unavailable || sb.unavailable
      ? {
          ...(sa.unavailable ? { a: sa.unavailable } : {}),
          ...(sb.unavailable ? { b: sb.unavailable } : {}),
        }
      : undefined;
  return { ...(unavailable ? { unavailable } : {}), diffs };
}

/** path → the whole value as text (never cut short: two values that differ only past a display limit still differ). */
function flatten(fields: DecodedField[], prefix = '', out = new Map<string, string>()): Map<string, string> {
  for (const f of fields) {
    const name = `${f.subsection ? 'subsection:' : ''}${f.name}${f.index !== undefined ? `[${f.index}]` : ''}`;
    const path = prefix ? `${prefix}.${name}` : name;
    if (f.children) {
      if (f.subsection) out.set(`${path} (version)`, String(f.version));
      flatten(f.children, path, out);
    } else out.set(path, valueOf(f));
  }
  return out;
}

function valueOf(f: DecodedField): string {
  const k = fieldKind(f.type);
  if (k.kind === 'int' && f.value !== undefined) return intText(f.value as number | bigint, f.length);
  if (k.kind === 'bool' || k.kind === 'capability') return JSON.stringify(f.value);
  if (k.kind === 'nullptr') return 'nullptr';
  if (!f.bytes) return `(${f.length} bytes, not kept)`;
  return hexBytes(f.bytes);
}
