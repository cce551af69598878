import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

test('index memory per multifd packet (tables, schedule and lints, 50,000 packets): under 75 bytes', () => {
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      join(__dirname, '..', '..', '..', 'test', 'bench', 'indexMemory.ts'),
      'multifd',
      '50000',
    ],
    { encoding: 'utf8', timeout: 180_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as { rows: number; bytesPerRow: number };
  assert.ok(m.rows >= 50_000);
  assert.ok(m.bytesPerRow < 75, `${m.bytesPerRow.toFixed(1)} bytes a packet`);
});
