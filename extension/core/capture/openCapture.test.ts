import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryByteSource } from './fileAccessor';
import { CaptureFormatError, openCapture, openCaptureFromSource } from './openCapture';
import { MfdBuilder, MfdFileWriter, encodeRecord } from './mfdWriter';
import { RecordType } from './mfdFormat';

const bytes = (...xs: number[]) => new Uint8Array(xs);
const seq = (n: number, start = 0) => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);

function sample(): Uint8Array {
  return new MfdBuilder()
    .meta({ tool: 't', pageSize: 4096 })
    .open(0, { client: '127.0.0.1:1', server: '127.0.0.1:2' })
    .open(1, { client: '127.0.0.1:3', server: '127.0.0.1:2', label: 'ch0' })
    .data(0, bytes(0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3))
    .data(1, bytes(0x11, 0x22, 0x33, 0x44))
    .data(0, bytes(1, 2, 3), 'toSource')
    .data(1, seq(10))
    .data(0, seq(5, 100))
    .note('migration started')
    .meta({ source: 'qemu 10.0', pageSize: 4096 })
    .close(1, 'eof')
    .close(0, 'reset')
    .build();
}

test('.mfd: streams are the concatenation of their DATA records, per direction', async () => {
  const cap = await openCaptureFromSource(new MemoryByteSource(sample()));
  assert.equal(cap.format, 'mfd');
  assert.equal(cap.streams.length, 2);
  const [s0, s1] = cap.streams;
  assert.deepEqual(
    await s0.toDestination.read(0, 100),
    bytes(0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3, 100, 101, 102, 103, 104),
  );
  assert.deepEqual(await s0.toSource.read(0, 100), bytes(1, 2, 3));
  assert.equal(s1.toDestination.length, 14);
  assert.deepEqual(await s1.toDestination.read(2, 6), bytes(0x33, 0x44, 0, 1));
  assert.equal(s1.open?.label, 'ch0');
  assert.equal(s1.closeReason, 'eof');
  assert.equal(s0.closeReason, 'reset');
  assert.deepEqual(cap.meta, { tool: 't', pageSize: 4096, source: 'qemu 10.0' });
  assert.equal(cap.notes[0].text, 'migration started');
  assert.ok(cap.diagnostics.some((d) => d.code === 'capture.stream-reset' && d.location.stream === 0));
});

test('.mfd: file offsets of stream bytes point into the right DATA record', async () => {
  const file = sample();
  const cap = await openCaptureFromSource(new MemoryByteSource(file));
  const s1 = cap.streams[1].toDestination;
  for (let pos = 0; pos < s1.length; pos++) {
    const at = s1.fileOffsetOf(pos);
    assert.equal(file[at], (await s1.read(pos, pos + 1))[0]);
  }
});

test('.mfd: unknown record types are skipped and reported once', async () => {
  const b = new MfdBuilder()
    .raw(encodeRecord(42, 0, 0, seq(3), 5))
    .raw(encodeRecord(42, 0, 0, seq(3), 6))
    .data(0, seq(4))
    .build();
  const cap = await openCaptureFromSource(new MemoryByteSource(b));
  assert.equal(cap.diagnostics.filter((d) => d.code === 'capture.unknown-record-type').length, 1);
  assert.equal(cap.streams[0].toDestination.length, 4);
});

test('.mfd: a capture cut at every byte keeps every whole record and reports the cut with its offset', async () => {
  const full = sample();
  const whole = await openCaptureFromSource(new MemoryByteSource(full));
  for (let cut = 16; cut < full.length; cut++) {
    const cap = await openCaptureFromSource(new MemoryByteSource(full.subarray(0, cut)));
    const trunc = cap.diagnostics.find((d) => d.code === 'capture.truncated-record');
    // Every cut that is not on a record boundary is reported; what is kept is a prefix of each stream.
    for (const s of cap.streams) {
      const ref = whole.streams.find((w) => w.id === s.id)!;
      assert.deepEqual(await s.toDestination.read(0, 1e9), await ref.toDestination.read(0, s.toDestination.length));
    }
    if (trunc) assert.ok(trunc.location.fileOffset! <= cut && trunc.location.fileOffset! >= 16, `cut ${cut}`);
  }
});

test('.mfd: a DATA length past end of file (10 GiB) ends the capture without reading it', async () => {
  const rec = encodeRecord(RecordType.Data, 0, 0, new Uint8Array(0), 1);
  new DataView(rec.buffer).setUint32(4, 0xffffffff, true);
  const b = new MfdBuilder().data(0, seq(8)).raw(rec).build();
  const cap = await openCaptureFromSource(new MemoryByteSource(b));
  const d = cap.diagnostics.find((x) => x.code === 'capture.truncated-record');
  assert.ok(d);
  assert.equal(d.location.fileOffset, 16 + 16 + 8);
  assert.equal(cap.streams[0].toDestination.length, 8);
});

test('raw dumps: multifd and QEVM magics are read as one-stream captures', async () => {
  const mf = await openCaptureFromSource(new MemoryByteSource(bytes(0x11, 0x22, 0x33, 0x44, 0, 0, 0, 1)));
  assert.equal(mf.format, 'raw-multifd');
  assert.equal(mf.streams[0].toDestination.length, 8);
  const main = await openCaptureFromSource(new MemoryByteSource(bytes(0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3)));
  assert.equal(main.format, 'raw-main');
});

test('anything else is refused, naming the bytes found and those expected', async () => {
  await assert.rejects(openCaptureFromSource(new MemoryByteSource(bytes(0x7f, 0x45, 0x4c, 0x46, 2, 1))), (e: Error) => {
    assert.ok(e instanceof CaptureFormatError);
    assert.match(e.message, /7f 45 4c 46 02 01/);
    assert.match(e.message, /11 22 33 44/);
    assert.match(e.message, /QEVM/);
    return true;
  });
  await assert.rejects(openCaptureFromSource(new MemoryByteSource(new Uint8Array(0))), /empty file/);
});

test('MfdFileWriter: records written to disk read back; an existing file is not overwritten', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mfd-'));
  const path = join(dir, 'x.mfd');
  const w = await MfdFileWriter.create(path);
  await w.meta({ tool: 'test' });
  await w.open(0, { client: 'a', server: 'b' });
  await w.data(0, seq(100), 'toDestination');
  await w.data(0, seq(7), 'toSource');
  await w.close(0, 'eof');
  await w.finish();
  const cap = await openCapture(path);
  assert.equal(cap.streams[0].toDestination.length, 100);
  assert.equal(cap.streams[0].toSource.length, 7);
  assert.equal(cap.meta.tool, 'test');
  await cap.source.close();
  await assert.rejects(MfdFileWriter.create(path), /EEXIST/);
  const before = readFileSync(path);
  const cap2 = await openCapture(path);
  await cap2.source.close();
  assert.deepEqual(readFileSync(path), before, 'reading never modifies the capture');
  assert.equal(statSync(path).size, before.length);
  writeFileSync(join(dir, 'done'), '');
});
