import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GUEST_MARKER, dirtyGuestBootSector, floppyImage } from './bootSector';
import { readGuestMarker } from './guestRam';
import { guestLayout } from './migration';

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

/** The domain's RAM and where its boot sector keeps writing. */
const RAM_MIB = 32;
export const GUEST = guestLayout(RAM_MIB);

function domainXml(name: string, floppy: string): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>${RAM_MIB}</memory>
  <memoryBacking><source type='file'/><access mode='shared'/></memoryBacking>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='fd'/></os>
  <features><acpi/></features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='floppy'><driver name='qemu' type='raw'/><source file='${floppy}'/><target dev='fda' bus='fdc'/></disk>
    <video><model type='none'/></video>
  </devices>
</domain>
`;
}

/** Boots the domain, waits for the guest to run, suspends it, copies its RAM, saves it: the image and the RAM. */
export async function saveGuestDomain(
  lv: PrivateLibvirt,
  dir: string,
  name: string,
): Promise<{ image: string; ram: string }> {
  const floppy = join(dir, 'boot.img');
  writeFileSync(floppy, floppyImage(dirtyGuestBootSector(GUEST)));
  const xml = join(dir, 'domain.xml');
  writeFileSync(xml, domainXml(name, floppy));
  const created = lv.virsh('create', xml);
  assert.equal(created.status, 0, `virsh create: ${created.stderr}`);
  const ramFile = lv.ramFile(name, 'pc.ram');
  const deadline = Date.now() + 60_000;
  let ticks: number | undefined;
  while (
    (ticks = existsSync(ramFile) ? await readGuestMarker(ramFile, GUEST.markerAddress, GUEST_MARKER) : undefined) ===
      undefined ||
    ticks < 3
  ) {
    assert.ok(Date.now() < deadline, `the guest did not run within 60 s (no marker in ${ramFile})`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const suspended = lv.virsh('suspend', name);
  assert.equal(suspended.status, 0, `virsh suspend: ${suspended.stderr}`);
  const ram = join(dir, 'guest.ram');
  copyFileSync(ramFile, ram);
  const image = join(dir, `${name}.save`);
  const saved = lv.virsh('save', name, image);
  assert.equal(saved.status, 0, `virsh save: ${saved.stderr}`);
  return { image, ram };
}
