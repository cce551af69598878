import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { spawnSync } from 'node:child_process';
import { analyzeCaptureFile } from '../../extension/core/analysis';
import { replayCapture } from '../../extension/core/replay/replay';
import { insideFolder, safeFileName, uniqueNames } from '../../extension/core/replay/safeFileName';
import { hostileCapture, HOSTILE_IDSTRS, HOSTILE_RAMBLOCKS } from './hostileCapture';
import { HOSTILE_NAMES } from './mutators';

const ROOT = resolve(__dirname, '..', '..');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

async function setup() {
  const sandbox = mkdtempSync(join(tmpdir(), 'mfd-paths-'));
  const capture = join(sandbox, 'hostile.mfd');
  writeFileSync(capture, await hostileCapture());
  return { sandbox, capture, out: join(sandbox, 'a', 'out') };
}

test('replay and device-state extraction of hostile names write only inside the output folder', async () => {
  const { sandbox, capture, out } = await setup();
  const before = readFileSync(capture);
  const mtime = statSync(capture).mtimeMs;
  const a = await analyzeCaptureFile(capture);
  const r = await replayCapture(a, { outDir: out, workers: false });
  await a.capture.source.close();
  assert.deepEqual(r.blocks.map((b) => b.name).sort(), [...HOSTILE_RAMBLOCKS].sort());
  assert.equal(r.deviceState.length, HOSTILE_IDSTRS.length);
  for (const f of walk(sandbox)) {
    if (f === capture) continue;
    const rel = relative(out, f);
    assert.ok(!rel.startsWith('..') && !rel.startsWith(sep), `${f} is outside ${out}`);
    for (const part of rel.split(sep))
      assert.match(part, /^[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*$/, `unsafe name ${JSON.stringify(part)}`);
  }
  assert.equal(new Set(r.blocks.map((b) => b.file)).size, r.blocks.length, 'distinct names keep distinct files');
  assert.deepEqual(readFileSync(capture), before, 'the capture is never written');
  assert.equal(statSync(capture).mtimeMs, mtime);
});

test('existing outputs are not overwritten without force; --force replaces them', async () => {
  const { capture, out } = await setup();
  const a = await analyzeCaptureFile(capture);
  const first = await replayCapture(a, { outDir: out, workers: false });
  const victim = first.blocks[0].file;
  writeFileSync(victim, 'precious');
  await assert.rejects(replayCapture(a, { outDir: out, workers: false }), /EEXIST/);
  assert.equal(readFileSync(victim, 'utf8'), 'precious');
  await replayCapture(a, { outDir: out, workers: false, force: true });
  assert.notEqual(readFileSync(victim, 'utf8'), 'precious');
  await a.capture.source.close();
  // The CLI says how to proceed, with exit 2, and leaves the file alone.
  writeFileSync(victim, 'precious');
  const cli = (args: string[]) =>
    spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'extension/cli/mfd.ts'), 'replay', capture, '--out', out, ...args],
      { cwd: ROOT, encoding: 'utf8' },
    );
  const refused = cli([]);
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /--force/);
  assert.equal(readFileSync(victim, 'utf8'), 'precious');
  const forced = cli(['--force']);
  assert.notEqual(forced.status, 2, forced.stderr);
  assert.notEqual(readFileSync(victim, 'utf8'), 'precious');
});

test('every hostile name maps to one safe component, distinct names stay distinct, and none escapes', () => {
  const names = [
    ...HOSTILE_NAMES,
    ...HOSTILE_RAMBLOCKS,
    ...HOSTILE_IDSTRS,
    'C:\\Windows\\x',
    '\u0000',
    '\u202e.ram',
    'a'.repeat(4096),
    '.hidden',
    '~',
    '$HOME',
    '*?|<>:"',
  ];
  const m = uniqueNames(names, '.ram');
  assert.equal(new Set(m.values()).size, new Set(names).size);
  for (const n of names) {
    const f = safeFileName(n, '.bin');
    assert.match(f, /^[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*$/, JSON.stringify(n));
    assert.ok(insideFolder('/tmp/out', f).startsWith('/tmp/out' + sep));
    assert.ok(insideFolder('/tmp/out', m.get(n)!).startsWith('/tmp/out' + sep));
  }
});
