import type { CaptureAnalysis } from '../analysis';
import { uniqueNames } from './safeFileName';

/** Most block images one replay makes: real guests have tens of ramblocks; hostile captures name thousands. */
export const MAX_IMAGES = 256;

/** ramblock name → image file name, for every block MEM_SIZE announces or a packet names. */
export function imageFileNames(analysis: CaptureAnalysis): Map<string, string> {
  const names = new Set<string>(analysis.ramblocks.map((b) => b.name));
  for (const m of analysis.multifd) for (const n of m.ramblockLookups) names.add(n);
  return uniqueNames([...names], '.ram');
}
