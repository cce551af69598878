import { mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** Saves a finding as a regression input (named by kind and content hash) with a note saying what it was. */
export function saveFinding(
  dir: string,
  kind: string,
  bytes: Uint8Array,
  description: string,
  message: string,
): string {
  mkdirSync(dir, { recursive: true });
  const name = `${kind}-${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}`;
  writeFileSync(join(dir, `${name}.mfd`), bytes);
  writeFileSync(join(dir, `${name}.txt`), `${description}\n\n${message}\n`);
  return join(dir, `${name}.mfd`);
}
