import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { createReceiver } from './receiver';
import { rejectsWith } from '../../../../test/support/receivers/receiverTestUtil';
import { page } from '../../../../test/support/multifdEncoder';
import {
  qatzipPayload,
  qplPayload,
  qzGzipMember,
  uadkPayload,
} from '../../../../test/support/hardwareCompression/pagePayloads';

const PS = 4096;
/** Compressible, incompressible (random: the raw fallback) and nearly empty pages. */
const pages = [page(PS, 1, 'pattern'), page(PS, 2), page(PS, 3, 'one-byte'), page(PS, 4, 'pattern'), page(PS, 5)];
const concat = (ps: Uint8Array[]) => Buffer.concat(ps.map((p) => Buffer.from(p)));

function setBe32(b: Uint8Array, at: number, v: number): void {
  new DataView(b.buffer, b.byteOffset).setUint32(at, v);
}

describe('qpl receiver', () => {
  it('inflates raw DEFLATE pages and copies raw ones', async () => {
    const p = qplPayload(pages, PS);
    assert.deepEqual(
      p.sizes!.map((s) => s === PS),
      [false, true, false, false, true],
      'random pages fall back to raw',
    );
    const out = await createReceiver('qpl', PS).receive(p.bytes, pages.length);
    assert.ok(Buffer.from(out).equals(concat(pages)));
  });

  it('a size array that lies about the total names the first page that runs past the payload', async () => {
    const p = qplPayload(pages, PS);
    setBe32(p.bytes, 4 * 2, p.sizes![2] + 7);
    const e = await rejectsWith(
      createReceiver('qpl', PS).receive(p.bytes, pages.length),
      'replay.decompress',
      /size array adds up to .* but next_packet_size is .*; page 4 is the first that runs past the payload \(QEMU asserts in_size == len \+ zbuf_len\)/,
    );
    assert.equal(e.page, 4);
  });

  it('a size above the page size is refused as QEMU asserts', async () => {
    const p = qplPayload(pages, PS);
    setBe32(p.bytes, 4 * 3, PS + 1);
    const e = await rejectsWith(
      createReceiver('qpl', PS).receive(p.bytes, pages.length),
      'replay.decompress',
      /gives page 3 4097 bytes, more than the page size 4096/,
    );
    assert.equal(e.page, 3);
  });

  it('a page cut short fails to inflate, naming the page', async () => {
    const z = zlib.deflateRawSync(pages[0], { level: 1 });
    const cut = z.subarray(0, z.length - 3);
    const bytes = concat([Uint8Array.of(0, 0, 0, cut.length), cut]);
    const e = await rejectsWith(
      createReceiver('qpl', PS).receive(bytes, 1),
      'replay.decompress',
      /^qpl: page 0: qpl job failed: .*unexpected end of file/,
    );
    assert.equal(e.page, 0);
  });

  it('output smaller or larger than the page is a length error; a bomb stops at the page size', async () => {
    const small = zlib.deflateRawSync(new Uint8Array(100), { level: 1 });
    await rejectsWith(
      createReceiver('qpl', PS).receive(concat([Uint8Array.of(0, 0, 0, small.length), small]), 1),
      'replay.output-size',
      /qpl decompressed len 100, expected len 4096/,
    );
    const bomb = zlib.deflateRawSync(new Uint8Array(2 << 20), { level: 9 });
    assert.ok(bomb.length < PS);
    const sizes = new Uint8Array(4);
    setBe32(sizes, 0, bomb.length);
    await rejectsWith(
      createReceiver('qpl', PS).receive(concat([sizes, bomb]), 1),
      'replay.output-size',
      /qpl decompressed len > 4096/,
    );
  });

  it('a size array with no room for data is refused', async () => {
    await rejectsWith(
      createReceiver('qpl', PS).receive(new Uint8Array(8), 2),
      'replay.decompress',
      /leaves no room for page data after the 8-byte size array/,
    );
  });
});

describe('uadk receiver', () => {
  it('inflates zlib pages, copies raw ones, and accepts streams without their Adler-32', async () => {
    for (const opts of [{ hardware: true }, { hardware: true, omitAdler: true }, { hardware: false }]) {
      const p = uadkPayload(pages, PS, opts);
      if (!opts.hardware)
        assert.ok(
          p.sizes!.every((s) => s === PS),
          'without hardware every page is raw',
        );
      const out = await createReceiver('uadk', PS).receive(p.bytes, pages.length);
      assert.ok(Buffer.from(out).equals(concat(pages)), JSON.stringify(opts));
    }
  });

  it('a zlib stream with a bad header fails, naming the page', async () => {
    const p = uadkPayload(pages, PS, { hardware: true });
    p.bytes[4 * pages.length] ^= 0x01; // page 0's CMF byte: the header check fails
    const e = await rejectsWith(
      createReceiver('uadk', PS).receive(p.bytes, pages.length),
      'replay.decompress',
      /^uadk: page 0: failed decompression of a \d+-byte zlib stream \(incorrect header check\)/,
    );
    assert.equal(e.page, 0);
  });

  it('a wrong Adler-32 is still an error', async () => {
    const p = uadkPayload([pages[0]], PS, { hardware: true });
    p.bytes[p.bytes.length - 1] ^= 0xff;
    await rejectsWith(createReceiver('uadk', PS).receive(p.bytes, 1), 'replay.decompress', /incorrect data check/);
  });

  it('a stream cut short or inflating past the page is a decompressed length error', async () => {
    const z = zlib.deflateSync(pages[3], { level: 1 });
    const cut = z.subarray(0, Math.floor(z.length / 2));
    const e = await rejectsWith(
      createReceiver('uadk', PS).receive(concat([Uint8Array.of(0, 0, 0, cut.length), cut]), 1),
      'replay.output-size',
      /uadk: page 0: decompressed length error: \d+ bytes, expected 4096/,
    );
    assert.equal(e.page, 0);
    const big = zlib.deflateSync(new Uint8Array(2 * PS), { level: 9 });
    await rejectsWith(
      createReceiver('uadk', PS).receive(concat([Uint8Array.of(0, 0, 0, big.length), big]), 1),
      'replay.output-size',
      /inflates past 4096 bytes/,
    );
  });
});

describe('qatzip receiver', () => {
  const many = Array.from({ length: 40 }, (_, i) => page(PS, i, i % 3 ? 'pattern' : 'random'));

  it('decodes a run of QZ gzip members (hardware: one per 64 KiB) and a single software member', async () => {
    for (const style of ['hardware', 'software'] as const) {
      const p = qatzipPayload(many, { style });
      const out = await createReceiver('qatzip', PS).receive(p.bytes, many.length);
      assert.ok(Buffer.from(out).equals(concat(many)), style);
    }
  });

  it('a member cut short names the member and the first page it holds', async () => {
    const p = qatzipPayload(many, { style: 'hardware' });
    const cut = p.bytes.subarray(0, p.bytes.length - 100);
    const e = await rejectsWith(
      createReceiver('qatzip', PS).receive(cut, many.length),
      'replay.decompress',
      /^qatzip: qzDecompress failed: member 2 \(payload byte \d+, page 32\) is cut short/,
    );
    assert.equal(e.page, 32);
  });

  it('a member without the QZ extra field is refused', async () => {
    const plain = zlib.gzipSync(concat(many.slice(0, 2)));
    const e = await rejectsWith(
      createReceiver('qatzip', PS).receive(plain, 2),
      'replay.decompress',
      /member 0 \(payload byte 0, page 0\) has gzip flags 0x00, not 0x04/,
    );
    assert.equal(e.page, 0);
  });

  it('a corrupted member fails in zlib, naming the member', async () => {
    const m = qzGzipMember(concat(many.slice(0, 4)), 1);
    m[m.length - 9] ^= 0xff; // last deflate byte, or the CRC check catches it
    await rejectsWith(
      createReceiver('qatzip', PS).receive(m, 4),
      'replay.decompress',
      /qatzip: qzDecompress failed: member 0 \(payload byte 0, page 0\)/,
    );
  });

  it('output larger or smaller than normal_pages × page_size is refused, bounded', async () => {
    const p = qatzipPayload(many, { style: 'hardware' });
    await rejectsWith(
      createReceiver('qatzip', PS).receive(p.bytes, 20),
      'replay.output-size',
      /qatzip: packet size received more than 81920, size expected 81920/,
    );
    await rejectsWith(
      createReceiver('qatzip', PS).receive(qatzipPayload(many.slice(0, 3)).bytes, 4),
      'replay.output-size',
      /^qatzip: packet size received 12288 size expected 16384/,
    );
    const bomb = qzGzipMember(new Uint8Array(1 << 20), 9);
    await rejectsWith(
      createReceiver('qatzip', PS).receive(bomb, 2),
      'replay.output-size',
      /inflates past the packet's 2 page\(s\)/,
    );
  });

  it('a payload beyond the receiver buffer is unexpectedly large', async () => {
    await rejectsWith(
      createReceiver('qatzip', PS).receive(new Uint8Array(1024 * 1024 + 1), 1),
      'replay.decompress',
      /received unexpectedly large packet/,
    );
  });
});
