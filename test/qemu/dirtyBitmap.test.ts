import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runMigration, removeWorkDir, type MigrationOptions, type MigrationResult } from './migration';
import { qemuAvailable } from './qemuBinaries';
import { compareRamFiles } from './guestRam';
import { mfdJson, replayJson } from '../support/mfdCli';
import { analyzeCaptureFile } from '../../extension/core/analysis';
import type { Diagnostic } from '../../extension/core/diagnostics/diagnostic';
import type { SectionList, SectionListRow } from '../../extension/core/mainchannel/sectionList';
import type { IterativeMarker } from '../../extension/core/mainchannel/iterativeSection';
import { QEMU_VM_COMMAND } from '../../extension/core/mainchannel/constants';

/**
 * A real migration with capability `dirty-bitmaps` on both sides and a block node carrying a dirty bitmap with
 * some bits set: the dirty-bitmap section (START at setup, a PART per iteration of the paused VM, END with the
 * bitmap's bits, COMPLETE and EOS) is walked to EOF and the VM description with no error; the bits it carries
 * are the destination's bitmap (query-named-block-nodes' count after the migration); replay still gives the
 * destination's RAM. QEMU's own analyze-migration.py cannot read such a stream at all (it knows no
 * "dirty-bitmap" section: a KeyError on its section table), which the last test records.
 */

const ROOT = resolve(__dirname, '..', '..');
const ANALYZE = join(ROOT, '.qemu', 'src', 'analyze-migration.py');
const NODE = 'disk0';
const BITMAP = 'bitmap0';
const SIZE_MIB = 1024;
const GRANULARITY = 65536;
/** Two ranges, one in each 512 MiB chunk of the bulk phase (CHUNK_SIZE × 8 bits of 64 KiB). */
const WRITES = [
  { offset: 0, length: 64 << 10 },
  { offset: 600 << 20, length: 1 << 20 },
];

const CASES: (Omit<MigrationOptions, 'out'> & { name: string })[] = (
  [
    { name: '10.0', qemu: '10.0', channels: 2, compression: 'none', ramMiB: 32, live: false },
    { name: '11.1', qemu: '11.1', channels: 2, compression: 'zstd', ramMiB: 32, live: false },
  ] as const
).map((c) => ({
  ...c,
  name: `${c.name} multifd ${c.compression}, dirty bitmap "${BITMAP}" on node "${NODE}"`,
  capabilities: ['dirty-bitmaps'],
  dirtyBitmap: { node: NODE, sizeMiB: SIZE_MIB, bitmap: BITMAP, granularity: GRANULARITY, writes: WRITES },
}));

interface SectionsJson {
  mainChannel: SectionList;
  diagnosticCounts: { error: number; warning: number; info: number };
  diagnostics: Diagnostic[];
}

function popcount(b: Uint8Array): number {
  let n = 0;
  for (let x of b) for (; x; x &= x - 1) n++;
  return n;
}

before(() => {
  assert.ok(
    qemuAvailable('11.1') && spawnSync('qemu-system-x86_64', ['--version']).status === 0,
    'run scripts/setup.sh',
  );
});

for (const c of CASES) {
  describe(`dirty-bitmap section, real QEMU ${c.name}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfd-dbm-'));
    const capture = join(dir, 'capture.mfd');
    let result: MigrationResult;
    let sections: SectionsJson;
    const rows = (kind: string) =>
      sections.mainChannel.rows.filter((r: SectionListRow) => r.kind === kind && r.idstr === 'dirty-bitmap');

    before(async () => {
      result = await runMigration({ ...c, out: capture, workDir: join(dir, 'vm') });
      assert.equal(result.status, 'completed', result.error);
      const r = mfdJson<SectionsJson>(['sections', capture]);
      assert.ok(r.json, r.stderr);
      sections = r.json;
      assert.equal(r.code, 0, JSON.stringify(sections.diagnostics));
    });
    after(async () => {
      if (result) await removeWorkDir(result);
      rmSync(dir, { recursive: true, force: true });
    });

    test('the destination holds the bitmap with the bits the source had', () => {
      const bm = result.dirtyBitmaps!;
      assert.equal(bm.source.length, 1);
      assert.ok(bm.source[0].count >= WRITES.reduce((n, w) => n + w.length, 0), JSON.stringify(bm));
      assert.deepEqual(bm.destination, bm.source);
    });

    test('mfd sections walks to EOF and the VM description with no error and lists the dirty-bitmap chunks', () => {
      const list = sections.mainChannel;
      assert.equal(list.complete, true);
      assert.equal(list.rows.at(-1)!.kind, 'VMDESCRIPTION');
      assert.equal(list.rows.at(-2)!.kind, 'EOF');
      assert.equal(list.rows.length, list.recordCount);
      assert.equal(sections.diagnosticCounts.error, 0, JSON.stringify(sections.diagnostics));
      assert.ok(
        !sections.diagnostics.some((d) => /dirty-bitmap|iterative|device-state/.test(d.code)),
        JSON.stringify(sections.diagnostics),
      );
      const [start] = rows('START');
      assert.equal(start.instanceId, 0);
      assert.equal(start.versionId, 1);
      const names = (r: SectionListRow) => r.iterative!.markers.map((m: IterativeMarker) => m.name);
      assert.deepEqual(names(start), ['START', 'EOS']);
      const s = start.iterative!.markers[0].fields;
      assert.equal(s.node_alias, NODE);
      assert.equal(s.bitmap_alias, BITMAP);
      assert.equal(s.granularity, GRANULARITY);
      assert.equal(s.bitmap_flags, 1, 'enabled, not persistent');
      // The VM is paused, so the bitmap iterates with each RAM iteration (how many QEMU makes varies), each time
      // with EOS alone.
      const parts = rows('PART');
      assert.ok(
        parts.every((p) => names(p).join() === 'EOS'),
        `${parts.length} PART sections`,
      );
      const [end] = rows('END');
      const endNames = names(end);
      assert.deepEqual(endNames.slice(-2), ['COMPLETE', 'EOS']);
      const bits = end.iterative!.markers.filter((m: IterativeMarker) => m.name.startsWith('BITS'));
      assert.equal(
        bits.reduce((n: number, m: IterativeMarker) => n + Number(m.fields.nr_sectors), 0),
        (SIZE_MIB << 20) / 512,
        'the BITS chunks cover the whole node',
      );
      assert.ok(bits.every((m: IterativeMarker) => m.fields.node === NODE && m.fields.bitmap === BITMAP));
      assert.equal(end.body!.end, end.iterative!.markers.at(-1)!.end);
      console.log(
        `${c.name}: START ${names(start).join(', ')}; ${parts.length} PART; END ${endNames.join(', ')}; ${list.rows.length} records`,
      );
    });

    test("the bits the END's chunks carry are the destination's dirty bytes", async () => {
      const [end] = rows('END');
      const analysis = await analyzeCaptureFile(capture);
      let set = 0;
      try {
        const main = analysis.streams.find((x) => x.id === analysis.main?.streamId)!;
        for (const m of end.iterative!.markers) {
          if (m.name !== 'BITS') continue;
          const size = Number(m.fields.buf_size);
          set += popcount(await main.stream.toDestination.read(m.end - size, m.end));
        }
      } finally {
        await analysis.capture.source.close();
      }
      assert.equal(set * GRANULARITY, result.dirtyBitmaps!.destination[0].count);
    });

    test("mfd replay still gives the destination QEMU's RAM", () => {
      const out = join(dir, 'replay');
      const r = replayJson([capture, '--out', out, '--reference', `mem=${result.destinationRam}`]);
      assert.equal(r.code, 0, r.stderr + JSON.stringify(r.json?.diagnostics));
      assert.equal(r.json!.compare![0].mismatchedPages, 0);
    });

    test("mfd extract: exit 0 with no problem, the dirty-bitmap section is no device of state.json, the RAM image is the destination's", async () => {
      const out = join(dir, 'extract');
      const r = mfdJson<{ problems: string[]; sections: string[] }>(['extract', capture, '--out', out]);
      assert.equal(r.code, 0, r.stderr + JSON.stringify(r.json?.problems));
      assert.deepEqual(r.json!.problems, []);
      assert.ok(r.json!.sections.includes('ram (1)'));
      assert.ok(!r.json!.sections.some((k) => k.startsWith('dirty-bitmap')), r.json!.sections.join(', '));
      const cmp = await compareRamFiles(join(out, 'mem.ram'), result.destinationRam);
      assert.equal(cmp.equal, true, JSON.stringify(cmp));
    });

    test('analyze-migration.py cannot read it: it has no reader for the dirty-bitmap section', async () => {
      assert.ok(existsSync(ANALYZE), `${ANALYZE} is missing: run bash scripts/setup.sh`);
      // Its input without the commands it refuses anyway (POSTCOPY_ADVISE: dirty-bitmaps migrate in postcopy too).
      const analysis = await analyzeCaptureFile(capture);
      const main = analysis.streams.find((x) => x.id === analysis.main?.streamId)!;
      const bytes = await main.stream.toDestination.read(0, main.stream.toDestination.length);
      const keep: Uint8Array[] = [];
      let from = 0;
      for (const e of analysis.main!.sections) {
        if (e.type !== QEMU_VM_COMMAND) continue;
        keep.push(bytes.subarray(from, e.streamOffset));
        from = e.streamOffset + 5 + ((bytes[e.streamOffset + 3] << 8) | bytes[e.streamOffset + 4]);
      }
      keep.push(bytes.subarray(from));
      await analysis.capture.source.close();
      writeFileSync(join(dir, 'main.bin'), Buffer.concat(keep));
      const py = spawnSync('python3', [ANALYZE, '-f', join(dir, 'main.bin'), '-x'], {
        cwd: dir,
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      });
      assert.notEqual(py.status, 0);
      assert.match(py.stderr, /KeyError: \('dirty-bitmap', 0\)/);
    });
  });
}
