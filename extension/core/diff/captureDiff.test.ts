import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { main } from '../../cli/mfd';
import type { CaptureDiff } from './diffTypes';

/** mfd diff on the bundled real captures; the real-QEMU pairs are in test/qemu/diff.test.ts. */

const samples = join(__dirname, '..', '..', '..', 'samples');

async function diff(args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t), interactive: false };
  return { code: await main(['diff', ...args], io), out: out.join('') };
}

test('a capture against itself: nothing differs, exit 0, every page compared', async () => {
  const path = join(samples, 'qemu10-zlib-legacy-live.mfd');
  const r = await diff([path, path, '--json']);
  assert.equal(r.code, 0, r.out.slice(0, 2000));
  const d = JSON.parse(r.out) as CaptureDiff;
  for (const list of [d.summary, d.capabilities, d.parameters, d.streams.counts])
    assert.deepEqual(
      list.filter((x) => x.differs),
      [],
    );
  assert.ok(d.parameters.length > 10);
  assert.ok(
    d.devices.diffs.length > 20 && d.devices.diffs.every((x) => x.status === 'both' && x.fieldsDiffering === 0),
  );
  assert.equal(d.ram?.complete, true);
  assert.equal(d.ram?.blocks.find((b) => b.block === 'mem')?.pagesCompared, 8192);
  assert.ok(d.ram?.blocks.every((b) => b.pagesDiffering === 0));
  assert.deepEqual(d.notes, []);
});

test('7.2 against 10.0 (different fills): zero pages on the main channel against multifd, RAM pages with both writers', async () => {
  const r = await diff([join(samples, 'qemu72-nocomp.mfd'), join(samples, 'qemu10-zstd-multifd-zero.mfd'), '--json']);
  assert.equal(r.code, 1);
  const d = JSON.parse(r.out) as CaptureDiff;
  assert.equal(d.a.zeroPages, 'main channel');
  assert.equal(d.b.zeroPages, 'multifd');
  const mem = d.ram!.blocks.find((b) => b.block === 'mem')!;
  assert.ok(mem.pagesDiffering > 1000);
  // A page the 7.2 capture zeroed with a ZERO record and the 10.0 one sent as data.
  const p = mem.pages.find((x) => x.a.kind === 'main-zero' && x.b.kind === 'normal')!;
  assert.ok(p, 'a page zeroed on the main channel in A and sent as data in B');
  assert.match(p.a.text, /^ZERO record \d+ on the main channel/);
  assert.match(p.b.text, /^data from stream \d \(channel \d\) packet \d+, packet_num \d+/);
  const hpet = d.devices.diffs.find((x) => x.idstr === 'hpet')!;
  assert.deepEqual(
    hpet.fields.map((f) => f.path),
    ['num_timers', 'num_timers_save'],
  );
});

test('usage: two captures are needed; --no-ram skips the replays', async () => {
  assert.equal((await diff([join(samples, 'qemu72-nocomp.mfd')])).code, 2);
  const path = join(samples, 'qemu72-nocomp.mfd');
  const r = await diff([path, path, '--no-ram', '--json']);
  assert.equal(r.code, 0);
  assert.equal((JSON.parse(r.out) as CaptureDiff).ram, undefined);
});
