import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../mfd';
import { parseRate } from './send';

function io() {
  const o = { out: '', err: '' };
  return { o, io: { out: (t: string) => (o.out += t), err: (t: string) => (o.err += t), interactive: false } };
}

test('--rate takes bytes per second with K/M/G (powers of 1024)', () => {
  assert.equal(parseRate('1048576'), 1 << 20);
  assert.equal(parseRate('10M'), 10 << 20);
  assert.equal(parseRate('1.5k'), 1536);
  assert.equal(parseRate('2GiB/s'), 2 * 2 ** 30);
  assert.throws(() => parseRate('fast'), /bytes per second expected/);
  assert.throws(() => parseRate('0'), /bytes per second expected/);
});

test('mfd send: usage errors name what is missing or wrong (exit 2)', async () => {
  const a = io();
  assert.equal(await main(['send', 'x.mfd'], a.io), 2);
  assert.match(a.o.err, /--to HOST:PORT is required/);
  const b = io();
  assert.equal(await main(['send', '/nonexistent.mfd', '--to', '127.0.0.1:1'], b.io), 2);
  assert.match(b.o.err, /ENOENT/);
  const c = io();
  assert.equal(await main(['send', 'x.mfd', '--to', '127.0.0.1:1', '--rate', 'lots'], c.io), 2);
  assert.match(c.o.err, /--rate lots/);
});
