import { ChunkedColumn, DeltaColumn, RunColumn } from '../util/compactColumns';

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
  /** The record's data: a PAGE's raw page bytes, a ZERO's fill byte (its last byte); -1 for every other kind. */
  dataPos: number;
  epoch: number;
  /** Ordinal of the RAM section (START, PART…, END) holding the record. */
  section: number;
}

/**
 * The main channel's RAM records, compact: a legacy capture of a large guest has one record per page (a 128 GiB
 * guest: 2^25 a pass), so a record costs about 11 bytes: its kind (1), its offset in KiB from its group's first
 * (4), its stream position likewise (4) and where its page data starts (2); block, epoch and section come in
 * runs and cost next to nothing. Columns are chunked: no doubling slack, no copy as the table grows.
 */
export class MainRecordTable {
  readonly kind = new ChunkedColumn(Uint8Array);
  readonly block = new RunColumn();
  readonly offset = new DeltaColumn(1024, true);
  readonly streamPos = new DeltaColumn(1, false);
  /** dataPos − streamPos, 0 for records without page data (dataPos −1). */
  private readonly dataDelta = new ChunkedColumn(Uint16Array);
  private readonly farData = new Map<number, number>();
  epoch = new RunColumn();
  readonly section = new RunColumn();

  get length(): number {
    return this.kind.length;
  }

  /** Memory held by the table, in bytes. */
  get bytes(): number {
    return (
      this.kind.bytes +
      this.block.bytes +
      this.offset.bytes +
      this.streamPos.bytes +
      this.dataDelta.bytes +
      this.farData.size * 40 +
      this.epoch.bytes +
      this.section.bytes
    );
  }

  push(
    kind: MainRecordKind,
    block: number,
    offset: number,
    streamPos: number,
    dataPos: number,
    section: number,
  ): number {
    const i = this.kind.length;
    this.kind.push(kind);
    this.block.push(block);
    this.offset.push(offset);
    this.streamPos.push(streamPos);
    const d = dataPos < 0 ? 0 : dataPos - streamPos;
    if (d >= 0 && d < 0xffff) this.dataDelta.push(d);
    else {
      this.dataDelta.push(0xffff);
      this.farData.set(i, dataPos);
    }
    this.epoch.push(0);
    this.section.push(section);
    return i;
  }

  dataPos(i: number): number {
    const d = this.dataDelta.get(i);
    if (d === 0xffff) return this.farData.get(i)!;
    return d === 0 ? -1 : this.streamPos.get(i) + d;
  }

  row(i: number): MainRecordRow {
    return {
      kind: this.kind.get(i) as MainRecordKind,
      block: this.block.get(i),
      offset: this.offset.get(i),
      streamPos: this.streamPos.get(i),
      dataPos: this.dataPos(i),
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
    this.epoch = this.epoch.rebuild((i) => (this.kind.get(i) === marker ? n++ : n));
  }
}
