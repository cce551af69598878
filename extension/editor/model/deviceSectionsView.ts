import type { CaptureAnalysis } from '../../core/analysisTypes';
import type { StreamBytes } from '../../core/capture/streamBytes';
import { RAM_SECTION_IDSTR } from '../../core/mainchannel/constants';
import {
  DescriptionError,
  deviceKey,
  parseDeviceDescriptions,
  type DeviceDescriptions,
} from '../../core/vmstate/deviceDescriptions';
import {
  decodeDeviceSection,
  type DecodedDeviceSection,
  type DeviceSectionHeader,
} from '../../core/vmstate/deviceSection';
import { fieldValueText } from '../../core/vmstate/fieldText';
import type { DecodedField } from '../../core/vmstate/readDeviceState';
import type {
  DeviceFieldInfo,
  DeviceFieldsPage,
  DeviceSectionInfo,
  DiagnosticInfo,
  PacketRef,
} from '../../shared/protocol';
import type { MainChannelRows } from './mainChannelRows';
import type { PacketDiagnostics } from './packetDiagnostics';

/** Fields one getDeviceFields answer carries at most: a section of 10^5 fields comes a page at a time. */
export const MAX_FIELDS_PER_PAGE = 500;
/** Decoded sections kept: moving between a few devices does not decode them again. */
const DECODED_CACHE = 4;

interface Section {
  info: DeviceSectionInfo;
  /** Set when the VM description can decode the section. */
  header?: DeviceSectionHeader;
}

/**
 * The Devices view's data: the main channel's device sections (every section row but RAM's), and each one's
 * fields decoded through the VM description by the core's device-state reader, on demand and a page of
 * children at a time. A field carries the stream offset and length the reader recorded, which the webview
 * highlights in the section row's bytes. A section's problems are the diagnostics of its row, the same entries
 * the Problems panel lists.
 */
export class DeviceSectionsView {
  private sections?: Section[];
  private descriptions?: DeviceDescriptions;
  private unavailable?: string;
  private readonly decoded = new Map<number, Promise<DecodedDeviceSection>>();

  constructor(
    private readonly analysis: CaptureAnalysis,
    private readonly rows: MainChannelRows | undefined,
    private readonly diagnostics: PacketDiagnostics,
  ) {}

  list(): { sections: DeviceSectionInfo[]; unavailable?: string } {
    return { sections: this.all().map((s) => s.info), ...(this.unavailable ? { unavailable: this.unavailable } : {}) };
  }

  /** Children [start, start+count) of a section (path []) or of a struct or subsection in it. */
  async fields(section: number, path: number[], start: number, count: number): Promise<DeviceFieldsPage> {
    const s = this.all()[section];
    if (!s) throw new Error(`no device section ${section} (the capture has ${this.all().length})`);
    const decoded = s.header ? await this.decode(section, s.header) : undefined;
    let level: DecodedField[] = decoded?.fields ?? [];
    for (let d = 0; d < path.length; d++) {
      const f = level[path[d]];
      if (!f?.children)
        throw new Error(`section "${s.info.idstr}" has no struct at [${path.slice(0, d + 1).join(', ')}]`);
      level = f.children;
    }
    const a = Math.max(0, Math.min(Math.floor(start), level.length));
    const b = Math.min(level.length, a + Math.max(0, Math.min(Math.floor(count), MAX_FIELDS_PER_PAGE)));
    const fields: DeviceFieldInfo[] = [];
    for (let i = a; i < b; i++) fields.push(fieldInfo(level[i], [...path, i]));
    return {
      section,
      path,
      start: a,
      total: level.length,
      fields,
      problems: (decoded?.problems ?? [])
        .filter((p) => p.kind !== 'version')
        .map((p) => ({ offset: p.offset, message: p.message })),
    };
  }

  private decode(section: number, header: DeviceSectionHeader): Promise<DecodedDeviceSection> {
    let p = this.decoded.get(section);
    if (!p) {
      p = decodeDeviceSection(this.mainStream(), header, this.descriptions!);
      this.decoded.set(section, p);
      if (this.decoded.size > DECODED_CACHE) this.decoded.delete(this.decoded.keys().next().value!);
      p.catch(() => this.decoded.delete(section));
    }
    return p;
  }

  private mainStream(): StreamBytes {
    const main = this.analysis.main!;
    return this.analysis.streams.find((s) => s.id === main.streamId)!.stream.toDestination;
  }

  /**
   * The diagnostics of a section's row that point into the section, header to footer: a row also takes those past
   * its end when the walk stopped in it (the VM description's, found from the tail), which are not the section's.
   */
  private problemsIn(row: PacketRef, start: number, end: number): DiagnosticInfo[] {
    return this.diagnostics.ofPacket(row).filter((d) => {
      const at = this.analysis.diagnostics[d.id]?.location.streamOffset;
      return at === undefined || (at >= start && at < end);
    });
  }

  /** The device sections, built once: each row's header from the section list, its problems from its row. */
  private all(): Section[] {
    if (this.sections) return this.sections;
    const out: Section[] = [];
    this.sections = out;
    const m = this.rows;
    const main = this.analysis.main;
    if (!m || !main) {
      this.unavailable = 'the capture has no main channel';
      return out;
    }
    if (main.vmDescription === undefined)
      this.unavailable =
        'the main channel carries no VM description (suppress-vmdesc, a postcopy package, or a capture cut before its end): device state cannot be decoded';
    else
      try {
        this.descriptions = parseDeviceDescriptions(main.vmDescription);
      } catch (e) {
        this.unavailable = `the VM description is unusable: ${e instanceof DescriptionError ? e.message : String(e)}`;
      }
    m.list.rows.forEach((r, slot) => {
      if (r.command || r.sectionId === undefined || r.idstr === undefined || r.idstr === RAM_SECTION_IDSTR) return;
      const rowIndex = m.rowOfTop(slot);
      if (m.device(rowIndex) === undefined) return;
      const row: PacketRef = { stream: m.streamId, index: rowIndex };
      const header =
        this.descriptions && r.body && r.instanceId !== undefined && r.versionId !== undefined
          ? {
              idstr: r.idstr,
              instanceId: r.instanceId,
              versionId: r.versionId,
              sectionId: r.sectionId,
              bodyOffset: r.body.start,
            }
          : undefined;
      const desc = header && this.descriptions!.byKey.get(deviceKey(r.idstr, r.instanceId!));
      out.push({
        header,
        info: {
          section: out.length,
          idstr: r.idstr,
          ...(r.instanceId !== undefined ? { instanceId: r.instanceId } : {}),
          ...(r.versionId !== undefined ? { versionId: r.versionId } : {}),
          sectionId: r.sectionId,
          kind: r.kind,
          start: r.start,
          end: m.streamEnd(rowIndex),
          ...(r.body ? { body: r.body } : {}),
          row,
          fieldCount: desc ? topLevelCount(desc) : 0,
          problems: this.problemsIn(row, r.start, r.body ? r.body.end + FOOTER_LENGTH : m.streamEnd(rowIndex)),
        },
      });
    });
    return out;
  }
}

/** Fields a description puts at its top level: its fields (arrays unfolded) and the subsections it sent. */
/** QEMU_VM_SECTION_FOOTER and the section id after a device section's body. */
const FOOTER_LENGTH = 5;

function topLevelCount(d: { fields: { arrayLen?: number }[]; subsections: unknown[] }): number {
  return d.fields.reduce((n, f) => n + (f.arrayLen ?? 1), 0) + d.subsections.length;
}

function fieldInfo(f: DecodedField, path: number[]): DeviceFieldInfo {
  return {
    path,
    name: f.name,
    ...(f.index !== undefined ? { index: f.index } : {}),
    type: f.type,
    offset: f.offset,
    length: f.length,
    value: fieldValueText(f),
    childCount: f.children?.length ?? 0,
    ...(f.subsection ? { subsection: true, version: f.version } : {}),
  };
}
