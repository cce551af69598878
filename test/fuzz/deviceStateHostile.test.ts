import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../extension/cli/mfd';
import type { CliIo } from '../../extension/cli/cliCommand';
import { checkInput } from './checkInput';
import { CORPUS_DIR } from './seeds';
import { DEVICE_STATE_SHAPES } from './deviceStateShapes';

/** The device-state regressions of the corpus through mfd sections, devices and extract: an answer, offsets, bounded memory. */

const dir = mkdtempSync(join(tmpdir(), 'mfd-devstate-hostile-'));
const file = (name: string) => join(CORPUS_DIR, 'regressions', `${name}.mfd`);

async function mfd(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), interactive: false };
  const code = await main(argv, io);
  return { code, out, err };
}

interface Diag {
  code: string;
  severity: string;
  message: string;
  location: { streamOffset?: number; fileOffset?: number };
}

async function sections(name: string): Promise<{
  code: number;
  j: {
    mainChannel: { rows: { kind: string }[]; complete: boolean; stoppedAt?: { streamOffset: number } };
    diagnostics: Diag[];
  };
}> {
  const r = await mfd('sections', file(name), '--json');
  return { code: r.code, j: JSON.parse(r.out) };
}

test('the corpus holds every device-state shape as written by writeDeviceStateRegressions.ts', () => {
  for (const [name, make] of DEVICE_STATE_SHAPES)
    assert.deepEqual(
      readFileSync(file(name)),
      Buffer.from(make()),
      `${name}.mfd is stale: run node --import tsx test/fuzz/writeDeviceStateRegressions.ts`,
    );
});

test('every shape: sections, devices and extract answer (exit 0, 1 or 2, never a crash); every warning or error names its stream and file offset', async () => {
  for (const [name] of DEVICE_STATE_SHAPES) {
    const s = await sections(name);
    assert.ok([0, 1].includes(s.code), `${name}: sections exit ${s.code}`);
    for (const d of s.j.diagnostics.filter((x) => x.severity !== 'info'))
      assert.ok(
        d.location.streamOffset !== undefined && d.location.fileOffset !== undefined,
        `${name}: ${d.code} without offsets`,
      );
    assert.ok([0, 1].includes((await mfd('devices', file(name))).code), `${name}: devices`);
    const x = await mfd('extract', file(name), '--out', join(dir, name));
    assert.ok([0, 1].includes(x.code), `${name}: extract exit ${x.code}: ${x.err}`);
    assert.ok(existsSync(join(dir, name, 'state.json')), `${name}: state.json written`);
  }
});

test('a description that lies about sizes: both sections named with both offsets, the walk reaches EOF', async () => {
  const s = await sections('vmstate-description-lies-about-sizes');
  assert.equal(s.code, 1);
  const m = s.j.diagnostics.filter((d) => d.code === 'main.device-mismatch').map((d) => d.message);
  assert.ok(
    m.some((x) =>
      /"short".*not at \d+, where the description of "short" ends; the footer is at \d+ \(2 byte\(s\) further\)/.test(
        x,
      ),
    ),
    m.join('\n'),
  );
  assert.ok(
    m.some((x) => /"long".*1048576 byte\(s\) wanted at \d+/.test(x)),
    m.join('\n'),
  );
  assert.equal(s.j.mainChannel.complete, true);
});

test('nested PACKAGED: a warning at the inner command; the device inside is decoded', async () => {
  const s = await sections('vmstate-nested-packaged');
  assert.ok(s.j.diagnostics.some((d) => d.code === 'main.bad-section' && /PACKAGED inside PACKAGED/.test(d.message)));
  assert.equal(s.j.mainChannel.complete, true);
  const d = JSON.parse((await mfd('devices', file('vmstate-nested-packaged'), '--json')).out);
  assert.deepEqual(
    d.devices.map((x: { key: string }) => x.key),
    ['dev (3)'],
  );
});

test('a 4 GiB PACKAGED length: main.package-truncated at the command, the rest skipped to the end', async () => {
  const s = await sections('vmstate-packaged-4gib');
  const t = s.j.diagnostics.find((d) => d.code === 'main.package-truncated');
  assert.match(t?.message ?? '', /PACKAGED declares 4294967295 bytes; 23 are present/);
  const row = s.j.mainChannel.rows.find((r) => r.kind === 'COMMAND') as unknown as {
    start: number;
    command: { arguments: { packageLength: number } };
  };
  assert.equal(t?.location.streamOffset, row.start);
  assert.equal(row.command.arguments.packageLength, 0xffffffff);
});

test('deep nesting and a description that is not JSON: said where, device state not decoded, extract writes no desc.json', async () => {
  const deep = await sections('vmstate-deep-nesting');
  assert.ok(
    deep.j.diagnostics.some(
      (d) =>
        d.code === 'main.vmdesc-invalid' &&
        /nested deeper than 64 levels/.test(d.message) &&
        d.location.streamOffset !== undefined,
    ),
  );
  const x = await mfd('extract', file('vmstate-deep-nesting'), '--out', join(dir, 'deep2'));
  assert.equal(x.code, 1);
  assert.match(x.out, /desc\.json not written: the VM description is nested too deeply to re-encode/);
  const bad = await sections('vmstate-description-not-json');
  assert.ok(bad.j.diagnostics.some((d) => d.code === 'main.vmdesc' && /does not parse/.test(d.message)));
  assert.equal(
    bad.j.mainChannel.stoppedAt?.streamOffset,
    bad.j.mainChannel.rows.find((r) => r.kind === 'FULL') &&
      (bad.j.mainChannel.rows.find((r) => r.kind === 'FULL') as unknown as { start: number }).start,
  );
});

test('10^6 fields: delimited without keeping them, decoding for display stops at 100,000 with the offset; RSS stays bounded', async () => {
  const before = process.memoryUsage.rss();
  const s = await sections('vmstate-million-fields');
  assert.equal(s.code, 0, JSON.stringify(s.j.diagnostics));
  assert.equal(s.j.mainChannel.complete, true);
  const d = JSON.parse((await mfd('devices', file('vmstate-million-fields'), '--json')).out).devices[0];
  assert.equal(d.fields.length, 100_000);
  assert.match(d.problems[0].message, /more than 100000 fields in one section; decoding stops at \d+/);
  assert.equal(d.fields[99_999].value, 0x81);
  const growth = process.memoryUsage.rss() - before;
  assert.ok(growth < 400 << 20, `RSS grew ${(growth / 2 ** 20).toFixed(0)} MiB`);
  const r = await checkInput(readFileSync(file('vmstate-million-fields')), {
    timeoutMs: 30_000,
    workDir: dir,
    maxRssGrowth: 256 << 20,
  });
  assert.equal(r.finding, undefined, r.finding?.message);
});
