import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { destinationRequirements } from '../../extension/core/send/destinationRequirements';
import { createZeroRamFile } from './guestRam';
import { QmpClient } from '../../extension/core/qmp/qmpClient';

/**
 * A new destination QEMU started with the command line a capture's META recorded, as a user of `mfd send` would
 * start it: only its RAM file (a fresh zero file, so nothing of the recorded run can leak in) and its QMP socket
 * are replaced. It stays at `-incoming defer`; `mfd send --qmp` sets it up.
 */
export interface FreshDestination {
  ramFile: string;
  qmpSocket: string;
  commandLine: string[];
  stderr(): string;
  stop(): Promise<void>;
}

const SIZE_UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 };

export async function startFreshDestination(
  meta: Record<string, unknown>,
  dir: string,
  name = 'fresh-destination',
): Promise<FreshDestination> {
  const argv = destinationRequirements(meta).destinationArgv;
  if (!argv) throw new Error(`the capture's META has no destination command line: ${String(meta.destination)}`);
  const ramFile = join(dir, `${name}.ram`);
  const qmpSocket = join(dir, `${name}.qmp`);
  let ramBytes = 0;
  const args = argv.slice(1).map((a, i, all) => {
    if (all[i - 1] === '-qmp') return `unix:${qmpSocket},server=on,wait=off`;
    if (all[i - 1] === '-object' && /(^|,)mem-path=/.test(a)) {
      const size = /(?:^|,)size=(\d+)([KMG]?)(?:,|$)/.exec(a);
      if (!size) throw new Error(`no size= in ${a}`);
      ramBytes = Number(size[1]) * SIZE_UNITS[size[2]];
      return a.replace(/(^|,)mem-path=[^,]*/, `$1mem-path=${ramFile}`);
    }
    return a;
  });
  if (!ramBytes)
    throw new Error(
      `no memory-backend-file with mem-path= in the recorded destination command line: ${argv.join(' ')}`,
    );
  await createZeroRamFile(ramFile, ramBytes);

  const proc = spawn(argv[0], args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (t: string) => (stderr = (stderr + t).slice(-8000)));
  let exited = false;
  const exit = new Promise<void>((resolve) => proc.once('exit', () => ((exited = true), resolve())));
  proc.once('error', () => (exited = true));
  // `mfd send` connects once; wait until QEMU has created its monitor socket.
  const deadline = Date.now() + 15_000;
  while (!existsSync(qmpSocket)) {
    if (exited) throw new Error(`destination QEMU exited at start: ${stderr.trim()}`);
    if (Date.now() > deadline) throw new Error(`destination QEMU made no QMP socket within 15 s: ${stderr.trim()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    ramFile,
    qmpSocket,
    commandLine: [argv[0], ...args],
    stderr: () => stderr,
    async stop() {
      if (exited) return;
      const qmp = await QmpClient.connect(qmpSocket, 3000).catch(() => undefined);
      await qmp?.execute('quit').catch(() => undefined);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
      qmp?.close();
    },
  };
}
