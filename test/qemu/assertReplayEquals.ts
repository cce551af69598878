import assert from 'node:assert/strict';
import { join } from 'node:path';
import { compareRamFiles } from './guestRam';
import { replayJson } from '../support/mfdCli';

/**
 * Runs `mfd replay` on a capture with `--reference mem=<ram>` and asserts it exits 0, reports no mismatched
 * page against that reference, and writes a `mem` image equal to it byte for byte. `size`, when given, is
 * the image size the block must have. Returns the replayed image's path.
 */
export async function assertReplayEquals(
  capture: string,
  dir: string,
  referenceRam: string,
  size?: number,
): Promise<string> {
  const r = replayJson([capture, '--out', join(dir, 'replay'), '--reference', `mem=${referenceRam}`]);
  assert.equal(
    r.code,
    0,
    r.stderr +
      JSON.stringify(r.json?.compare?.[0]?.ranges?.slice(0, 5)) +
      JSON.stringify(r.json?.diagnostics?.filter((d) => d.severity !== 'info')),
  );
  const mem = r.json?.blocks.find((b) => b.name === 'mem');
  assert.ok(mem, r.stderr);
  if (size !== undefined) assert.equal(mem.size, size);
  assert.equal(r.json?.compare?.[0].mismatchedPages, 0);
  assert.deepEqual(await compareRamFiles(mem.file, referenceRam), {
    equal: true,
    sizeA: mem.size,
    sizeB: mem.size,
    differingPages: 0,
  });
  return mem.file;
}
