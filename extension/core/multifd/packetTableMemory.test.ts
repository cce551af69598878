import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

function indexMemory(packets: number): { rows: number; bytes: number } {
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      join(__dirname, '..', '..', '..', 'test', 'bench', 'indexMemory.ts'),
      'multifd',
      String(packets),
    ],
    { encoding: 'utf8', timeout: 180_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as { rows: number; bytesPerRow: number };
  return { rows: m.rows, bytes: m.bytesPerRow * m.rows };
}

test('index memory per multifd packet (tables, schedule and lints; the cost of 50,000 more packets): under 64 bytes', () => {
  // The difference of two sizes: fixed costs (read-ahead windows, code) cancel out.
  const small = indexMemory(25_000);
  const large = indexMemory(75_000);
  const perPacket = (large.bytes - small.bytes) / (large.rows - small.rows);
  assert.ok(perPacket < 64, `${perPacket.toFixed(1)} bytes a packet`);
});
