/**
 * Receiver throughput against the native codec alone on the same bytes (one-shot, into a single
 * output buffer, so neither side pays for joining output).
 *   node --import tsx test/bench/receivers.ts [--mib 256]
 * Under Node >= 22.15 it also builds the zstd channel (node:zlib's compressor) and caches it in the temp
 * folder, so a later run under Node 20 can measure the pure-JS zstd path on the same channel.
 * MB/s are of decompressed page data (10^6 bytes per second).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import {
  createReceiver,
  nodeHasZstd,
  type PacketPayloadReceiver,
} from '../../extension/core/replay/receivers/receiver';
import {
  PageSource,
  compressZlibChannel,
  compressZstdChannel,
  planPages,
  type SentPacket,
} from '../support/receivers/testStreams';

const PAGE = 4096;
const PAGES_PER_PACKET = 128; // 512 KiB packets, as QEMU sends them with 4 KiB pages

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function mbps(bytes: number, ms: number): string {
  return `${(bytes / 1e6 / (ms / 1000)).toFixed(0).padStart(5)} MB/s (${ms.toFixed(0)} ms)`;
}

async function timeReceiver(
  receiver: PacketPayloadReceiver,
  sent: { payload: Uint8Array; normalPages: number }[],
): Promise<number> {
  const t = performance.now();
  for (const p of sent) await receiver.receive(p.payload, p.normalPages);
  const ms = performance.now() - t;
  receiver.close();
  return ms;
}

function timeSync(f: () => Uint8Array, expectBytes: number): number {
  const t = performance.now();
  const out = f();
  const ms = performance.now() - t;
  if (out.length !== expectBytes) throw new Error(`one-shot produced ${out.length} bytes, expected ${expectBytes}`);
  return ms;
}

/** Best of two runs: the first one also pays for JIT warm-up and fresh memory. */
async function best(run: () => Promise<number>): Promise<number> {
  return Math.min(await run(), await run());
}

function slim(sent: SentPacket[]): { payload: Uint8Array; normalPages: number }[] {
  return sent.map((p) => ({ payload: p.payload, normalPages: p.pages.length }));
}

async function main(): Promise<void> {
  const mib = arg('mib', 256);
  const packets = (mib * 1024 * 1024) / (PAGE * PAGES_PER_PACKET);
  const total = packets * PAGES_PER_PACKET * PAGE;
  console.log(
    `Node ${process.versions.node}: ${mib} MiB of pages in ${packets} packets of ${PAGES_PER_PACKET} × ${PAGE} bytes`,
  );
  const pages = planPages(new PageSource(2024, PAGE, 10), new Array<number>(packets).fill(PAGES_PER_PACKET));

  const zsent = await compressZlibChannel(pages, 1);
  const zall = Buffer.concat(zsent.map((p) => p.payload));
  console.log(`zlib level 1: ${zall.length} compressed bytes`);
  const zOneShot = await best(async () =>
    timeSync(() => zlib.inflateSync(zall, { finishFlush: zlib.constants.Z_SYNC_FLUSH, chunkSize: total + 1 }), total),
  );
  const zRecv = await best(() => timeReceiver(createReceiver('zlib', PAGE), slim(zsent)));
  console.log(`  native one-shot inflateSync   ${mbps(total, zOneShot)}`);
  console.log(`  zlib receiver                 ${mbps(total, zRecv)}   ratio ${(zRecv / zOneShot).toFixed(2)}x`);

  const cache = join(tmpdir(), `mfd-bench-zstd-${mib}.json`);
  let ssent: { payload: Uint8Array; normalPages: number }[] | undefined;
  if (nodeHasZstd()) {
    ssent = slim(await compressZstdChannel(pages, 1));
    const lengths = ssent.map((p) => p.payload.length);
    writeFileSync(cache + '.bin', Buffer.concat(ssent.map((p) => p.payload)));
    writeFileSync(cache, JSON.stringify(lengths));
  } else if (existsSync(cache)) {
    const lengths: number[] = JSON.parse(readFileSync(cache, 'utf8'));
    const bin = readFileSync(cache + '.bin');
    let pos = 0;
    ssent = lengths.map((n) => ({ payload: bin.subarray(pos, (pos += n)), normalPages: PAGES_PER_PACKET }));
  }
  if (!ssent) {
    console.log('zstd: skipped (no node:zlib zstd here and no cached channel; run once under Node >= 22.15)');
    return;
  }
  const sall = Buffer.concat(ssent.map((p) => p.payload));
  console.log(`zstd level 1: ${sall.length} compressed bytes`);
  let sOneShot: number | undefined;
  if (nodeHasZstd()) {
    const z = zlib as unknown as {
      zstdDecompressSync(b: Uint8Array, o: object): Buffer;
      constants: Record<string, number>;
    };
    sOneShot = await best(async () =>
      timeSync(
        () => z.zstdDecompressSync(sall, { finishFlush: z.constants.ZSTD_e_flush, chunkSize: total + 1 }),
        total,
      ),
    );
    console.log(`  native one-shot decompress    ${mbps(total, sOneShot)}`);
    const sNode = await best(() => timeReceiver(createReceiver('zstd', PAGE, { zstdImplementation: 'node' }), ssent!));
    console.log(`  zstd receiver (node:zlib)     ${mbps(total, sNode)}   ratio ${(sNode / sOneShot).toFixed(2)}x`);
  }
  const sJs = await best(() => timeReceiver(createReceiver('zstd', PAGE, { zstdImplementation: 'js' }), ssent!));
  console.log(
    `  zstd receiver (pure JS)       ${mbps(total, sJs)}${sOneShot ? `   ratio ${(sJs / sOneShot).toFixed(2)}x` : ''}`,
  );
}

void main();
