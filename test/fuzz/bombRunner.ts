// Runs one hostile-size case through inspect and replay in a fresh process and prints the diagnostic codes
// and the process's peak RSS as JSON, so each bomb's memory is measured on its own.
//   node --import tsx test/fuzz/bombRunner.ts CASE
import { closeSync, mkdtempSync, openSync, rmSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCapture, analyzeCaptureFile } from '../../extension/core/analysis';
import { MemoryByteSource } from '../../extension/core/capture/fileAccessor';
import { openCaptureFromSource } from '../../extension/core/capture/openCapture';
import { MfdBuilder, encodeFileHeader, encodeRecordHeader } from '../../extension/core/capture/mfdWriter';
import { RecordType } from '../../extension/core/capture/mfdFormat';
import { replayCapture } from '../../extension/core/replay/replay';
import { MultifdChannelEncoder, page } from '../support/multifdEncoder';
import { sparseZeroPagesCapture } from './hostileShapes';
import { bombPayloads } from './mutators';

const PS = 4096;
export const BOMB_CASES = [
  'next-packet-size-4gib',
  'pages-alloc-max',
  'mfd-data-10gib',
  'zlib-bomb',
  'zstd-bomb',
  'sparse-zero-pages-15tib',
] as const;
export type BombCase = (typeof BOMB_CASES)[number];

/** One zlib or zstd channel whose first data packet is `payload`, announced as `normal` pages. */
async function channelWith(
  method: 'zlib' | 'zstd' | 'none',
  edit: (header: DataView) => void,
  payload?: Uint8Array,
): Promise<Uint8Array> {
  const ch = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 0 });
  ch.sync(0);
  const header = new Uint8Array(320 + 8 * (524288 / PS));
  const v = new DataView(header.buffer);
  v.setUint32(0, 0x11223344);
  v.setUint32(4, 1);
  v.setUint32(8, method === 'zlib' ? 2 : method === 'zstd' ? 4 : 0);
  v.setUint32(12, 128);
  v.setUint32(16, 1);
  v.setUint32(20, payload?.length ?? PS);
  v.setBigUint64(24, 1n);
  header.set(new TextEncoder().encode('pc.ram'), 64);
  edit(v);
  ch.raw(header).raw(payload ?? page(PS, 1));
  return new MfdBuilder()
    .meta({ pageSize: PS, parameters: { 'multifd-compression': method } })
    .data(1, ch.bytes())
    .build();
}

/** A sparse file of just over 10 GiB: DATA records of 4 GiB − 1 (the largest a record length can say). */
function tenGibFile(dir: string): string {
  const path = join(dir, 'ten.mfd');
  const fd = openSync(path, 'wx');
  writeSync(fd, encodeFileHeader(), 0, 16, 0);
  let pos = 16;
  const len = 0xffffffff;
  for (let i = 0; i < 3; i++) {
    writeSync(fd, encodeRecordHeader(RecordType.Data, 0, 0, len, i), 0, 16, pos);
    pos += 16 + len;
  }
  // The last record claims more than is there: cut off by end of file.
  writeSync(fd, encodeRecordHeader(RecordType.Data, 0, 0, len, 9), 0, 16, pos);
  ftruncateSync(fd, pos + 16 + 1000);
  closeSync(fd);
  return path;
}

export async function runBomb(c: BombCase): Promise<{ codes: string[]; maxRssMiB: number; streamBytes: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'mfd-bomb-'));
  try {
    let analysis;
    if (c === 'mfd-data-10gib') analysis = await analyzeCaptureFile(tenGibFile(dir));
    else if (c === 'sparse-zero-pages-15tib')
      analysis = await analyzeCapture(
        await openCaptureFromSource(new MemoryByteSource(await sparseZeroPagesCapture())),
      );
    else {
      const b = bombPayloads();
      const file =
        c === 'next-packet-size-4gib'
          ? await channelWith('zlib', (v) => v.setUint32(20, 0xffffffff), b.zlib)
          : c === 'pages-alloc-max'
            ? await channelWith(
                'none',
                (v) => (v.setUint32(12, 0xffffffff), v.setUint32(16, 0xffffffff), v.setUint32(32, 0xffffffff)),
              )
            : c === 'zlib-bomb'
              ? await channelWith('zlib', () => undefined, b.zlib)
              : await channelWith('zstd', () => undefined, b.zstd);
      analysis = await analyzeCapture(await openCaptureFromSource(new MemoryByteSource(file)));
    }
    const r = await replayCapture(analysis, {
      outDir: join(dir, 'out'),
      workers: false,
      receiver: { zstdImplementation: 'auto' },
    });
    await analysis.capture.source.close();
    return {
      codes: [...new Set(r.diagnostics.map((d) => d.code))],
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      streamBytes: analysis.capture.streams.map((s) => s.toDestination.length),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runBomb(process.argv[2] as BombCase).then(
    (r) => console.log(JSON.stringify(r)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
