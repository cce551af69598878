import { streamCursor, type StreamBytes } from '../capture/streamBytes';
import type { DiagnosticSink } from '../diagnostics/diagnostic';
import { readConfiguration } from './configurationSection';
import {
  isPlausiblePageSize,
  LIMITS,
  MIG_CMD_NAMES,
  MIG_CMD_PACKAGED,
  MIG_CMD_POSTCOPY_ADVISE,
  QEMU_VM_COMMAND,
  QEMU_VM_CONFIGURATION,
  QEMU_VM_EOF,
  QEMU_VM_SECTION_END,
  QEMU_VM_SECTION_FOOTER,
  QEMU_VM_SECTION_FULL,
  QEMU_VM_SECTION_PART,
  QEMU_VM_SECTION_START,
  QEMU_VM_VMDESCRIPTION,
  RAM_SECTION_IDSTR,
  RAM_SECTION_VERSION,
  SECTION_TYPE_NAMES,
} from './constants';
import { decodeRamSection, finishRam, newRamState, type RamState } from './ramRecords';
import { mainChannelReporter, type Reporter } from './mainReporter';
import { MainRecordTable } from './recordTable';
import { StreamEnded, StreamWalker } from './streamWalker';
import { findVmDescription, parseJson, recordVmDescription, type VmDescriptionFound } from './vmDescription';
import { checkFileHeader, MAIN_FILE_HEADER_LAYOUT } from './fileHeader';
import { DeviceSections } from './deviceSections';
import type { IndexOptions, MainChannelIndex, MainSectionEntry } from './mainChannelTypes';
import type { ReadAhead } from '../capture/readAhead';
import { readDirtyBitmapBody, type DirtyBitmapNames } from './dirtyBitmapSection';
import { iterativeReaderOf, type IterativeOutcome, type IterativeReaderKind } from './iterativeSection';
import { readVfioBody } from './vfioSection';

export { readMainChannelPageSize } from './fileHeader';
export type { IndexOptions, MainChannelIndex, MainSectionEntry } from './mainChannelTypes';
export {
  MainRecordKind,
  MainRecordTable,
  MAIN_RECORD_KIND_NAMES,
  type MainRecordRow,
  type RamBlockInfo,
} from './recordTable';
export type { MainConfiguration } from './configurationSection';

const DEFAULT_PAGE_SIZE = 4096;

/** Decodes the main channel: configuration, sections, RAM records, up to device state or QEMU_VM_EOF. */
export async function indexMainChannel(
  stream: StreamBytes,
  streamId: number,
  pageSize: number,
  sink: DiagnosticSink,
  options: IndexOptions = {},
): Promise<MainChannelIndex> {
  return new MainChannelDecoder(stream, streamId, pageSize, sink, options).run();
}

class MainChannelDecoder {
  private readonly index: MainChannelIndex;
  private readonly w: StreamWalker;
  private readonly ram: RamState;
  private readonly report: Reporter;
  private readonly maxSections: number;
  /** section_id → idstr, from START/FULL headers; PART/END name only the id. */
  private readonly sectionIds = new Map<number, string>();
  /** Undetermined until the first section end: machine types before 2.4 send no footers. */
  private footers: boolean | undefined;
  /** Where the item being decoded began: a truncation is reported there. */
  private itemStart = 0;
  private vm?: VmDescriptionFound;
  private readonly devices: DeviceSections;
  /** End of the PACKAGED blob being walked (postcopy's device state), if the walk is inside one. */
  private packageEnd?: number;
  /** The iterative readers' own window on the stream (they skip large buffers the walker need not see). */
  private readonly ahead: ReadAhead;
  /** The node and bitmap the last dirty-bitmap chunk named: later chunks, in later sections too, may leave them out. */
  private readonly bitmapNames: DirtyBitmapNames = {};

  constructor(
    private readonly stream: StreamBytes,
    streamId: number,
    private readonly pageSize: number,
    sink: DiagnosticSink,
    options: IndexOptions,
  ) {
    this.report = mainChannelReporter(sink, streamId, stream);
    if (!isPlausiblePageSize(pageSize)) {
      this.report(
        'multifd.page-size-unknown',
        `page size ${pageSize} is not a target page size QEMU supports; ${DEFAULT_PAGE_SIZE} assumed`,
        0,
      );
      this.pageSize = DEFAULT_PAGE_SIZE;
    }
    this.maxSections = options.maxSections ?? LIMITS.maxSections;
    this.index = {
      streamId,
      fileVersion: 0,
      ramblocks: [],
      records: new MainRecordTable(),
      syncMode: 'eos',
      eosCount: 0,
      flushCount: 0,
      syncMarkers: 0,
      sections: [],
      sectionCount: 0,
      complete: false,
      bytes: stream.length,
    };
    this.w = new StreamWalker(streamCursor(stream), stream.length);
    this.ahead = streamCursor(stream);
    this.devices = new DeviceSections(stream, this.report);
    this.ram = newRamState(this.w, this.pageSize, this.index, this.report, options.maxRecords ?? LIMITS.maxRecords);
  }

  async run(): Promise<MainChannelIndex> {
    await this.lookForVmDescription();
    try {
      await this.walk();
    } catch (e) {
      if (e instanceof StreamEnded) {
        this.report(
          'main.truncated',
          `the main channel ends (at ${this.stream.length}) inside the record that starts here`,
          this.itemStart,
        );
        this.stop(this.itemStart, 'truncated');
      } else {
        // Only an I/O failure can get here: the stream could not be read further.
        const msg = e instanceof Error ? e.message : String(e);
        this.report('main.truncated', `reading the main channel failed: ${msg}`, this.itemStart);
        this.stop(this.itemStart, 'read error');
      }
    }
    return this.finish();
  }

  private stop(streamOffset: number, reason: string): void {
    this.index.stoppedAt = { streamOffset, reason };
  }

  private async lookForVmDescription(): Promise<void> {
    try {
      this.vm = await findVmDescription(this.stream);
    } catch {
      this.vm = undefined;
    }
    if (this.vm) this.takeVmDescription(this.vm);
  }

  private takeVmDescription(vm: VmDescriptionFound): void {
    recordVmDescription(this.index, vm, this.pageSize, this.report);
    if (vm.json !== undefined) this.devices.describe(vm.json, vm.jsonOffset);
  }

  private addSection(e: MainSectionEntry): void {
    this.index.sectionCount++;
    if (this.index.sections.length < this.maxSections) this.index.sections.push(e);
  }

  private async walk(): Promise<void> {
    if (!(await this.readHeader())) return;
    const w = this.w;
    if ((await w.peek8()) === QEMU_VM_CONFIGURATION) {
      if (!(await this.readConfigurationRecord())) return;
    }
    for (;;) {
      this.itemStart = w.pos;
      const at = w.pos;
      if (this.packageEnd !== undefined && at >= this.packageEnd) this.packageEnd = undefined;
      if (!w.has(1)) {
        this.report('main.truncated', `the main channel ends before QEMU_VM_EOF`, at);
        this.stop(at, 'truncated');
        return;
      }
      const type = await w.u8();
      switch (type) {
        case QEMU_VM_SECTION_START:
        case QEMU_VM_SECTION_FULL:
          if (!(await this.startOrFull(type, at))) return;
          break;
        case QEMU_VM_SECTION_PART:
        case QEMU_VM_SECTION_END:
          if (!(await this.partOrEnd(type, at))) return;
          break;
        case QEMU_VM_COMMAND:
          await this.command(at);
          break;
        case QEMU_VM_EOF:
          await this.eof(at);
          return;
        default:
          this.report(
            'main.bad-section',
            `unexpected top-level byte 0x${type.toString(16).padStart(2, '0')} (${SECTION_TYPE_NAMES[type] ?? 'no such record type'}); decoding stops`,
            at,
          );
          this.stop(at, 'bad section type');
          return;
      }
    }
  }

  private async readHeader(): Promise<boolean> {
    const head = await this.stream.read(0, MAIN_FILE_HEADER_LAYOUT.fixedSize);
    const h = checkFileHeader(head);
    if (h.version !== undefined) this.index.fileVersion = h.version;
    if (!h.ok) {
      this.report(h.code, h.message, h.at);
      this.stop(h.at, h.reason);
      return false;
    }
    this.w.seek(MAIN_FILE_HEADER_LAYOUT.fixedSize);
    return true;
  }

  private async readConfigurationRecord(): Promise<boolean> {
    const w = this.w;
    const at = w.pos;
    this.itemStart = at;
    await w.u8();
    this.addSection({ type: QEMU_VM_CONFIGURATION, typeName: 'CONFIGURATION', id: 0, streamOffset: at });
    const r = await readConfiguration(w);
    this.index.configuration = r.config;
    if (!r.ok) {
      this.report('main.bad-configuration', `${r.message}; decoding stops`, r.at);
      this.stop(r.at, 'bad configuration');
      return false;
    }
    const caps = r.config.capabilities;
    this.ram.ignoreShared = caps.includes('x-ignore-shared');
    this.ram.mappedRam = caps.includes('mapped-ram');
    if (this.ram.mappedRam)
      this.report(
        'main.mapped-ram',
        "mapped-ram stream: each block's pages live at fixed file offsets after its MEM_SIZE entry; the walk jumps over each page region; replay reads the pages in place where the block's bitmap marks them",
        at,
      );
    const bits = r.config.targetPageBits;
    if (bits !== undefined && 2 ** bits !== this.pageSize)
      this.report(
        'multifd.page-size-conflict',
        `configuration says target-page-bits ${bits} (${2 ** bits} bytes), but ${this.pageSize} is being used to decode RAM records`,
        at,
      );
    return true;
  }

  private async startOrFull(type: number, at: number): Promise<boolean> {
    const w = this.w;
    const id = await w.be32();
    const idstr = await w.name8();
    const instanceId = await w.be32();
    const versionId = await w.be32();
    const typeName = SECTION_TYPE_NAMES[type];
    const entry: MainSectionEntry = { type, typeName, id, idstr, instanceId, versionId, streamOffset: at };
    this.addSection(entry);
    if (this.sectionIds.size < LIMITS.maxSectionIds || this.sectionIds.has(id)) this.sectionIds.set(id, idstr);
    if (idstr !== RAM_SECTION_IDSTR && type === QEMU_VM_SECTION_START) return this.iterativeSection(entry);
    if (type === QEMU_VM_SECTION_FULL && iterativeReaderOf(idstr) === 'vfio') return this.vfioFull(entry);
    if (idstr !== RAM_SECTION_IDSTR || type === QEMU_VM_SECTION_FULL) return this.deviceState(entry);
    if (versionId !== RAM_SECTION_VERSION)
      this.report(
        'main.bad-section',
        `RAM section version ${versionId}; ram_load accepts only ${RAM_SECTION_VERSION}`,
        at,
        undefined,
        'warning',
      );
    return this.ramSection(id, at);
  }

  private async partOrEnd(type: number, at: number): Promise<boolean> {
    const id = await this.w.be32();
    const idstr = this.sectionIds.get(id);
    const entry: MainSectionEntry = {
      type,
      typeName: SECTION_TYPE_NAMES[type],
      id,
      ...(idstr !== undefined ? { idstr } : {}),
      streamOffset: at,
    };
    this.addSection(entry);
    if (idstr === undefined) {
      this.report(
        'main.bad-section',
        `${SECTION_TYPE_NAMES[type]} for section id ${id}, which no START announced; decoding stops`,
        at,
      );
      this.stop(at, 'unknown section id');
      return false;
    }
    if (idstr !== RAM_SECTION_IDSTR) return this.iterativeSection(entry);
    return this.ramSection(id, at);
  }

  /**
   * START/PART/END of a device other than RAM: read by the reader of its kind (dirty-bitmap, VFIO) to its end and
   * footer. No other iterative device has a reader; its body is not described anywhere, so the walk stops.
   */
  private async iterativeSection(entry: MainSectionEntry): Promise<boolean> {
    const kind = iterativeReaderOf(entry.idstr ?? '');
    if (kind === undefined) {
      if (this.packageEnd !== undefined) return this.deviceState(entry);
      this.report(
        'main.iterative-unknown',
        `section "${entry.idstr ?? ''}" (id ${entry.id}, ${entry.typeName}): an iterative section whose body no reader here knows (ram, dirty-bitmap and VFIO "…/vfio" sections are read); decoding stops here`,
        entry.streamOffset,
      );
      this.stop(entry.streamOffset, `iterative section "${entry.idstr ?? ''}"`);
      return false;
    }
    const r = await this.readIterative(kind, entry, this.w.pos);
    if (!this.tookIterative(entry, r)) return false;
    return this.footer(entry.id, entry.streamOffset);
  }

  /**
   * A VFIO device's FULL section (its config space, or a dummy END_OF_STATE when its state goes over multifd).
   * QEMU describes it in the VM description as one `buffer`, which delimits it; the markers are read inside.
   * Without a description the markers alone delimit it.
   */
  private async vfioFull(entry: MainSectionEntry): Promise<boolean> {
    const bodyAt = this.w.pos;
    if (this.devices.described) {
      const ok = await this.deviceState(entry);
      if (ok && entry.bodyEnd !== undefined) {
        const r = await this.readIterative('vfio', entry, bodyAt, entry.bodyEnd);
        entry.iterative = r.body;
        for (const p of r.problems) this.report(p.code, p.message, p.offset, undefined, p.severity);
        if (r.end !== undefined && r.end !== entry.bodyEnd)
          this.report(
            'main.vfio',
            `section "${entry.idstr ?? ''}" (id ${entry.id}, FULL): its markers end at ${r.end}, the VM description ends it at ${entry.bodyEnd}`,
            r.end,
          );
      }
      return ok;
    }
    const r = await this.readIterative('vfio', entry, bodyAt);
    if (!this.tookIterative(entry, r)) return false;
    return this.footer(entry.id, entry.streamOffset);
  }

  private readIterative(
    kind: IterativeReaderKind,
    entry: MainSectionEntry,
    bodyAt: number,
    describedEnd?: number,
  ): Promise<IterativeOutcome> {
    const label = `section "${entry.idstr ?? ''}" (id ${entry.id}, ${entry.typeName})`;
    const length = this.stream.length;
    if (kind === 'dirty-bitmap') return readDirtyBitmapBody(this.ahead, bodyAt, length, this.bitmapNames, label);
    return readVfioBody(
      this.ahead,
      bodyAt,
      length,
      { sectionId: entry.id, footers: this.footers, describedEnd },
      label,
    );
  }

  /** Records an iterative body on its entry and moves the walk past it; false when the walk stops there. */
  private tookIterative(entry: MainSectionEntry, r: IterativeOutcome): boolean {
    entry.iterative = r.body;
    entry.bodyOffset = this.w.pos;
    for (const p of r.problems) this.report(p.code, p.message, p.offset, undefined, p.severity);
    if (r.end === undefined) {
      this.stop(r.stopAt ?? entry.streamOffset, r.stopReason ?? `section "${entry.idstr ?? ''}"`);
      return false;
    }
    entry.bodyEnd = r.end;
    this.w.seek(r.end);
    return true;
  }

  /** A device section: decoded through the VM description when it describes it, else the walk stops (or skips a package). */
  private async deviceState(entry: MainSectionEntry): Promise<boolean> {
    const r = await this.devices.section(entry, this.w.pos, this.packageEnd);
    if (r.next === undefined) {
      this.stop(entry.streamOffset, `device state "${entry.idstr ?? ''}"`);
      return false;
    }
    this.w.seek(r.next);
    if (r.decoded) this.footers = true;
    return true;
  }

  private async ramSection(id: number, at: number): Promise<boolean> {
    const r = await decodeRamSection(this.ram);
    this.ram.section++;
    if (!r.ok) {
      this.stop(r.at, r.reason);
      return false;
    }
    return this.footer(id, at);
  }

  /** check_section_footer: 0x7e + be32 section id after every section, unless the machine type predates footers. */
  private async footer(id: number, sectionAt: number): Promise<boolean> {
    const w = this.w;
    const at = w.pos;
    this.itemStart = at;
    const next = await w.peek8();
    if (next !== QEMU_VM_SECTION_FOOTER) {
      if (this.footers === undefined && next !== undefined) this.footers = false;
      // The end of the stream is reported by the walk.
      if (this.footers === false || next === undefined) return true;
      this.report(
        'main.footer-mismatch',
        `no footer after section id ${id} (started at ${sectionAt}): found 0x${next.toString(16)} instead of 0x7e; decoding stops`,
        at,
      );
      this.stop(at, 'missing section footer');
      return false;
    }
    await w.u8();
    const fid = await w.be32();
    this.footers = true;
    if (fid !== id) {
      this.report(
        'main.footer-mismatch',
        `footer names section id ${fid}, but the section (started at ${sectionAt}) is id ${id}; decoding stops`,
        at,
      );
      this.stop(at, 'section footer mismatch');
      return false;
    }
    return true;
  }

  /** QEMU_VM_COMMAND: be16 cmd, be16 len, len bytes. PACKAGED's blob follows its 4 data bytes and is walked in place. */
  private async command(at: number): Promise<void> {
    const w = this.w;
    const cmd = await w.be16();
    const len = await w.be16();
    if (cmd === MIG_CMD_PACKAGED && len === 4) await this.enterPackage(at);
    else w.skip(len);
    const name = MIG_CMD_NAMES[cmd];
    this.addSection({
      type: QEMU_VM_COMMAND,
      typeName: 'COMMAND',
      id: cmd,
      idstr: name ?? `unknown command ${cmd}`,
      streamOffset: at,
    });
    if (name === undefined)
      this.report(
        'main.bad-section',
        `unknown command ${cmd} (length ${len}); skipped by its length`,
        at,
        undefined,
        'warning',
      );
    if (cmd === MIG_CMD_POSTCOPY_ADVISE) this.ram.postcopyAdvised = true;
  }

  /** PACKAGED: be32 length, then a nested stream of that many bytes, walked in place; its length is checked. */
  private async enterPackage(at: number): Promise<void> {
    const length = await this.w.be32();
    const end = this.w.pos + length;
    if (end > this.stream.length)
      this.report(
        'main.package-truncated',
        `PACKAGED declares ${length} bytes; ${this.stream.length - this.w.pos} are present (QEMU's destination waits for the rest)`,
        at,
      );
    if (this.packageEnd !== undefined)
      this.report(
        'main.bad-section',
        `PACKAGED inside PACKAGED (QEMU sends one level); walked as part of the outer one`,
        at,
        undefined,
        'warning',
      );
    else this.packageEnd = Math.min(end, this.stream.length);
  }

  private async eof(at: number): Promise<void> {
    const w = this.w;
    const ix = this.index;
    ix.complete = true;
    ix.eofOffset = at;
    this.addSection({ type: QEMU_VM_EOF, typeName: 'EOF', id: 0, streamOffset: at });
    this.devices.finish(at);
    this.stop(at, 'end (QEMU_VM_EOF)');
    if ((await w.peek8()) !== QEMU_VM_VMDESCRIPTION) return;
    const dAt = w.pos;
    this.itemStart = dAt;
    await w.u8();
    const len = await w.be32();
    this.addSection({ type: QEMU_VM_VMDESCRIPTION, typeName: 'VMDESCRIPTION', id: 0, streamOffset: dAt });
    if (this.vm?.offset === dAt) return;
    // Not found from the tail (bytes follow it, or it is too large for the tail search).
    if (len > w.remaining) {
      this.report('main.truncated', `the VM description claims ${len} bytes but only ${w.remaining} follow`, dAt);
      return;
    }
    const parsed = await parseJson(this.stream, w.pos, len);
    this.takeVmDescription({ offset: dAt, eofOffset: at, jsonOffset: w.pos, jsonLength: len, ...parsed });
    w.skip(len);
    if (w.remaining > 0)
      this.report('main.bad-section', `${w.remaining} bytes follow the VM description`, w.pos, undefined, 'warning');
  }

  private finish(): MainChannelIndex {
    finishRam(this.index, this.ram);
    return this.index;
  }
}
