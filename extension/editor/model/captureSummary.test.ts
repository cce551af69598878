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
