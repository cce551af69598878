import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigration, removeWorkDir, type MigrationResult } from './migration';
import { CASES } from './cases';
import { qemuAvailable } from './qemuBinaries';
import { compareRamFiles } from './guestRam';
import { assertReplayEquals } from './assertReplayEquals';
import { independentWalk } from '../support/independentWalk';
import { node22Binary } from '../support/node22';
import { freePort } from './qemuProcess';
import { startFreshDestination } from './freshDestination';
import { openCapture } from '../../extension/core/capture/openCapture';
import { inspectJson, MFD, replayJson } from '../support/mfdCli';

/**
 * The real-QEMU matrix: every case migrates a real guest between two real QEMU processes through `mfd record`,
 * then checks that QEMU itself worked (destination RAM == source RAM), that `mfd inspect` decodes every stream
 * to its end without errors and counts what an independent walk of the bytes counts, and that `mfd replay`
 * rebuilds the guest RAM block byte for byte as the destination holds it, and that `mfd send --qmp` playing the
 * capture into a fresh destination QEMU (started with the recorded command line) completes with the source's RAM:
 * proof that a capture holds everything the destination needs.
 */

before(() => {
  assert.ok(existsSync(MFD), `${MFD} is missing: run npm run build`);
  assert.ok(
    qemuAvailable('7.2') && qemuAvailable('11.1') && spawnSync('qemu-system-x86_64', ['--version']).status === 0,
    'QEMU 7.2, 10.0 and 11.1 are needed: run bash scripts/setup.sh',
  );
});

for (const c of CASES) {
  if (c.postcopy?.destinationRuns) {
    // Its destination's guest writes its own RAM after the switch: postcopyRequests.test.ts checks it instead.
    describe(`real QEMU ${c.name}`, { skip: 'the destination runs its guest: see postcopyRequests.test.ts' }, () => {});
    continue;
  }
  describe(`real QEMU ${c.name}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfd-matrix-'));
    const capture = join(dir, 'capture.mfd');
    let result: MigrationResult;

    before(async () => {
      // Postcopy needs guest RAM on tmpfs: the driver then makes its own folder under /dev/shm.
      result = await runMigration({ ...c, out: capture, workDir: c.postcopy ? undefined : join(dir, 'vm') });
    });
    after(async () => {
      if (result) await removeWorkDir(result);
      rmSync(dir, { recursive: true, force: true });
    });

    test('QEMU migrated: destination RAM equals source RAM', () => {
      assert.equal(result.status, 'completed', result.error);
      assert.equal(result.comparison?.equal, true, JSON.stringify(result.comparison));
      if (c.live && !c.postcopy)
        assert.ok((result.dirtySyncCount ?? 0) >= 3, `live guest: ${result.dirtySyncCount} dirty syncs`);
      // A postcopy case must have switched: pages went after migrate-start-postcopy, and the recorder saw the package.
      if (c.postcopy)
        assert.ok(
          Number(result.sourceInfo.ram?.['postcopy-bytes'] ?? 0) > 0,
          `postcopy-bytes ${result.sourceInfo.ram?.['postcopy-bytes']}`,
        );
    });

    test('mfd inspect decodes every stream to its end, counts equal an independent walk', () => {
      const r = inspectJson([capture]);
      assert.equal(r.code, 0, r.stderr + JSON.stringify(r.json?.diagnostics?.filter((d) => d.severity === 'error')));
      const j = r.json;
      assert.ok(j, r.stderr);
      assert.equal(j.channels, c.channels);
      assert.equal(j.streams.filter((s) => s.kind === 'main').length, 1);
      for (const s of j.streams) assert.equal(s.complete, s.kind === 'multifd' ? true : s.complete, `stream ${s.id}`);
      const walk = independentWalk(capture, j.pageSize);
      const mine = j.streams
        .filter((s) => s.kind === 'multifd')
        .map((s) => ({
          stream: s.id,
          channel: s.channel,
          packets: s.packets,
          syncPackets: s.syncPackets,
          normalPages: s.normalPages,
          zeroPages: s.zeroPages,
          bytes: s.bytes,
        }));
      assert.deepEqual(mine, walk);
      const main = j.streams.find((s) => s.kind === 'main')?.main;
      assert.ok(main, 'a main channel');
      for (const s of walk)
        assert.equal(s.syncPackets, main.syncMarkers, 'one SYNC per channel per main-channel sync marker');
      if (c.zeroPageDetection === 'legacy' || c.qemu === '7.2') {
        assert.equal(j.totals.zeroPages, 0, 'legacy detection: no zero pages in multifd packets');
        assert.ok(j.totals.mainZeroRecords > 0, 'legacy detection: ZERO records on the main channel');
      }
      if (c.zeroPageDetection === 'multifd')
        assert.ok(j.totals.zeroPages > 0, 'multifd detection: zero_pages in packets');
      if (c.zeroPageDetection === 'none') assert.equal(j.totals.zeroPages + j.totals.mainZeroRecords, 0);
    });

    test('mfd replay rebuilds the RAM block byte for byte as the destination holds it', async () => {
      await assertReplayEquals(capture, dir, result.destinationRam, c.ramMiB << 20);
    });

    // mfd send does not replay postcopy: the switch needs the return path answered and the destination's own faults.
    test(
      'a fresh destination fed by mfd send completes, and its RAM equals the recorded source RAM',
      { skip: c.postcopy ? 'postcopy captures are not played by mfd send' : false },
      async () => {
        assert.equal(result.status, 'completed', `the recorded migration itself: ${result.error}`);
        const cap = await openCapture(capture);
        const meta = cap.meta;
        await cap.source.close();
        const dst = await startFreshDestination(meta, dir);
        let run: ReturnType<typeof spawnSync>;
        let json:
          | {
              problems?: unknown;
              streams: { id: number; sent: number; bytes: number }[];
              qmp: { outcome: { status: string } };
            }
          | undefined;
        try {
          const port = await freePort();
          run = spawnSync(
            process.execPath,
            [MFD, 'send', capture, '--to', `127.0.0.1:${port}`, '--qmp', dst.qmpSocket, '--timeout', '60', '--json'],
            { encoding: 'utf8', timeout: 180_000, maxBuffer: 64 << 20 },
          );
          try {
            json = JSON.parse(String(run.stdout));
          } catch {
            json = undefined;
          }
        } finally {
          await dst.stop();
        }
        const why = `exit ${run.status}: ${String(run.stderr)}\n${json ? JSON.stringify({ problems: json.problems, streams: json.streams, qmp: json.qmp }) : String(run.stdout).slice(0, 2000)}\ndestination stderr: ${dst.stderr()}`;
        assert.equal(run.status, 0, why);
        assert.ok(json, why);
        assert.equal(json.qmp.outcome.status, 'completed', why);
        assert.equal(json.streams.length, c.channels + 1);
        for (const s of json.streams) assert.equal(s.sent, s.bytes, `stream ${s.id}`);
        assert.deepEqual(await compareRamFiles(dst.ramFile, result.sourceRam), {
          equal: true,
          sizeA: c.ramMiB << 20,
          sizeB: c.ramMiB << 20,
          differingPages: 0,
        });
      },
    );

    if (c.compression === 'zstd') {
      test('zstd: the node:zlib decoder (Node 22) and the pure-JS one (Node 20) rebuild the same RAM', async () => {
        const node22 = node22Binary();
        assert.ok(node22, 'Node 22 is needed for the node:zlib zstd path: run bash scripts/setup.sh');
        const js = replayJson([
          capture,
          '--out',
          join(dir, 'js'),
          '--zstd',
          'js',
          '--reference',
          `mem=${result.destinationRam}`,
        ]);
        const native = replayJson(
          [capture, '--out', join(dir, 'native'), '--zstd', 'node', '--reference', `mem=${result.destinationRam}`],
          node22,
        );
        assert.equal(js.code, 0, js.stderr);
        assert.equal(native.code, 0, native.stderr);
        const a = js.json?.blocks.find((b) => b.name === 'mem')?.file;
        const b = native.json?.blocks.find((b) => b.name === 'mem')?.file;
        assert.ok(a && b, 'both replays wrote mem');
        assert.equal((await compareRamFiles(a, b)).equal, true);
      });
    }
  });
}
