/**
 * What the bytes say about the sender's QEMU release. Each observation bounds the version from below or
 * above; the summary shows the range that fits them all.
 */
export type Version = [number, number];

export interface VersionHint {
  atLeast?: Version;
  atMost?: Version;
  reason: string;
}

export const HINTS = {
  pagesWithSync: { atMost: [8, 2], reason: 'a packet carries pages together with SYNC (senders up to 8.2)' },
  emptyTrailer: { atMost: [8, 2], reason: 'an empty flags-0 packet follows a pages+SYNC packet (senders up to 8.2)' },
  staleNextPacketSize: { atMost: [8, 1], reason: 'empty packets keep a stale next_packet_size (reset since 8.2)' },
  zeroPages: { atLeast: [9, 0], reason: 'packets list zero_pages (multifd zero-page detection, 9.0+)' },
  cleanSync: { atLeast: [9, 2], reason: 'SYNC packets have pages_alloc 0 and an empty ramblock (9.2+)' },
  zeroOnlyCompressed: {
    atLeast: [10, 0],
    reason: 'all-zero-page packets are sent with zlib/zstd (9.0–9.2 senders skipped them)',
  },
  deviceState: { atLeast: [10, 0], reason: 'device-state packets (10.0+)' },
  qpl: { atLeast: [9, 1], reason: 'qpl compression (9.1+)' },
  uadk: { atLeast: [9, 1], reason: 'uadk compression (9.1+)' },
  qatzip: { atLeast: [9, 2], reason: 'qatzip compression (9.2+)' },
  multifdFlush: { atLeast: [8, 1], reason: 'RAM_SAVE_FLAG_MULTIFD_FLUSH records on the main channel (8.1+)' },
} satisfies Record<string, VersionHint>;

function cmp(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1];
}

export function formatVersion(v: Version): string {
  return `${v[0]}.${v[1]}`;
}

/** Whether a sender of some release in [lo, hi] fits every hint (nothing observed fits everything). */
export function rangeFits(range: { atLeast?: Version; atMost?: Version }, lo: Version, hi: Version): boolean {
  if (range.atLeast && cmp(range.atLeast, hi) > 0) return false;
  if (range.atMost && cmp(range.atMost, lo) < 0) return false;
  return true;
}

/** "≥ 9.2", "≤ 8.2", "9.0 – 9.2", or undefined when nothing was observed. */
export function versionRange(hints: Iterable<VersionHint>): {
  text?: string;
  atLeast?: Version;
  atMost?: Version;
  reasons: string[];
} {
  let lo: Version | undefined;
  let hi: Version | undefined;
  const reasons: string[] = [];
  for (const h of hints) {
    if (h.atLeast && (!lo || cmp(h.atLeast, lo) > 0)) lo = h.atLeast;
    if (h.atMost && (!hi || cmp(h.atMost, hi) < 0)) hi = h.atMost;
    if (!reasons.includes(h.reason)) reasons.push(h.reason);
  }
  let text: string | undefined;
  if (lo && hi)
    text =
      cmp(lo, hi) <= 0
        ? `${formatVersion(lo)} – ${formatVersion(hi)}`
        : `inconsistent (≥ ${formatVersion(lo)} and ≤ ${formatVersion(hi)})`;
  else if (lo) text = `≥ ${formatVersion(lo)}`;
  else if (hi) text = `≤ ${formatVersion(hi)}`;
  return { text, atLeast: lo, atMost: hi, reasons };
}
