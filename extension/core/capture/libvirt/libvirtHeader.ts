/**
 * libvirt's save image header (`virQEMUSaveHeader`, src/qemu/qemu_saveimage.h), written by `virsh save` and
 * `managedsave`: 92 bytes in the host's byte order, then `data_len` bytes (the NUL-terminated domain XML, an
 * optional cookie at `cookieOffset`, zero padding), then the QEMU migration stream, possibly compressed.
 */

export const LIBVIRT_HEADER_SIZE = 92;
export const LIBVIRT_MAGIC_COMPLETE = 'LibvirtQemudSave';
/** Written first and replaced by the complete magic only once the save has finished. */
export const LIBVIRT_MAGIC_PARTIAL = 'LibvirtQemudPart';
/** QEMU_SAVE_VERSION; version 1 images have no cookie. */
export const LIBVIRT_SAVE_VERSION = 2;
/** The XML and cookie are read whole; libvirt itself writes len + 64 KiB, real domain XML is a few KiB. */
export const LIBVIRT_MAX_DATA_LEN = 16 << 20;

/** enum virQEMUSaveFormat (qemu_saveimage_format.h): how the QEMU stream after the header is stored. */
export const LIBVIRT_FORMATS = ['raw', 'gzip', 'bzip2', 'xz', 'lzop', 'zstd', 'sparse'] as const;
export type LibvirtFormat = (typeof LIBVIRT_FORMATS)[number];

export interface LibvirtSaveHeader {
  complete: boolean;
  littleEndian: boolean;
  version: number;
  dataLen: number;
  wasRunning: boolean;
  format: LibvirtFormat;
  formatNumber: number;
  cookieOffset: number;
  /** File offset of the QEMU stream: 92 + data_len. */
  streamOffset: number;
}

export class LibvirtHeaderError extends Error {
  constructor(
    message: string,
    readonly fileOffset: number,
  ) {
    super(message);
  }
}

const MAGIC_BYTES = 16;

export function startsWithLibvirtMagic(head: Uint8Array): boolean {
  if (head.length < MAGIC_BYTES) return false;
  const text = String.fromCharCode(...head.subarray(0, MAGIC_BYTES));
  return text === LIBVIRT_MAGIC_COMPLETE || text === LIBVIRT_MAGIC_PARTIAL;
}

/**
 * Reads the header; `fileSize` bounds data_len. libvirt reads a version above its own as byte-swapped
 * (an image saved on a host of the other byte order), and so does this reader.
 */
export function parseLibvirtHeader(bytes: Uint8Array, fileSize: number): LibvirtSaveHeader {
  if (!startsWithLibvirtMagic(bytes))
    throw new LibvirtHeaderError(
      'not a libvirt save image: no LibvirtQemudSave/LibvirtQemudPart magic at file offset 0',
      0,
    );
  if (bytes.length < LIBVIRT_HEADER_SIZE) {
    throw new LibvirtHeaderError(
      `libvirt save header cut off: the file has ${bytes.length} of its ${LIBVIRT_HEADER_SIZE} bytes`,
      bytes.length,
    );
  }
  const complete = String.fromCharCode(...bytes.subarray(0, MAGIC_BYTES)) === LIBVIRT_MAGIC_COMPLETE;
  const view = new DataView(bytes.buffer, bytes.byteOffset, LIBVIRT_HEADER_SIZE);
  let littleEndian = true;
  if (view.getUint32(16, true) > LIBVIRT_SAVE_VERSION) littleEndian = false;
  const u32 = (at: number) => view.getUint32(at, littleEndian);
  const version = u32(16);
  if (version < 1 || version > LIBVIRT_SAVE_VERSION) {
    throw new LibvirtHeaderError(
      `libvirt save header version ${view.getUint32(16, true)} at file offset 16: libvirt writes 1 or 2 (either byte order)`,
      16,
    );
  }
  const dataLen = u32(20);
  const streamOffset = LIBVIRT_HEADER_SIZE + dataLen;
  if (dataLen > LIBVIRT_MAX_DATA_LEN || streamOffset > fileSize) {
    throw new LibvirtHeaderError(
      `libvirt save header data_len ${dataLen} at file offset 20 is impossible: the XML would end at file offset ${streamOffset}, ` +
        `${streamOffset > fileSize ? `past the end of the ${fileSize}-byte file` : `beyond the ${LIBVIRT_MAX_DATA_LEN}-byte limit`}`,
      20,
    );
  }
  const formatNumber = u32(28);
  const format = LIBVIRT_FORMATS[formatNumber];
  if (format === undefined)
    throw new LibvirtHeaderError(
      `libvirt save header format ${formatNumber} at file offset 28 is unknown (0 raw … 6 sparse)`,
      28,
    );
  const cookieOffset = version >= 2 ? u32(32) : 0;
  if (cookieOffset > dataLen)
    throw new LibvirtHeaderError(
      `libvirt save header cookieOffset ${cookieOffset} at file offset 32 is beyond data_len ${dataLen}`,
      32,
    );
  return {
    complete,
    littleEndian,
    version,
    dataLen,
    wasRunning: u32(24) !== 0,
    format,
    formatNumber,
    cookieOffset,
    streamOffset,
  };
}

/** The NUL-terminated domain XML and the optional cookie from the data_len bytes after the header. */
export function readLibvirtData(header: LibvirtSaveHeader, data: Uint8Array): { domainXml: string; cookie?: string } {
  const cString = (from: number) => {
    let end = data.indexOf(0, from);
    if (end < 0) end = data.length;
    return new TextDecoder('utf-8').decode(data.subarray(from, end));
  };
  const domainXml = cString(0);
  const cookie =
    header.cookieOffset > 0 && header.cookieOffset < data.length ? cString(header.cookieOffset) : undefined;
  return { domainXml, cookie };
}

/** The command that unpacks a libvirt image whose stream this reader cannot decompress itself. */
export function unpackCommand(header: LibvirtSaveHeader, path: string): string | undefined {
  const tool = { bzip2: 'bzip2 -dc', xz: 'xz -dc', lzop: 'lzop -dc' }[header.format as 'bzip2' | 'xz' | 'lzop'];
  if (!tool) return undefined;
  const q = `'${path.replace(/'/g, `'\\''`)}'`;
  return `tail -c +${header.streamOffset + 1} ${q} | ${tool} > migration.qemu`;
}
