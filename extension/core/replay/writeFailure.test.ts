import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryByteSource } from '../capture/fileAccessor';
import { openCaptureFromSource } from '../capture/openCapture';
import { analyzeCapture } from '../analysis';
import { smallCapture } from '../../../test/support/smallCapture';
import { replayCapture } from './replay';
import { INCOMPLETE_MARKER, LOCK_FILE } from './outputFolder';

// The same contract as the tmpfs test in extension/cli/replayOutput.test.ts, for machines that cannot mount:
// the file layer's write fails with ENOSPC after a few pages.
test('an image write that fails (ENOSPC, injected in the file layer) stops the replay: incomplete, the file named, the marker left', async () => {
  const a = await analyzeCapture(await openCaptureFromSource(new MemoryByteSource(await smallCapture(256))));
  const out = join(mkdtempSync(join(tmpdir(), 'mfd-enospc-')), 'out');
  const real = fs.writeSync;
  let writes = 0;
  (fs as { writeSync: unknown }).writeSync = (...args: Parameters<typeof fs.writeSync>) => {
    const [fd] = args;
    const path = fs.readlinkSync(`/proc/self/fd/${fd}`);
    if (path.endsWith('.ram') && ++writes > 2)
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    return (real as (...a: unknown[]) => number)(...args);
  };
  let r;
  try {
    r = await replayCapture(a, { outDir: out, workers: false });
  } finally {
    (fs as { writeSync: unknown }).writeSync = real;
  }
  assert.equal(r.complete, false);
  const d = r.diagnostics.find((x) => x.code === 'replay.write-failed');
  assert.ok(d, r.diagnostics.map((x) => x.code).join(', '));
  assert.match(d.message, /cannot write .*pc\.ram\.ram: ENOSPC/);
  assert.ok(existsSync(join(out, INCOMPLETE_MARKER)));
  assert.equal(existsSync(join(out, LOCK_FILE)), false);
});
