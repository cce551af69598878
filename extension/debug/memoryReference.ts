/**
 * DAP memory references for rebuilt RAM: `ramblock:<name>+0x<offset>`. A ramblock variable carries the
 * block's base (+0x0); a page or offset[] entry carries its page, so "View Binary Data" opens there.
 * Addresses in readMemory responses are offsets inside the ramblock (ram_addr_t-like, not guest-physical).
 */
export function memoryReferenceOf(block: string, offset = 0): string {
  return `ramblock:${block}+0x${offset.toString(16)}`;
}

export function parseMemoryReference(ref: string): { block: string; offset: number } | undefined {
  const m = /^ramblock:(.*)\+0x([0-9a-fA-F]+)$/.exec(ref);
  if (!m) return undefined;
  const offset = parseInt(m[2], 16);
  return Number.isSafeInteger(offset) ? { block: m[1], offset } : undefined;
}
