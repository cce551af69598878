import { closeSync, mkdtempSync, openSync, rmdirSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, Writable, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { Decompress as ZstdJsDecompress } from 'fzstd';
import type { ByteSource } from '../fileAccessor';
import { UnlinkedFileSource } from './unlinkedFileSource';
import { zstdTruncationAt } from './zstdFrameWalk';
import { CaptureFormatError } from '../captureFormatError';

/**
 * `exec:gzip -c > x.gz` and `exec:zstd > x.zst` outputs (and libvirt's gzip/zstd images): positional reads are
 * impossible inside compressed data, so the stream is decompressed once, streaming (a 1 MiB chunk at a time), into
 * a temporary file, which is then read like a plain `file:` stream. The file is unlinked as soon as it is open:
 * nothing else can reach it, and its space is freed when the capture is closed, or when the process ends.
 */

export type CompressedKind = 'gzip' | 'zstd';
export const GZIP_MAGIC = [0x1f, 0x8b] as const;
export const ZSTD_FRAME_MAGIC = [0x28, 0xb5, 0x2f, 0xfd] as const;

export function compressedKindOf(head: Uint8Array): CompressedKind | undefined {
  if (head.length >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) return 'gzip';
  if (head.length >= 4 && ZSTD_FRAME_MAGIC.every((b, i) => head[i] === b)) return 'zstd';
  return undefined;
}

const CHUNK = 1 << 20;
/** Left free on the temporary file's file system: a decompression bomb stops before it fills the disk. */
const KEEP_FREE = 1 << 30;

export interface DecompressedStream {
  source: UnlinkedFileSource;
  kind: CompressedKind;
  compressedBytes: number;
  decompressedBytes: number;
  /** Which zstd decoder ran: node:zlib's (Node ≥ 22.15) or the pure-JS fzstd. */
  decoder: string;
  /** Where the temporary file was made (already unlinked). */
  tempDir: string;
  /** The input broke off: what came out before that is kept (a save cut short still has its first pages). */
  failure?: DecompressError;
}

/** A decompression failure, with the compressed offset (in the file) and the decompressed offset where it happened. */
export class DecompressError extends CaptureFormatError {
  constructor(
    message: string,
    readonly compressedOffset: number,
    readonly decompressedOffset: number,
  ) {
    super(message);
  }
}

/** fzstd's streaming decoder as a Transform, for Node without node:zlib zstd. */
class ZstdJsTransform extends Transform {
  private readonly d = new ZstdJsDecompress((chunk) => this.push(chunk));
  consumed = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    try {
      this.d.push(chunk);
      this.consumed += chunk.length;
      done();
    } catch (e) {
      done(e as Error);
    }
  }
  override _flush(done: (e?: Error | null) => void): void {
    try {
      this.d.push(new Uint8Array(0), true);
      done();
    } catch (e) {
      done(e as Error);
    }
  }
}

function decoderFor(
  kind: CompressedKind,
  zstdDecoder: 'auto' | 'node' | 'js',
): { t: Transform; name: string; consumed: () => number } {
  if (kind === 'gzip') {
    const t = zlib.createGunzip({ chunkSize: CHUNK });
    return { t, name: 'node:zlib gunzip', consumed: () => t.bytesWritten };
  }
  const native = (zlib as unknown as { createZstdDecompress?: (o?: object) => Transform & { bytesWritten: number } })
    .createZstdDecompress;
  if (native && zstdDecoder !== 'js') {
    const t = native({ chunkSize: CHUNK });
    return { t, name: 'node:zlib zstd', consumed: () => t.bytesWritten };
  }
  if (zstdDecoder === 'node')
    throw new CaptureFormatError(
      `this Node (${process.version}) has no node:zlib zstd (Node 22.15 or later has it); use --zstd js or auto`,
    );
  const t = new ZstdJsTransform();
  return { t, name: 'fzstd (pure JS)', consumed: () => t.consumed };
}

/**
 * Decompresses source bytes [start, size) into an unlinked temporary file. A truncated or corrupt input keeps what
 * came out before the break and says where (`failure`: the compressed file offset and the decompressed offset);
 * it throws DecompressError only when nothing came out.
 */
export async function decompressToFile(
  source: ByteSource,
  start: number,
  kind: CompressedKind,
  path: string,
  options: { zstd?: 'auto' | 'node' | 'js'; tempDir?: string } = {},
): Promise<DecompressedStream> {
  const dec = decoderFor(kind, options.zstd ?? 'auto');
  const dir = mkdtempSync(join(options.tempDir ?? tmpdir(), 'mfd-decompressed-'));
  const file = join(dir, 'stream.qemu');
  let written = 0;
  let fed = 0;
  let out: number | undefined = openSync(file, 'wx+', 0o600);
  try {
    unlinkSync(file);
    rmdirSync(dir);
    const input = Readable.from(
      (async function* () {
        for (let pos = start; pos < source.size; pos += CHUNK) {
          const chunk = await source.read(pos, Math.min(CHUNK, source.size - pos));
          fed = pos + chunk.length - start;
          yield chunk;
        }
      })(),
    );
    let checkedAt = 0;
    let diskFull = false;
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        try {
          writeSync(out!, chunk, 0, chunk.length, written);
          written += chunk.length;
          if (written - checkedAt >= 256 << 20) {
            checkedAt = written;
            const fs = statfsSync(options.tempDir ?? tmpdir());
            diskFull = fs.bavail * fs.bsize < KEEP_FREE;
            if (diskFull)
              throw new Error(
                `stopped at ${written} decompressed bytes: less than 1 GiB left free in ${options.tempDir ?? tmpdir()}`,
              );
          }
          done();
        } catch (e) {
          done(e as Error);
        }
      },
    });
    let failure: DecompressError | undefined;
    const where = (compressed: number) =>
      `compressed file offset ${compressed}, decompressed offset ${written}; decoder ${dec.name}`;
    try {
      await pipeline(input, dec.t, sink);
    } catch (e) {
      const consumed = start + Math.min(dec.consumed() || fed, source.size - start);
      const why = (e as Error).message;
      const state = diskFull
        ? 'was stopped'
        : /unexpected end|end of file|EOF/i.test(why)
          ? 'is truncated'
          : 'is corrupt';
      failure = new DecompressError(
        `${path}: the ${kind} stream ${state}: ${why} (at ${where(consumed)})`,
        consumed,
        written,
      );
    }
    // node:zlib's zstd ends quietly on a cut frame (gunzip and fzstd raise an error): check the framing.
    const cutAt = !failure && kind === 'zstd' ? await zstdTruncationAt(source, start) : undefined;
    if (cutAt !== undefined)
      failure = new DecompressError(
        `${path}: the zstd stream is truncated: its last frame is cut off after the block ending at ${where(cutAt)}`,
        cutAt,
        written,
      );
    if (written === 0)
      throw failure ?? new DecompressError(`${path}: the ${kind} stream decompresses to nothing`, start, 0);
    const fileSource = new UnlinkedFileSource(out, written, `${path} (decompressed ${kind})`);
    out = undefined;
    return {
      source: fileSource,
      kind,
      compressedBytes: source.size - start,
      decompressedBytes: written,
      decoder: dec.name,
      tempDir: options.tempDir ?? tmpdir(),
      failure,
    };
  } finally {
    if (out !== undefined) closeSync(out);
  }
}
