// UI tests of the inputs users already have, in a real VS Code (code-server + chromium) with the .vsix installed:
// a `migrate file:` output, an `exec:gzip` output and a mapped-ram image with 2 multifd channels, each written by
// a real QEMU 10.0, and a real `virsh save` image from Debian's libvirt. Each opens through Open With…, the summary
// names its input kind, and the list holds exactly the packets and records `mfd inspect` and `mfd sections` count. The libvirt
// image's screenshot is docs/screenshots/inputs-01-libvirt-save.png.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { ROOT, assertPrerequisites, launchVSCode, packageVsix, type VSCodeSession, type Workbench } from './harness';
import { openWithInspector } from './harness/openWith';
import { saveToFile } from '../qemu/fileMigration';
import { libvirtUnavailable, saveGuestDomain, startPrivateLibvirt } from '../qemu/libvirtDaemon';

const workspace = mkdtempSync(join(tmpdir(), 'mfd-ui-inputs-'));
const work = mkdtempSync(join(tmpdir(), 'mfd-ui-inputs-work-'));
let vsc: VSCodeSession | undefined;
let wb: Workbench | undefined;

interface Input {
  file: string;
  /** What the summary's input fact says. */
  label: string;
  /** The input kind `mfd inspect --json` names. */
  kind: string;
}

const INPUTS: Input[] = [
  { file: 'saved.migration', label: 'migration stream (file: or exec:)', kind: 'file-stream' },
  { file: 'exec-gzip.migration.gz', label: 'exec: output (gzip)', kind: 'compressed-stream' },
  { file: 'mapped-ram-2ch.img', label: 'mapped-ram image', kind: 'mapped-ram' },
  { file: 'domain.save', label: 'libvirt save image (raw)', kind: 'libvirt-save' },
];

const inspect = (file: string) => mfdJson('inspect', file);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the CLI's JSON, checked field by field
function mfdJson(command: string, file: string): any {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'mfd.js'), command, file, '--json'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function step<T>(name: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (wb)
      console.error(
        `failure screenshot: ${await wb.screenshot(`inputs-${name}-failure`).catch(() => '')}\npage errors:\n${wb.pageErrors.join('\n')}`,
      );
    if (vsc) console.error(`code-server log: ${vsc.server.logFile}`);
    throw e;
  }
}

const factLocator = (view: FrameLocator, label: string) =>
  view.locator('.summary .fact').filter({ has: view.locator('.k', { hasText: new RegExp(`^${label}$`) }) });
const factText = async (view: FrameLocator, label: string) =>
  ((await factLocator(view, label).locator('.v').textContent()) ?? '').trim();

async function makeInputs(): Promise<void> {
  const qemu = '10.0';
  const save = async (file: string, uri: (o: string) => string, extra: Partial<Parameters<typeof saveToFile>[0]>) => {
    const out = join(workspace, file);
    const r = await saveToFile({ qemu, ramMiB: 32, uri, out, workDir: mkdtempSync(join(work, 'qemu-')), ...extra });
    assert.equal(r.status, 'completed', `migrate ${uri(out)}: ${r.error}`);
  };
  await save('saved.migration', (o) => `file:${o}`, {});
  await save('exec-gzip.migration.gz', (o) => `exec:gzip -c > ${o}`, {});
  await save('mapped-ram-2ch.img', (o) => `file:${o}`, {
    capabilities: ['mapped-ram', 'multifd'],
    parameters: { 'multifd-channels': 2 },
  });
  const why = libvirtUnavailable();
  assert.equal(why, undefined, `virsh save: ${why}`);
  const lv = await startPrivateLibvirt('raw');
  try {
    const saved = await saveGuestDomain(lv, work, 'mfd-ui-save');
    copyFileSync(saved.image, join(workspace, 'domain.save'));
  } finally {
    await lv.stop();
  }
}

before(async () => {
  assertPrerequisites();
  await makeInputs();
  vsc = await launchVSCode({ installExtensions: [packageVsix()] });
  wb = await vsc.openWorkbench(workspace);
  await wb.waitForExplorerItem('domain.save');
});

after(async () => {
  await vsc?.dispose();
  rmSync(workspace, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

for (const input of INPUTS) {
  test(
    `${input.label} opens with Open With… and lists what mfd inspect and mfd sections count`,
    { timeout: 240_000 },
    () =>
      step(input.kind, async () => {
        const j = inspect(join(workspace, input.file));
        assert.equal(j.input.kind, input.kind);
        await wb!.runCommand('View: Close All Editors');
        await openWithInspector(wb!, input.file);
        const view = await wb!.webviewFrame();
        await view.locator('body[data-ready="true"]').waitFor({ timeout: 90_000 });
        const status = view.locator('.list-status');
        await status.filter({ hasText: /packets/ }).waitFor({ timeout: 90_000 });
        assert.equal(await factText(view, 'input'), input.label);
        // "N packets and M main-channel rows": N is every multifd packet, M at least every main-channel RAM record.
        const text = (await status.textContent()) ?? '';
        const m = /^([\d,]+) packets(?: and ([\d,]+) main-channel rows)?/.exec(text);
        assert.ok(m, `list status "${text}"`);
        const num = (s: string | undefined) => Number((s ?? '0').replace(/,/g, ''));
        assert.equal(num(m[1]), j.totals.packets, 'multifd packets in the list');
        // Main-channel rows: the section list's records and return-path messages (`mfd sections`), and every RAM
        // record `mfd inspect` counts.
        const main = j.streams.find((s: { kind: string }) => s.kind === 'main');
        const sections = mfdJson('sections', join(workspace, input.file)).mainChannel;
        const expected = sections.rows.length + main.main.records + sections.returnPath.messages.length;
        assert.equal(
          num(m[2]),
          expected,
          `main-channel rows (${sections.rows.length} sections and commands, ${main.main.records} RAM records)`,
        );
        if (input.kind === 'libvirt-save') await wb!.screenshot('inputs-01-libvirt-save');
      }),
  );
}
