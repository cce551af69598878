import { promises as fsp, type Stats } from 'node:fs';
import { FileByteSource, type ByteSource } from './fileAccessor';
import { StreamBytes } from './streamBytes';
import { ReadAhead } from './readAhead';
import {
  FLAG_RETURN_PATH,
  MFD_FILE_HEADER_LENGTH,
  MFD_MAGIC,
  MFD_RECORD_HEADER_LENGTH,
  MFD_VERSION,
  RecordType,
  startsWithMfdMagic,
} from './mfdFormat';
import type { Capture, CaptureFormat, CaptureNote, CaptureStream, OpenInfo } from './capture';
import type { CaptureInput } from './captureInput';
import { DiagnosticSink } from '../diagnostics/diagnostic';
import { Column } from '../util/growableArrays';
import { hex, le16, le32, le64 } from '../util/bytes';
import { MAIN_STREAM_MAGIC, MULTIFD_STREAM_MAGIC, startsWithMagic } from '../layout/streamMagic';
import { pcapFlavourOf } from './pcap/pcapRecords';
import { openPcapCapture, type PcapOpenOptions } from './pcap/pcapCapture';
import { openStreamAt, type StreamFileOptions } from './file/openStreamFile';
import { compressedKindOf } from './file/decompressToFile';
import { openLibvirtImage } from './libvirt/openLibvirtImage';
import { startsWithLibvirtMagic } from './libvirt/libvirtHeader';

/** How to open inputs that hold more than one migration (a pcap), or a stream that starts inside a file. */
export interface OpenOptions {
  pcap?: PcapOpenOptions;
  /** `file:`/`exec:` outputs: `offset` (file:path,offset=N), the zstd decoder, where decompressed copies go. */
  file?: StreamFileOptions;
}

import { CaptureFormatError } from './captureFormatError';
export { CaptureFormatError } from './captureFormatError';

/** Largest META/OPEN/CLOSE/NOTE payload parsed; larger ones are skipped with a diagnostic, never loaded. */
const MAX_JSON_RECORD = 16 << 20;

/** What a path is when it is not a regular file: a folder, a device or a FIFO is never a capture. */
function nonRegularKind(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

export async function openCapture(path: string, options: OpenOptions = {}): Promise<Capture> {
  // Stat first: opening a FIFO waits for a writer forever, and a device or a folder has no size to index.
  const kind = nonRegularKind(await fsp.stat(path));
  if (kind)
    throw new CaptureFormatError(
      `${path}: not a capture file: it is ${kind}; a capture is a regular file (.mfd or a raw channel dump)`,
    );
  const source = await FileByteSource.open(path);
  try {
    return await openCaptureFromSource(source, path, options);
  } catch (e) {
    await source.close();
    throw e;
  }
}

export async function openCaptureFromSource(
  source: ByteSource,
  path = '<memory>',
  options: OpenOptions = {},
): Promise<Capture> {
  const offset = options.file?.offset;
  if (offset !== undefined && offset !== 0) return openAtOffset(source, path, offset, options.file ?? {});
  const head = await source.read(0, 16);
  if (startsWithMfdMagic(head)) return scanMfd(source, path);
  if (startsWithLibvirtMagic(head)) return openLibvirtImage(source, path, options.file ?? {});
  if (compressedKindOf(head))
    return (await openStreamAt(source, path, 0, 'exec: output', options.file ?? {}, { notes: [] }))!;
  if (pcapFlavourOf(head)) return openPcapCapture(source, path, options.pcap);
  const raw = (format: CaptureFormat): Capture => {
    const stream: CaptureStream = {
      id: 0,
      toDestination: StreamBytes.contiguous(source, 0, source.size),
      toSource: StreamBytes.empty(source),
    };
    const input: CaptureInput =
      format === 'raw-main'
        ? {
            kind: 'file-stream',
            description: 'QEMU migration stream (a file: or exec: output, or a main-channel dump), read in place',
            streamOffset: 0,
            notes: [],
          }
        : { kind: 'raw-dump', description: 'raw multifd channel dump', notes: [] };
    return {
      format,
      path,
      fileSize: source.size,
      source,
      meta: {},
      notes: [],
      streams: [stream],
      diagnostics: [],
      input,
    };
  };
  if (startsWithMagic(head, MULTIFD_STREAM_MAGIC)) return raw('raw-multifd');
  if (startsWithMagic(head, MAIN_STREAM_MAGIC)) return raw('raw-main');
  throw new CaptureFormatError(
    `${path}: not a migration capture: the first bytes are ${head.length ? hex(head, 8) : '(empty file)'}; expected ` +
      `${hex(MFD_MAGIC)} ("QMFDCAP\\n", a .mfd container), ${MULTIFD_STREAM_MAGIC.shown} (a raw multifd channel dump) ` +
      `or ${hex(Uint8Array.from(MAIN_STREAM_MAGIC.bytes))} ("${MAIN_STREAM_MAGIC.shown}", a raw main-channel dump), ` +
      `or a pcap/pcapng file (d4 c3 b2 a1, 4d 3c b2 a1 or 0a 0d 0d 0a), a gzip or zstd exec: output (1f 8b, 28 b5 2f fd), ` +
      `or a libvirt save image ("LibvirtQemudSave"); a file: stream written at an offset opens with --offset N`,
  );
}

/** `file:path,offset=N`: the QEMU stream (plain or compressed) starts N bytes into the file. */
async function openAtOffset(
  source: ByteSource,
  path: string,
  offset: number,
  options: StreamFileOptions,
): Promise<Capture> {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset >= source.size) {
    throw new CaptureFormatError(`${path}: --offset ${offset} is not inside the ${source.size}-byte file`);
  }
  const capture = await openStreamAt(source, path, offset, `file: stream at offset ${offset}`, options, { notes: [] });
  if (capture) return capture;
  const at = await source.read(offset, 8);
  throw new CaptureFormatError(
    `${path}: no QEMU migration stream at file offset ${offset}: the bytes there are ${hex(at, 8)}; expected ${hex(Uint8Array.from(MAIN_STREAM_MAGIC.bytes))} ("${MAIN_STREAM_MAGIC.shown}"), or gzip/zstd (1f 8b, 28 b5 2f fd)`,
  );
}

class SegmentList {
  readonly streamStart = new Column(Float64Array);
  readonly filePos = new Column(Float64Array);
  readonly timestamps = new Column(Float64Array);
  length = 0;
  add(filePos: number, len: number, ts: number): void {
    if (len === 0) return;
    this.streamStart.push(this.length);
    this.filePos.push(filePos);
    this.timestamps.push(ts);
    this.length += len;
  }
  toStream(source: ByteSource): StreamBytes {
    return new StreamBytes(source, this.streamStart.view(), this.filePos.view(), this.timestamps.view(), this.length);
  }
}

interface StreamBuild {
  id: number;
  open?: OpenInfo;
  closeReason?: string;
  toDestination: SegmentList;
  toSource: SegmentList;
  openedAtNs?: number;
  closedAtNs?: number;
}

/** One pass over the record headers; DATA payloads are skipped, never read. */
async function scanMfd(source: ByteSource, path: string): Promise<Capture> {
  const sink = new DiagnosticSink();
  const header = await source.read(0, MFD_FILE_HEADER_LENGTH);
  if (header.length < MFD_FILE_HEADER_LENGTH) {
    throw new CaptureFormatError(`${path}: .mfd file header cut off at byte ${header.length} (16 bytes expected)`);
  }
  const version = le16(header, 8);
  const headerLength = le16(header, 10);
  if (version !== MFD_VERSION) {
    throw new CaptureFormatError(
      `${path}: .mfd format version ${version} at file offset 8; this reader knows version ${MFD_VERSION}`,
    );
  }
  if (headerLength < MFD_FILE_HEADER_LENGTH || headerLength > source.size) {
    throw new CaptureFormatError(
      `${path}: .mfd header length ${headerLength} at file offset 10 is invalid (at least 16, within the file)`,
    );
  }

  const streams = new Map<number, StreamBuild>();
  const streamFor = (id: number): StreamBuild => {
    let s = streams.get(id);
    if (!s) {
      s = { id, toDestination: new SegmentList(), toSource: new SegmentList() };
      streams.set(id, s);
    }
    return s;
  };
  const meta: Record<string, unknown> = {};
  const metaRecordOffsets: Record<string, number> = {};
  const notes: CaptureNote[] = [];
  const unknownTypes = new Set<number>();
  const reader = new ReadAhead(source);
  let pos = headerLength;
  let lastTs = 0;

  const readJson = async (at: number, len: number, what: string): Promise<Record<string, unknown> | undefined> => {
    if (len > MAX_JSON_RECORD) {
      sink.report(
        'capture.bad-json',
        `${what} record of ${len} bytes is over the ${MAX_JSON_RECORD} byte limit; skipped`,
        { fileOffset: at },
      );
      return undefined;
    }
    const bytes = await source.read(at + MFD_RECORD_HEADER_LENGTH, len);
    try {
      const v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
      sink.report('capture.bad-json', `${what} record payload is JSON but not an object`, { fileOffset: at });
    } catch (e) {
      sink.report('capture.bad-json', `${what} record payload is not UTF-8 JSON: ${(e as Error).message}`, {
        fileOffset: at,
      });
    }
    return undefined;
  };

  while (pos < source.size) {
    const h = await reader.bytes(pos, MFD_RECORD_HEADER_LENGTH);
    if (h.length < MFD_RECORD_HEADER_LENGTH) {
      sink.report(
        'capture.truncated-record',
        `record header cut off by end of file (${h.length} of 16 bytes); the capture ends at file offset ${pos}`,
        { fileOffset: pos },
      );
      break;
    }
    const type = h[0];
    const flags = h[1];
    const streamId = le16(h, 2);
    const len = le32(h, 4);
    const ts = le64(h, 8);
    if (pos + MFD_RECORD_HEADER_LENGTH + len > source.size) {
      sink.report(
        'capture.truncated-record',
        `record of type ${type} for stream ${streamId} declares ${len} payload bytes but the file has ${source.size - pos - MFD_RECORD_HEADER_LENGTH}; the capture ends at file offset ${pos}`,
        { stream: streamId, fileOffset: pos },
      );
      break;
    }
    if (ts < lastTs)
      sink.report(
        'capture.timestamp-backwards',
        `timestamp ${ts} ns is earlier than the previous record's ${lastTs} ns`,
        { stream: streamId, fileOffset: pos },
      );
    lastTs = Math.max(lastTs, ts);
    switch (type) {
      case RecordType.Data: {
        const s = streamFor(streamId);
        if (s.closeReason !== undefined)
          sink.report('capture.data-after-close', `DATA record after the stream was closed`, {
            stream: streamId,
            fileOffset: pos,
          });
        (flags & FLAG_RETURN_PATH ? s.toSource : s.toDestination).add(pos + MFD_RECORD_HEADER_LENGTH, len, ts);
        if (s.openedAtNs === undefined) s.openedAtNs = ts;
        break;
      }
      case RecordType.Meta: {
        const v = await readJson(pos, len, 'META');
        if (v) {
          Object.assign(meta, v);
          for (const k of Object.keys(v)) metaRecordOffsets[k] = pos;
        }
        break;
      }
      case RecordType.Open: {
        const v = await readJson(pos, len, 'OPEN');
        const s = streamFor(streamId);
        s.open = (v ?? {}) as OpenInfo;
        s.openedAtNs = ts;
        break;
      }
      case RecordType.Close: {
        const v = await readJson(pos, len, 'CLOSE');
        const s = streamFor(streamId);
        const reason = typeof v?.reason === 'string' ? v.reason : 'unknown';
        s.closeReason = reason;
        s.closedAtNs = ts;
        if (reason !== 'eof')
          sink.report('capture.stream-reset', `stream ${streamId} closed with reason "${reason}"`, {
            stream: streamId,
            fileOffset: pos,
          });
        break;
      }
      case RecordType.Note: {
        const v = await readJson(pos, len, 'NOTE');
        notes.push({
          timestampNs: ts,
          text: typeof v?.text === 'string' ? v.text : JSON.stringify(v ?? null),
          fileOffset: pos,
        });
        break;
      }
      default:
        if (!unknownTypes.has(type)) {
          unknownTypes.add(type);
          sink.report(
            'capture.unknown-record-type',
            `record type ${type} is unknown to this reader; records of this type are skipped`,
            { stream: streamId, fileOffset: pos },
          );
        }
    }
    pos += MFD_RECORD_HEADER_LENGTH + len;
  }

  const list: CaptureStream[] = [...streams.values()]
    .sort((a, b) => a.id - b.id)
    .map((s) => ({
      id: s.id,
      open: s.open,
      closeReason: s.closeReason,
      toDestination: s.toDestination.toStream(source),
      toSource: s.toSource.toStream(source),
      openedAtNs: s.openedAtNs,
      closedAtNs: s.closedAtNs,
    }));
  return {
    format: 'mfd',
    path,
    fileSize: source.size,
    source,
    meta,
    metaRecordOffsets,
    notes,
    streams: list,
    diagnostics: sink.items,
  };
}
