import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCaptureFile } from '../analysis';
import { buildCaptureReport } from '../captureReport';
import { readPageRequests } from './pageRequestsOfCapture';
import { pageRequestsLine } from './pageRequestsText';
import {
  PC_PS,
  POSTCOPY_REQUESTS_EXPECTED,
  postcopyRequestsCapture,
} from '../../../test/support/postcopyRequestsCapture';
import { mainChannelCapture } from '../../../test/support/mainChannelCapture';

async function withCapture<T>(bytes: Uint8Array, f: (path: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'mfd-pcreq-'));
  try {
    const path = join(dir, 'c.mfd');
    writeFileSync(path, bytes);
    return await f(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('page requests of a capture', () => {
  it('matches each request to the main channel record after the switch, with capture times', async () => {
    await withCapture(postcopyRequestsCapture(), async (path) => {
      const a = await analyzeCaptureFile(path);
      try {
        const r = await readPageRequests(a);
        assert.ok(r);
        const { latency, ...counts } = r.summary;
        const { latency: expectedLatency, ...expectedCounts } = POSTCOPY_REQUESTS_EXPECTED;
        assert.deepEqual(counts, { ...expectedCounts, answeredVia: { main: 2, preempt: 0 } });
        assert.ok(latency);
        for (const k of Object.keys(expectedLatency) as (keyof typeof expectedLatency)[])
          assert.ok(Math.abs(latency[k] - expectedLatency[k]) < 1e-9, `${k}: ${latency[k]}`);
        assert.deepEqual(
          r.requests.map((q) => [q.ramblock, q.start / PC_PS, q.pages[0].status, q.pages[0].via]),
          [
            ['pc.ram', 3, 'answered', 'main'],
            ['pc.ram', 5, 'answered', 'main'],
            ['pc.ram', 0, 'unanswered', undefined],
            ['pc.ram', 6, 'before-request', 'main'],
          ],
        );
        // The report carries the list; the line its figures.
        const report = buildCaptureReport(a, { pageRequests: r });
        assert.equal(report.pageRequests?.requests.length, 4);
        assert.equal(
          pageRequestsLine(r),
          'postcopy: 4 page request(s) for 4 page(s), 2 answered (2 on the main channel, 0 on the preempt channel), ' +
            '1 already on their way when requested, 1 never answered; latency min 4.00 ms, median 6.00 ms, p95 8.00 ms, max 8.00 ms',
        );
      } finally {
        await a.capture.source.close();
      }
    });
  });

  it('a return path without page requests gives none, and the report no pageRequests', async () => {
    await withCapture(mainChannelCapture().bytes, async (path) => {
      const a = await analyzeCaptureFile(path);
      try {
        assert.equal(await readPageRequests(a), undefined);
        assert.equal('pageRequests' in buildCaptureReport(a), false);
      } finally {
        await a.capture.source.close();
      }
    });
  });
});
