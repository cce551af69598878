import { resolve } from 'node:path';
import { existsSync } from 'node:fs';

/**
 * The QEMUs the suite knows (installed by scripts/install-qemu.sh and scripts/install-qemu-11.sh) and how to start
 * each: 10.0 is the system's, 7.2 is unpacked under .qemu/7.2, 11.1 runs from a Debian 13 root through a wrapper.
 */

export type QemuVersion = '7.2' | '10.0' | '11.1';
export const QEMU_VERSIONS: QemuVersion[] = ['7.2', '10.0', '11.1'];

export interface QemuBinary {
  version: QemuVersion;
  binary: string;
  /** Arguments every run needs (firmware search paths). */
  baseArgs: string[];
}

const ROOT = resolve(__dirname, '..', '..');

export function qemuBinary(version: QemuVersion): QemuBinary {
  if (version === '10.0') return { version, binary: process.env.MFD_QEMU_10 ?? 'qemu-system-x86_64', baseArgs: [] };
  if (version === '11.1') {
    // The wrapper passes the root's own firmware paths.
    return {
      version,
      binary: process.env.MFD_QEMU_111 ?? resolve(ROOT, '.qemu', '11.1', 'qemu-system-x86_64'),
      baseArgs: [],
    };
  }
  const dir = process.env.MFD_QEMU_72_DIR ?? resolve(ROOT, '.qemu', '7.2');
  // The unpacked 7.2 has its own data files but no SeaBIOS: that comes from the system's seabios package.
  return {
    version,
    binary: resolve(dir, 'usr/bin/qemu-system-x86_64'),
    baseArgs: ['-L', resolve(dir, 'usr/share/qemu'), '-L', '/usr/share/seabios'],
  };
}

export function qemuAvailable(version: QemuVersion): boolean {
  const b = qemuBinary(version);
  return version === '10.0' ? true : existsSync(b.binary);
}

export function parseQemuVersion(text: string): QemuVersion {
  if (text === '7.2' || text === '10.0' || text === '11.1') return text;
  if (text === '10') return '10.0';
  if (text === '11') return '11.1';
  throw new Error(`QEMU version "${text}": expected 7.2, 10.0 or 11.1`);
}
