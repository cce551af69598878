import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync, openSync, closeSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { analyzeCaptureFile } from '../../extension/core/analysis';
import { runMigration, removeWorkDir } from '../qemu/migration';
import { node22Binary } from '../support/node22';
import { measureQemuDestination } from './qemuDestination';
import { packetListBench } from './packetList';

/**
 * `npm run bench`: speed and memory of indexing and replay on real 1 GiB-RAM captures (QEMU 10.0, 4 channels,
 * none/zlib/zstd), each as a ratio to a baseline measured in the same run on the same machine:
 *   indexing time / one sequential read of the capture (cat > /dev/null)          target ≤ 0.25
 *   replay time / the native codec alone decompressing the channel payloads      target ≤ 1.2
 *   peak RSS of indexing ≤ 150 MiB, of replay ≤ 300 MiB
 * and, in a separate section, the reference for replay: QEMU's own destination consuming each capture sent at
 * full speed by `mfd send` (qemuDestination.ts), with replay time / QEMU destination time.
 * Captures are generated with the migration driver into .bench/ and reused; they are never committed.
 * Also the index's memory per multifd packet and per main-channel record (indexMemory.ts), first.
 * Then the packet list over a 100,000-record main channel as a ratio to a multifd capture of as many packets
 * (packetList.ts; --list-rows N).
 * Options: --ram MiB (default 1024), --runs N (default 3, the median is reported), --only none|zlib|zstd|index-memory|packet-list,
 * --packets N and --records N (sizes of the index-memory captures, default 200000 and 2000000).
 */
const ROOT = resolve(__dirname, '..', '..');
const BENCH = join(ROOT, '.bench');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const RAM = Number(opt('--ram', '1024'));
const RUNS = Number(opt('--runs', '3'));
const ONLY = opt('--only', '');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeCommand(cmd: string, argv: string[], input?: string): number {
  const t = performance.now();
  const r = spawnSync(cmd, argv, {
    stdio: [input ? openSync(input, 'r') : 'ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  const ms = performance.now() - t;
  if (r.status !== 0 && !(cmd === 'zstd' && /truncated|unfinished|premature/i.test(r.stderr ?? '')))
    throw new Error(`${cmd} ${argv.join(' ')}: ${r.stderr}`);
  return ms;
}

function mfdMeasured(node: string, argv: string[]): { ms: number; maxRssMiB: number; code: number } {
  const r = spawnSync(node, [join(__dirname, 'measure.cjs'), ...argv], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const last = (r.stderr ?? '').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`mfd ${argv.join(' ')} failed: ${r.stderr}`);
  }
}

async function ensureCapture(compression: 'none' | 'zlib' | 'zstd'): Promise<string> {
  mkdirSync(BENCH, { recursive: true });
  const file = join(BENCH, `qemu10-${compression}-${RAM}M-4ch.mfd`);
  if (existsSync(file)) return file;
  process.stderr.write(`recording ${file} (QEMU 10.0, ${RAM} MiB, 4 channels, ${compression})…\n`);
  const r = await runMigration({
    qemu: '10.0',
    channels: 4,
    compression,
    ramMiB: RAM,
    live: false,
    out: file,
    workDir: join(BENCH, 'vm'),
    timeoutMs: 20 * 60_000,
  });
  await removeWorkDir(r);
  if (r.status !== 'completed') throw new Error(`migration ${r.status}: ${r.error}`);
  return file;
}

/** Writes each channel's payloads, concatenated in channel order, to a file: the input of the native codec. */
async function channelPayloadFiles(capture: string, dir: string): Promise<string[]> {
  const a = await analyzeCaptureFile(capture);
  const files: string[] = [];
  for (const m of a.multifd) {
    const stream = a.streams.find((s) => s.id === m.streamId)!.stream.toDestination;
    const f = join(dir, `channel-${m.streamId}.bin`);
    const fd = openSync(f, 'w');
    for (let r = 0; r < m.packets.length; r++) {
      if (m.packets.isDeviceState(r) || m.packets.normalPages.get(r) === 0) continue;
      const start = m.packets.headerOffset.get(r) + m.packets.headerLength.get(r);
      writeSync(fd, await stream.read(start, start + m.packets.payloadLength.get(r)));
    }
    closeSync(fd);
    files.push(f);
  }
  await a.capture.source.close();
  return files;
}

/** Drops the page cache (root only), then re-reads node and the bundle so only the capture is cold. */
function coldStart(): boolean {
  try {
    spawnSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3');
  } catch {
    return false;
  }
  spawnSync(process.execPath, [join(ROOT, 'dist', 'mfd.js'), '--help']);
  spawnSync('cat', ['/dev/null']);
  return true;
}

function nativeDecode(method: string, files: string[]): number {
  let ms = 0;
  for (const f of files) {
    if (method === 'zstd') ms += timeCommand('zstd', ['-d', '-c', '-q', '--no-check'], f);
    else if (method === 'zlib')
      ms += timeCommand(process.execPath, [
        '-e',
        `require('zlib').inflateSync(require('fs').readFileSync(${JSON.stringify(f)}), { finishFlush: require('zlib').constants.Z_SYNC_FLUSH, maxOutputLength: 2 ** 32 - 1 })`,
      ]);
    // nocomp has no codec: the same data movement the replay does, read the payloads and write them out.
    else ms += timeCommand('cp', [f, f + '.copy']);
  }
  return ms;
}

/**
 * Memory the index holds per multifd packet (a synthetic capture of N packets, test/support/makeLargeCapture.ts)
 * or per main-channel record (a legacy zero-page capture), in a fresh process with the collector forced.
 */
function indexMemoryLine(kind: 'multifd' | 'main', n: number): string {
  const run = (rows: number) => {
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(__dirname, 'indexMemory.ts'), kind, String(rows)],
      { encoding: 'utf8', cwd: ROOT },
    );
    if (r.status !== 0) throw new Error(r.stderr.trim().split('\n').pop());
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { rows: number; bytesPerRow: number; seconds: number };
  };
  const what = kind === 'multifd' ? 'multifd packet' : 'main-channel RAM record';
  try {
    // Two sizes: the difference is the cost of one more row, with fixed costs (read-ahead windows, code) cancelled.
    const half = run(Math.floor(n / 2));
    const full = run(n);
    const marginal = (full.bytesPerRow * full.rows - half.bytesPerRow * half.rows) / (full.rows - half.rows);
    return `index memory: ${marginal.toFixed(1)} bytes per ${what} (${full.bytesPerRow.toFixed(1)} on average over ${full.rows}, indexed in ${full.seconds.toFixed(2)} s; tables, schedule and lints held after a forced GC)`;
  } catch (e) {
    return `index memory (${kind}): failed: ${(e as Error).message}`;
  }
}

async function main(): Promise<void> {
  const rows: string[] = [];
  const line = (s: string) => {
    rows.push(s);
    process.stdout.write(s + '\n');
  };
  const replayByMethod = new Map<string, number>();
  line(
    `benchmark: ${RAM} MiB guest RAM, QEMU 10.0, 4 channels, median of ${RUNS} runs; node ${process.version}${node22Binary() ? ' (+ node 22 for node:zlib zstd)' : ''}`,
  );
  if (!ONLY || ONLY === 'index-memory') {
    line(indexMemoryLine('multifd', Number(opt('--packets', '200000'))));
    line(indexMemoryLine('main', Number(opt('--records', '2000000'))));
    if (ONLY) return;
  }
  if (!ONLY || ONLY === 'packet-list') {
    for (const l of await packetListBench(Number(opt('--list-rows', '100000')))) line(l);
    if (ONLY) return;
  }
  for (const method of ['none', 'zlib', 'zstd'] as const) {
    if (ONLY && ONLY !== method) continue;
    const capture = await ensureCapture(method);
    const size = statSync(capture).size;
    const work = join(BENCH, `work-${method}`);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const payloads = await channelPayloadFiles(capture, work);
    timeCommand('cat', [capture]); // warm the page cache for both sides alike
    const cat = median(Array.from({ length: RUNS }, () => timeCommand('cat', [capture])));
    const index = Array.from({ length: RUNS }, () => mfdMeasured(process.execPath, ['inspect', capture, '--json']));
    const native = median(Array.from({ length: RUNS }, () => nativeDecode(method, payloads)));
    // Each run writes fresh images into a folder of its own: replacing earlier images would time the file system.
    let runNo = 0;
    const replays = (node: string, extra: string[]) =>
      Array.from({ length: RUNS }, () => {
        const out = join(work, `out-${runNo++}`);
        const r = mfdMeasured(node, ['replay', capture, '--out', out, '--json', ...extra]);
        rmSync(out, { recursive: true, force: true });
        return r;
      });
    const replay = replays(process.execPath, method === 'zstd' ? ['--zstd', 'js'] : []);
    const indexMs = median(index.map((x) => x.ms));
    const replayMs = median(replay.map((x) => x.ms));
    replayByMethod.set(method, replayMs);
    line(`${method.padEnd(5)} capture ${(size / 2 ** 20).toFixed(0)} MiB`);
    line(
      `  indexing  ${indexMs.toFixed(0)} ms = ${(indexMs / cat).toFixed(3)} × cat (${cat.toFixed(0)} ms)   [target ≤ 0.25]   peak RSS ${Math.max(...index.map((x) => x.maxRssMiB)).toFixed(0)} MiB [≤ 150]`,
    );
    if (coldStart()) {
      const coldCat = timeCommand('cat', [capture]);
      coldStart();
      const coldIndex = mfdMeasured(process.execPath, ['inspect', capture, '--json']).ms;
      line(
        `  indexing  ${coldIndex.toFixed(0)} ms = ${(coldIndex / coldCat).toFixed(3)} × cat (${coldCat.toFixed(0)} ms), both with a cold page cache`,
      );
    }
    const nativeName =
      method === 'zstd' ? 'zstd CLI -d' : method === 'zlib' ? 'node:zlib inflate' : 'cp of the payloads';
    line(
      `  replay    ${replayMs.toFixed(0)} ms = ${(replayMs / native).toFixed(2)} × ${nativeName} (${native.toFixed(0)} ms)   [target ≤ 1.2]   peak RSS ${Math.max(...replay.map((x) => x.maxRssMiB)).toFixed(0)} MiB [≤ 300]${method === 'zstd' ? '   (pure-JS zstd, node ' + process.version + ')' : ''}`,
    );
    const n22 = node22Binary();
    if (method === 'zstd' && n22) {
      const r22 = replays(n22, ['--zstd', 'node']);
      const ms = median(r22.map((x) => x.ms));
      line(
        `  replay    ${ms.toFixed(0)} ms = ${(ms / native).toFixed(2)} × ${nativeName} (${native.toFixed(0)} ms)   [target ≤ 1.2]   peak RSS ${Math.max(...r22.map((x) => x.maxRssMiB)).toFixed(0)} MiB [≤ 300]   (node:zlib zstd, node 22)`,
      );
    }
    rmSync(work, { recursive: true, force: true });
  }

  // ---- Reference: QEMU's own destination consuming each capture (mfd send at full speed), vs our replay ----
  line('');
  line(
    `QEMU destination reference: a fresh QEMU 10.0 destination consuming each capture sent at full speed by mfd send (median of ${RUNS})`,
  );
  for (const [method, replayMs] of replayByMethod) {
    const q = await measureQemuDestination(
      await ensureCapture(method as 'none' | 'zlib' | 'zstd'),
      RUNS,
      join(BENCH, 'work-qemu-destination'),
    );
    line(
      `${method.padEnd(5)} QEMU destination ${q.medianMs.toFixed(0)} ms (runs ${q.runsMs.join(', ')})   our replay ${replayMs.toFixed(0)} ms = ${(replayMs / q.medianMs).toFixed(2)} × QEMU destination`,
    );
  }
  rmSync(join(BENCH, 'work-qemu-destination'), { recursive: true, force: true });
  writeFileSync(join(BENCH, 'last-results.txt'), rows.join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exitCode = 1;
});
