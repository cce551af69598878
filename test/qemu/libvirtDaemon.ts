import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A private libvirtd for one test: Debian's own daemon (installed by scripts/install-libvirt.sh), started in a
 * mount namespace where /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt
 * are directories of a temporary folder. So the test chooses libvirt's qemu.conf (the save image format), and
 * the host's libvirt, if any, is neither used nor changed. virsh reaches it through the socket's path.
 */
export interface PrivateLibvirt {
  /** Where the daemon's /var/lib/libvirt is, seen from the host (guest RAM files are under qemu/ram/). */
  readonly varLib: string;
  virsh(...args: string[]): { status: number | null; stdout: string; stderr: string };
  /** The RAM file of a running domain's block (memoryBacking source file). */
  ramFile(domain: string, block: string): string;
  stop(): Promise<void>;
}

/** Why the private daemon cannot run here, or undefined when it can. */
export function libvirtUnavailable(): string | undefined {
  for (const tool of ['libvirtd', 'virtlogd', 'virsh', 'unshare'])
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed (scripts/install-libvirt.sh installs Debian's libvirt)`;
  if (process.getuid?.() !== 0) return 'a private libvirtd in a mount namespace needs root';
  return undefined;
}

const MOUNTS: Array<[string, string]> = [
  ['run', '/run/libvirt'],
  ['lib', '/var/lib/libvirt'],
  ['log', '/var/log/libvirt'],
  ['cache', '/var/cache/libvirt'],
  ['etc', '/etc/libvirt'],
];

/** qemu.conf: QEMU runs as root without a security driver (the test's files are root's), images in `format`. */
function qemuConf(saveImageFormat: string): string {
  return [
    'user = "root"',
    'group = "root"',
    'dynamic_ownership = 0',
    'remember_owner = 0',
    'security_driver = "none"',
    `save_image_format = "${saveImageFormat}"`,
    '',
  ].join('\n');
}

export async function startPrivateLibvirt(saveImageFormat: string): Promise<PrivateLibvirt> {
  const base = mkdtempSync(join(tmpdir(), 'mfd-libvirt-'));
  for (const [dir] of MOUNTS) mkdirSync(join(base, dir));
  writeFileSync(join(base, 'etc', 'qemu.conf'), qemuConf(saveImageFormat));
  const binds = MOUNTS.map(([dir, target]) => `mkdir -p ${target} && mount --bind ${join(base, dir)} ${target}`);
  const script = [
    'set -e',
    // Private propagation: the binds below never show on the host, and vanish with the namespace.
    'mount --make-rprivate /',
    ...binds,
    `virtlogd -d -p ${join(base, 'virtlogd.pid')}`,
    `exec libvirtd -p ${join(base, 'libvirtd.pid')}`,
  ].join('\n');
  const child: ChildProcess = spawn('unshare', ['-m', 'sh', '-c', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const uri = `qemu:///system?socket=${join(base, 'run', 'libvirt-sock')}`;
  const virsh = (...args: string[]) => {
    const r = spawnSync('virsh', ['-c', uri, ...args], { encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
  };
  const stop = async () => {
    const domains = virsh('list', '--name').stdout.split('\n').filter(Boolean);
    for (const d of domains) virsh('destroy', d);
    for (const pidFile of ['libvirtd.pid', 'virtlogd.pid']) {
      const path = join(base, pidFile);
      if (existsSync(path)) {
        const pid = Number(readFileSync(path, 'utf8').trim());
        if (pid > 0) {
          try {
            process.kill(pid, 'SIGTERM');
          } catch {
            // already gone
          }
        }
      }
    }
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    rmSync(base, { recursive: true, force: true });
  };
  // The daemon is ready once its socket answers.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      rmSync(base, { recursive: true, force: true });
      throw new Error(`libvirtd exited with ${child.exitCode} before it answered: ${output}`);
    }
    if (existsSync(join(base, 'run', 'libvirt-sock')) && virsh('version').status === 0) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`libvirtd did not answer within 60 s: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    varLib: join(base, 'lib'),
    virsh,
    ramFile(domain, block) {
      const id = virsh('domid', domain).stdout.trim();
      return join(base, 'lib', 'qemu', 'ram', `${id}-${domain}`, block);
    },
    stop,
  };
}
