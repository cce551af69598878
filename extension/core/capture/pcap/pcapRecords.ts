import type { ByteSource } from '../fileAccessor';
import { ReadAhead } from '../readAhead';

/**
 * The frames of a pcap or pcapng file (tcpdump's two formats), walked with positional reads: only the file's
 * block and record headers are read here, never the frames' bytes.
 */

export type PcapFlavour = 'pcap' | 'pcapng';

export interface PcapFrame {
  /** Index of the frame in the file, from 0. */
  index: number;
  /** Nanoseconds since the Unix epoch, as a float: exact to well under a microsecond. */
  timeNs: number;
  linkType: number;
  /** Bytes of the frame present in the file (the snaplen may have cut it). */
  capturedLength: number;
  /** Bytes of the frame on the wire. */
  originalLength: number;
  /** File offset of the frame's first byte. */
  dataOffset: number;
}

/** A problem with the file's structure, at a file offset: the walk stops there. */
export interface PcapStructureProblem {
  fileOffset: number;
  message: string;
}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const PCAPNG_IDB = 1;
const PCAPNG_OBSOLETE_PB = 2;
const PCAPNG_SPB = 3;
const PCAPNG_EPB = 6;
/** Larger than any frame tcpdump writes (its snaplen is at most 262144): a length past this is corruption. */
export const MAX_FRAME_LENGTH = 1 << 24;

/** Which of the two formats a file starts with, if either. */
export function pcapFlavourOf(head: Uint8Array): PcapFlavour | undefined {
  if (head.length < 4) return undefined;
  const le = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(0, true);
  const be = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(0, false);
  if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS || be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) return 'pcap';
  if (le === PCAPNG_SHB) return 'pcapng';
  return undefined;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Every frame of the file in order. Returns the problem that stopped the walk, if any (a truncated last
 * record is the common case: tcpdump killed mid-write).
 */
export async function walkPcapFrames(
  source: ByteSource,
  onFrame: FrameHandler,
  headBytes = 256,
): Promise<PcapStructureProblem | undefined> {
  const head = await source.read(0, 4);
  const flavour = pcapFlavourOf(head);
  const reader = new ReadAhead(source);
  // The frame's first bytes come from the same read-ahead window as its record header.
  const withHead = async (f: PcapFrame): Promise<void> =>
    onFrame(f, (await reader.bytes(f.dataOffset, Math.min(f.capturedLength, headBytes))).slice());
  if (flavour === 'pcap') return walkPcap(source, reader, withHead);
  if (flavour === 'pcapng') return walkPcapng(source, reader, withHead);
  return { fileOffset: 0, message: 'neither a pcap nor a pcapng file' };
}

/** Called with each frame and its first bytes (up to the walk's headBytes), in file order. */
export type FrameHandler = (f: PcapFrame, head: Uint8Array) => void | Promise<void>;

async function walkPcap(
  source: ByteSource,
  reader: ReadAhead,
  onFrame: (f: PcapFrame) => Promise<void>,
): Promise<PcapStructureProblem | undefined> {
  const header = await source.read(0, 24);
  if (header.length < 24)
    return { fileOffset: header.length, message: `the pcap file header is cut short: ${header.length} of 24 bytes` };
  const dv = view(header);
  const magicLe = dv.getUint32(0, true);
  const little = magicLe === PCAP_MAGIC_US || magicLe === PCAP_MAGIC_NS;
  const nanos = (little ? magicLe : dv.getUint32(0, false)) === PCAP_MAGIC_NS;
  const linkType = dv.getUint32(20, little) & 0xffff;
  let pos = 24;
  let index = 0;
  while (pos < source.size) {
    const rec = await reader.bytes(pos, 16);
    if (rec.length < 16)
      return { fileOffset: pos, message: `frame ${index}: its record header is cut short (${rec.length} of 16 bytes)` };
    const r = view(rec);
    const sec = r.getUint32(0, little);
    const frac = r.getUint32(4, little);
    const capturedLength = r.getUint32(8, little);
    const originalLength = r.getUint32(12, little);
    if (capturedLength > MAX_FRAME_LENGTH)
      return {
        fileOffset: pos + 8,
        message: `frame ${index}: captured length ${capturedLength} is beyond any snaplen (${MAX_FRAME_LENGTH})`,
      };
    if (pos + 16 + capturedLength > source.size)
      return {
        fileOffset: pos,
        message: `frame ${index}: ${capturedLength} bytes announced, ${source.size - pos - 16} present (the file ends inside it)`,
      };
    await onFrame({
      index,
      timeNs: sec * 1e9 + (nanos ? frac : frac * 1000),
      linkType,
      capturedLength,
      originalLength,
      dataOffset: pos + 16,
    });
    index++;
    pos += 16 + capturedLength;
  }
  return undefined;
}

interface Interface {
  linkType: number;
  /** Seconds per timestamp unit. */
  unitNs: number;
  offsetSec: number;
  snapLength: number;
}

async function walkPcapng(
  source: ByteSource,
  reader: ReadAhead,
  onFrame: (f: PcapFrame) => Promise<void>,
): Promise<PcapStructureProblem | undefined> {
  let little = true;
  let interfaces: Interface[] = [];
  let pos = 0;
  let index = 0;
  // Simple packet blocks carry no timestamp: they take the previous frame's.
  let lastTimeNs = 0;
  while (pos < source.size) {
    const bh = await reader.bytes(pos, 12);
    if (bh.length < 12) return { fileOffset: pos, message: `block header cut short (${bh.length} of 12 bytes)` };
    const type = view(bh).getUint32(0, true);
    if (type === PCAPNG_SHB) {
      const bom = view(bh).getUint32(8, true);
      if (bom === PCAPNG_BYTE_ORDER_MAGIC) little = true;
      else if (view(bh).getUint32(8, false) === PCAPNG_BYTE_ORDER_MAGIC) little = false;
      else return { fileOffset: pos + 8, message: `section header block without the byte-order magic 1a2b3c4d` };
      interfaces = [];
    }
    const length = view(bh).getUint32(4, little);
    if (length < 12 || length % 4 !== 0)
      return { fileOffset: pos + 4, message: `block length ${length} is not a multiple of 4 of at least 12` };
    if (length > MAX_FRAME_LENGTH + 64)
      return { fileOffset: pos + 4, message: `block length ${length} is beyond any snaplen` };
    if (pos + length > source.size)
      return {
        fileOffset: pos,
        message: `block of ${length} bytes announced, ${source.size - pos} present (the file ends inside it)`,
      };
    const blockType = view(bh).getUint32(0, little);
    if (blockType === PCAPNG_IDB) {
      const body = await reader.bytes(pos + 8, length - 12);
      interfaces.push(readInterface(body, little));
    } else if (blockType === PCAPNG_EPB || blockType === PCAPNG_OBSOLETE_PB) {
      const b = view(await reader.bytes(pos + 8, 20));
      const ifId = blockType === PCAPNG_EPB ? b.getUint32(0, little) : b.getUint16(0, little);
      const itf = interfaces[ifId];
      if (!itf)
        return {
          fileOffset: pos + 8,
          message: `packet block names interface ${ifId}, which no interface description block declared`,
        };
      const ts = b.getUint32(4, little) * 2 ** 32 + b.getUint32(8, little);
      const capturedLength = b.getUint32(12, little);
      if (28 + capturedLength > length)
        return {
          fileOffset: pos + 20,
          message: `captured length ${capturedLength} does not fit the block's ${length} bytes`,
        };
      lastTimeNs = ts * itf.unitNs + itf.offsetSec * 1e9;
      await onFrame({
        index,
        timeNs: lastTimeNs,
        linkType: itf.linkType,
        capturedLength,
        originalLength: b.getUint32(16, little),
        dataOffset: pos + 28,
      });
      index++;
    } else if (blockType === PCAPNG_SPB) {
      const itf = interfaces[0];
      if (!itf) return { fileOffset: pos, message: 'simple packet block before any interface description block' };
      const originalLength = view(await reader.bytes(pos + 8, 4)).getUint32(0, little);
      const capturedLength = Math.min(originalLength, length - 16, itf.snapLength || Infinity);
      await onFrame({
        index,
        timeNs: lastTimeNs,
        linkType: itf.linkType,
        capturedLength,
        originalLength,
        dataOffset: pos + 12,
      });
      index++;
    }
    pos += length;
  }
  return undefined;
}

/** An interface description block's body: link type, snaplen, and the timestamp options tcpdump may set. */
function readInterface(body: Uint8Array, little: boolean): Interface {
  const dv = view(body);
  const itf: Interface = {
    linkType: dv.getUint16(0, little),
    snapLength: dv.getUint32(4, little),
    unitNs: 1000,
    offsetSec: 0,
  };
  let o = 8;
  while (o + 4 <= body.length) {
    const code = dv.getUint16(o, little);
    const len = dv.getUint16(o + 2, little);
    if (code === 0) break;
    if (o + 4 + len > body.length) break;
    if (code === 9 && len >= 1) {
      // if_tsresol: high bit clear, 10^-v seconds; set, 2^-v seconds.
      const v = body[o + 4];
      itf.unitNs = v & 0x80 ? 1e9 / 2 ** (v & 0x7f) : 1e9 / 10 ** v;
    } else if (code === 14 && len >= 8) {
      itf.offsetSec = Number(dv.getBigInt64(o + 4, little));
    }
    o += 4 + ((len + 3) & ~3);
  }
  return itf;
}
