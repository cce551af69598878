import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceFieldInfo } from '../extension/shared/protocol';
import { FIELD_WINDOW_MAX, deviceFieldLabel, deviceFieldValue, fieldBytesText, fieldWindow } from './deviceText';

const field = (o: Partial<DeviceFieldInfo>): DeviceFieldInfo => ({
  path: [0],
  name: 'env.eip',
  type: 'uint64',
  offset: 67477,
  length: 8,
  value: '0x000000000000fff0',
  childCount: 0,
  ...o,
});

test('field labels, values and byte ranges', () => {
  assert.equal(deviceFieldLabel(field({})), 'env.eip');
  assert.equal(deviceFieldLabel(field({ name: 'env.regs', index: 3 })), 'env.regs[3]');
  assert.equal(deviceFieldValue(field({})), '0x000000000000fff0');
  assert.equal(deviceFieldValue(field({ type: 'struct', childCount: 4, value: '' })), 'struct, 4 fields');
  assert.equal(
    deviceFieldValue(field({ type: 'subsection', subsection: true, version: 2, childCount: 1, value: '' })),
    'subsection, version 2, 1 field',
  );
  assert.equal(fieldBytesText(field({})), 'uint64, 8 bytes at 67477..67484');
  assert.equal(fieldBytesText(field({ length: 0 })), 'uint64, 0 bytes at 67477');
});

test('the window around a field: whole lines, inside the payload, capped', () => {
  // 16-byte lines around the field with context, clipped to the payload.
  assert.deepEqual(fieldWindow({ offset: 67477, length: 8 }, 67349, 69200), { start: 67440, end: 67520 });
  assert.deepEqual(fieldWindow({ offset: 67350, length: 4 }, 67349, 67360), { start: 67349, end: 67360 });
  const w = fieldWindow({ offset: 1000, length: 1 << 20 }, 0, 1 << 21);
  assert.equal(w.end - w.start, FIELD_WINDOW_MAX, 'a 1 MiB field shows its first bytes');
  assert.ok(w.start <= 1000 && w.end > 1000);
  for (const [o, n, a, b] of [
    [5, 3, 0, 100],
    [0, 0, 0, 0],
    [90, 20, 0, 100],
  ]) {
    const x = fieldWindow({ offset: o, length: n }, a, b);
    assert.ok(x.start >= a && x.end <= b && x.start <= x.end, `window ${JSON.stringify(x)} inside [${a}, ${b})`);
    assert.ok(x.start <= o && (x.end >= Math.min(b, o + n) || x.end - x.start === FIELD_WINDOW_MAX));
  }
});
