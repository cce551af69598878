import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  openSync,
  writeSync,
  closeSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { saveToFile, removeDir, type FileSaveOptions } from './fileMigration';
import { qemuAvailable, type QemuVersion } from './qemuBinaries';
import { compareRamFiles } from './guestRam';
import { openCapture, type OpenOptions } from '../../extension/core/capture/openCapture';
import { analyzeCapture } from '../../extension/core/analysis';
import { replayCapture } from '../../extension/core/replay/replay';
import { buildInputReport, type InputReport } from '../../extension/core/inputReport';
import { libvirtPrefix } from '../support/inputs/libvirtImage';

/**
 * What users already have, made by real QEMUs (10.0 and 11.1): `migrate file:` outputs (plain, at an offset,
 * mapped-ram with and without multifd, x-ignore-shared), `migrate exec:` through gzip and zstd, an interrupted
 * mapped-ram save, and libvirt save images. Each must open by its content and replay to exactly the source's
 * RAM (the source stays paused, so its RAM file is the ground truth).
 *
 * libvirt: real `virsh save` images are tested in libvirtSave.test.ts. Here the libvirt images are a real QEMU
 * stream with the 92-byte header and domain XML written in front of it as libvirt's virQEMUSaveHeader and
 * virQEMUSaveDataWrite lay them out, for QEMU 10.0 and 11.1: raw, gzip, and the zstd (5) and sparse (6) formats
 * Debian's libvirt 9.0 does not write; sparse (mapped-ram) is QEMU writing at `file:…,offset=92+data_len`, as
 * libvirt has it do, with the header put in front afterwards.
 */
const ROOT = resolve(__dirname, '..', '..');
const MFD = join(ROOT, 'dist', 'mfd.js');
const RAM_MIB = 32;
const XML = '<domain type="qemu">\n  <name>mfd-test</name>\n  <memory unit="MiB">32</memory>\n</domain>';

interface Case {
  name: string;
  save: Omit<FileSaveOptions, 'qemu' | 'ramMiB' | 'out'>;
  open?: OpenOptions;
  /** Put a libvirt header of this format number in front of the output (written at its data offset). */
  libvirt?: number;
  kind: string;
  /** The block that holds guest RAM is shared (x-ignore-shared) and not in the file. */
  shared?: boolean;
  /** Releases that cannot make this file. */
  skip?: { qemu: QemuVersion; why: string };
}

const LIBVIRT_OFFSET = libvirtPrefix({ xml: XML, format: 0 }).length;
const CASES: Case[] = [
  { name: 'file: (plain)', save: { uri: (o) => `file:${o}` }, kind: 'file-stream' },
  {
    name: 'file: with offset=65536',
    save: { uri: (o) => `file:${o},offset=65536` },
    open: { file: { offset: 65536 } },
    kind: 'file-stream',
  },
  { name: 'exec:cat (plain)', save: { uri: (o) => `exec:cat > ${o}` }, kind: 'file-stream' },
  { name: 'exec:gzip -c', save: { uri: (o) => `exec:gzip -c > ${o}` }, kind: 'compressed-stream' },
  { name: 'exec:zstd', save: { uri: (o) => `exec:zstd -q > ${o}` }, kind: 'compressed-stream' },
  { name: 'mapped-ram', save: { uri: (o) => `file:${o}`, capabilities: ['mapped-ram'] }, kind: 'mapped-ram' },
  {
    name: 'mapped-ram, multifd 2 channels',
    save: { uri: (o) => `file:${o}`, capabilities: ['mapped-ram', 'multifd'], parameters: { 'multifd-channels': 2 } },
    kind: 'mapped-ram',
  },
  {
    name: 'mapped-ram, multifd 4 channels',
    save: { uri: (o) => `file:${o}`, capabilities: ['mapped-ram', 'multifd'], parameters: { 'multifd-channels': 4 } },
    kind: 'mapped-ram',
  },
  {
    name: 'mapped-ram at offset=4096',
    save: { uri: (o) => `file:${o},offset=4096`, capabilities: ['mapped-ram'] },
    open: { file: { offset: 4096 } },
    kind: 'mapped-ram',
  },
  {
    name: 'mapped-ram with x-ignore-shared',
    save: { uri: (o) => `file:${o}`, capabilities: ['mapped-ram', 'x-ignore-shared'] },
    kind: 'mapped-ram',
    shared: true,
    skip: {
      qemu: '10.0',
      why: 'QEMU 10.0 fails this save itself ("Unable to write to file: Bad address"); 11.1 writes it',
    },
  },
  {
    name: 'libvirt raw (format 0), header built as libvirt lays it out',
    save: { uri: (o) => `file:${o},offset=${LIBVIRT_OFFSET}` },
    libvirt: 0,
    kind: 'libvirt-save',
  },
  {
    name: 'libvirt gzip (format 1), header built as libvirt lays it out',
    save: { uri: (o) => `exec:gzip -c | dd of=${o} bs=${LIBVIRT_OFFSET} seek=1 status=none` },
    libvirt: 1,
    kind: 'libvirt-save',
  },
  {
    name: 'libvirt zstd (format 5), header built as libvirt lays it out',
    save: { uri: (o) => `exec:zstd -q | dd of=${o} bs=${LIBVIRT_OFFSET} seek=1 status=none` },
    libvirt: 5,
    kind: 'libvirt-save',
  },
  {
    name: 'libvirt sparse (format 6, mapped-ram + multifd 2), header built as libvirt lays it out',
    save: {
      uri: (o) => `file:${o},offset=${LIBVIRT_OFFSET}`,
      capabilities: ['mapped-ram', 'multifd'],
      parameters: { 'multifd-channels': 2 },
    },
    libvirt: 6,
    kind: 'libvirt-save',
  },
];

function writeLibvirtHeader(path: string, format: number): void {
  const prefix = libvirtPrefix({ xml: XML, format });
  assert.equal(prefix.length, LIBVIRT_OFFSET);
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, prefix, 0, prefix.length, 0);
  } finally {
    closeSync(fd);
  }
}

async function openAndReplay(path: string, open: OpenOptions | undefined, outDir: string) {
  const capture = await openCapture(path, open);
  try {
    const a = await analyzeCapture(capture);
    const r = await replayCapture(a, { outDir });
    return { a, r, input: buildInputReport(a) };
  } finally {
    await capture.source.close();
  }
}

const VERSIONS: QemuVersion[] = ['10.0', '11.1'];

before(() => {
  assert.ok(existsSync(MFD), `${MFD} is missing: run npm run build`);
  assert.ok(qemuAvailable('11.1'), 'QEMU 11.1 is needed: run bash scripts/setup.sh');
  for (const tool of ['gzip', 'zstd'])
    assert.equal(spawnSync(tool, ['--version']).status, 0, `${tool} is needed: run bash scripts/setup.sh`);
});

for (const qemu of VERSIONS) {
  describe(`QEMU ${qemu}: migrate to a file, replay equals the source RAM`, () => {
    const dirs: string[] = [];
    after(async () => {
      for (const d of dirs) await removeDir(d);
    });

    for (const c of CASES) {
      test(c.name, { skip: c.skip?.qemu === qemu ? c.skip.why : false }, async () => {
        const dir = mkdtempSync(join(tmpdir(), 'mfd-fileinput-'));
        dirs.push(dir);
        const out = join(dir, 'migration.out');
        const saved = await saveToFile({ qemu, ramMiB: RAM_MIB, out, workDir: dir, ...c.save });
        assert.equal(saved.status, 'completed', `migrate ${c.save.uri(out)}: ${saved.error}`);
        if (c.libvirt !== undefined) writeLibvirtHeader(out, c.libvirt);
        const temp = readdirSync(tmpdir()).filter((n) => n.startsWith('mfd-decompressed-')).length;
        const { a, r, input } = await openAndReplay(out, c.open, join(dir, 'replay'));
        assert.equal(
          readdirSync(tmpdir()).filter((n) => n.startsWith('mfd-decompressed-')).length,
          temp,
          'no temporary file is left behind',
        );
        assert.equal(input.kind, c.kind, input.description);
        assert.deepEqual(
          a.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
          [],
        );
        const mem = r.blocks.find((b) => b.name === 'mem');
        assert.ok(mem, `a "mem" image among ${r.blocks.map((b) => b.name).join(', ')}`);
        if (c.shared) {
          checkShared(input);
          return;
        }
        const cmp = await compareRamFiles(saved.sourceRam, mem.file);
        assert.ok(
          cmp.equal && cmp.differingPages === 0,
          `replayed RAM differs from the source: ${JSON.stringify(cmp)}`,
        );
        if (c.kind === 'mapped-ram' || c.libvirt === 6) checkMappedRam(input);
        if (c.kind === 'compressed-stream') await checkCutShort(out, dir);
        if (c.libvirt !== undefined) checkLibvirt(input, c.libvirt, out);
      });
    }

    test('an interrupted mapped-ram save: every bitmap is all zero, and the report says so', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mfd-fileinput-'));
      dirs.push(dir);
      const out = join(dir, 'interrupted.out');
      const saved = await saveToFile({
        qemu,
        ramMiB: RAM_MIB,
        out,
        workDir: dir,
        uri: (o) => `file:${o}`,
        capabilities: ['mapped-ram'],
        parameters: { 'max-bandwidth': 4 << 20 },
        cancelAfterMs: 1500,
      });
      assert.equal(
        saved.status,
        'cancelled',
        `the save was to be cancelled half way: ${saved.status} ${saved.error ?? ''}`,
      );
      const capture = await openCapture(out);
      try {
        const a = await analyzeCapture(capture);
        const d = a.diagnostics.find((x) => x.code === 'mapped-ram.bitmap-empty');
        assert.ok(d, `expected mapped-ram.bitmap-empty among ${a.diagnostics.map((x) => x.code).join(', ')}`);
        assert.match(d.message, /so this save was interrupted/);
        assert.equal(a.mappedRam?.windows, 0, 'no page is taken from an interrupted save');
      } finally {
        await capture.source.close();
      }
    });
  });
}

/** The same output cut in half (a save killed mid-way): decoded up to the cut, which is reported with both offsets. */
async function checkCutShort(path: string, dir: string): Promise<void> {
  const whole = readFileSync(path);
  const cut = join(dir, 'cut-short');
  writeFileSync(cut, whole.subarray(0, whole.length >> 1));
  const capture = await openCapture(cut);
  try {
    const a = await analyzeCapture(capture);
    const d = a.diagnostics.find((x) => x.code === 'capture.decompress');
    assert.ok(d, `capture.decompress among ${a.diagnostics.map((x) => x.code).join(', ')}`);
    assert.match(d.message, /stream is truncated: .*compressed file offset \d+, decompressed offset \d+/);
    assert.ok(d.location.fileOffset !== undefined && d.location.fileOffset <= whole.length >> 1, d.message);
    assert.ok((a.main?.records.length ?? 0) > 0, 'the records before the cut are decoded');
  } finally {
    await capture.source.close();
  }
}

function checkMappedRam(input: InputReport): void {
  const blocks = input.mappedRam?.blocks ?? [];
  const mem = blocks.find((b) => b.name === 'mem');
  assert.ok(mem && mem.pages === (RAM_MIB << 20) / 4096, `mem block: ${JSON.stringify(mem)}`);
  assert.ok(
    mem.present > 0 && mem.present < mem.pages,
    `some, not all, pages present (40 % of the source is non-zero): ${mem.present}`,
  );
  assert.equal(input.mappedRam?.interrupted, false);
}

function checkShared(input: InputReport): void {
  const mem = input.mappedRam?.blocks.find((b) => b.name === 'mem');
  assert.ok(mem?.shared, `mem is shared (x-ignore-shared, memory-backend-file share=on): ${JSON.stringify(mem)}`);
  assert.equal(mem.gpa, 0);
  const rom = input.mappedRam?.blocks.find((b) => b.name === 'pc.bios');
  assert.ok(
    rom && !rom.shared && rom.present > 0 && rom.gpa === 0xfffc0000,
    `pc.bios is in the file, at its GPA: ${JSON.stringify(rom)}`,
  );
}

function checkLibvirt(input: InputReport, format: number, path: string): void {
  assert.equal(input.libvirt?.formatNumber, format);
  assert.equal(input.libvirt?.domainXml, XML);
  assert.equal(input.libvirt?.complete, true);
  const text = spawnSync(process.execPath, [MFD, 'inspect', path], { encoding: 'utf8' }).stdout;
  assert.match(text, /input: libvirt-save: libvirt save image \(version 2, format \d/);
  assert.match(text, /domain XML:\n {4}<domain type="qemu">\n {6}<name>mfd-test<\/name>/);
}
