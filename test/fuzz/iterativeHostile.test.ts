import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../extension/cli/mfd';
import type { CliIo } from '../../extension/cli/cliCommand';
import { checkInput } from './checkInput';
import { CORPUS_DIR } from './seeds';
import { ITERATIVE_SHAPES } from './iterativeShapes';

/** The iterative-section regressions of the corpus (dirty-bitmap, VFIO, an unknown iterative device) through the CLI. */

const dir = mkdtempSync(join(tmpdir(), 'mfd-iterative-hostile-'));
const file = (name: string) => join(CORPUS_DIR, 'regressions', `${name}.mfd`);

async function mfd(...argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (out += t), interactive: false };
  const code = await main(argv, io);
  return { code, out };
}

interface Diag {
  code: string;
  severity: string;
  message: string;
  location: { stream?: number; packet?: number; streamOffset?: number; fileOffset?: number };
}

interface Row {
  kind: string;
  start: number;
  idstr?: string;
  iterative?: { markers: { name: string; offset: number }[]; markerCount: number };
}

async function sections(name: string): Promise<{
  code: number;
  rows: Row[];
  complete: boolean;
  stoppedAt?: { streamOffset: number };
  ds: Diag[];
}> {
  const r = await mfd('sections', file(name), '--json');
  const j = JSON.parse(r.out);
  return { code: r.code, rows: j.mainChannel.rows, ...j.mainChannel, ds: j.diagnostics };
}

const only = (ds: Diag[], code: string) => {
  const hits = ds.filter((d) => d.code === code);
  assert.equal(hits.length, 1, `${code} once in ${JSON.stringify(ds.map((d) => d.code))}`);
  return hits[0];
};

test('the corpus holds every iterative shape as written by writeIterativeRegressions.ts', () => {
  for (const [name, make] of ITERATIVE_SHAPES)
    assert.deepEqual(
      readFileSync(file(name)),
      Buffer.from(make()),
      `${name}.mfd is stale: run node --import tsx test/fuzz/writeIterativeRegressions.ts`,
    );
});

test('every shape: an answer within bounds (no crash, no hang, bounded memory); every warning or error has its offsets', async () => {
  for (const [name] of ITERATIVE_SHAPES) {
    const s = await sections(name);
    assert.ok([0, 1].includes(s.code), `${name}: sections exit ${s.code}`);
    for (const d of s.ds.filter((x) => x.severity !== 'info' && x.code !== 'multifd.sync-marker-mismatch'))
      assert.ok(d.location.streamOffset !== undefined && d.location.fileOffset !== undefined, `${name}: ${d.code}`);
    const r = await checkInput(readFileSync(file(name)), {
      timeoutMs: 30_000,
      workDir: join(dir, name),
      maxRssGrowth: 256 << 20,
    });
    assert.equal(r.finding, undefined, `${name}: ${r.finding?.message}`);
  }
});

test('dirty-bitmap: a 2^63-byte buffer is refused at its buf_size; 250,000 chunks are walked to EOF and counted', async () => {
  let s = await sections('iterative-dirty-bitmap-huge-buffer');
  assert.equal(s.code, 1);
  const d = only(s.ds, 'main.dirty-bitmap');
  assert.match(d.message, /section "dirty-bitmap" \(id 2, END\): chunk 0 \(BITS\) declares a \d+-byte buffer/);
  const end = s.rows.find((r) => r.kind === 'END')!;
  assert.equal(d.location.streamOffset, end.start + 5 + 1 + 8 + 4);
  assert.equal(s.stoppedAt?.streamOffset, d.location.streamOffset);
  s = await sections('iterative-dirty-bitmap-many-chunks');
  assert.equal(s.code, 0, JSON.stringify(s.ds));
  assert.equal(s.complete, true);
  const it = s.rows.find((r) => r.idstr === 'dirty-bitmap')!.iterative!;
  assert.equal(it.markerCount, 250_002);
  assert.equal(it.markers.length, 256);
});

test('dirty-bitmap odd headers: warnings and an error at their offsets, EOF reached, no control character printed', async () => {
  const s = await sections('iterative-dirty-bitmap-odd-headers');
  assert.equal(s.complete, true);
  const ds = s.ds.filter((d) => d.code === 'main.dirty-bitmap');
  assert.deepEqual(
    ds.map((d) => d.severity),
    ['warning', 'warning', 'error'],
  );
  assert.match(ds[0].message, /4 flags bytes/);
  assert.match(ds[2].message, /bitmap flags 0xff with reserved bits/);
  const text = (await mfd('sections', file('iterative-dirty-bitmap-odd-headers'))).out;
  const control = [...text].filter((ch) => {
    const c = ch.charCodeAt(0);
    return (c < 0x20 && ch !== '\n' && ch !== '\t') || c === 0x7f || c === 0x202e;
  });
  assert.deepEqual(control, [], 'control characters escaped');
});

test('VFIO: a 2^64-byte DEV_DATA_STATE, an unknown marker, a config space not delimited; an unknown iterative section', async () => {
  let s = await sections('iterative-vfio-huge-data');
  assert.match(only(s.ds, 'main.truncated').message, /DEV_DATA_STATE/);
  s = await sections('iterative-vfio-unknown-marker');
  assert.equal(s.code, 1);
  const part = s.rows.find((r) => r.kind === 'PART')!;
  const u = only(s.ds, 'main.vfio');
  assert.equal(u.location.streamOffset, part.start + 5);
  assert.match(u.message, /0xffffffffef1000ff, no VFIO_MIG_FLAG_\*.*Unknown tag/);
  s = await sections('iterative-vfio-config-unended');
  const c = only(s.ds, 'main.vfio');
  assert.equal(c.severity, 'warning');
  assert.equal(s.complete, false);
  s = await sections('iterative-unknown-section');
  assert.equal(s.code, 1);
  assert.equal(only(s.ds, 'main.iterative-unknown').severity, 'error');
});

test('VFIO on multifd: each refused buffer is an error at its packet; billions of missing idx are counted', async () => {
  const r = await mfd('inspect', file('iterative-vfio-multifd-hostile'), '--json');
  assert.equal(r.code, 1);
  const ds = (JSON.parse(r.out).diagnostics as Diag[]).filter((d) => d.code === 'multifd.device-state.vfio');
  const says = (re: RegExp) =>
    assert.ok(
      ds.some((d) => re.test(d.message)),
      `${re} in ${ds.map((d) => d.message)}`,
    );
  says(/idx 0 again/);
  says(/unknown version 7/);
  says(/3-byte blob/);
  says(/packet index is invalid/);
  says(/4294967293 buffer\(s\) below the CONFIG_STATE buffer \(idx 4294967294\) never arrived \(idx 1, 2, .*, …\)/);
  says(/"0000:00:09.0\/vfio" instance 1: no buffer is flagged CONFIG_STATE/);
  assert.ok(ds.every((d) => d.location.stream === 1 && typeof d.location.packet === 'number'));
  const x = await mfd('extract', file('iterative-vfio-multifd-hostile'), '--out', join(dir, 'x'));
  assert.equal(x.code, 1);
});
