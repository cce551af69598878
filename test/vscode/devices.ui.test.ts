// UI test of the editor's Devices view, in a real VS Code (code-server + chromium) with the .vsix installed, on a
// real QEMU 7.2 capture (samples/qemu72-nocomp.mfd): the view lists the device sections `mfd devices --json`
// decodes; a PCI device (PIIX3), reached from the keyboard, shows the fields and values the CLI prints, structs
// nested; its PCI config space selected highlights exactly the capture's bytes at the field's offset in the bytes
// pane. The screenshot goes to docs/screenshots/devices-01-fields.png.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FrameLocator, Locator } from 'playwright-core';
import { analyzeCaptureFile } from '../../extension/core/analysis';
import { ROOT, assertPrerequisites, launchVSCode, packageVsix, type VSCodeSession, type Workbench } from './harness';

const SAMPLE = 'qemu72-nocomp.mfd';
const DEVICE = '0000:00:01.0/PIIX3';
/** The sample with one byte changed: globalstate's footer marker, so its footer is not where its description ends. */
const BAD = 'footer-mismatch.mfd';
const BROKEN = 'globalstate';
const workspace = mkdtempSync(join(tmpdir(), 'mfd-ui-devices-'));
let vsc: VSCodeSession | undefined;
let wb: Workbench | undefined;

/** A field as `mfd devices --json` prints it. */
interface JsonField {
  name: string;
  type: string;
  offset: number;
  length: number;
  index?: number;
  version?: number;
  value?: number | string | boolean;
  hex?: string;
  fields?: JsonField[];
}

function devicesJson(path: string): {
  devices: { idstr: string; sectionId: number; bodyEnd: number; fields: JsonField[] }[];
} {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'mfd.js'), 'devices', path, '--json'], {
    encoding: 'utf8',
  });
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  return JSON.parse(r.stdout);
}

/** The value text the view should show for a field, from the CLI's JSON (the oracle, not the view's code). */
function expectedValue(f: JsonField): string {
  if (f.fields)
    return `${f.type === 'subsection' ? 'subsection' : f.type}, ${f.fields.length} field${f.fields.length === 1 ? '' : 's'}`;
  if (f.type === 'bool' || f.type === 'capability') return JSON.stringify(f.value);
  if (f.value !== undefined) {
    const v = BigInt(f.value as number | string);
    const u = v < 0n ? (1n << BigInt(8 * f.length)) + v : v;
    const hex = `0x${u.toString(16).padStart(2 * f.length, '0')}`;
    return v < 0n ? `${hex} (${v})` : hex;
  }
  const bytes = (f.hex ?? '').split(' ').filter(Boolean);
  return bytes.length > 32 ? `${bytes.slice(0, 32).join(' ')} … (${bytes.length} bytes)` : bytes.join(' ');
}

const label = (f: JsonField) => (f.index !== undefined ? `${f.name}[${f.index}]` : f.name);

async function step<T>(name: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (wb)
      console.error(
        `failure screenshot: ${await wb.screenshot(`devices-${name}-failure`).catch(() => '')}\npage errors:\n${wb.pageErrors.join('\n')}`,
      );
    if (vsc) console.error(`code-server log: ${vsc.server.logFile}`);
    throw e;
  }
}

/** The active (selected) item of the Devices tree. */
function activeItem(view: FrameLocator): Locator {
  return view.locator('.dv-tree .item[aria-selected="true"]');
}

async function press(view: FrameLocator, key: string, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) await view.locator('.dv-tree').press(key);
}

/** Checks the tree shows a field list (name and value of each) as the CLI decoded it, expanding structs. */
async function checkFields(view: FrameLocator, section: number, fields: JsonField[], path: number[]): Promise<number> {
  let checked = 0;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const item = view.locator(`.dv-tree .item[data-key="field:${section}:${[...path, i].join('.')}"]`);
    await item.waitFor({ timeout: 30_000 });
    assert.equal(await item.locator('.name').textContent(), label(f), `field ${[...path, i]} name`);
    assert.equal(await item.locator('.value').textContent(), expectedValue(f), `${label(f)} value`);
    assert.match(
      (await item.locator('.meaning').textContent()) ?? '',
      new RegExp(`at ${f.offset}\\.\\.${f.offset + f.length - 1}$`),
    );
    checked++;
    if (f.fields) {
      if ((await item.getAttribute('aria-expanded')) !== 'true') await item.locator('.twistie').click();
      checked += await checkFields(view, section, f.fields, [...path, i]);
    }
  }
  return checked;
}

/** Copies the capture with the footer marker (0x7e) after BROKEN's body changed to 0x00. */
async function writeFooterMismatch(from: string, to: string): Promise<void> {
  const bodyEnd = devicesJson(from).devices.find((d) => d.idstr === BROKEN)!.bodyEnd;
  const analysis = await analyzeCaptureFile(from);
  let at: number;
  try {
    at = analysis.streams.find((s) => s.id === analysis.main!.streamId)!.stream.toDestination.fileOffsetOf(bodyEnd);
  } finally {
    await analysis.capture.source.close();
  }
  copyFileSync(from, to);
  const fd = openSync(to, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    assert.equal(b[0], 0x7e, `the footer marker of ${BROKEN} is at file offset ${at}`);
    writeSync(fd, Buffer.from([0]), 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

before(async () => {
  assertPrerequisites();
  copyFileSync(join(ROOT, 'samples', SAMPLE), join(workspace, SAMPLE));
  await writeFooterMismatch(join(workspace, SAMPLE), join(workspace, BAD));
  vsc = await launchVSCode({ installExtensions: [packageVsix()] });
  wb = await vsc.openWorkbench(workspace);
  await wb.waitForExplorerItem(SAMPLE);
});

after(async () => {
  await vsc?.dispose();
  rmSync(workspace, { recursive: true, force: true });
});

test(
  "a real 7.2 capture: the Devices view shows a PCI device's fields as mfd devices decodes them, a field's bytes highlighted",
  { timeout: 300_000 },
  () =>
    step('fields', async () => {
      const capture = join(workspace, SAMPLE);
      const cli = devicesJson(capture);
      const section = cli.devices.findIndex((d) => d.idstr === DEVICE);
      assert.ok(section > 0, `${DEVICE} is among the decoded devices`);
      const device = cli.devices[section];

      await wb!.quickOpen(SAMPLE);
      // The editor gets the whole width (the screenshot shows the list, the details, the bytes and the devices).
      await wb!.runCommand('View: Close Primary Side Bar');
      const view = await wb!.webviewFrame();
      await view.locator('body[data-ready="true"]').waitFor({ timeout: 60_000 });
      await view.locator('vscode-button', { hasText: 'Devices' }).click();
      // Every decoded section is listed, in stream order, named as the CLI names it.
      const sections = view.locator('.dv-tree .item[aria-level="1"]');
      await sections.first().waitFor({ timeout: 30_000 });
      assert.equal(await sections.count(), cli.devices.length);
      assert.match(
        (await view.locator('.dv-head').textContent()) ?? '',
        new RegExp(`^${cli.devices.length} device sections`),
      );
      for (let i = 0; i < cli.devices.length; i++)
        assert.equal(await sections.nth(i).locator('.name').textContent(), cli.devices[i].idstr);

      // From the keyboard: the tree has focus once the view opens; Home, then down to the PCI device.
      await view.locator('.dv-tree:focus').waitFor();
      await press(view, 'Home');
      await press(view, 'ArrowDown', section);
      assert.equal(await activeItem(view).locator('.name').textContent(), DEVICE);
      // Its section row is selected in the packet list, its header in the details.
      await view
        .locator('.packet-list .row.selected:not([hidden])')
        .filter({ hasText: `FULL section ${device.sectionId}` })
        .waitFor({ timeout: 30_000 });
      await press(view, 'ArrowRight');
      const checked = await checkFields(view, section, device.fields, []);
      assert.ok(checked >= 8, `${checked} fields checked against mfd devices`);

      // The PCI config space (dev → config[0]): select it with the keyboard, its bytes light up in the bytes pane.
      const dev = device.fields[0];
      const config = dev.fields!.find((f) => f.name.startsWith('config'))!;
      const configIndex = dev.fields!.indexOf(config);
      await view.locator(`.dv-tree .item[data-key="field:${section}:0"]`).click();
      await press(view, 'ArrowDown', 1 + configIndex);
      assert.equal(await activeItem(view).locator('.name').textContent(), label(config));
      // The payload tab shows the section body around the field (the header tab keeps the section header's bytes).
      const payload = view.locator('.bytes .hex[aria-label="Compressed payload"]');
      const hl = payload.locator('.hexcol .b.hl');
      await payload
        .locator('.hex-caption')
        .filter({ hasText: `${label(config)}: ${config.length} bytes` })
        .waitFor({ timeout: 30_000 });
      assert.equal(await hl.count(), config.length, 'exactly the field is highlighted');
      const shown = (await hl.allTextContents()).join(' ');
      // The capture's own bytes at the field's stream offset, read apart from the editor.
      const analysis = await analyzeCaptureFile(capture);
      try {
        const main = analysis.streams.find((s) => s.id === analysis.main!.streamId)!.stream.toDestination;
        const bytes = await main.read(config.offset, config.offset + config.length);
        assert.equal(
          shown,
          Buffer.from(bytes)
            .toString('hex')
            .replace(/(..)(?!$)/g, '$1 '),
        );
      } finally {
        await analysis.capture.source.close();
      }
      assert.equal(shown, config.hex, "the highlighted bytes are mfd devices' hex of the field");
      // The first highlighted byte is the one at the field's offset (its line's offset plus its place in the line).
      const firstLine = payload
        .locator('.line')
        .filter({ has: view.locator('.b.hl') })
        .first();
      const firstAt = await firstLine.evaluate((line) => {
        const spans = [...line.querySelectorAll('.hexcol .b')];
        const off = parseInt(line.querySelector('.off')?.textContent ?? '', 16);
        return off + spans.findIndex((b) => b.classList.contains('hl'));
      });
      assert.equal(firstAt, config.offset);

      const shot = await wb!.screenshot('devices-01-fields');
      mkdirSync(join(ROOT, 'docs', 'screenshots'), { recursive: true });
      copyFileSync(shot, join(ROOT, 'docs', 'screenshots', 'devices-01-fields.png'));

      // Back from the bytes: a click on the byte after the config space selects the field it belongs to.
      const next = dev.fields![configIndex + 1];
      await payload.locator(`.hexcol .b[data-o="${next.offset}"]`).click();
      await payload
        .locator('.hex-caption')
        .filter({ hasText: `${label(next)}: ${next.length} bytes` })
        .waitFor();
      assert.equal(await activeItem(view).locator('.name').textContent(), label(next));
      assert.equal(await hl.count(), next.length);
    }),
);

test(
  'a section whose footer is not where its description ends: the problem on the section, in Problems, linked to its row',
  { timeout: 180_000 },
  () =>
    step('problem', async () => {
      const cli = devicesJson(join(workspace, BAD));
      const broken = cli.devices.find((d) => d.idstr === BROKEN)!;
      await wb!.quickOpen(BAD);
      const view = await wb!.webviewFrame();
      await view.locator('body[data-ready="true"]').waitFor({ timeout: 60_000 });
      await view.locator('vscode-button', { hasText: 'Devices' }).click();
      await view.locator('.dv-head').filter({ hasText: '1 with problems' }).waitFor({ timeout: 30_000 });
      const item = view.locator('.dv-tree .item[aria-level="1"]').filter({ hasText: BROKEN });
      assert.match((await item.getAttribute('class')) ?? '', /sev-error/, 'the section is marked with its error');
      await item.click();
      await press(view, 'ArrowRight');
      // Its first children are its diagnostics, as the Problems panel words them: the footer, and the walk stopping.
      const problems = view.locator('.dv-tree .item.dv-problem');
      await problems.first().waitFor({ timeout: 30_000 });
      assert.deepEqual(await problems.locator('.name').allTextContents(), [
        'main.device-mismatch',
        'main.device-state',
      ]);
      const problem = problems.first();
      assert.match(
        (await problem.locator('.value').textContent()) ?? '',
        new RegExp(
          `section "${BROKEN}" \\(id ${broken.sectionId}, instance 0\\): the footer of section ${broken.sectionId} is not at ${broken.bodyEnd}`,
        ),
      );
      // The fields before the footer still decode.
      await view.locator(`.dv-tree .item[data-key^="field:"]`).first().waitFor();
      // The same diagnostic in the Problems panel; its link reveals the section's row.
      await wb!.page.keyboard.press('Control+Shift+M');
      const entry = wb!.page
        .locator('.markers-panel .monaco-list-row')
        .filter({ hasText: 'main.device-mismatch' })
        .first();
      await entry.waitFor({ timeout: 30_000 });
      assert.match((await entry.textContent()) ?? '', new RegExp(`section "${BROKEN}"`));
      await entry.getByText('main.device-mismatch', { exact: true }).click();
      await view
        .locator('.packet-list .row.selected:not([hidden])')
        .filter({ hasText: `FULL section ${broken.sectionId}` })
        .waitFor({ timeout: 30_000 });
      await wb!.screenshot('devices-02-problem');
    }),
);
