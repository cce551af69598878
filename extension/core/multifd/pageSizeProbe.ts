import type { StreamBytes } from '../capture/streamBytes';
import { be32 } from '../util/bytes';
import { DEVICE_STATE_HEADER_SIZE, FLAG_DEVICE_STATE, MULTIFD_INIT_SIZE, MULTIFD_MAGIC, MULTIFD_PACKET_SIZE, MULTIFD_VERSION, methodOf } from './constants';

/** Target page sizes QEMU builds use, most common first. */
export const CANDIDATE_PAGE_SIZES = [4096, 16384, 65536, 8192, 2048, 1024];

export interface PageSizeEvidence {
  pageSize: number;
  how: string;
}

/**
 * The target page size is not on a multifd wire. It follows from pages_alloc (= 512 KiB / page size) of any
 * packet that has it, confirmed by finding the next header where that size puts it. Since 9.2 SYNC packets
 * carry pages_alloc = 0, so for those the probe tries each candidate length and keeps the one after which
 * the next header starts (a SYNC has no payload).
 */
export async function probeMultifdPageSize(stream: StreamBytes, maxPackets = 16): Promise<PageSizeEvidence | undefined> {
  let pos = MULTIFD_INIT_SIZE;
  const isHeaderAt = async (at: number): Promise<boolean> => {
    const b = await stream.read(at, at + 8);
    return b.length === 8 && be32(b, 0) === MULTIFD_MAGIC && be32(b, 4) === MULTIFD_VERSION;
  };
  for (let n = 0; n < maxPackets && pos < stream.length; n++) {
    const h = await stream.read(pos, pos + 32);
    if (h.length < 32 || be32(h, 0) !== MULTIFD_MAGIC) return undefined;
    const flags = be32(h, 8);
    if (flags & FLAG_DEVICE_STATE) {
      const d = await stream.read(pos + 272, pos + 276);
      if (d.length < 4) return undefined;
      pos += DEVICE_STATE_HEADER_SIZE + be32(d, 0);
      continue;
    }
    const pagesAlloc = be32(h, 12);
    const normal = be32(h, 16);
    const nextPacketSize = be32(h, 20);
    const candidates = pagesAlloc > 0 ? [MULTIFD_PACKET_SIZE / pagesAlloc].filter((ps) => CANDIDATE_PAGE_SIZES.includes(ps)) : CANDIDATE_PAGE_SIZES;
    const fits: number[] = [];
    for (const ps of candidates) {
      const payload = normal === 0 ? 0 : methodOf(flags) === 'none' ? normal * ps : nextPacketSize;
      const next = pos + 320 + 8 * (MULTIFD_PACKET_SIZE / ps) + payload;
      if (next === stream.length || (await isHeaderAt(next))) fits.push(ps);
    }
    if (fits.length === 1) {
      return { pageSize: fits[0], how: pagesAlloc > 0 ? `pages_alloc ${pagesAlloc} of packet ${n} (512 KiB / ${pagesAlloc})` : `header length that frames packet ${n} (SYNC with pages_alloc 0)` };
    }
    if (fits.length === 0) return undefined;
    // Several lengths frame this packet (possible when the stream ends there): look at the next one.
    const ps = fits[0];
    pos += 320 + 8 * (MULTIFD_PACKET_SIZE / ps) + (normal === 0 ? 0 : methodOf(flags) === 'none' ? normal * ps : nextPacketSize);
  }
  return undefined;
}
