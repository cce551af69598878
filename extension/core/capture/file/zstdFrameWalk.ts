import type { ByteSource } from '../fileAccessor';
import { parseZstdFrameHeader } from '../../replay/receivers/zstdFrameHeader';

/**
 * Walks the zstd frames of [start, size) by their block headers (RFC 8878 §3.1.1.2), without decoding: node:zlib's
 * zstd stream ends quietly on a truncated frame, so this tells whether the input ends on a frame boundary, and
 * if not, where the last whole block ended. Skippable frames (magic 0x184d2a5?) are stepped over.
 */
export function zstdTruncationAt(source: ByteSource, start: number): Promise<number | undefined> {
  return walk(source, start);
}

async function walk(source: ByteSource, start: number): Promise<number | undefined> {
  let pos = start;
  while (pos < source.size) {
    const head = await source.read(pos, 18);
    if (head.length >= 8 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18 && (head[0] & 0xf0) === 0x50) {
      const size = new DataView(head.buffer, head.byteOffset).getUint32(4, true);
      if (pos + 8 + size > source.size) return pos;
      pos += 8 + size;
      continue;
    }
    let h;
    try {
      h = parseZstdFrameHeader(head);
    } catch {
      return pos; // not a frame: the decoder has already reported it, or it is trailing garbage
    }
    if (!h) return pos;
    let at = pos + h.length;
    for (;;) {
      const b = await source.read(at, 3);
      if (b.length < 3) return at;
      const word = b[0] | (b[1] << 8) | (b[2] << 16);
      const last = word & 1;
      const type = (word >> 1) & 3;
      const size = word >>> 3;
      const body = type === 1 ? 1 : size;
      if (at + 3 + body > source.size) return at;
      at += 3 + body;
      if (last) break;
    }
    if (h.checksum) {
      if (at + 4 > source.size) return at;
      at += 4;
    }
    pos = at;
  }
  return undefined;
}
