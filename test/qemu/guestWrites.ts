import { promises as fsp } from 'node:fs';
import { PAGE } from './guestRam';
import { guestLayout } from './migration';

/**
 * The pages the dirtying guest (bootSector.ts) writes while it runs, by page number in the RAM block: what a
 * destination that ran its guest after the postcopy switch may hold differently from the stopped source.
 */
export interface GuestWriteSet {
  has(page: number): boolean;
  /** The set's parts, for messages. */
  parts: { what: string; first: number; last: number }[];
}

export function guestWriteSet(ramMiB: number): GuestWriteSet {
  const g = guestLayout(ramMiB);
  const parts = [
    // The real-mode interrupt vectors and the BIOS data area (the timer tick count at 0x46c).
    { what: 'IVT and BIOS data area', first: 0, last: 0 },
    // The boot sector's stack (ss:sp 0:0x7c00, growing down) and its tick counter inside the sector at 0x7c00.
    { what: 'boot sector stack and counter', first: 7, last: 7 },
    // SeaBIOS's low zone in the shadowed 0xe0000–0xeffff: the stack and variables of its interrupt handlers.
    { what: 'SeaBIOS low zone', first: 0xe0, last: 0xef },
    { what: 'guest marker page', first: g.markerAddress / PAGE, last: g.markerAddress / PAGE },
    { what: 'dirtied range', first: g.base / PAGE, last: g.base / PAGE + g.pages - 1 },
  ];
  return { parts, has: (page) => parts.some((p) => page >= p.first && page <= p.last) };
}

/** Page numbers at which two RAM files differ. */
export async function differingPages(a: string, b: string): Promise<number[]> {
  const [x, y] = await Promise.all([fsp.readFile(a), fsp.readFile(b)]);
  if (x.length !== y.length) throw new Error(`${a} is ${x.length} bytes, ${b} ${y.length}`);
  const out: number[] = [];
  for (let p = 0; p < x.length; p += PAGE)
    if (!x.subarray(p, p + PAGE).equals(y.subarray(p, p + PAGE))) out.push(p / PAGE);
  return out;
}
