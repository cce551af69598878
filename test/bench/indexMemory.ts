// Memory the index holds per row, measured in a fresh process with the garbage collector forced:
//   node --expose-gc --import tsx test/bench/indexMemory.ts main N      bytes per main-channel RAM record
//   node --expose-gc --import tsx test/bench/indexMemory.ts multifd N   bytes per multifd packet
// `main`: a legacy zero-page capture (QEMU 7.2 or zero-page-detection=legacy) whose main channel carries N ZERO
// records; `multifd`: a synthetic capture of N packets (test/support/makeLargeCapture.ts), read from a file.
// The whole analysis is counted (tables, replay schedule, lints); the capture's own bytes are not. Prints JSON.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCapture, analyzeCaptureFile } from '../../extension/core/analysis';
import { MemoryByteSource } from '../../extension/core/capture/fileAccessor';
import { openCaptureFromSource } from '../../extension/core/capture/openCapture';
import { MfdBuilder } from '../../extension/core/capture/mfdWriter';
import { MainStreamEncoder } from '../support/mainchannel/mainStreamEncoder';
import { makeLargeCapture } from '../support/makeLargeCapture';

const PS = 4096;
const RAM_SAVE_FLAG_ZERO = 0x02;
const RAM_SAVE_FLAG_CONTINUE = 0x20;

/** A main channel of `records` ZERO records over one block, as a legacy sender writes a mostly-zero guest. */
export function legacyZeroCapture(records: number): Uint8Array {
  const head = new MainStreamEncoder().header().configuration({ machineType: 'pc' });
  head
    .sectionStart(2, 'ram')
    .memSize([{ name: 'pc.ram', usedLength: records * PS }])
    .eos()
    .footer(2)
    .sectionPart(2)
    .zero(0, 'pc.ram');
  const tail = new MainStreamEncoder().eos().footer(2).sectionEnd(2).eos().footer(2).eof();
  const h = head.bytes();
  const t = tail.bytes();
  const body = new Uint8Array(9 * (records - 1));
  const v = new DataView(body.buffer);
  for (let k = 1; k < records; k++) {
    const at = 9 * (k - 1);
    const word = k * PS + (RAM_SAVE_FLAG_ZERO | RAM_SAVE_FLAG_CONTINUE);
    v.setUint32(at, Math.floor(word / 2 ** 32));
    v.setUint32(at + 4, word >>> 0);
  }
  const stream = new Uint8Array(h.length + body.length + t.length);
  stream.set(h, 0);
  stream.set(body, h.length);
  stream.set(t, h.length + body.length);
  return new MfdBuilder()
    .meta({ pageSize: PS, parameters: { 'zero-page-detection': 'legacy' } })
    .data(0, stream)
    .build();
}

/** Keeps the analysis reachable while memory is measured. */
const kept: unknown[] = [];

function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Live heap and array buffers, after collections that also release the buffers of dead typed arrays. */
async function held(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export interface IndexMemory {
  kind: string;
  rows: number;
  /** Heap and array buffers the analysis holds, per row. */
  bytesPerRow: number;
  /** Peak RSS growth while indexing, per row (transients included). */
  peakBytesPerRow: number;
  seconds: number;
}

export async function measure(kind: 'main' | 'multifd', n: number): Promise<IndexMemory> {
  if (!(globalThis as { gc?: () => void }).gc) throw new Error('run with node --expose-gc');
  if (kind === 'main') {
    const bytes = legacyZeroCapture(n);
    const before = await held();
    const rss0 = peakRss();
    const t0 = Date.now();
    const a = await analyzeCapture(await openCaptureFromSource(new MemoryByteSource(bytes)));
    const seconds = (Date.now() - t0) / 1000;
    const rows = a.main?.records.length ?? 0;
    kept.push(a);
    const after = await held();
    return { kind, rows, bytesPerRow: (after - before) / rows, peakBytesPerRow: (peakRss() - rss0) / rows, seconds };
  }
  const dir = mkdtempSync(join(tmpdir(), 'mfd-indexmem-'));
  try {
    const path = join(dir, 'large.mfd');
    const made = await makeLargeCapture(path, { packets: n, channels: 4 });
    const before = await held();
    const rss0 = peakRss();
    const t0 = Date.now();
    const a = await analyzeCaptureFile(path);
    const seconds = (Date.now() - t0) / 1000;
    kept.push(a);
    const after = await held();
    const rows = a.multifd.reduce((s, m) => s + m.packets.length, 0);
    await a.capture.source.close();
    kept.length = 0;
    if (rows !== made.packets) throw new Error(`indexed ${rows} packets of ${made.packets}`);
    return { kind, rows, bytesPerRow: (after - before) / rows, peakBytesPerRow: (peakRss() - rss0) / rows, seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const [kind, n] = [process.argv[2] as 'main' | 'multifd', Number(process.argv[3] ?? 1_000_000)];
  measure(kind, n).then(
    (r) => console.log(JSON.stringify(r)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
