import { mkdtempSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { QemuVm } from './qemuProcess';
import type { QemuVersion } from './qemuBinaries';
import { fillRamFile } from './guestRam';

/**
 * A real QEMU saving its state to a file, as users do: `migrate file:…` (plain, at an offset, mapped-ram with or
 * without multifd, x-ignore-shared) and `migrate exec:…` (through gzip or zstd). The source stays paused, so its
 * RAM file is the ground truth the replayed image must equal.
 */

export interface FileSaveOptions {
  qemu: QemuVersion;
  ramMiB: number;
  /** The migrate URI; `{out}` is replaced by the output path. */
  uri: (out: string) => string;
  out: string;
  capabilities?: string[];
  parameters?: Record<string, unknown>;
  workDir?: string;
  seed?: number;
  timeoutMs?: number;
  /** migrate_cancel this long after migrate (an interrupted save); use with a low max-bandwidth. */
  cancelAfterMs?: number;
}

export interface FileSaveResult {
  sourceRam: string;
  workDir: string;
  status: string;
  error?: string;
  ms: number;
}

export async function saveToFile(o: FileSaveOptions): Promise<FileSaveResult> {
  const workDir = o.workDir ?? mkdtempSync(join(tmpdir(), 'mfd-filesave-'));
  const sourceRam = join(workDir, 'source.ram');
  await fillRamFile(sourceRam, { sizeBytes: o.ramMiB << 20, seed: o.seed ?? 7, nonZeroFraction: 0.4 });
  const vm = await QemuVm.start('source', {
    version: o.qemu,
    machine: 'pc',
    ramMiB: o.ramMiB,
    ramFile: sourceRam,
    uuid: randomUUID(),
    accel: 'tcg',
    qmpSocket: join(workDir, 'source.qmp'),
    paused: true,
    incoming: false,
  });
  const t = Date.now();
  try {
    const q = vm.qmp!;
    if (o.capabilities?.length)
      await q.execute('migrate-set-capabilities', {
        capabilities: o.capabilities.map((capability) => ({ capability, state: true })),
      });
    if (o.parameters) await q.execute('migrate-set-parameters', o.parameters);
    await q.execute('migrate', { uri: o.uri(o.out) });
    const cancel =
      o.cancelAfterMs === undefined
        ? undefined
        : setTimeout(() => void q.execute('migrate_cancel').catch(() => undefined), o.cancelAfterMs);
    const deadline = Date.now() + (o.timeoutMs ?? 120_000);
    for (;;) {
      const info = await q.execute<{ status: string; 'error-desc'?: string }>('query-migrate');
      if (info.status === 'completed' || info.status === 'failed' || info.status === 'cancelled') {
        clearTimeout(cancel);
        return { sourceRam, workDir, status: info.status, error: info['error-desc'], ms: Date.now() - t };
      }
      if (Date.now() > deadline)
        throw new Error(`migrate ${o.uri(o.out)} did not finish in time (status ${info.status}): ${vm.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await vm.stop();
  }
}

export async function removeDir(dir: string): Promise<void> {
  await fsp.rm(dir, { recursive: true, force: true });
}
