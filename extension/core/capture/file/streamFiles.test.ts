import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MemoryByteSource } from '../fileAccessor';
import { openCapture, openCaptureFromSource } from '../openCapture';
import { analyzeCapture } from '../../analysis';
import { replayCapture } from '../../replay/replay';
import { DecompressError, decompressToFile } from './decompressToFile';
import { MainStreamEncoder } from '../../../../test/support/mainchannel/mainStreamEncoder';
import { libvirtPrefix } from '../../../../test/support/inputs/libvirtImage';

const PS = 4096;
const tmp = () => mkdtempSync(join(tmpdir(), 'mfd-streamfiles-'));

/** A small precopy stream as `migrate file:` writes it: PAGE and ZERO records, EOS, EOF. */
function stream(): { bytes: Uint8Array; ram: Uint8Array } {
  const ram = new Uint8Array(8 * PS);
  for (let p = 0; p < 8; p += 2) ram.fill(p + 1, p * PS, (p + 1) * PS);
  const e = new MainStreamEncoder()
    .header()
    .configuration({ machineType: 'pc-i440fx-10.0' })
    .sectionStart(1, 'ram')
    .memSize([{ name: 'pc.ram', usedLength: ram.length }])
    .eos()
    .footer(1);
  e.sectionEnd(1);
  for (let p = 0; p < 8; p++) {
    if (p % 2 === 0) e.page(p * PS, p === 0 ? 'pc.ram' : undefined, ram.subarray(p * PS, (p + 1) * PS));
    else e.zero(p * PS, undefined);
  }
  e.eos().footer(1).eof();
  return { bytes: e.bytes(), ram };
}

async function replayed(
  path: string,
  options = {},
): Promise<{ ram: Uint8Array; kind: string | undefined; notes: string[] }> {
  const capture = await openCapture(path, options);
  try {
    const a = await analyzeCapture(capture);
    const out = tmp();
    await replayCapture(a, { outDir: out });
    return {
      ram: new Uint8Array(readFileSync(join(out, 'pc.ram.ram'))),
      kind: capture.input?.kind,
      notes: capture.input?.notes ?? [],
    };
  } finally {
    await capture.source.close();
  }
}

function zstdCompress(bytes: Uint8Array): Uint8Array {
  const r = spawnSync('zstd', ['-c', '-q'], { input: bytes, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, 'the zstd command is needed (scripts/setup.sh installs it)');
  return new Uint8Array(r.stdout);
}

describe('file: and exec: streams', () => {
  const { bytes, ram } = stream();

  it('reads a stream that starts at an offset (file:path,offset=N), and refuses the file without --offset', async () => {
    const dir = tmp();
    const f = join(dir, 'at-offset');
    const withPrefix = new Uint8Array(65536 + bytes.length);
    withPrefix.set(bytes, 65536);
    writeFileSync(f, withPrefix);
    const r = await replayed(f, { file: { offset: 65536 } });
    assert.deepEqual(r.ram, ram);
    assert.equal(r.kind, 'file-stream');
    await assert.rejects(openCapture(f), /a file: stream written at an offset opens with --offset N/);
    await assert.rejects(
      openCapture(f, { file: { offset: 12 } }),
      /no QEMU migration stream at file offset 12: the bytes there are 00 00/,
    );
    await assert.rejects(
      openCapture(f, { file: { offset: withPrefix.length } }),
      /--offset \d+ is not inside the \d+-byte file/,
    );
  });

  for (const [kind, compress] of [
    ['gzip', (b: Uint8Array) => new Uint8Array(gzipSync(b))],
    ['zstd', zstdCompress],
  ] as const) {
    it(`decompresses an exec:${kind} output into a temporary file that is gone at once, and replays it`, async () => {
      const dir = tmp();
      const f = join(dir, `stream.${kind}`);
      writeFileSync(f, compress(bytes));
      const temp = tmp();
      const r = await replayed(f, { file: { tempDir: temp } });
      assert.deepEqual(r.ram, ram);
      assert.equal(r.kind, 'compressed-stream');
      assert.match(r.notes.join('\n'), /temporary file that is deleted as soon as it is open/);
      assert.deepEqual(readdirSync(temp), [], 'the temporary file is unlinked while the capture is open');
    });

    it(`keeps what a truncated ${kind} stream gave, with a diagnostic naming the compressed and decompressed offsets`, async () => {
      // Big enough that the first half decompresses to something: a save cut short still holds its first pages.
      const big = new MainStreamEncoder()
        .header()
        .configuration({ machineType: 'pc-i440fx-10.0' })
        .sectionStart(1, 'ram')
        .memSize([{ name: 'pc.ram', usedLength: 256 * PS }]);
      for (let p = 0; p < 256; p++)
        big.page(
          p * PS,
          p === 0 ? 'pc.ram' : undefined,
          new Uint8Array(PS).map((_, i) => ((i * 7 + p * 13) & 0xff) ^ ((p * i) & 0x3f)),
        );
      big.eos().footer(1).eof();
      const whole = compress(big.bytes());
      const cut = whole.subarray(0, Math.floor(whole.length / 2));
      const d = await decompressToFile(new MemoryByteSource(cut), 0, kind, 'cut');
      try {
        assert.ok(d.failure instanceof DecompressError, 'the cut is reported');
        assert.match(
          d.failure.message,
          new RegExp(
            `the ${kind} stream is truncated: .*compressed file offset \\d+, decompressed offset ${d.decompressedBytes}`,
          ),
        );
        assert.ok(
          d.failure.compressedOffset <= cut.length && d.decompressedBytes > 0 && d.decompressedBytes < big.length,
        );
      } finally {
        await d.source.close();
      }
      const f = join(tmp(), `cut.${kind}`);
      writeFileSync(f, cut);
      const c = await openCapture(f);
      try {
        const a = await analyzeCapture(c);
        assert.ok(a.diagnostics.some((x) => x.code === 'capture.decompress' && x.severity === 'error'));
        assert.ok(
          a.diagnostics.some((x) => x.code === 'main.truncated'),
          'the stream is decoded up to the cut',
        );
      } finally {
        await c.source.close();
      }
    });

    it(`refuses a ${kind} file cut so short that nothing comes out`, async () => {
      await assert.rejects(
        decompressToFile(new MemoryByteSource(compress(bytes).subarray(0, 12)), 0, kind, 'tiny'),
        (e: unknown) =>
          e instanceof DecompressError && /compressed file offset \d+, decompressed offset 0/.test(e.message),
      );
    });
  }

  it('refuses a gzip file that does not hold a migration stream, and a corrupt one', async () => {
    await assert.rejects(
      openCaptureFromSource(new MemoryByteSource(new Uint8Array(gzipSync(Buffer.from('hello world')))), 'hello.gz'),
      /decompresses \(gzip, 11 bytes\) to data that is not a QEMU migration stream: it starts with 68 65 6c 6c/,
    );
    const bad = new Uint8Array(gzipSync(bytes));
    bad.fill(0xff, 20, 60);
    await assert.rejects(
      openCaptureFromSource(new MemoryByteSource(bad), 'bad.gz'),
      /the gzip stream is corrupt: .*compressed file offset \d+, decompressed offset 0/,
    );
  });
});

describe('libvirt save images (the header built as libvirt’s struct describes, around an encoded stream)', () => {
  const { bytes, ram } = stream();
  const xml = '<domain type="kvm">\n  <name>guest</name>\n</domain>';
  const image = (format: number, body: Uint8Array, complete = true) => {
    const prefix = libvirtPrefix({ xml, format, complete });
    const out = new Uint8Array(prefix.length + body.length);
    out.set(prefix);
    out.set(body, prefix.length);
    return out;
  };

  it('reads a raw image in place, with the domain XML in the input and the meta', async () => {
    const f = join(tmp(), 'vm.save');
    writeFileSync(f, image(0, bytes));
    const c = await openCapture(f);
    try {
      assert.equal(c.input?.kind, 'libvirt-save');
      assert.equal(c.input?.libvirt?.domainXml, xml);
      assert.equal(c.meta.domainXml, xml);
      assert.equal(c.input?.streamOffset, 92 + c.input!.libvirt!.header.dataLen);
    } finally {
      await c.source.close();
    }
    assert.deepEqual((await replayed(f)).ram, ram);
  });

  it('decompresses gzip (1) and zstd (5) images, and says when the save was not finished', async () => {
    const f = join(tmp(), 'vm.save');
    writeFileSync(f, image(1, new Uint8Array(gzipSync(bytes)), false));
    const r = await replayed(f);
    assert.deepEqual(r.ram, ram);
    assert.match(r.notes.join('\n'), /LibvirtQemudPart: libvirt had not finished this save/);
    writeFileSync(f, image(5, zstdCompress(bytes)));
    assert.deepEqual((await replayed(f)).ram, ram);
  });

  it('refuses xz, bzip2 and lzop images with the command that unpacks them', async () => {
    const f = join(tmp(), 'vm.save');
    const body = new Uint8Array(100);
    writeFileSync(f, image(3, body));
    await assert.rejects(
      openCapture(f),
      new RegExp(
        `xz-compressed, which this reader does not decompress .*unpack it first: tail -c \\+${92 + 64 * 1024 + xml.length + 2} '${f}' \\| xz -dc > migration.qemu`,
      ),
    );
    writeFileSync(f, image(2, body));
    await assert.rejects(openCapture(f), /bzip2 -dc/);
  });

  it('refuses an image whose data_len points past the stream, naming the bytes there', async () => {
    const f = join(tmp(), 'vm.save');
    writeFileSync(f, image(0, new Uint8Array([1, 2, 3, 4])));
    await assert.rejects(
      openCapture(f),
      /no QEMU stream at file offset \d+ \(92 \+ data_len \d+\): the bytes there are 01 02 03 04/,
    );
  });
});
