import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SparsePageMap } from './sparsePageMap';

test('sparse page map: scattered pages cost tens of bytes each, dense regions 4 bytes a page, same answers', () => {
  const m = new SparsePageMap(-1, 1 << 20);
  const stride = 4096 * 60; // one page every 960 MiB of 4 KiB pages
  for (let i = 0; i < 50_000; i++) m.set(i * stride, i);
  assert.ok(m.bytes / 50_000 < 64, `${(m.bytes / 50_000).toFixed(1)} bytes per scattered page`);
  const d = new SparsePageMap(-1, 1 << 20);
  for (let p = 0; p < 1 << 20; p++) d.set(p, p & 0xffff);
  assert.ok(d.bytes / (1 << 20) < 6, `${(d.bytes / (1 << 20)).toFixed(1)} bytes per dense page`);
  for (let i = 0; i < 50_000; i += 997) assert.equal(m.get(i * stride), i);
  assert.equal(m.get(stride + 1), -1);
  for (let p = 0; p < 1 << 20; p += 4093) assert.equal(d.get(p), p & 0xffff);
  let n = 0;
  d.forEachSet(1000, () => n++);
  assert.equal(n, 1000);
  let s = 0;
  m.forEachSet(Infinity, (page, v) => (assert.equal(page, v * stride), s++));
  assert.equal(s, 50_000);
});

test('sparse page map: updates keep one entry; the budget caps growth', () => {
  const m = new SparsePageMap(-1, 1, 4096); // 16 KiB budget
  let ok = 0;
  for (let i = 0; i < 10_000; i++) if (m.set(i * 1_000_000, 1)) ok++;
  assert.ok(m.capped);
  assert.ok(ok > 100 && ok < 10_000, `${ok} pages stored`);
  assert.ok(m.bytes <= 2 * (16 << 10), `${m.bytes} bytes`); // within one growth step of the budget
  m.set(0, 7);
  assert.equal(m.get(0), 7);
});
