import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, sep } from 'node:path';
import { insideFolder, safeFileName, uniqueNames } from './safeFileName';

test('names from a capture become one harmless path component', () => {
  const hostile = [
    '../../x',
    '/etc/passwd',
    'a\u0000b',
    'tab\there',
    '..',
    '.',
    '',
    '/rom@etc/acpi/tables',
    'pc.ram',
    '<img src=x onerror=alert(1)>',
    'x'.repeat(500),
    '\u001b[31mred',
  ];
  for (const n of hostile) {
    const f = safeFileName(n, '.ram');
    assert.ok(!f.includes('/') && !f.includes('\\') && !f.includes('\u0000'), f);
    assert.ok(!/^\.\.?(\.ram)?$/.test(f) && !f.startsWith('.'), f);
    assert.ok(/^[A-Za-z0-9._@+-]+$/.test(f), f);
    assert.ok(f.length <= 124);
    assert.ok(insideFolder('/tmp/out', f).startsWith('/tmp/out' + sep));
  }
  assert.equal(safeFileName('pc.ram', '.ram'), 'pc.ram.ram');
  assert.equal(safeFileName('/rom@etc/acpi/tables', '.ram'), 'rom@etc_acpi_tables.ram');
});

test('distinct names keep distinct files', () => {
  const m = uniqueNames(['a/b', 'a_b', 'A_B', 'a?b'], '.ram');
  assert.equal(new Set(m.values()).size, 4);
});

test('insideFolder refuses anything that resolves outside', () => {
  assert.throws(() => insideFolder('/tmp/out', '../x'), /outside/);
  assert.throws(() => insideFolder('/tmp/out', '/etc/passwd'), /outside/);
  assert.equal(insideFolder('/tmp/out', 'ok.ram'), join('/tmp/out', 'ok.ram'));
});
