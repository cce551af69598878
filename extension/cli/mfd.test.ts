import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './mfd';
import type { CliIo } from './cliCommand';
import { MfdBuilder } from '../core/capture/mfdWriter';
import { MainStreamEncoder } from '../../test/support/mainchannel/mainStreamEncoder';
import { MultifdChannelEncoder, page } from '../../test/support/multifdEncoder';

const PS = 4096;
const dir = mkdtempSync(join(tmpdir(), 'mfd-cli-'));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), interactive: false };
  const code = await main(argv, io);
  return { code, out, err };
}

async function captureFile(name: string, corrupt = false): Promise<string> {
  const m = new MainStreamEncoder().header().configuration({ machineType: 'pc' });
  m.sectionStart(2, 'ram')
    .memSize([{ name: 'pc.ram', usedLength: 64 * PS }])
    .flush()
    .eos()
    .footer(2)
    .sectionPart(2)
    .flush()
    .eos()
    .footer(2)
    .sectionEnd(2)
    .eos()
    .footer(2)
    .eof();
  const chans = [0, 1].map(
    (id) =>
      new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: id, uuid: new Uint8Array(16).fill(7) }),
  );
  chans[0].sync(0);
  chans[1].sync(1);
  await chans[0].packet({ ramblock: 'pc.ram', normal: [{ offset: 0, data: page(PS, 1) }], zero: [PS], packetNum: 2 });
  await chans[1].packet({ ramblock: 'pc.ram', normal: [{ offset: 2 * PS, data: page(PS, 2) }], packetNum: 3 });
  chans[0].sync(4);
  chans[1].sync(5);
  const b0 = chans[0].bytes();
  if (corrupt) new DataView(b0.buffer).setUint32(64 + 1344 + 12, 0xffffffff); // pages_alloc of the data packet
  const file = new MfdBuilder()
    .meta({ tool: 'test' })
    .open(0, { client: 'a', server: 'b' })
    .data(0, m.bytes())
    .data(1, b0)
    .data(2, chans[1].bytes())
    .build();
  const path = join(dir, name);
  writeFileSync(path, file);
  return path;
}

test('mfd inspect --json: per-stream counts, ramblocks and diagnostics; exit 0 when clean', async () => {
  const f = await captureFile('ok.mfd');
  const r = await run('inspect', f, '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.format, 'mfd');
  assert.equal(j.pageSize, 4096);
  assert.deepEqual(
    j.streams.map((s: { kind: string }) => s.kind),
    ['main', 'multifd', 'multifd'],
  );
  const s1 = j.streams[1];
  assert.deepEqual(
    [s1.channel, s1.packets, s1.syncPackets, s1.normalPages, s1.zeroPages, s1.compression],
    [0, 3, 2, 1, 1, 'none'],
  );
  assert.equal(s1.uuid, '07070707-0707-0707-0707-070707070707');
  assert.deepEqual(j.ramblocks, [{ name: 'pc.ram', usedLength: 64 * PS }]);
  assert.equal(j.totals.packets, 6);
  assert.equal(j.diagnosticCounts.error, 0);
});

test('mfd inspect: exit 1 when the capture has error diagnostics, naming stream, packet and offsets', async () => {
  const f = await captureFile('bad.mfd', true);
  const r = await run('inspect', f);
  assert.equal(r.code, 1);
  assert.match(
    r.out,
    /error\[multifd\.pages-alloc\] stream 1, packet 1, stream offset 1420, file offset \d+: multifd: received packet with 4294967295 pages, expected 128/,
  );
});

test('mfd packets --json: one JSON line per packet, offsets on request', async () => {
  const f = await captureFile('ok2.mfd');
  const r = await run('packets', f, '--json', '--stream', '1', '--offsets');
  assert.equal(r.code, 0);
  const lines = r.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 3);
  assert.deepEqual(
    [lines[1].packetNum, lines[1].normalOffsets, lines[1].zeroOffsets, lines[1].epoch],
    [2, [0], [PS], 1],
  );
  const text = await run('packets', f);
  assert.equal(text.out.trim().split('\n').length, 6);
});

test('raw channel dumps: a multifd stream and a main stream each open as a one-stream capture', async () => {
  const ch = new MultifdChannelEncoder({ version: '9.2', pageSize: PS, channelId: 3 });
  ch.sync(0);
  await ch.packet({ ramblock: 'pc.ram', normal: [{ offset: PS, data: page(PS, 5) }], zero: [2 * PS], packetNum: 1 });
  ch.sync(2);
  const raw = join(dir, 'channel3.bin');
  writeFileSync(raw, ch.bytes());
  const r = await run('inspect', raw, '--json');
  assert.equal(r.code, 0, r.err + r.out);
  const j = JSON.parse(r.out);
  assert.equal(j.format, 'raw-multifd');
  assert.deepEqual(
    [j.streams.length, j.streams[0].channel, j.streams[0].packets, j.streams[0].normalPages, j.streams[0].zeroPages],
    [1, 3, 3, 1, 1],
  );
  assert.ok(j.diagnostics.some((d: { code: string }) => d.code === 'multifd.no-main-channel'));
  const lines = (await run('packets', raw, '--json')).out.trim().split('\n');
  assert.equal(lines.length, 3);
  const m = new MainStreamEncoder().header().configuration({ machineType: 'pc' });
  m.sectionStart(2, 'ram')
    .memSize([{ name: 'pc.ram', usedLength: 8 * PS }])
    .eos()
    .footer(2)
    .sectionEnd(2)
    .zero(PS, 'pc.ram')
    .eos()
    .footer(2)
    .eof();
  const rawMain = join(dir, 'main.bin');
  writeFileSync(rawMain, m.bytes());
  const rm = await run('inspect', rawMain, '--json');
  assert.equal(rm.code, 0, rm.err + rm.out);
  const jm = JSON.parse(rm.out);
  assert.equal(jm.format, 'raw-main');
  assert.deepEqual(jm.ramblocks, [{ name: 'pc.ram', usedLength: 8 * PS }]);
  assert.equal(jm.totals.mainZeroRecords, 1);
});

test('exit 2: usage errors, missing files and inputs that are not captures', async () => {
  assert.equal((await run()).code, 2);
  assert.equal((await run('frobnicate')).code, 2);
  assert.equal((await run('inspect')).code, 2);
  assert.equal((await run('inspect', '/nonexistent/x.mfd')).code, 2);
  const junk = join(dir, 'junk.bin');
  writeFileSync(junk, 'GIF89a....');
  const r = await run('inspect', junk);
  assert.equal(r.code, 2);
  assert.match(r.err, /47 49 46 38 39 61/);
  assert.equal((await run('inspect', junk, '--page-size', '3000')).code, 2);
  assert.equal((await run('replay', junk)).code, 2, 'replay without --out');
  assert.equal((await run('inspect', '--help')).code, 0);
});
