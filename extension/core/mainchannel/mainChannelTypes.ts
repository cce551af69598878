import type { MainConfiguration } from './configurationSection';
import type { IterativeBody } from './iterativeSection';
import type { MainRecordTable, RamBlockInfo } from './recordTable';

/** What indexing a main channel produces (see mainChannelIndex.ts). */
export interface MainSectionEntry {
  type: number;
  typeName: string;
  /** section_id; for COMMAND the command number; 0 for records without an id. */
  id: number;
  idstr?: string;
  instanceId?: number;
  versionId?: number;
  streamOffset: number;
  /** Device sections decoded through the VM description: where the body starts and where the description ends it. */
  bodyOffset?: number;
  bodyEnd?: number;
  /** Iterative sections other than RAM (dirty-bitmap, VFIO) and VFIO's FULL section: the body's markers. */
  iterative?: IterativeBody;
}

export interface MainChannelIndex {
  streamId: number;
  fileVersion: number;
  configuration?: MainConfiguration;
  totalRam?: number;
  ramblocks: RamBlockInfo[];
  records: MainRecordTable;
  syncMode: 'flush' | 'eos';
  eosCount: number;
  flushCount: number;
  syncMarkers: number;
  /** Top-level records in stream order (configuration, sections, commands, EOF, VM description), capped. */
  sections: MainSectionEntry[];
  /** How many top-level records were seen, including those past the cap of `sections`. */
  sectionCount: number;
  vmDescription?: unknown;
  vmDescriptionPageSize?: number;
  /** Stream offset of the QEMU_VM_VMDESCRIPTION byte. */
  vmDescriptionOffset?: number;
  /** Stream offset of QEMU_VM_EOF, reached by the walk or implied by the VM description at the end. */
  eofOffset?: number;
  stoppedAt?: { streamOffset: number; reason: string };
  /** The walk reached QEMU_VM_EOF. */
  complete: boolean;
  bytes: number;
}

export interface IndexOptions {
  maxRecords?: number;
  maxSections?: number;
}
