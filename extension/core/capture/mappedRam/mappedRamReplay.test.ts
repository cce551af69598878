import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryByteSource } from '../fileAccessor';
import { openCapture, openCaptureFromSource } from '../openCapture';
import { analyzeCapture } from '../../analysis';
import { replayCapture } from '../../replay/replay';
import { buildInputReport } from '../../inputReport';
import { MAPPED_RAM_WINDOW_PAGES } from './mappedRamIndex';
import {
  expectedRam,
  mappedRamImage,
  mappedRamPieces,
  type MappedBlockSpec,
} from '../../../../test/support/inputs/mappedRamImage';

const PS = 4096;
const fill = (v: number) => new Uint8Array(PS).fill(v);

async function analyse(bytes: Uint8Array, offset?: number) {
  const capture = await openCaptureFromSource(new MemoryByteSource(bytes), 'image', offset ? { file: { offset } } : {});
  return analyzeCapture(capture);
}

async function replay(bytes: Uint8Array, offset?: number) {
  const a = await analyse(bytes, offset);
  const out = mkdtempSync(join(tmpdir(), 'mfd-mappedram-'));
  const r = await replayCapture(a, { outDir: out });
  const image = (name: string) => new Uint8Array(readFileSync(r.blocks.find((b) => b.name === name)!.file));
  return { a, image, codes: a.diagnostics.map((d) => d.code) };
}

function ramBlock(): MappedBlockSpec {
  const present = new Map<number, Uint8Array>();
  for (const p of [0, 1, 2, 7, 255, 256, 300, 511]) present.set(p, fill((p % 250) + 1));
  // Written earlier and later found zero: the slot keeps its bytes, the bit is clear.
  const stale = new Map([
    [3, fill(0xee)],
    [400, fill(0xdd)],
  ]);
  return { name: 'pc.ram', pages: 512, present, stale };
}

describe('mapped-ram images', () => {
  it('replays the pages the bitmap marks, and zeros where it does not, whatever bytes sit there', async () => {
    const block = ramBlock();
    const small: MappedBlockSpec = { name: 'pc.rom', pages: 3, present: new Map([[1, fill(9)]]) };
    const { a, image, codes } = await replay(mappedRamImage({ blocks: [block, small], align: 1 << 20 }));
    assert.deepEqual(image('pc.ram'), expectedRam(block));
    assert.deepEqual(image('pc.rom'), expectedRam(small));
    assert.equal(a.mappedRam?.windows, 3, 'windows of 256 pages that hold a page: two in pc.ram, one in pc.rom');
    assert.equal(MAPPED_RAM_WINDOW_PAGES, 256);
    assert.ok(!codes.includes('mapped-ram.bitmap-empty'));
    const report = buildInputReport(a);
    assert.equal(report.kind, 'mapped-ram');
    assert.deepEqual(
      report.mappedRam?.blocks.map((b) => [b.name, b.present, b.pages]),
      [
        ['pc.ram', 8, 512],
        ['pc.rom', 1, 3],
      ],
    );
  });

  it('reads header offsets as file offsets when the stream starts inside the file', async () => {
    const block = ramBlock();
    const { image } = await replay(mappedRamImage({ blocks: [block], fileStart: 8192 }), 8192);
    assert.deepEqual(image('pc.ram'), expectedRam(block));
  });

  it('says an all-zero bitmap means an interrupted save, and takes no page from the regions', async () => {
    const block = ramBlock();
    const { a, image } = await replay(mappedRamImage({ blocks: [block], zeroBitmaps: true }));
    const d = a.diagnostics.find((x) => x.code === 'mapped-ram.bitmap-empty');
    assert.ok(d, 'the empty bitmaps are reported');
    assert.match(d.message, /QEMU writes the bitmaps only at the end of a save .* so this save was interrupted/);
    assert.deepEqual(image('pc.ram'), new Uint8Array(512 * PS));
  });

  it('x-ignore-shared: reports a shared block with its GPA and leaves its image empty', async () => {
    const block = { ...ramBlock(), gpa: 0x1_0000_0000 };
    const shared: MappedBlockSpec = { name: 'mem', pages: 4, present: new Map(), shared: true, gpa: 0 };
    const { a, image } = await replay(mappedRamImage({ blocks: [shared, block], ignoreShared: true }));
    assert.deepEqual(image('pc.ram'), expectedRam(block));
    assert.deepEqual(image('mem'), new Uint8Array(4 * PS));
    assert.match(
      a.diagnostics.find((x) => x.code === 'mapped-ram.shared-block')!.message,
      /"mem" is ignored as shared \(x-ignore-shared, GPA 0x0\)/,
    );
    const blocks = buildInputReport(a).mappedRam!.blocks;
    assert.deepEqual(
      blocks.map((b) => [b.name, b.shared, b.gpa]),
      [
        ['mem', true, 0],
        ['pc.ram', false, 0x1_0000_0000],
      ],
    );
  });

  it('hostile headers: a page_size of 0 or 2^40, a bitmap past the end: the block is refused with a reason', async () => {
    for (const [header, re] of [
      [{ pageSize: 0 }, /page_size 0 is not a power of two/],
      [{ pageSize: 2 ** 40 }, /page_size 1099511627776/],
      [{ bitmapOffset: 2 ** 40 }, /inconsistent offsets|runs past the end/],
    ] as const) {
      const a = await analyse(mappedRamImage({ blocks: [{ ...ramBlock(), header }] }));
      const d = a.diagnostics.filter((x) => x.code === 'mapped-ram.bad-header' || x.code === 'main.mapped-ram');
      assert.ok(
        d.some((x) => re.test(x.message)),
        `${JSON.stringify(header)}: ${a.diagnostics.map((x) => x.message).join(' | ')}`,
      );
      assert.equal(a.mappedRam?.windows ?? 0, 0, 'no page is read from a refused block');
    }
  });
});

describe('a large mapped-ram image (a sparse file)', () => {
  it('a 64 GiB block opens at once: only its bitmap is read, and replay reads only the present pages', async () => {
    const pages = (64 * 2 ** 30) / PS;
    const present = new Map([
      [0, fill(1)],
      [pages - 1, fill(2)],
      [pages >> 1, fill(3)],
    ]);
    const { pieces, length } = mappedRamPieces({ blocks: [{ name: 'pc.ram', pages, present }], align: 1 << 20 });
    const path = join(mkdtempSync(join(tmpdir(), 'mfd-mappedram-big-')), 'big.img');
    const fd = openSync(path, 'w');
    try {
      for (const p of pieces) writeSync(fd, p.bytes, 0, p.bytes.length, p.at);
    } finally {
      closeSync(fd);
    }
    const t = Date.now();
    const capture = await openCapture(path);
    try {
      const a = await analyzeCapture(capture);
      const ms = Date.now() - t;
      assert.equal(a.mappedRam?.blocks[0].present, 3);
      assert.equal(a.mappedRam?.windows, 3);
      assert.equal(capture.fileSize, length);
      assert.ok(ms < 5000, `opened and indexed in ${ms} ms`);
      const out = mkdtempSync(join(tmpdir(), 'mfd-mappedram-big-out-'));
      const r = await replayCapture(a, { outDir: out });
      const fdi = openSync(r.blocks[0].file, 'r');
      try {
        for (const [p, data] of present) {
          const b = Buffer.alloc(PS);
          readSync(fdi, b, 0, PS, p * PS);
          assert.ok(b.equals(data), `page ${p}`);
        }
      } finally {
        closeSync(fdi);
      }
      rmSync(out, { recursive: true });
    } finally {
      await capture.source.close();
    }
    rmSync(path);
  });
});
