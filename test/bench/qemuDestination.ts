import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openCapture } from '../../extension/core/capture/openCapture';
import { sendCapture } from '../../extension/core/send/sendCapture';
import { startFreshDestination } from '../qemu/freshDestination';
import { freePort } from '../qemu/qemuProcess';

/**
 * The reference for replay speed: how long QEMU's own destination takes to consume a capture sent at full speed
 * by `mfd send` (first connection opened → the destination's MIGRATION "completed" event). The destination is a
 * fresh QEMU started with the command line the capture recorded (a new zero RAM file), one run at a time.
 *   node --import tsx test/bench/qemuDestination.ts CAPTURE... [--runs N]
 */

export interface QemuDestinationTiming {
  capture: string;
  runsMs: number[];
  medianMs: number;
}

export async function measureQemuDestination(
  capture: string,
  runs: number,
  workDir: string,
): Promise<QemuDestinationTiming> {
  const cap = await openCapture(capture);
  const meta = cap.meta;
  await cap.source.close();
  mkdirSync(workDir, { recursive: true });
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dst = await startFreshDestination(meta, workDir, `qemu-destination-${i}`);
    try {
      const r = await sendCapture(capture, {
        to: `127.0.0.1:${await freePort()}`,
        qmpSocket: dst.qmpSocket,
        closeTimeoutMs: 120_000,
      });
      if (!r.ok || r.timings.destinationCompletedMs === undefined)
        throw new Error(`mfd send into QEMU failed: ${r.problems.join('; ')}\n${dst.stderr()}`);
      runsMs.push(r.timings.destinationCompletedMs);
    } finally {
      await dst.stop();
      rmSync(dst.ramFile, { force: true });
    }
  }
  const sorted = [...runsMs].sort((a, b) => a - b);
  return { capture, runsMs, medianMs: sorted[Math.floor(sorted.length / 2)] };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const r = args.indexOf('--runs');
  const runs = r >= 0 ? Number(args.splice(r, 2)[1]) : 3;
  (async () => {
    for (const capture of args) {
      const t = await measureQemuDestination(
        resolve(capture),
        runs,
        join(resolve(__dirname, '..', '..'), '.bench', 'work-qemu-destination'),
      );
      process.stdout.write(`${capture}: QEMU destination ${t.medianMs} ms (runs ${t.runsMs.join(', ')} ms)\n`);
    }
  })().catch((e) => {
    process.stderr.write(String(e?.stack ?? e) + '\n');
    process.exitCode = 1;
  });
}
