import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestLayout, runMigration, removeWorkDir, type MigrationResult } from './migration';
import { CASES } from './cases';
import { qemuAvailable } from './qemuBinaries';
import { readGuestMarker } from './guestRam';
import { assertReplayEquals } from './assertReplayEquals';
import { GUEST_MARKER } from './bootSector';
import { differingPages, guestWriteSet } from './guestWrites';
import { inspectJson, MFD } from '../support/mfdCli';

/**
 * Postcopy with the destination's guest running after the switch (`cont` once the source is postcopy-active):
 * it faults on pages not received yet and requests them on the return path. Ground truth: the source is stopped
 * from the switch on, so its RAM holds every page as sent, and the destination's equals it except where the
 * destination's own guest wrote. Checks that QEMU did that, that `mfd inspect` lists every request QEMU counted
 * with the arrival and latency of each requested page, and that `mfd replay` rebuilds the source's RAM.
 */

before(() => {
  assert.ok(existsSync(MFD), `${MFD} is missing: run npm run build`);
  assert.ok(qemuAvailable('10.0') && qemuAvailable('11.1'), 'QEMU 10.0 and 11.1 are needed: run bash scripts/setup.sh');
});

for (const c of CASES.filter((x) => x.postcopy?.destinationRuns)) {
  describe(`real QEMU ${c.name}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfd-pcreq-'));
    const capture = join(dir, 'capture.mfd');
    let result: MigrationResult;

    before(async () => {
      result = await runMigration({ ...c, out: capture });
    });
    after(async () => {
      if (result) await removeWorkDir(result);
      rmSync(dir, { recursive: true, force: true });
    });

    test('QEMU switched to postcopy, the destination ran its guest and requested pages', async () => {
      assert.equal(result.status, 'completed', result.error);
      const ram = result.sourceInfo.ram ?? {};
      assert.ok(Number(ram['postcopy-bytes'] ?? 0) > 0, `postcopy-bytes ${ram['postcopy-bytes']}`);
      assert.ok(result.destinationStarted, 'cont was issued on the destination');
      assert.ok(Number(ram['postcopy-requests'] ?? 0) > 0, `postcopy-requests ${ram['postcopy-requests']}`);
      const marker = guestLayout(c.ramMiB).markerAddress;
      const [srcTick, dstTick] = await Promise.all([
        readGuestMarker(result.sourceRam, marker, GUEST_MARKER),
        readGuestMarker(result.destinationRam, marker, GUEST_MARKER),
      ]);
      assert.ok(
        srcTick !== undefined && dstTick !== undefined && dstTick > srcTick,
        `ticks: source ${srcTick}, destination ${dstTick}`,
      );
    });

    test('the destination differs from the source only in pages its own guest writes', async () => {
      const writes = guestWriteSet(c.ramMiB);
      const differing = await differingPages(result.sourceRam, result.destinationRam);
      assert.ok(differing.length > 0, 'the running destination wrote its own pages');
      const outside = differing.filter((p) => !writes.has(p)).map((p) => `0x${(p * 4096).toString(16)}`);
      assert.deepEqual(outside, [], `pages outside ${JSON.stringify(writes.parts)}`);
    });

    test('mfd inspect lists every request QEMU counted, each requested page with its arrival and latency', () => {
      const r = inspectJson([capture]);
      assert.equal(r.code, 0, r.stderr + JSON.stringify(r.json?.diagnostics?.filter((d) => d.severity === 'error')));
      const pr = r.json?.pageRequests;
      assert.ok(pr, 'a pageRequests report');
      assert.equal(pr.timed, true);
      // QEMU's source counts each request message it queued (postcopy-requests in query-migrate).
      assert.equal(pr.summary.requests, Number(result.sourceInfo.ram?.['postcopy-requests']));
      const s = pr.summary;
      // The migration completed: every page reached the destination, so none was left unanswered.
      assert.equal(s.unanswered, 0, JSON.stringify(s));
      assert.ok(s.answered > 0, JSON.stringify(s));
      assert.equal(s.answered + s.beforeRequest, s.pagesRequested);
      if (c.postcopy?.preempt) assert.ok(s.answeredVia.preempt > 0, `preempt on: ${JSON.stringify(s)}`);
      else assert.deepEqual(s.answeredVia, { main: s.answered, preempt: 0 });
      const main = r.json?.streams.find((x) => x.kind === 'main');
      // The preempt channel is decoded to its end, and carries at least the pages it answered.
      const preempt = r.json?.streams.filter((x) => x.kind === 'preempt') ?? [];
      assert.equal(preempt.length, c.postcopy?.preempt ? 1 : 0);
      assert.deepEqual(
        r.json?.streams.filter((x) => x.kind === 'unknown'),
        [],
      );
      for (const p of preempt) {
        assert.equal(p.complete, true, JSON.stringify(p.preempt));
        assert.equal(p.decodedBytes, p.bytes);
        assert.ok(p.normalPages + p.zeroPages >= s.answeredVia.preempt, JSON.stringify(p.preempt));
      }
      for (const q of pr.requests) {
        assert.equal(q.ramblock, 'mem');
        for (const p of q.pages) {
          if (p.status !== 'answered') continue;
          assert.ok(p.arrivalNs! >= q.timeNs!, `page 0x${p.offset.toString(16)} arrived before its request`);
          assert.equal(p.latencyMs, (p.arrivalNs! - q.timeNs!) / 1e6);
          assert.equal(p.via === 'main', p.streamId === main?.id);
        }
      }
      assert.ok(s.latency && s.latency.minMs <= s.latency.medianMs && s.latency.medianMs <= s.latency.p95Ms);
      assert.ok(s.latency.p95Ms <= s.latency.maxMs);

      const text = spawnSync(process.execPath, [MFD, 'inspect', capture], { encoding: 'utf8' });
      assert.match(
        text.stdout,
        new RegExp(
          `postcopy: ${s.requests} page request\\(s\\) for ${s.pagesRequested} page\\(s\\), ${s.answered} answered .*; latency min [0-9.]+ ms, median`,
        ),
      );
    });

    test('mfd replay rebuilds the source RAM byte for byte', async () => {
      await assertReplayEquals(capture, dir, result.sourceRam);
    });
  });
}
