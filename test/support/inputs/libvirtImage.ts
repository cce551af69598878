import {
  LIBVIRT_HEADER_SIZE,
  LIBVIRT_MAGIC_COMPLETE,
  LIBVIRT_MAGIC_PARTIAL,
  LIBVIRT_SAVE_VERSION,
} from '../../../extension/core/capture/libvirt/libvirtHeader';

/**
 * A libvirt save image header as libvirt's `virQEMUSaveHeader` lays it out (qemu_saveimage.h: magic[16], then
 * u32 version, data_len, was_running, format, cookieOffset, unused[14], little-endian as on x86), and the data
 * that follows it (XML, NUL, cookie, NUL, zero padding), as `virQEMUSaveDataWrite` writes them.
 */
export interface LibvirtHeaderFields {
  complete?: boolean;
  version?: number;
  dataLen: number;
  wasRunning?: boolean;
  format: number;
  cookieOffset?: number;
}

export function encodeLibvirtHeader(h: LibvirtHeaderFields): Uint8Array {
  const out = new Uint8Array(LIBVIRT_HEADER_SIZE);
  const magic = h.complete === false ? LIBVIRT_MAGIC_PARTIAL : LIBVIRT_MAGIC_COMPLETE;
  for (let i = 0; i < 16; i++) out[i] = magic.charCodeAt(i);
  const v = new DataView(out.buffer);
  v.setUint32(16, h.version ?? LIBVIRT_SAVE_VERSION, true);
  v.setUint32(20, h.dataLen, true);
  v.setUint32(24, h.wasRunning ? 1 : 0, true);
  v.setUint32(28, h.format, true);
  v.setUint32(32, h.cookieOffset ?? 0, true);
  return out;
}

/** Header + XML + cookie + 64 KiB of zeros (libvirt's padding, so the XML can be edited in place). */
export function libvirtPrefix(o: {
  xml: string;
  cookie?: string;
  format: number;
  complete?: boolean;
  padding?: number;
}): Uint8Array {
  const enc = new TextEncoder();
  const xml = enc.encode(o.xml + '\0');
  const cookie = o.cookie === undefined ? new Uint8Array(0) : enc.encode(o.cookie + '\0');
  const dataLen = xml.length + cookie.length + (o.padding ?? 64 * 1024);
  const header = encodeLibvirtHeader({
    complete: o.complete,
    dataLen,
    format: o.format,
    wasRunning: true,
    cookieOffset: o.cookie === undefined ? 0 : xml.length,
  });
  const out = new Uint8Array(LIBVIRT_HEADER_SIZE + dataLen);
  out.set(header, 0);
  out.set(xml, LIBVIRT_HEADER_SIZE);
  out.set(cookie, LIBVIRT_HEADER_SIZE + xml.length);
  return out;
}
