import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compareRamFiles } from './guestRam';
import { PAGE_SIZE } from './migration';
import { GUEST, libvirtUnavailable, saveGuestDomain, startPrivateLibvirt, type PrivateLibvirt } from './libvirtDaemon';

/**
 * Real `virsh save` images, from Debian's libvirt 9.0 driving QEMU 10.0: a 32 MiB domain booted from a floppy
 * whose boot sector keeps rewriting guest memory, its RAM a shared file (memoryBacking source file), so the
 * file is the guest's RAM. The domain is suspended, its RAM file copied (the ground truth), then saved. One
 * private libvirtd per save_image_format (test/qemu/libvirtDaemon.ts). raw and gzip images must replay to the
 * guest's RAM byte for byte; bzip2, xz and lzop images must be refused with the command that unpacks them, and
 * that very command's output must replay to the guest's RAM.
 *
 * libvirt 9.0 writes neither zstd (format 5) nor sparse images (format 6, parallel mapped-ram save): those two
 * are tested in fileInputs.test.ts with libvirt's header struct built around a real QEMU stream.
 */
const ROOT = resolve(__dirname, '..', '..');
const MFD = join(ROOT, 'dist', 'mfd.js');

interface SaveFormat {
  format: string;
  number: number;
  /** The compressor libvirt runs and the image cannot be read in place: refused with its unpack command. */
  refused?: string;
}

const FORMATS: SaveFormat[] = [
  { format: 'raw', number: 0 },
  { format: 'gzip', number: 1 },
  { format: 'bzip2', number: 2, refused: 'bzip2' },
  { format: 'xz', number: 3, refused: 'xz' },
  { format: 'lzop', number: 4, refused: 'lzop' },
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the CLI's JSON, checked field by field
function mfdJson(...args: string[]): { status: number | null; json: any; stderr: string } {
  const r = spawnSync(process.execPath, [MFD, ...args, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.ok(r.stdout, `mfd ${args.join(' ')} printed JSON: ${r.stderr}`);
  return { status: r.status, json: JSON.parse(r.stdout), stderr: r.stderr };
}

function nonZeroPages(ram: Buffer): number {
  let n = 0;
  for (let p = 0; p < ram.length; p += PAGE_SIZE) if (ram.subarray(p, p + PAGE_SIZE).some((b) => b !== 0)) n++;
  return n;
}

/** Replays `capture` and requires pc.ram to equal the guest's RAM and no error to be reported. */
async function assertReplaysToGuestRam(capture: string, ram: string, dir: string): Promise<void> {
  const out = join(dir, 'replay');
  const r = mfdJson('replay', capture, '--out', out, '--reference', `pc.ram=${ram}`);
  assert.equal(r.status, 0, `mfd replay exit 0: ${r.stderr}\n${JSON.stringify(r.json.diagnostics ?? r.json)}`);
  const diff = await compareRamFiles(ram, join(out, 'pc.ram.ram'));
  assert.ok(diff.equal, `replayed pc.ram equals the guest's RAM: ${JSON.stringify(diff)}`);
  // The guest's own writes are in it, so an image of zeros could not pass.
  const written = nonZeroPages(readFileSync(ram));
  assert.ok(written >= GUEST.pages / 16, `the guest's RAM carries its writes (${written} non-zero pages)`);
}

const unavailable = libvirtUnavailable();

describe('real virsh save images (Debian libvirt 9.0, QEMU 10.0)', { skip: unavailable }, () => {
  for (const f of FORMATS) {
    describe(`save_image_format = "${f.format}"`, () => {
      let lv: PrivateLibvirt | undefined;
      let dir = '';
      let saved: { image: string; ram: string } | undefined;
      before(async () => {
        dir = mkdtempSync(join(tmpdir(), `mfd-virsh-${f.format}-`));
        lv = await startPrivateLibvirt(f.format);
        saved = await saveGuestDomain(lv, dir, `mfd-save-${f.format}`);
      });
      after(async () => {
        await lv?.stop();
        rmSync(dir, { recursive: true, force: true });
      });

      if (f.refused) {
        test('mfd inspect refuses the image, naming its format and the command that unpacks it', () => {
          const r = spawnSync(process.execPath, [MFD, 'inspect', saved!.image], { encoding: 'utf8' });
          assert.equal(r.status, 2, 'an input not read here: exit status 2, never a clean report');
          assert.match(r.stderr, new RegExp(`libvirt save image \\(format ${f.number}, ${f.format}\\)`));
          assert.match(r.stderr, new RegExp(`\\| ${f.refused} -dc > migration\\.qemu`));
        });
      } else {
        test('mfd inspect names the libvirt image, its format and the domain XML', () => {
          const r = mfdJson('inspect', saved!.image);
          const lvHeader = r.json.input?.libvirt;
          assert.equal(r.status, 0, JSON.stringify(r.json.diagnostics));
          assert.equal(r.json.input?.kind, 'libvirt-save', JSON.stringify(r.json.input));
          assert.equal(lvHeader?.formatNumber, f.number);
          assert.equal(lvHeader?.format, f.format);
          assert.equal(lvHeader?.complete, true);
          assert.match(lvHeader?.domainXml ?? '', new RegExp(`<name>mfd-save-${f.format}</name>`));
          assert.equal(r.json.diagnosticCounts.error, 0);
        });
      }

      if (!f.refused) {
        test('mfd replay rebuilds the guest RAM byte for byte', async () => {
          await assertReplaysToGuestRam(saved!.image, saved!.ram, dir);
        });
      } else {
        test('the unpack command mfd names gives a stream that replays to the guest RAM', async () => {
          const r = spawnSync(process.execPath, [MFD, 'inspect', saved!.image], { encoding: 'utf8' });
          const command = /tail -c \+\d+ '[^']+' \| \w+ -dc > migration\.qemu/.exec(r.stderr);
          assert.ok(command, 'the error names the unpack command');
          const unpack = spawnSync('sh', ['-c', command[0]], { cwd: dir, encoding: 'utf8' });
          assert.equal(unpack.status, 0, `${command[0]}: ${unpack.stderr}`);
          const stream = join(dir, 'migration.qemu');
          assert.equal(mfdJson('inspect', stream).json.input?.kind, 'file-stream');
          await assertReplaysToGuestRam(stream, saved!.ram, dir);
        });
      }
    });
  }
});
