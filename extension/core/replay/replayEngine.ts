import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { sourceBytes, type CaptureAnalysis } from '../analysisTypes';
import type { DiagnosticSink } from '../diagnostics/diagnostic';
import { MainRecordKind } from '../mainchannel/mainChannelIndex';
import { headerReader, readPacketPages } from '../multifd/packetPages';
import { ChannelDecoder, type PacketDecoder } from './channelDecoder';
import { DecodeWorkerPool, workersAvailable } from './decodeWorkerPool';
import { ProvenanceMap } from './provenance';
import { RamImage } from './ramImage';
import { insideFolder } from './safeFileName';
import { imageFileNames, MAX_IMAGES } from './imageNames';
import { CaptureEndedError } from '../capture/captureEnded';
import { WriterKind } from './schedule';
import { recordOfStep } from './stepRecord';
import { MappedRamReadError, readWindow, windowPages } from '../capture/mappedRam/mappedRamIndex';
import { ReceiveError, type ReceiverOptions } from './receivers/receiver';
import { continuousCodec, LostPages } from './lostPages';
import type { StreamBytes } from '../capture/streamBytes';
import type { MultifdStreamIndex } from '../multifd/indexMultifdStream';

export interface ReplayEngineOptions {
  outDir: string;
  /** Replace existing image files. */
  force?: boolean;
  receiver?: ReceiverOptions;
  /** Largest image made for a block whose size is unknown (no MEM_SIZE); offsets beyond are skipped. */
  maxUnsizedBlock?: number;
  /**
   * Decode compressed channels in worker threads, in parallel with applying pages ('auto': when there are
   * compressed channels and the worker script is there). nocomp needs no decoding.
   */
  workers?: boolean | 'auto';
}

export interface BlockImage {
  name: string;
  file: string;
  image: RamImage;
  /** 'mem-size' from the main channel, or 'highest-offset' when there was none. */
  sizeSource: 'mem-size' | 'highest-offset';
}

/** What one step applied: for the debugger and for progress. */
export interface StepResult {
  step: number;
  epoch: number;
  kind: WriterKind;
  block: string;
  normalOffsets: number[];
  zeroOffsets: number[];
}

/**
 * Applies the replay schedule one entry at a time: decode (in channel order), then write pages into the
 * block images and note each page's provenance. `mfd replay` runs it to the end; the debugger steps it.
 */
export class ReplayEngine {
  position = 0;
  readonly provenance: ProvenanceMap;
  readonly images = new Map<string, BlockImage>();
  private readonly decoders = new Map<number, PacketDecoder>();
  private pool: DecodeWorkerPool | undefined;
  private readonly stoppedChannels = new Set<number>();
  /** Channels whose codec stream a hole broke: their zero pages still apply, their data pages are lost. */
  private readonly holeStopped = new Set<number>();
  /** Pages whose data a hole in the capture took (named at the end unless a later write replaced them). */
  readonly lost = new LostPages();
  private readonly zeroPage: Uint8Array;
  private readonly fileNames: Map<string, string>;
  readonly zeroDataPages = new Map<
    string,
    { count: number; first: { stream: number; packet: number; offset: number } }
  >();
  /** Whether zero-page detection was on, so an all-zero data page is worth a lint. */
  readonly zeroDetectionOn: boolean;
  private unsizedWarned = new Set<string>();
  private imagesCapped = false;

  private constructor(
    readonly analysis: CaptureAnalysis,
    private readonly sink: DiagnosticSink,
    private readonly options: ReplayEngineOptions,
  ) {
    this.provenance = new ProvenanceMap(analysis.pageSize);
    this.zeroPage = new Uint8Array(analysis.pageSize);
    this.fileNames = imageFileNames(analysis);
    const mode = (analysis.capture.meta.parameters as Record<string, unknown> | undefined)?.['zero-page-detection'];
    const sawZero =
      analysis.multifd.some((m) => m.zeroPages > 0) ||
      ((analysis.main?.records.length ?? 0) > 0 && hasZeroRecords(analysis));
    this.zeroDetectionOn = mode === 'none' ? false : mode === 'legacy' || mode === 'multifd' ? true : sawZero;
  }

  static async create(
    analysis: CaptureAnalysis,
    sink: DiagnosticSink,
    options: ReplayEngineOptions,
  ): Promise<ReplayEngine> {
    await mkdir(options.outDir, { recursive: true });
    const e = new ReplayEngine(analysis, sink, options);
    try {
      // A hostile MEM_SIZE can list one name twice: it gets one image (the first entry's size), not a second open.
      for (const b of analysis.ramblocks) {
        if (e.images.has(b.name)) continue;
        try {
          await e.openImage(b.name, b.usedLength, 'mem-size');
        } catch (err) {
          // An existing file still stops the replay (the caller asks for --force); a size no file can have does not.
          if ((err as { code?: string }).code === 'EEXIST') throw err;
          sink.report(
            'replay.image-size',
            `ramblock ${b.name}: no ${b.usedLength}-byte image can be made (${(err as Error).message}); its pages are not replayed`,
            { stream: analysis.main?.streamId },
          );
        }
      }
    } catch (err) {
      await e.close();
      throw err;
    }
    return e;
  }

  get length(): number {
    return this.analysis.schedule.length;
  }

  get done(): boolean {
    return this.position >= this.length;
  }

  private async openImage(
    name: string,
    size: number,
    sizeSource: BlockImage['sizeSource'],
  ): Promise<BlockImage | undefined> {
    // One open file per image: a capture naming thousands of blocks must not exhaust descriptors.
    if (this.images.size >= MAX_IMAGES) {
      if (!this.imagesCapped)
        this.sink.report(
          'replay.too-many-blocks',
          `the capture names more than ${MAX_IMAGES} ramblocks; only the first ${MAX_IMAGES} get an image, pages of "${name}" and later blocks are not replayed`,
          { stream: this.analysis.main?.streamId },
        );
      this.imagesCapped = true;
      return undefined;
    }
    const file = insideFolder(this.options.outDir, this.fileNames.get(name) ?? 'unnamed.ram');
    const image = await RamImage.create(file, size, this.analysis.pageSize, this.options.force ?? false);
    const b: BlockImage = { name, file, image, sizeSource };
    this.images.set(name, b);
    return b;
  }

  /** The image for a block, sized from MEM_SIZE; without a main channel it grows to the highest offset. */
  private async imageFor(
    name: string,
    highest: number,
    where: { stream?: number; packet?: number; record?: number },
  ): Promise<BlockImage | undefined> {
    const known = this.images.get(name);
    if (known && known.sizeSource === 'mem-size') return known;
    if (this.analysis.main && this.analysis.ramblocks.length) return undefined; // unknown to MEM_SIZE: QEMU aborts; reported by the index.
    const max = this.options.maxUnsizedBlock ?? 2 ** 40;
    const need = highest + this.analysis.pageSize;
    if (need > max) {
      this.sink.report(
        'replay.no-size',
        `ramblock ${name}: offset 0x${highest.toString(16)} is beyond the ${max}-byte limit for blocks whose size is unknown; page skipped`,
        where,
      );
      return undefined;
    }
    if (!this.unsizedWarned.has(name)) {
      this.unsizedWarned.add(name);
      this.sink.report(
        'replay.no-size',
        `ramblock ${name}: no MEM_SIZE record (no main channel), so its image is sized to the highest offset seen`,
        where,
      );
    }
    const b = known ?? (await this.openImage(name, 0, 'highest-offset'));
    if (!b) return undefined;
    await b.image.ensureSize(need);
    return b;
  }

  private useWorkers(): boolean {
    const w = this.options.workers ?? 'auto';
    if (w === false) return false;
    const compressed = this.analysis.multifd.some((m) => m.method !== undefined && m.method !== 'none');
    return (w === true || compressed) && workersAvailable();
  }

  private decoderFor(source: number): PacketDecoder {
    let d = this.decoders.get(source);
    if (!d) {
      const m = this.analysis.multifd[source];
      const stream = sourceBytes(this.analysis, m.streamId);
      if (this.useWorkers()) {
        this.pool ??= new DecodeWorkerPool(Math.min(this.analysis.multifd.length, availableParallelism()));
        d = this.pool.decoderFor(m, stream, this.options.receiver);
      } else d = new ChannelDecoder(m, stream, this.options.receiver);
      this.decoders.set(source, d);
    }
    return d;
  }

  /** Applies the next schedule entry. Returns undefined at the end. */
  async step(): Promise<StepResult | undefined> {
    if (this.done) return undefined;
    const i = this.position++;
    const s = this.analysis.schedule;
    const ps = this.analysis.pageSize;
    if (s.kind[i] === WriterKind.Multifd) {
      const source = s.source[i];
      const m = this.analysis.multifd[source];
      const row = s.row[i];
      const t = m.packets;
      const streamBytes = sourceBytes(this.analysis, m.streamId);
      const hOff = t.headerOffset.get(row);
      const { block, normalOffsets, zeroOffsets } = await readPacketPages(headerReader(streamBytes), t, row, ps);
      const result: StepResult = {
        step: i,
        epoch: s.epoch[i],
        kind: WriterKind.Multifd,
        block,
        normalOffsets,
        zeroOffsets,
      };
      if (this.stoppedChannels.has(source)) return result;
      const where = { stream: m.streamId, packet: row };
      if (normalOffsets.length && this.touchesHole(m, streamBytes, row)) {
        await this.applyAroundHole(source, m, streamBytes, row, block, normalOffsets, zeroOffsets, i);
        return result;
      }
      let data: Uint8Array | undefined;
      if (normalOffsets.length) {
        try {
          data = await this.decoderFor(source).decode(row);
        } catch (e) {
          if (e instanceof CaptureEndedError) throw e; // the whole replay stops there, not just this channel
          this.stoppedChannels.add(source);
          const code = e instanceof ReceiveError ? e.code : 'replay.decompress';
          const at = {
            stream: m.streamId,
            packet: row,
            streamOffset: hOff + t.headerLength.get(row),
            fileOffset: streamBytes.fileOffsetOf(hOff + t.headerLength.get(row)),
          };
          // Methods that compress pages separately know which page failed: name it by its place in RAM too.
          const page = e instanceof ReceiveError ? e.page : undefined;
          const pageAt =
            page !== undefined && page < normalOffsets.length
              ? ` [page ${page} of the packet: ${block} offset 0x${normalOffsets[page].toString(16)}]`
              : '';
          this.sink.report(code, `channel ${m.handshake?.channelId ?? '?'}: ${(e as Error).message}${pageAt}`, at);
          this.sink.report(
            'replay.stopped',
            `replay of stream ${m.streamId} (channel ${m.handshake?.channelId ?? '?'}) stopped at packet ${row} (stream offset ${at.streamOffset}, file offset ${at.fileOffset}); later packets of this channel are not applied`,
            at,
          );
          return result;
        }
      }
      await this.applyPages(block, normalOffsets, zeroOffsets, data, i, where);
      return result;
    }
    if (s.kind[i] === WriterKind.MappedRam) return this.stepMappedRam(i);
    // A ZERO or PAGE record of the main channel or of the postcopy preempt channel.
    const rec = recordOfStep(this.analysis, i);
    const kind = s.kind[i] as WriterKind;
    if (!rec) return { step: i, epoch: s.epoch[i], kind, block: '', normalOffsets: [], zeroOffsets: [] };
    const r = rec.records.row(rec.row);
    const block = this.analysis.ramblocks[r.block]?.name ?? '';
    const where = { stream: rec.streamId, record: rec.row };
    if (this.placedBefore(i, block, r.offset, where)) {
      const offsets = r.kind === MainRecordKind.Zero ? { n: [], z: [r.offset] } : { n: [r.offset], z: [] };
      return { step: i, epoch: s.epoch[i], kind, block, normalOffsets: offsets.n, zeroOffsets: offsets.z };
    }
    if (r.kind === MainRecordKind.Zero) {
      await this.applyPages(block, [], [r.offset], undefined, i, where);
      return { step: i, epoch: s.epoch[i], kind, block, normalOffsets: [], zeroOffsets: [r.offset] };
    }
    const data = await sourceBytes(this.analysis, rec.streamId).read(r.dataPos, r.dataPos + ps);
    if (data.length === ps) await this.applyPages(block, [r.offset], [], data, i, where);
    return { step: i, epoch: s.epoch[i], kind, block, normalOffsets: [r.offset], zeroOffsets: [] };
  }

  /**
   * After the switch a page is placed once: UFFDIO_COPY refuses a page that is there (EEXIST, and QEMU's
   * destination fails), so a later postcopy copy of a placed page does not replace it. Said once per page.
   */
  private placedBefore(
    step: number,
    block: string,
    offset: number,
    where: { stream: number; record: number },
  ): boolean {
    const start = this.analysis.schedule.postcopyStart;
    if (start === undefined || step < start) return false;
    const prev = this.provenance.packed(block, offset);
    if (prev < 0 || prev >>> 1 < start) return false;
    const first = recordOfStep(this.analysis, prev >>> 1);
    this.sink.report(
      'postcopy.page-twice',
      `page ${block}:0x${offset.toString(16)} comes again after the switch in ${where.stream === this.analysis.main?.streamId ? 'main-channel' : 'preempt-channel'} record ${where.record} (stream ${where.stream}); the destination placed it already from ${first ? `${first.via === 'main' ? 'main-channel' : 'preempt-channel'} record ${first.row} (stream ${first.streamId})` : `replay step ${prev >>> 1}`}, and UFFDIO_COPY refuses a page that is there (QEMU's destination fails with EEXIST): the first copy is kept`,
      where,
      first ? { related: { stream: first.streamId, record: first.row } } : {},
    );
    return true;
  }

  /** Whether packet `row`'s data is in a hole (or, for zlib/zstd, comes after one on its channel). */
  private touchesHole(m: MultifdStreamIndex, stream: StreamBytes, row: number): boolean {
    if (stream.holes().length === 0) return false;
    const t = m.packets;
    const start = t.headerOffset.get(row) + t.headerLength.get(row);
    return stream.holeIn(continuousCodec(m.method) ? 0 : start, start + t.payloadLength.get(row)) !== undefined;
  }

  /**
   * A packet whose data a hole took, wholly or in part. Its header survived (the index only lists those), so
   * its zero pages apply and its data pages are known by offset: nocomp pages outside the hole are read as
   * they are, every other data page is named as lost. zlib and zstd keep one codec stream per channel, so
   * once a hole breaks it nothing later on the channel can be decompressed: the channel stops there.
   */
  private async applyAroundHole(
    source: number,
    m: MultifdStreamIndex,
    stream: StreamBytes,
    row: number,
    block: string,
    normal: number[],
    zero: number[],
    step: number,
  ): Promise<void> {
    const t = m.packets;
    const ps = this.analysis.pageSize;
    const start = t.headerOffset.get(row) + t.headerLength.get(row);
    const where = { stream: m.streamId, packet: row };
    const kept: number[] = [];
    const chunks: Uint8Array[] = [];
    if (continuousCodec(m.method)) {
      if (!this.holeStopped.has(source)) {
        this.holeStopped.add(source);
        const hole = stream.holeIn(0, start + t.payloadLength.get(row))!;
        let skipped = 0;
        let lastRow = row;
        for (let r = row; r < t.length; r++)
          if (!t.isDeviceState(r) && t.normalPages.get(r) > 0) {
            skipped++;
            lastRow = r;
          }
        this.sink.report(
          'replay.stopped',
          `stream ${m.streamId} (channel ${m.handshake?.channelId ?? '?'}): the hole at stream offset ${hole.streamOffset} (${hole.length} bytes) broke the channel's ${m.method} stream, which QEMU keeps continuous per channel: the data pages of ${skipped} packet(s), packets ${row}…${lastRow} (packet_num ${t.packetNum.get(row)}…${t.packetNum.get(lastRow)}), cannot be decompressed; their zero pages are applied, their data pages are named as not rebuilt`,
          { ...where, streamOffset: hole.streamOffset, fileOffset: stream.fileOffsetOf(hole.streamOffset) },
        );
      }
    } else if (m.method === undefined || m.method === 'none') {
      // nocomp: the payload is the pages themselves, in offset[] order.
      for (let k = 0; k < normal.length; k++) {
        const a = start + k * ps;
        if (stream.holeIn(a, a + ps)) continue;
        kept.push(normal[k]);
        chunks.push(await stream.read(a, a + ps));
      }
    }
    const keptSet = new Set(kept);
    for (const o of normal) if (!keptSet.has(o)) this.lost.add(block, o, step, m.streamId, row);
    const data = new Uint8Array(kept.length * ps);
    chunks.forEach((c, k) => data.set(c, k * ps));
    await this.applyPages(block, kept, zero, kept.length ? data : undefined, step, where);
  }

  /** A window of a mapped-ram image: its present pages (the bitmap says which), read in place from the file. */
  private async stepMappedRam(i: number): Promise<StepResult> {
    const index = this.analysis.mappedRam!;
    const s = this.analysis.schedule;
    const stream = sourceBytes(this.analysis, index.streamId);
    const where = { stream: index.streamId };
    try {
      const { block, offsets, data } = await readWindow(index, stream, s.row[i]);
      await this.applyPages(block.name, offsets, [], data, i, where);
      return {
        step: i,
        epoch: s.epoch[i],
        kind: WriterKind.MappedRam,
        block: block.name,
        normalOffsets: offsets,
        zeroOffsets: [],
      };
    } catch (e) {
      if (!(e instanceof MappedRamReadError)) throw e;
      this.sink.report('mapped-ram.page-unreadable', `${e.message}; the pages of this window are not replayed`, {
        stream: index.streamId,
        streamOffset: e.streamOffset,
        fileOffset: stream.fileOffsetOf(e.streamOffset),
      });
      const { block, offsets } = windowPages(index, s.row[i]);
      return {
        step: i,
        epoch: s.epoch[i],
        kind: WriterKind.MappedRam,
        block: block.name,
        normalOffsets: offsets,
        zeroOffsets: [],
      };
    }
  }

  private async applyPages(
    block: string,
    normal: number[],
    zero: number[],
    data: Uint8Array | undefined,
    step: number,
    where: { stream?: number; packet?: number; record?: number },
  ): Promise<void> {
    const ps = this.analysis.pageSize;
    const all = normal.length ? Math.max(...normal, ...zero) : zero.length ? Math.max(...zero) : -1;
    if (all < 0) return;
    const b = await this.imageFor(block, all, where);
    if (!b) return;
    const size = b.image.size;
    const fits = (o: number) => o + ps <= size;
    if (normal.length && data) {
      await this.writeNormalPages(b, normal, data, fits);
      for (let k = 0; k < normal.length; k++) {
        if (!fits(normal[k])) continue;
        this.provenance.record(block, normal[k], step, false);
        if (this.zeroDetectionOn && isZeroPage(data, k * ps, ps, this.zeroPage))
          this.noteZeroData(block, where, normal[k]);
      }
    }
    for (const o of zero) {
      if (!fits(o)) continue;
      const prev = this.provenance.record(block, o, step, true);
      // The destination starts all zero: only a page that held data needs zeroing (QEMU checks the same way).
      if (prev >= 0 && (prev & 1) === 0) await b.image.write(o, this.zeroPage);
    }
  }

  /**
   * Writes a packet's data pages, one write per run of adjacent offsets (sorted first: multifd zero-page
   * detection reorders a packet's offsets). Gaps are left alone, so pages never written stay holes.
   */
  private async writeNormalPages(
    b: BlockImage,
    normal: number[],
    data: Uint8Array,
    fits: (o: number) => boolean,
  ): Promise<void> {
    const ps = this.analysis.pageSize;
    const order = normal
      .map((_, k) => k)
      .filter((k) => fits(normal[k]))
      .sort((x, y) => normal[x] - normal[y]);
    let i = 0;
    while (i < order.length) {
      let j = i + 1;
      while (j < order.length && normal[order[j]] === normal[order[j - 1]] + ps) j++;
      const contiguousInData = order.slice(i, j).every((k, n) => k === order[i] + n);
      if (contiguousInData) {
        await b.image.write(normal[order[i]], data.subarray(order[i] * ps, (order[i] + j - i) * ps));
      } else {
        const span = new Uint8Array((j - i) * ps);
        for (let k = i; k < j; k++) span.set(data.subarray(order[k] * ps, order[k] * ps + ps), (k - i) * ps);
        await b.image.write(normal[order[i]], span);
      }
      i = j;
    }
  }

  private noteZeroData(
    block: string,
    where: { stream?: number; packet?: number; record?: number },
    offset: number,
  ): void {
    const z = this.zeroDataPages.get(block);
    if (z) z.count++;
    else
      this.zeroDataPages.set(block, {
        count: 1,
        first: { stream: where.stream ?? -1, packet: where.packet ?? where.record ?? -1, offset },
      });
  }

  /** Reads rebuilt RAM as it stands now (the debugger's readMemory). */
  async read(block: string, offset: number, length: number): Promise<Uint8Array> {
    const b = this.images.get(block);
    return b ? b.image.read(offset, length) : new Uint8Array(0);
  }

  async close(): Promise<void> {
    for (const d of this.decoders.values()) d.close();
    await this.pool?.close();
    for (const b of this.images.values()) await b.image.close();
  }
}

/** memcmp against a zero page: far faster than a JS loop over every byte of every page. */
function isZeroPage(data: Uint8Array, at: number, ps: number, zero: Uint8Array): boolean {
  if (data[at] !== 0 || data[at + ps - 1] !== 0) return false;
  return Buffer.from(data.buffer, data.byteOffset + at, ps).equals(zero);
}

function hasZeroRecords(a: CaptureAnalysis): boolean {
  const r = a.main!.records;
  for (let i = 0; i < r.length; i++) if (r.kind.get(i) === MainRecordKind.Zero) return true;
  return false;
}
