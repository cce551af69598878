import { Column } from '../util/growableArrays';

/** One RAMBlock as announced in the MEM_SIZE record, in the source's RAMBlock list order. */
export interface RamBlockInfo {
  name: string;
  usedLength: number;
  /** The block's own page size: sent only with postcopy-ram when it differs from the host page size. */
  pageSize?: number;
  /** mr->addr: sent only with x-ignore-shared. */
  mrAddr?: number;
  /** mapped-ram: where the block's bitmap and pages live, as stream offsets. */
  mappedRam?: { pageSize: number; bitmapOffset: number; pagesOffset: number };
  /** True for a block a record named that MEM_SIZE did not announce (QEMU would abort). */
  unannounced?: boolean;
}

export enum MainRecordKind {
  MemSize = 1,
  Zero = 2,
  Page = 3,
  Eos = 4,
  Flush = 5,
  Xbzrle = 6,
  CompressPage = 7,
}

export const MAIN_RECORD_KIND_NAMES: Record<MainRecordKind, string> = {
  [MainRecordKind.MemSize]: 'MEM_SIZE',
  [MainRecordKind.Zero]: 'ZERO',
  [MainRecordKind.Page]: 'PAGE',
  [MainRecordKind.Eos]: 'EOS',
  [MainRecordKind.Flush]: 'MULTIFD_FLUSH',
  [MainRecordKind.Xbzrle]: 'XBZRLE',
  [MainRecordKind.CompressPage]: 'COMPRESS_PAGE',
};

export interface MainRecordRow {
  kind: MainRecordKind;
  /** Index into ramblocks; -1 for records without a block (MEM_SIZE, EOS, FLUSH). */
  block: number;
  /** Byte offset in the block; for MEM_SIZE the total RAM size. */
  offset: number;
  /** Stream offset of the record's 8-byte word. */
  streamPos: number;
  /** PAGE: stream offset of the raw page data; -1 for every other kind. */
  dataPos: number;
  epoch: number;
  /** Ordinal of the RAM section (START, PART…, END) holding the record. */
  section: number;
}

/** The main channel's RAM records as typed-array columns: a few dozen bytes a record. */
export class MainRecordTable {
  readonly kind = new Column(Uint8Array, 1024);
  readonly block = new Column(Int32Array, 1024);
  readonly offset = new Column(Float64Array, 1024);
  readonly streamPos = new Column(Float64Array, 1024);
  readonly dataPos = new Column(Float64Array, 1024);
  readonly epoch = new Column(Uint32Array, 1024);
  readonly section = new Column(Uint32Array, 1024);

  get length(): number {
    return this.kind.length;
  }

  push(kind: MainRecordKind, block: number, offset: number, streamPos: number, dataPos: number, section: number): number {
    this.kind.push(kind);
    this.block.push(block);
    this.offset.push(offset);
    this.streamPos.push(streamPos);
    this.dataPos.push(dataPos);
    this.epoch.push(0);
    this.section.push(section);
    return this.kind.length - 1;
  }

  row(i: number): MainRecordRow {
    return {
      kind: this.kind.get(i) as MainRecordKind,
      block: this.block.get(i),
      offset: this.offset.get(i),
      streamPos: this.streamPos.get(i),
      dataPos: this.dataPos.get(i),
      epoch: this.epoch.get(i),
      section: this.section.get(i),
    };
  }

  /** How many records of `kind` come before record i, for every i: one pass over the kind column. */
  markersBefore(kind: MainRecordKind): Uint32Array {
    const out = new Uint32Array(this.length);
    let n = 0;
    for (let i = 0; i < this.length; i++) {
      out[i] = n;
      if (this.kind.get(i) === kind) n++;
    }
    return out;
  }

  /**
   * epoch = number of sync markers before the record. A marker belongs to the epoch it closes, which is
   * what the destination does: it syncs when it reads the marker, after the pages before it.
   */
  assignEpochs(marker: MainRecordKind): void {
    let n = 0;
    for (let i = 0; i < this.length; i++) {
      this.epoch.set(i, n);
      if (this.kind.get(i) === marker) n++;
    }
  }
}
