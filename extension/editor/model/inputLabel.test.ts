import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inputLabel, migrationLabel } from './inputLabel';

test('the summary bar names the input kind in a few words', () => {
  assert.equal(
    inputLabel({ format: 'pcap', input: { kind: 'pcap', description: '', notes: [] } }),
    'tcpdump capture (pcap)',
  );
  assert.equal(
    inputLabel({ format: 'pcapng', input: { kind: 'pcap', description: '', notes: [] } }),
    'tcpdump capture (pcapng)',
  );
  assert.equal(inputLabel({ format: 'mfd', input: { kind: 'mfd', description: '', notes: [] } }), '.mfd capture');
  assert.equal(
    inputLabel({
      format: 'raw-main',
      input: {
        kind: 'compressed-stream',
        description: '',
        notes: [],
        compression: { kind: 'zstd', compressedBytes: 1, decompressedBytes: 2, decoder: 'x', tempDir: '/tmp' },
      },
    }),
    'exec: output (zstd)',
  );
  assert.equal(
    inputLabel({ format: 'raw-main', input: { kind: 'mapped-ram', description: '', notes: [] } }),
    'mapped-ram image',
  );
  assert.equal(
    inputLabel({ format: 'raw-main', input: { kind: 'something-new', description: '', notes: [] } }),
    'something-new',
  );
});

test('the migration shown is named only when the file holds several', () => {
  const migrations = [
    { index: 1, server: '127.0.0.1:4444', startTime: '2023-11-14T22:13:20.000Z', connections: 3, bytes: 10 },
    { index: 2, server: '127.0.0.1:5555', startTime: '2023-11-14T22:14:20.000Z', connections: 1, bytes: 5 },
  ];
  assert.equal(
    migrationLabel({ pcap: { migrations, chosen: { index: 2, server: '127.0.0.1:5555' } } }),
    '2 of 2: to 127.0.0.1:5555, started 2023-11-14T22:14:20.000Z, 1 connection',
  );
  assert.equal(
    migrationLabel({ pcap: { migrations: migrations.slice(0, 1), chosen: { index: 1, server: '127.0.0.1:4444' } } }),
    undefined,
  );
  assert.equal(migrationLabel({}), undefined);
});
