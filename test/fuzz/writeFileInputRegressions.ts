// Writes hostile file inputs (libvirt save headers, mapped-ram images, truncated gzip/zstd outputs) into the fuzz
// corpus (test/fuzz/corpus/regressions/), each with a note saying what it checks. Run by hand when a shape changes:
//   node --import tsx test/fuzz/writeFileInputRegressions.ts
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeLibvirtHeader, libvirtPrefix } from '../support/inputs/libvirtImage';
import { mappedRamImage, type MappedBlockSpec } from '../support/inputs/mappedRamImage';
import { MainStreamEncoder } from '../support/mainchannel/mainStreamEncoder';

const dir = join(__dirname, 'corpus', 'regressions');
const PS = 4096;

function block(header?: MappedBlockSpec['header']): MappedBlockSpec {
  return {
    name: 'pc.ram',
    pages: 64,
    present: new Map([
      [0, new Uint8Array(PS).fill(1)],
      [9, new Uint8Array(PS).fill(2)],
    ]),
    stale: new Map([[3, new Uint8Array(PS).fill(0xee)]]),
    header,
  };
}

function smallStream(): Uint8Array {
  const e = new MainStreamEncoder()
    .header()
    .configuration({ machineType: 'pc-i440fx-10.0' })
    .sectionStart(1, 'ram')
    .memSize([{ name: 'pc.ram', usedLength: 4 * PS }])
    .eos()
    .footer(1);
  e.sectionEnd(1).page(0, 'pc.ram', new Uint8Array(PS).fill(7)).zero(PS, undefined).eos().footer(1).eof();
  return e.bytes();
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const stream = smallStream();
const gz = new Uint8Array(gzipSync(stream));
const zst = new Uint8Array(spawnSync('zstd', ['-c', '-q'], { input: stream }).stdout);
const cases: [string, Uint8Array, string][] = [
  [
    'libvirt-data-len-2p32',
    encodeLibvirtHeader({ dataLen: 0xffff_ffff, format: 0 }),
    'A libvirt save header whose data_len is 2^32-1: refused naming file offset 20, never a 4 GiB read.',
  ],
  [
    'libvirt-header-truncated',
    encodeLibvirtHeader({ dataLen: 0, format: 0 }).subarray(0, 40),
    'A libvirt save header cut off at 40 of its 92 bytes: refused saying how much is there.',
  ],
  [
    'libvirt-partial-xz',
    concat(libvirtPrefix({ xml: '<domain/>', format: 3, complete: false, padding: 64 }), new Uint8Array(32)),
    'An unfinished (LibvirtQemudPart) xz image: refused with the command that unpacks it.',
  ],
  [
    'libvirt-zstd-truncated',
    concat(libvirtPrefix({ xml: '<domain/>', format: 5, padding: 64 }), zst.subarray(0, zst.length >> 1)),
    'A libvirt zstd image cut in half: refused or decoded up to the cut, naming the compressed and decompressed offsets.',
  ],
  [
    'gzip-truncated',
    gz.subarray(0, gz.length >> 1),
    'An exec:gzip output cut in half: what came out is decoded, capture.decompress names the compressed and decompressed offsets of the cut.',
  ],
  [
    'mapped-ram-bitmap-offset-past-end',
    mappedRamImage({ blocks: [block({ bitmapOffset: 2 ** 50 })] }),
    'A MappedRamHeader whose bitmap_offset is 2^50, far past the end of the file: the block is refused, nothing is read there.',
  ],
  [
    'mapped-ram-page-size-zero',
    mappedRamImage({ blocks: [block({ pageSize: 0 })] }),
    'A MappedRamHeader with page_size 0: no division by zero, the block is refused.',
  ],
  [
    'mapped-ram-page-size-2p40',
    mappedRamImage({ blocks: [block({ pageSize: 2 ** 40 })] }),
    'A MappedRamHeader with page_size 2^40: the block is refused.',
  ],
  [
    'mapped-ram-zero-bitmaps',
    mappedRamImage({ blocks: [block()], zeroBitmaps: true }),
    'A mapped-ram image whose bitmaps are all zero (an interrupted save): reported, no page taken from the region.',
  ],
  [
    'mapped-ram-region-cut',
    mappedRamImage({ blocks: [block()] }).subarray(0, 8192),
    'A mapped-ram image cut inside its page region: main.truncated, no read past the end.',
  ],
];
for (const [name, bytes, note] of cases) {
  writeFileSync(join(dir, `${name}.bin`), bytes);
  writeFileSync(join(dir, `${name}.txt`), note + '\n');
}
