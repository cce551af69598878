import type { ByteSource } from '../fileAccessor';
import type { Capture, CaptureFormat, CaptureStream } from '../capture';
import type { CaptureInput } from '../captureInput';
import { StreamBytes } from '../streamBytes';
import { CaptureFormatError } from '../captureFormatError';
import { MAIN_STREAM_MAGIC, MULTIFD_STREAM_MAGIC, startsWithMagic } from '../../layout/streamMagic';
import { hex } from '../../util/bytes';
import { makeDiagnostic } from '../../diagnostics/diagnostic';
import { compressedKindOf, decompressToFile, type CompressedKind } from './decompressToFile';

/** How to read a `file:`/`exec:` output or a libvirt image. */
export interface StreamFileOptions {
  /** `file:path,offset=N`: the QEMU stream starts N bytes into the file. */
  offset?: number;
  /** Which zstd decoder decompresses an `exec:zstd` output. */
  zstd?: 'auto' | 'node' | 'js';
  /** Where the decompressed copy goes (default: the OS temporary folder). */
  tempDir?: string;
}

export const TEMP_FILE_NOTE =
  'decompressed once, streaming, into a temporary file that is deleted as soon as it is open (its space is freed when the capture is closed); offsets shown are in the decompressed stream';

/** What a wrapper (libvirt) adds to the description of the stream inside it. */
export interface InputExtras {
  kind?: CaptureInput['kind'];
  libvirt?: CaptureInput['libvirt'];
  notes: string[];
}

/** A capture of one main-channel stream that starts at file offset `at` of `source`. */
export function mainStreamCapture(
  source: ByteSource,
  path: string,
  at: number,
  format: CaptureFormat,
  input: CaptureInput,
  meta: Record<string, unknown> = {},
  fileSize = source.size,
): Capture {
  const stream: CaptureStream = {
    id: 0,
    toDestination: StreamBytes.contiguous(source, at, source.size - at),
    toSource: StreamBytes.empty(source),
  };
  return { format, path, fileSize, source, meta, notes: [], streams: [stream], diagnostics: [], input };
}

/**
 * The QEMU stream at file offset `at`: plain (read in place), or gzip/zstd (decompressed into a temporary file).
 * `what` names the input in messages. Returns undefined when the bytes there are none of these.
 */
export async function openStreamAt(
  source: ByteSource,
  path: string,
  at: number,
  what: string,
  options: StreamFileOptions,
  base: InputExtras,
  meta: Record<string, unknown> = {},
): Promise<Capture | undefined> {
  const head = await source.read(at, 16);
  if (startsWithMagic(head, MAIN_STREAM_MAGIC)) {
    const input: CaptureInput = {
      ...base,
      kind: base.kind ?? 'file-stream',
      description: `${what}: QEMU migration stream read in place from file offset ${at}`,
      streamOffset: at,
    };
    return mainStreamCapture(source, path, at, 'raw-main', input, meta);
  }
  const kind = compressedKindOf(head);
  if (!kind) return undefined;
  return openCompressed(source, path, at, kind, what, options, base, meta);
}

async function openCompressed(
  source: ByteSource,
  path: string,
  at: number,
  kind: CompressedKind,
  what: string,
  options: StreamFileOptions,
  base: InputExtras,
  meta: Record<string, unknown>,
): Promise<Capture> {
  const d = await decompressToFile(source, at, kind, path, options);
  try {
    const head = await d.source.read(0, 16);
    if (!startsWithMagic(head, MAIN_STREAM_MAGIC)) {
      throw new CaptureFormatError(
        `${path}: ${what} decompresses (${kind}, ${d.decompressedBytes} bytes) to data that is not a QEMU migration stream: it starts with ${hex(head, 8)}, ` +
          `expected ${hex(Uint8Array.from(MAIN_STREAM_MAGIC.bytes))} ("${MAIN_STREAM_MAGIC.shown}")` +
          (startsWithMagic(head, MULTIFD_STREAM_MAGIC)
            ? ' (it is a multifd channel, which exec:/file: never write)'
            : ''),
      );
    }
    const input: CaptureInput = {
      ...base,
      kind: base.kind ?? 'compressed-stream',
      description: `${what}: ${kind}-compressed QEMU migration stream from file offset ${at}, ${d.compressedBytes} bytes → ${d.decompressedBytes} bytes (${d.decoder})`,
      streamOffset: at,
      compression: {
        kind,
        compressedBytes: d.compressedBytes,
        decompressedBytes: d.decompressedBytes,
        decoder: d.decoder,
        tempDir: d.tempDir,
      },
      notes: [...base.notes, TEMP_FILE_NOTE],
    };
    await source.close();
    const capture = mainStreamCapture(d.source, path, 0, 'raw-main', input, meta, d.decompressedBytes);
    if (d.failure) {
      const at = { stream: 0, streamOffset: d.failure.decompressedOffset, fileOffset: d.failure.compressedOffset };
      capture.diagnostics.push(
        makeDiagnostic(
          'capture.decompress',
          `${d.failure.message}; the stream is decoded up to decompressed offset ${d.failure.decompressedOffset}`,
          at,
        ),
      );
    }
    return capture;
  } catch (e) {
    await d.source.close();
    throw e;
  }
}
