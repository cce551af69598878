import type { CaptureAnalysis } from '../analysisTypes';
import type { MainSectionEntry } from '../mainchannel/mainChannelTypes';
import { DescriptionError, parseDeviceDescriptions, type DeviceDescriptions } from './deviceDescriptions';
import { decodeDeviceSection, type DecodedDeviceSection } from './deviceSection';
import { fieldsAsStateJson, ramSectionSizes, type StateJson } from './stateJson';

/**
 * The device sections of an analysed capture, decoded again through the VM description when asked (the index
 * keeps only each section's boundaries), and the whole state in analyze-migration.py's `state.json` shape.
 */

export interface DeviceState {
  /** "idstr (section_id)", the state.json key. */
  key: string;
  idstr: string;
  sectionId: number;
  instanceId: number;
  versionId: number;
  kind: string;
  /** Stream offset of the section record. */
  offset: number;
  decoded: DecodedDeviceSection;
}

export interface DeviceStates {
  streamId: number;
  /** Why nothing could be decoded, when nothing could. */
  unavailable?: string;
  descriptions?: DeviceDescriptions;
  devices: DeviceState[];
}

export function sectionKey(idstr: string, sectionId: number): string {
  return `${idstr} (${sectionId})`;
}

/** Decodes the device sections whose idstr is `only` (every one when not given). */
export async function readDeviceStates(analysis: CaptureAnalysis, only?: string): Promise<DeviceStates> {
  const main = analysis.main;
  if (!main) return { streamId: -1, unavailable: 'the capture has no main channel', devices: [] };
  const out: DeviceStates = { streamId: main.streamId, devices: [] };
  if (main.vmDescription === undefined) {
    out.unavailable =
      'the main channel carries no VM description (suppress-vmdesc, a postcopy package, or a capture cut before its end)';
    return out;
  }
  try {
    out.descriptions = parseDeviceDescriptions(main.vmDescription);
  } catch (e) {
    out.unavailable = `the VM description is unusable: ${e instanceof DescriptionError ? e.message : String(e)}`;
    return out;
  }
  const stream = analysis.streams.find((s) => s.id === main.streamId)!.stream.toDestination;
  for (const e of deviceEntries(main.sections)) {
    if (only !== undefined && e.idstr !== only) continue;
    const h = {
      idstr: e.idstr ?? '',
      instanceId: e.instanceId ?? 0,
      versionId: e.versionId ?? 0,
      sectionId: e.id,
      bodyOffset: e.bodyOffset!,
    };
    const decoded = await decodeDeviceSection(stream, h, out.descriptions);
    out.devices.push({
      key: sectionKey(h.idstr, e.id),
      idstr: h.idstr,
      sectionId: e.id,
      instanceId: h.instanceId,
      versionId: h.versionId,
      kind: e.typeName,
      offset: e.streamOffset,
      decoded,
    });
  }
  return out;
}

/** Sections the walk decoded through the description (it recorded where their body starts). */
function deviceEntries(sections: MainSectionEntry[]): MainSectionEntry[] {
  // The iterative sections other than RAM (dirty-bitmap, VFIO START) are delimited by their own readers, and no
  // VM description describes them; a VFIO FULL section is described (as one buffer), so it stays.
  return sections.filter(
    (e) => e.bodyOffset !== undefined && e.instanceId !== undefined && (!e.iterative || e.typeName === 'FULL'),
  );
}

/**
 * state.json as analyze-migration.py -x writes it: one key per section id in the order the ids first appear,
 * "ram (N)" holding the RAMBlock sizes MEM_SIZE announced, each device its fields.
 */
export async function buildStateJson(analysis: CaptureAnalysis): Promise<{ state: StateJson; devices: DeviceStates }> {
  const devices = await readDeviceStates(analysis);
  const byId = new Map(devices.devices.map((d) => [d.sectionId, d]));
  const state: StateJson = {};
  for (const e of analysis.main?.sections ?? []) {
    if (e.instanceId === undefined || e.idstr === undefined) continue;
    const key = sectionKey(e.idstr, e.id);
    if (key in state) continue;
    if (e.idstr === 'ram') state[key] = ramSectionSizes((analysis.main?.ramblocks ?? []).filter((b) => !b.unannounced));
    else {
      const d = byId.get(e.id);
      if (d) state[key] = fieldsAsStateJson(d.decoded.fields);
    }
  }
  return { state, devices };
}
