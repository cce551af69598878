import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { node22Binary } from '../support/node22';

/**
 * The zstd receiver's unit tests again under Node 22, whose node:zlib has zstd (as desktop VS Code's extension
 * host has): on this project's Node 20 those cases skip, so without this run the node:zlib path and the
 * js/node agreement would only be covered by the real-QEMU matrix.
 */
const ROOT = resolve(__dirname, '..', '..');
const SUITE = 'extension/core/replay/receivers/zstdReceiver.test.ts';

test('zstd receiver tests pass under Node 22 with the node:zlib path, none skipped', () => {
  const node22 = node22Binary();
  assert.ok(node22, 'Node 22 is needed for the node:zlib zstd path (.tools/node22): run bash scripts/setup.sh');
  // Without NODE_TEST_CONTEXT the child runs as a test runner of its own, not as a subtest of this one.
  const env = { ...process.env, NODE_TEST_CONTEXT: undefined };
  const r = spawnSync(node22, ['--import', 'tsx', '--test', '--test-reporter=tap', SUITE], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 300_000,
  });
  const out = `${r.stdout}${r.stderr}`;
  assert.equal(r.status, 0, `${SUITE} under ${node22} failed:\n${out.slice(-4000)}`);
  assert.doesNotMatch(
    out,
    /# SKIP/,
    `${SUITE} skipped cases under Node 22:\n${out.match(/^.*# SKIP.*$/gm)?.join('\n')}`,
  );
  assert.match(out, /^# pass [1-9]/m, 'no test ran');
});
