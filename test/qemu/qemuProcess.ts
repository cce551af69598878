import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { QmpClient } from '../../extension/core/qmp/qmpClient';
import { qemuBinary, type QemuVersion } from './qemuBinaries';

/** One QEMU process with its QMP connection; stderr is kept for error messages. */

export interface VmConfig {
  version: QemuVersion;
  machine: string;
  ramMiB: number;
  ramFile: string;
  uuid: string;
  qmpSocket: string;
  accel: string;
  /** A raw floppy image to boot from (the live guest); none: no boot device, the VM stays paused. */
  floppy?: string;
  paused: boolean;
  incoming: boolean;
  /** More command-line arguments (a -blockdev for a dirty bitmap, …), after the ones above. */
  extraArgs?: string[];
}

export function vmArgs(c: VmConfig): string[] {
  return [
    ...qemuBinary(c.version).baseArgs,
    '-machine',
    `${c.machine},memory-backend=mem`,
    '-accel',
    c.accel,
    '-m',
    `${c.ramMiB}M`,
    // share=on: the guest's RAM is the file itself, so it can be filled before and compared after.
    '-object',
    `memory-backend-file,id=mem,size=${c.ramMiB}M,mem-path=${c.ramFile},share=on`,
    '-uuid',
    c.uuid,
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-qmp',
    `unix:${c.qmpSocket},server=on,wait=off`,
    ...(c.floppy ? ['-drive', `file=${c.floppy},format=raw,if=floppy`, '-boot', 'a'] : []),
    ...(c.paused ? ['-S'] : []),
    ...(c.incoming ? ['-incoming', 'defer'] : []),
    ...(c.extraArgs ?? []),
  ];
}

export class QemuVm {
  stderr = '';
  exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  private constructor(
    readonly name: string,
    readonly commandLine: string[],
    readonly proc: ChildProcess,
    public qmp: QmpClient | undefined,
  ) {
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (t: string) => {
      this.stderr = (this.stderr + t).slice(-8000);
    });
    proc.stdout?.resume();
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  static async start(name: string, config: VmConfig): Promise<QemuVm> {
    const bin = qemuBinary(config.version);
    const args = vmArgs(config);
    const proc = spawn(bin.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const vm = new QemuVm(name, [bin.binary, ...args], proc, undefined);
    const failed = new Promise<never>((_, reject) => {
      proc.once('error', (e) => reject(new Error(`${name} QEMU: cannot start ${bin.binary}: ${e.message}`)));
      void vm.exited.then((code) =>
        reject(new Error(`${name} QEMU exited with status ${code} at start: ${vm.stderr.trim()}`)),
      );
    });
    failed.catch(() => undefined);
    vm.qmp = await Promise.race([QmpClient.connect(config.qmpSocket, 15_000, true), failed]);
    return vm;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Asks QEMU to quit, then kills it if it has not gone within the grace time. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    await this.qmp?.execute('quit').catch(() => undefined);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    this.qmp?.close();
  }
}

export function quoteCommandLine(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
