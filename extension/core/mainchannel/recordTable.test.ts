import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MainRecordKind, MainRecordTable } from './recordTable';
import { LIMITS } from './constants';
import { MemoryByteSource } from '../capture/fileAccessor';
import { openCaptureFromSource } from '../capture/openCapture';
import { analyzeCapture } from '../analysis';
import { replayCapture } from '../replay/replay';

const PS = 4096;

test('main-channel record table: a few bytes a record, exact values back', () => {
  const t = new MainRecordTable();
  const n = 1_000_000;
  t.push(MainRecordKind.MemSize, -1, 64 * 2 ** 30 + 7, 100, -1, 0);
  let pos = 200;
  for (let i = 1; i < n; i++) {
    const page = i % 3 === 0;
    t.push(page ? MainRecordKind.Page : MainRecordKind.Zero, 0, i * PS, pos, page ? pos + 8 : -1, 1);
    pos += page ? 8 + PS : 9;
  }
  t.push(MainRecordKind.Eos, -1, 0, pos + 2 ** 33, -1, 2);
  t.assignEpochs(MainRecordKind.Eos);
  assert.ok(t.bytes / t.length < 12, `${(t.bytes / t.length).toFixed(1)} bytes a record`);
  assert.deepEqual(t.row(0), {
    kind: MainRecordKind.MemSize,
    block: -1,
    offset: 64 * 2 ** 30 + 7,
    streamPos: 100,
    dataPos: -1,
    epoch: 0,
    section: 0,
  });
  const r = t.row(999_999);
  assert.deepEqual(
    [r.kind, r.block, r.offset, r.dataPos - r.streamPos, r.section],
    [MainRecordKind.Page, 0, 999_999 * PS, 8, 1],
  );
  assert.deepEqual(t.row(n), {
    kind: MainRecordKind.Eos,
    block: -1,
    offset: 0,
    streamPos: pos + 2 ** 33,
    dataPos: -1,
    epoch: 0,
    section: 2,
  });
});

test('the record cap is beyond any real guest: a 128 GiB guest sends 2^25 records a pass', () => {
  assert.ok(LIMITS.maxRecords >= 2 ** 25 * 32, `cap ${LIMITS.maxRecords}`);
});

test('a legacy zero-page capture of 1,000,000 records: the whole analysis holds about 25 bytes a record', () => {
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      join(__dirname, '..', '..', '..', 'test', 'bench', 'indexMemory.ts'),
      'main',
      '1000000',
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as { rows: number; bytesPerRow: number };
  assert.ok(m.rows >= 1_000_000);
  assert.ok(m.bytesPerRow < 36, `${m.bytesPerRow.toFixed(1)} bytes a record`);
});

test('replay of a capture whose index stopped at the record limit is an error (exit 1), not a warning', async () => {
  const { legacyZeroCapture } = await import('../../../test/bench/indexMemory');
  const a = await analyzeCapture(await openCaptureFromSource(new MemoryByteSource(legacyZeroCapture(100))));
  // What the indexer reports when it reaches maxRecords (hostileInput.test.ts checks that it does).
  a.diagnostics.push({
    code: 'main.record-limit',
    severity: 'warning',
    message: 'more than 50 RAM records',
    location: { stream: 0 },
  } as (typeof a.diagnostics)[number]);
  const r = await replayCapture(a, {
    outDir: join(mkdtempSync(join(tmpdir(), 'mfd-reclimit-')), 'out'),
    workers: false,
  });
  const d = r.diagnostics.find((x) => x.code === 'replay.incomplete-index');
  assert.ok(d, r.diagnostics.map((x) => x.code).join(', '));
  assert.equal(d.severity, 'error');
});
