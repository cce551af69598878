import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BOMB_CASES, type BombCase } from './bombRunner';

/** Peak RSS bound for one bomb in its own process: Node + tsx + the decoder load at about 81 MiB. */
export const BOMB_RSS_BOUND_MIB = 160;

const expected: Record<BombCase, string[]> = {
  'next-packet-size-4gib': ['multifd.truncated-payload'],
  'pages-alloc-max': ['multifd.pages-alloc', 'multifd.truncated-payload'],
  'mfd-data-10gib': ['capture.truncated-record'],
  'zlib-bomb': ['replay.output-size', 'replay.stopped'],
  'zstd-bomb': ['replay.output-size', 'replay.stopped'],
  // Provenance of 65,536 zero pages one per 240 MiB: memory in proportion to the pages, not to the block.
  'sparse-zero-pages-15tib': [],
};

for (const c of BOMB_CASES) {
  test(`hostile size ${c}: ends in diagnostics, peak RSS under ${BOMB_RSS_BOUND_MIB} MiB`, () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'bombRunner.ts'), c], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      codes: string[];
      maxRssMiB: number;
      streamBytes: number[];
    };
    for (const code of expected[c]) assert.ok(out.codes.includes(code), `${code} in ${out.codes.join(', ')}`);
    assert.ok(out.maxRssMiB < BOMB_RSS_BOUND_MIB, `peak RSS ${out.maxRssMiB.toFixed(0)} MiB`);
    if (c === 'mfd-data-10gib')
      assert.ok(out.streamBytes[0] > 10 * 2 ** 30, 'the 10+ GiB stream is indexed, never read');
  });
}
