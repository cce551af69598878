import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryByteSource } from '../capture/fileAccessor';
import { openCaptureFromSource } from '../capture/openCapture';
import { MfdBuilder } from '../capture/mfdWriter';
import { analyzeCapture } from '../analysis';
import { MainStreamEncoder } from '../../../test/support/mainchannel/mainStreamEncoder';
import { MultifdChannelEncoder, page, type SenderVersion } from '../../../test/support/multifdEncoder';
import { replayCapture } from './replay';

const PS = 4096;
const PAGES = 16;
const tmp = () => mkdtempSync(join(tmpdir(), 'mfd-replay-'));

/**
 * Legacy zero-page detection in a dirtying guest: page 1 is sent as data in epoch 1 and then, having become
 * zero, as a main-channel ZERO record in epoch 2. Applying main records at the wrong epoch leaves it non-zero.
 */
async function legacyCapture(version: SenderVersion, method: 'none' | 'zlib') {
  const block = 'pc.ram';
  const main = new MainStreamEncoder().header().configuration({ machineType: 'pc-i440fx-10.0' });
  const old = version === '7.2';
  main.sectionStart(2, 'ram').memSize([{ name: block, usedLength: PAGES * PS }]);
  // 7.2 syncs on every EOS; 8.1+ on MULTIFD_FLUSH.
  if (!old) main.flush();
  main.eos().footer(2);
  main
    .sectionPart(2)
    .zero(5 * PS, block)
    .zero(6 * PS);
  if (!old) main.flush();
  main.eos().footer(2);
  main.sectionPart(2).zero(1 * PS, block);
  if (!old) main.flush();
  main.eos().footer(2);
  main.sectionEnd(2).eos().footer(2).eof();

  const ch = new MultifdChannelEncoder({ version, pageSize: PS, channelId: 0, method });
  ch.sync(0);
  await ch.packet({
    ramblock: block,
    normal: [
      { offset: 1 * PS, data: page(PS, 1) },
      { offset: 2 * PS, data: page(PS, 2, 'pattern') },
    ],
    packetNum: 1,
  });
  ch.sync(2);
  await ch.packet({ ramblock: block, normal: [{ offset: 5 * PS, data: page(PS, 5) }], packetNum: 3 });
  ch.sync(4);
  ch.sync(5);
  const file = new MfdBuilder().meta({ pageSize: PS }).data(0, main.bytes()).data(1, ch.bytes()).build();
  return analyzeCapture(await openCaptureFromSource(new MemoryByteSource(file)));
}

function expectedImage(): Uint8Array {
  const img = new Uint8Array(PAGES * PS);
  img.set(page(PS, 2, 'pattern'), 2 * PS);
  img.set(page(PS, 5), 5 * PS);
  return img;
}

for (const version of ['7.2', '10.0'] as SenderVersion[]) {
  for (const method of ['none', 'zlib'] as const) {
    test(`replay ${version} ${method}: main-channel ZERO records apply in their epoch`, async () => {
      const a = await legacyCapture(version, method);
      assert.deepEqual(
        a.diagnostics.filter((d) => d.severity === 'error'),
        [],
      );
      const out = tmp();
      const r = await replayCapture(a, { outDir: out });
      assert.deepEqual(
        r.diagnostics.filter((d) => d.severity === 'error'),
        [],
      );
      assert.equal(r.blocks.length, 1);
      const b = r.blocks[0];
      assert.equal(b.size, PAGES * PS);
      assert.deepEqual(new Uint8Array(readFileSync(b.file)), expectedImage());
      assert.equal(b.pagesWritten, 4);
      assert.equal(b.zeroPages, 2);
      assert.equal(b.neverWritten, PAGES - 4);
      const p1 = r.provenanceOf('pc.ram', 1 * PS);
      assert.equal(p1.kind, 'main-zero');
      assert.equal(p1.epoch, 2);
      const p5 = r.provenanceOf('pc.ram', 5 * PS);
      assert.deepEqual([p5.kind, p5.stream, p5.packetIndex, p5.epoch], ['normal', 1, version === '7.2' ? 3 : 3, 2]);
    });
  }
}

test('replay: compare with a reference reports mismatching pages grouped into ranges, with provenance', async () => {
  const a = await legacyCapture('10.0', 'none');
  const dir = tmp();
  const ref = expectedImage();
  ref[2 * PS + 7] ^= 1; // page 2 differs
  ref[5 * PS] ^= 1; // page 5 differs
  ref[6 * PS] = 9; // page 6 differs (never sent as data)
  writeFileSync(join(dir, 'ref.ram'), ref);
  const r = await replayCapture(a, {
    outDir: join(dir, 'out'),
    references: new Map([['pc.ram', join(dir, 'ref.ram')]]),
  });
  const c = r.compare![0];
  assert.equal(c.mismatchedPages, 3);
  assert.deepEqual(
    c.ranges.map((g) => [g.start / PS, g.pages]),
    [
      [2, 1],
      [5, 1],
      [6, 1],
    ],
  );
  assert.equal(c.ranges[1].provenance.kind, 'normal');
  assert.equal(c.ranges[2].provenance.kind, 'main-zero');
  assert.ok(r.diagnostics.some((d) => d.code === 'replay.mismatch'));
});

test('replay: existing images are not overwritten without force; names from the capture stay inside the folder', async () => {
  const block = '../../escape/x';
  const main = new MainStreamEncoder().header().configuration({ machineType: 'pc' });
  main
    .sectionStart(2, 'ram')
    .memSize([
      { name: block, usedLength: 4 * PS },
      { name: '/rom@etc/acpi/tables', usedLength: PS },
    ])
    .flush()
    .eos()
    .footer(2)
    .sectionEnd(2)
    .eos()
    .footer(2)
    .eof();
  const ch = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 0 });
  ch.sync(0);
  await ch.packet({ ramblock: block, normal: [{ offset: PS, data: page(PS, 1) }], packetNum: 1 });
  ch.sync(2);
  const file = new MfdBuilder().data(0, main.bytes()).data(1, ch.bytes()).build();
  const a = await analyzeCapture(await openCaptureFromSource(new MemoryByteSource(file)));
  const dir = tmp();
  const out = join(dir, 'a', 'b');
  const r = await replayCapture(a, { outDir: out });
  assert.deepEqual(readdirSync(out).sort(), ['_.._escape_x.ram', 'rom@etc_acpi_tables.ram']);
  assert.equal(existsSync(join(dir, 'escape')), false);
  assert.equal(readFileSync(r.blocks[0].file)[PS + 1], page(PS, 1)[1]);
  await assert.rejects(replayCapture(a, { outDir: out }), /EEXIST/);
  await replayCapture(a, { outDir: out, force: true });
});

test('replay: a corrupt zlib payload stops that channel with the point where it stopped', async () => {
  const a0 = await legacyCapture('10.0', 'zlib');
  const ch = a0.multifd[0];
  const stream = a0.streams.find((s) => s.id === ch.streamId)!.stream.toDestination;
  const file = new Uint8Array(a0.capture.fileSize);
  file.set(await a0.capture.source.read(0, a0.capture.fileSize));
  const payloadAt = stream.fileOffsetOf(ch.packets.headerOffset.get(1) + ch.packets.headerLength.get(1));
  file.fill(0xff, payloadAt + 2, payloadAt + 20);
  const a = await analyzeCapture(await openCaptureFromSource(new MemoryByteSource(file)));
  const r = await replayCapture(a, { outDir: tmp() });
  const stop = r.diagnostics.find((d) => d.code === 'replay.stopped');
  assert.ok(stop, JSON.stringify(r.diagnostics));
  assert.equal(stop.location.packet, 1);
  assert.ok(r.diagnostics.some((d) => d.code === 'replay.decompress'));
});
