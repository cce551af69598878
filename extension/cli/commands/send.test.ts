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

test('mfd send: exit 1 when the destination never closes and no --qmp result says it completed', async () => {
  const { createServer } = await import('node:net');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { MfdBuilder } = await import('../../core/capture/mfdWriter');
  const main0 = new Uint8Array(3000);
  main0.set([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3]);
  const path = join(mkdtempSync(join(tmpdir(), 'mfd-send-cli-')), 'small.mfd');
  writeFileSync(
    path,
    new MfdBuilder().meta({ tool: 'test' }).open(0, { client: 'a', server: 'b' }).data(0, main0).close(0).build(),
  );
  // Accepts, never reads, never closes: a destination stuck elsewhere.
  const held: import('node:net').Socket[] = [];
  const server = createServer((s) => (s.pause(), held.push(s)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (server.address() as { port: number }).port;
    const a = io();
    assert.equal(
      await main(['send', path, '--to', `127.0.0.1:${port}`, '--close-timeout', '0.3'], a.io),
      1,
      a.o.err + a.o.out,
    );
    assert.match(a.o.out, /not confirmed: the destination never closed 1 of 1 connection/);
    assert.doesNotMatch(a.o.out, /^ok$/m);
    const j = io();
    assert.equal(await main(['send', path, '--to', `127.0.0.1:${port}`, '--close-timeout', '0.3', '--json'], j.io), 1);
    const r = JSON.parse(j.o.out);
    assert.equal(r.confirmed, false);
  } finally {
    for (const s of held) s.destroy();
    server.close();
  }
});
