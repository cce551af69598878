import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCaptureFile } from '../../core/analysis';
import { CaptureModel } from './captureModel';
import { POSTCOPY_REQUESTS_EXPECTED, postcopyRequestsCapture } from '../../../test/support/postcopyRequestsCapture';

test("the summary carries the postcopy page requests' figures, as mfd inspect computes them", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mfd-summary-'));
  const path = join(dir, 'c.mfd');
  writeFileSync(path, postcopyRequestsCapture());
  const a = await analyzeCaptureFile(path);
  try {
    const s = (await CaptureModel.load(a)).summary(true).pageRequests;
    const e = POSTCOPY_REQUESTS_EXPECTED;
    assert.ok(s);
    assert.deepEqual(
      [
        s.requests,
        s.pagesRequested,
        s.answered,
        s.answeredViaMain,
        s.answeredViaPreempt,
        s.beforeRequest,
        s.unanswered,
      ],
      [e.requests, e.pagesRequested, e.answered, e.answered, 0, e.beforeRequest, e.unanswered],
    );
    assert.equal(s.timed, true);
    assert.ok(s.latency && Math.abs(s.latency.medianMs - e.latency.medianMs) < 1e-9);
    // A model built without load (multifd packets only) reads no return path: no figures rather than wrong ones.
    assert.equal(new CaptureModel(a).summary(true).pageRequests, undefined);
  } finally {
    await a.capture.source.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the summary shows what the capture recorded: QEMU builds, machine type, capabilities, parameters', async () => {
  const root = join(__dirname, '..', '..', '..');
  const a = await analyzeCaptureFile(join(root, 'samples', 'qemu10-zstd-multifd-zero.mfd'));
  try {
    const s = new CaptureModel(a).summary(true);
    // The recorder asked both QEMUs: 10.0.2, not the "≥ 10.0" the bytes alone allow.
    assert.equal(s.qemuVersion, '10.0.2');
    assert.match(s.setup.source?.package ?? '', /^Debian 1:10\.0\.2/);
    assert.deepEqual(s.setup.capabilities, ['multifd']);
    assert.equal(s.setup.capabilitiesFrom, 'recorder');
    const params = new Map(s.setup.parameters);
    assert.equal(params.get('multifd-channels'), '2');
    assert.equal(params.get('multifd-compression'), 'zstd');
    assert.equal(params.get('zero-page-detection'), 'multifd');
  } finally {
    await a.capture.source.close();
  }
});
