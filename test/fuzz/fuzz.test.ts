import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { checkInput } from './checkInput';
import { CORPUS_DIR, inputFiles, loadSeeds } from './seeds';
import { mutate } from './mutators';
import { inputSeed } from './rng';
import { fuzz } from './fuzz';

const opts = () => ({
  timeoutMs: 10_000,
  workDir: mkdtempSync(join(tmpdir(), 'mfd-fuzz-test-')),
  maxRssGrowth: 256 << 20,
});

test('every corpus input (seeds, saved findings, regressions) ends in a result or diagnostics', async () => {
  const files = inputFiles(CORPUS_DIR);
  assert.ok(files.length >= 7, `${files.length} corpus files`);
  const o = opts();
  for (const f of files) {
    const r = await checkInput(readFileSync(f), o);
    assert.equal(r.finding, undefined, `${relative(CORPUS_DIR, f)}: ${r.finding?.message}`);
  }
});

test('CI-size fuzz, in process: 400 mutations of the real seeds, no findings', async () => {
  const seeds = await loadSeeds();
  const o = opts();
  const kinds = new Set<string>();
  for (let i = 0; i < 400; i++) {
    const input = mutate(seeds[i % seeds.length], inputSeed(20251126, i));
    kinds.add(input.description.split(': ')[1]?.split(/[ =@]/)[0] ?? '');
    const r = await checkInput(input.bytes, o);
    assert.equal(r.finding, undefined, `input ${i} (${input.description}): ${r.finding?.message}`);
  }
  assert.ok(kinds.size > 10, 'the mutators vary');
});

test('npm run fuzz machinery: child workers, watchdog and figures', async () => {
  const findingsDir = mkdtempSync(join(tmpdir(), 'mfd-fuzz-findings-'));
  const f = await fuzz({
    runs: 200,
    seed: 7,
    jobs: 2,
    timeoutMs: 10_000,
    watchdogMs: 30_000,
    maxRssMiB: 512,
    findingsDir,
    coverage: false,
    log: () => undefined,
  });
  assert.equal(f.executions, 200);
  assert.deepEqual(f.findings, {});
  assert.deepEqual(readdirSync(findingsDir), []);
  assert.ok(f.peakRssMiB > 0 && f.peakRssMiB < f.rssBoundMiB);
});

test('regressions: a MEM_SIZE no file can hold is a diagnostic; a 2^50-byte block replays in bounded time', async () => {
  const { analyzeCaptureFile } = await import('../../extension/core/analysis');
  const { replayCapture } = await import('../../extension/core/replay/replay');
  const out = mkdtempSync(join(tmpdir(), 'mfd-fuzz-reg-'));
  const huge = await analyzeCaptureFile(join(CORPUS_DIR, 'regressions', 'exception-memsize-2p62.mfd'));
  const r = await replayCapture(huge, { outDir: join(out, 'a'), workers: false });
  await huge.capture.source.close();
  assert.ok(r.diagnostics.some((d) => d.code === 'replay.image-size'));
  assert.deepEqual(readdirSync(join(out, 'a')), [], 'no empty image left behind');
  const started = Date.now();
  const big = await analyzeCaptureFile(join(CORPUS_DIR, 'regressions', 'hang-memsize-2p50.mfd'));
  const r2 = await replayCapture(big, { outDir: join(out, 'b'), workers: false });
  await big.capture.source.close();
  // tmpfs holds a sparse 1 PiB file; ext4 refuses it (EFBIG), which is then a diagnostic.
  assert.ok(r2.blocks[0]?.size === 2 ** 50 || r2.diagnostics.some((d) => d.code === 'replay.image-size'));
  assert.ok(Date.now() - started < 5000);
});

test('the watchdog catches an input stuck in a synchronous loop, saves it and goes on', async () => {
  const findingsDir = mkdtempSync(join(tmpdir(), 'mfd-fuzz-hang-'));
  process.env.MFD_FUZZ_TEST_HANG_AT = '13';
  try {
    const f = await fuzz({
      runs: 30,
      seed: 5,
      jobs: 1,
      timeoutMs: 10_000,
      watchdogMs: 1500,
      maxRssMiB: 512,
      findingsDir,
      coverage: false,
      log: () => undefined,
    });
    assert.deepEqual(f.findings, { hang: 1 });
    assert.equal(f.executions, 30);
    assert.equal(readdirSync(findingsDir).filter((n) => n.startsWith('hang-') && n.endsWith('.mfd')).length, 1);
  } finally {
    delete process.env.MFD_FUZZ_TEST_HANG_AT;
  }
});
