import type { ByteSource } from '../fileAccessor';
import type { Capture } from '../capture';
import { CaptureFormatError } from '../captureFormatError';
import {
  LIBVIRT_HEADER_SIZE,
  LibvirtHeaderError,
  parseLibvirtHeader,
  readLibvirtData,
  unpackCommand,
} from './libvirtHeader';
import { openStreamAt, type StreamFileOptions } from '../file/openStreamFile';
import { hex } from '../../util/bytes';

/**
 * A `virsh save` / `managedsave` image: libvirt's header and domain XML, then the QEMU stream at 92 + data_len.
 * raw and sparse (mapped-ram, whose offsets count from the start of this file) are read in place; gzip and zstd
 * are decompressed; bzip2, xz and lzop are refused with the command that unpacks them.
 */
export async function openLibvirtImage(source: ByteSource, path: string, options: StreamFileOptions): Promise<Capture> {
  const bytes = await source.read(0, LIBVIRT_HEADER_SIZE);
  let header;
  try {
    header = parseLibvirtHeader(bytes, source.size);
  } catch (e) {
    if (e instanceof LibvirtHeaderError) throw new CaptureFormatError(`${path}: ${e.message}`);
    throw e;
  }
  const data = await source.read(LIBVIRT_HEADER_SIZE, header.dataLen);
  const { domainXml, cookie } = readLibvirtData(header, data);
  const notes: string[] = [];
  if (!header.complete)
    notes.push(
      'the magic is LibvirtQemudPart: libvirt had not finished this save (it writes LibvirtQemudSave last), so the stream may be cut off',
    );
  if (!header.littleEndian) notes.push('the header is big-endian: saved on a host of the other byte order');
  const unpack = unpackCommand(header, path);
  if (unpack) {
    throw new CaptureFormatError(
      `${path}: libvirt save image (format ${header.formatNumber}, ${header.format}): the QEMU stream from file offset ${header.streamOffset} is ${header.format}-compressed, ` +
        `which this reader does not decompress (no well-kept JavaScript ${header.format} decoder); unpack it first: ${unpack}`,
    );
  }
  const meta: Record<string, unknown> = {
    domainXml,
    libvirt: {
      version: header.version,
      format: header.format,
      dataLen: header.dataLen,
      wasRunning: header.wasRunning,
      complete: header.complete,
      ...(cookie ? { cookie } : {}),
    },
  };
  const what = `libvirt save image (version ${header.version}, format ${header.formatNumber} ${header.format}${header.complete ? '' : ', incomplete'})`;
  const capture = await openStreamAt(
    source,
    path,
    header.streamOffset,
    what,
    options,
    { kind: 'libvirt-save', libvirt: { header, domainXml, cookie }, notes },
    meta,
  );
  if (capture) return capture;
  const at = await source.read(header.streamOffset, 8);
  throw new CaptureFormatError(
    `${path}: ${what}: no QEMU stream at file offset ${header.streamOffset} (92 + data_len ${header.dataLen}): the bytes there are ${at.length ? hex(at, 8) : '(end of file)'}` +
      (header.complete ? '' : '; the save never finished (LibvirtQemudPart)'),
  );
}
