import type { StreamBytes } from '../capture/streamBytes';
import { StreamHoleError } from '../capture/captureEnded';
import { DEVICE_STATE_HEADER_SIZE, MULTIFD_INIT_SIZE, MULTIFD_MAGIC, MULTIFD_PACKET_SIZE } from './constants';
import { isDeviceState, packetLengthOf } from './framing';
import { RAM_FIELDS, isPacketHdrAt, readDeviceStateHeader, readPacketHdr, readRamPacketHeader } from './packetHeaders';

/** Device-state packets frame the same whatever the page size. */
const NO_PAGE_SIZE = 0;

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
export async function probeMultifdPageSize(
  stream: StreamBytes,
  maxPackets = 16,
): Promise<PageSizeEvidence | undefined> {
  try {
    return await probe(stream, maxPackets);
  } catch (e) {
    // A hole among the first packets (a pcap's dropped segment): no evidence here, the caller looks elsewhere.
    if (e instanceof StreamHoleError) return undefined;
    throw e;
  }
}

async function probe(stream: StreamBytes, maxPackets: number): Promise<PageSizeEvidence | undefined> {
  let pos = MULTIFD_INIT_SIZE;
  // The RAM fields the probe needs end with zero_pages; the device-state header's next_packet_size is further on.
  const ramFields = RAM_FIELDS.zero_pages.offset + RAM_FIELDS.zero_pages.width;
  const isHeaderAt = async (at: number): Promise<boolean> =>
    isPacketHdrAt(await stream.read(at, at + RAM_FIELDS.flags.offset));
  for (let n = 0; n < maxPackets && pos < stream.length; n++) {
    const h = await stream.read(pos, pos + ramFields);
    if (h.length < ramFields) return undefined;
    const { magic, flags } = readPacketHdr(h);
    if (magic !== MULTIFD_MAGIC) return undefined;
    if (isDeviceState(flags)) {
      const d = await stream.read(pos, pos + DEVICE_STATE_HEADER_SIZE);
      if (d.length < DEVICE_STATE_HEADER_SIZE) return undefined;
      pos += packetLengthOf(readDeviceStateHeader(d), NO_PAGE_SIZE);
      continue;
    }
    const ram = readRamPacketHeader(h);
    const pagesAlloc = ram.pagesAlloc;
    const candidates =
      pagesAlloc > 0
        ? [MULTIFD_PACKET_SIZE / pagesAlloc].filter((ps) => CANDIDATE_PAGE_SIZES.includes(ps))
        : CANDIDATE_PAGE_SIZES;
    const fits: number[] = [];
    for (const ps of candidates) {
      const next = pos + packetLengthOf(ram, ps);
      if (next === stream.length || (await isHeaderAt(next))) fits.push(ps);
    }
    if (fits.length === 1) {
      return {
        pageSize: fits[0],
        how:
          pagesAlloc > 0
            ? `pages_alloc ${pagesAlloc} of packet ${n} (512 KiB / ${pagesAlloc})`
            : `header length that frames packet ${n} (SYNC with pages_alloc 0)`,
      };
    }
    if (fits.length === 0) return undefined;
    // Several lengths frame this packet (possible when the stream ends there): look at the next one.
    pos += packetLengthOf(ram, fits[0]);
  }
  return undefined;
}
