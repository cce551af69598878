import { sourceBytes, type CaptureAnalysis } from '../analysisTypes';
import type { MainSectionEntry } from '../mainchannel/mainChannelTypes';
import { deviceKey } from '../vmstate/deviceDescriptions';
import { readDeviceStates, type DeviceState } from '../vmstate/deviceStates';
import { fieldKind } from '../vmstate/fieldTypes';
import type { DecodedField } from '../vmstate/readDeviceState';
import { hexBytes, intText } from '../vmstate/stateJson';
import type { DeviceDiff, FieldDiff } from './diffTypes';

/** Fields listed per device; fieldsDiffering counts them all. */
const MAX_FIELDS = 200;

/**
 * Device sections of both captures, matched by idstr and instance id. A section whose body bytes are the same in
 * both has no field to compare; the others are decoded as `mfd devices` decodes them (through the VM
 * description) and compared field by field, by path and value. Devices that differ come first.
 */
export async function diffDevices(
  a: CaptureAnalysis,
  b: CaptureAnalysis,
): Promise<{ unavailable?: { a?: string; b?: string }; diffs: DeviceDiff[] }> {
  const ma = sectionsOf(a);
  const mb = sectionsOf(b);
  // A name no device has: the VM description is parsed (or found missing) and nothing is decoded.
  const [ua, ub] = await Promise.all([readDeviceStates(a, NO_DEVICE), readDeviceStates(b, NO_DEVICE)]);
  const described = (s: typeof ua, e: MainSectionEntry) =>
    JSON.stringify(s.descriptions?.byKey.get(deviceKey(e.idstr ?? '', e.instanceId ?? 0)) ?? null);
  const diffs: DeviceDiff[] = [];
  for (const key of new Set([...ma.keys(), ...mb.keys()])) {
    const x = ma.get(key);
    const y = mb.get(key);
    const any = (x ?? y)!;
    const d: DeviceDiff = {
      idstr: any.idstr ?? '',
      instanceId: any.instanceId ?? 0,
      status: x && y ? 'both' : x ? 'only-a' : 'only-b',
      ...(x ? { versionA: x.versionId, sectionA: x.id } : {}),
      ...(y ? { versionB: y.versionId, sectionB: y.id } : {}),
      fields: [],
      fieldsDiffering: 0,
    };
    // Same bytes read through the same description are the same fields; anything else is decoded and compared.
    const same = x && y && described(ua, x) === described(ub, y) && (await sameBody(a, x, b, y));
    if (x && y && !ua.unavailable && !ub.unavailable && !same) {
      const fa = flatten((await decoded(a, x))?.decoded.fields ?? []);
      const fb = flatten((await decoded(b, y))?.decoded.fields ?? []);
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
    ua.unavailable || ub.unavailable
      ? {
          ...(ua.unavailable ? { a: ua.unavailable } : {}),
          ...(ub.unavailable ? { b: ub.unavailable } : {}),
        }
      : undefined;
  return { ...(unavailable ? { unavailable } : {}), diffs };
}

const NO_DEVICE = '\u0000';

/** The device sections the index delimited (through the VM description), by idstr and instance id. */
function sectionsOf(analysis: CaptureAnalysis): Map<string, MainSectionEntry> {
  const out = new Map<string, MainSectionEntry>();
  for (const e of analysis.main?.sections ?? [])
    if (e.bodyOffset !== undefined && e.bodyEnd !== undefined && e.instanceId !== undefined)
      out.set(`${e.idstr}\u0000${e.instanceId}`, e);
  return out;
}

async function sameBody(
  a: CaptureAnalysis,
  x: MainSectionEntry,
  b: CaptureAnalysis,
  y: MainSectionEntry,
): Promise<boolean> {
  if (x.versionId !== y.versionId || x.bodyEnd! - x.bodyOffset! !== y.bodyEnd! - y.bodyOffset!) return false;
  const [ba, bb] = await Promise.all([
    sourceBytes(a, a.main!.streamId).read(x.bodyOffset!, x.bodyEnd!),
    sourceBytes(b, b.main!.streamId).read(y.bodyOffset!, y.bodyEnd!),
  ]);
  return Buffer.from(ba.buffer, ba.byteOffset, ba.length).equals(bb);
}

async function decoded(analysis: CaptureAnalysis, e: MainSectionEntry): Promise<DeviceState | undefined> {
  const states = await readDeviceStates(analysis, e.idstr);
  return states.devices.find((d) => d.sectionId === e.id);
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
