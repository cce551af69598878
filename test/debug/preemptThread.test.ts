// The replay debugger on a synthetic postcopy-preempt capture: the preempt channel is a thread of its own, and
// stepping across the switch stops on it at its records, in the order the destination received them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DapHarness } from './dapHarness';
import { threadIdOf } from '../../extension/debug/replayPresentation';
import { preemptCapture } from '../support/preemptCapture';

test('the preempt channel is its own thread; next steps from the main channel to it across the switch', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mfd-preempt-dap-'));
  const capture = join(dir, 'c.mfd');
  writeFileSync(capture, preemptCapture());
  const h = new DapHarness();
  await h.start();
  try {
    await h.launch({ capture, stopOnEntry: true });
    const threads = await h.dc.threadsRequest();
    assert.deepEqual(
      threads.body.threads.map((t) => [t.id, t.name]),
      [
        [threadIdOf(0), 'main channel (stream 0)'],
        [threadIdOf(1), 'postcopy preempt channel (stream 1)'],
      ],
    );
    // Precopy: pages 0 and 1 on the main channel; then the preempt channel's page 3 (5 ms) and ZERO page 1 (6 ms)
    // come before the main channel's postcopy page 2 (10 ms).
    const stops: [number, string][] = [];
    for (let k = 0; k < 5; k++) {
      const s = await h.move('next');
      const v = await h.inspect(s.body.threadId);
      stops.push([s.body.threadId, v.frames[0]]);
    }
    assert.deepEqual(stops, [
      [threadIdOf(0), 'PAGE record 2 · pc.ram:0x0'],
      [threadIdOf(0), 'PAGE record 3 · pc.ram:0x1000'],
      [threadIdOf(1), 'PAGE record 0 · pc.ram:0x3000'],
      [threadIdOf(1), 'ZERO record 1 · pc.ram:0x1000'],
      [threadIdOf(0), 'PAGE record 5 · pc.ram:0x2000'],
    ]);
  } finally {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
