import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSize, formatTime, hexDumpLines, pageMapGeometry } from './format';

test('hex dump lines', () => {
  const b = new Uint8Array(20).map((_, i) => (i === 0 ? 0x41 : i));
  const lines = hexDumpLines(b, 0x140);
  assert.equal(lines.length, 2);
  assert.equal(lines[0], '00000140  41 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  A...............');
  assert.ok(lines[1].startsWith('00000150  10 11 12 13 '));
  assert.ok(lines[1].endsWith(' ....'));
});

test('sizes and times', () => {
  assert.equal(formatSize(512), '512 B');
  assert.equal(formatSize(4096), '4.0 KiB');
  assert.equal(formatSize(256 << 20), '256 MiB');
  assert.equal(formatTime(1_500_000), '0.001500');
});

test('page map geometry fits width and keeps every page addressable', () => {
  for (const pages of [1, 100, 65536, 1 << 20]) {
    const g = pageMapGeometry(pages, 400);
    assert.ok(g.cols * g.cell <= 400);
    assert.ok(g.cell >= 1);
    if (pages <= 65536) assert.ok(g.cols * g.rows >= pages, `${pages}`);
  }
});
