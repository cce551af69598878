// UI test of a synthetic qpl capture (built from QEMU 10.0's sender code: no hardware output exists here) in a
// real VS Code: the details tree lists each page's compressed size from the be32 size array, raw pages marked,
// and the bytes pane decodes a compressed page.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { assertPrerequisites, launchVSCode, packageVsix, type VSCodeSession, type Workbench } from './harness';
import { liveMigration } from '../support/hardwareCompression/liveScenario';

const PS = 4096;
const FILE = 'qpl-10.0-synthetic.mfd';
const workspace = mkdtempSync(join(tmpdir(), 'mfd-ui-qpl-'));
const sender = liveMigration({ method: 'qpl', version: '10.0', pageSize: PS, channels: 2 });
let vsc: VSCodeSession | undefined;
let wb: Workbench | undefined;

before(async () => {
  assertPrerequisites();
  writeFileSync(join(workspace, FILE), sender.capture());
  vsc = await launchVSCode({ installExtensions: [packageVsix()] });
  wb = await vsc.openWorkbench(workspace);
  await wb.waitForExplorerItem(FILE);
});

after(async () => {
  await vsc?.dispose();
  rmSync(workspace, { recursive: true, force: true });
});

test(
  'a qpl packet: per-page compressed sizes, raw pages marked, a compressed page decoded',
  { timeout: 240_000 },
  async () => {
    try {
      await wb!.quickOpen(FILE);
      const view = await wb!.webviewFrame();
      await view.locator('body[data-ready="true"]').waitFor({ timeout: 60_000 });
      // The first packet of channel 0 with data pages; its sizes as the sender wrote them.
      const sent = sender.sent.find(
        (p) =>
          p.channel === 0 &&
          p.written &&
          p.normal.length > 0 &&
          p.sizes!.some((x) => x === PS) &&
          p.sizes!.some((x) => x < PS),
      );
      assert.ok(sent?.sizes, 'the scenario has a packet with raw and compressed pages');
      // A key typed while focus is still moving into the webview is lost: type until the box holds the whole text.
      const box = view.locator('#filter-input');
      const filter = `packet_num == ${sent.packetNum} && method == "qpl" && normal > 0`;
      for (let attempt = 0; attempt < 3; attempt++) {
        await box.click();
        await wb!.page.waitForTimeout(200);
        await wb!.page.keyboard.press('Control+A');
        await wb!.page.keyboard.type(filter);
        if ((await box.evaluate((e) => (e as HTMLInputElement).value)) === filter) break;
      }
      await wb!.page.keyboard.press('Enter');
      await view.locator('.list-status').filter({ hasText: /^1 of/ }).waitFor({ timeout: 30_000 });
      await view.locator('.packet-list .layer .row:not([hidden])').first().click();
      const group = view.locator('.tree .item').filter({ hasText: 'qpl page sizes' });
      await group.waitFor();
      const raw = sent.sizes.filter((x) => x === PS).length;
      assert.match(
        (await group.textContent()) ?? '',
        new RegExp(
          `${sent.sizes.length - raw} compressed pages? \\(${sent.sizes.filter((x) => x < PS).reduce((a, b) => a + b, 0)} bytes\\), ${raw} raw pages?; be32 size array of ${4 * sent.sizes.length} bytes`,
        ),
      );
      const items = view.locator('.tree .item.raw-page, .tree .item.compressed-page');
      assert.equal(await items.count(), sent.sizes.length, 'one entry per normal page');
      const shown = (await items.locator('.value').allTextContents()).map((t) => t.trim());
      assert.deepEqual(
        shown,
        sent.sizes.map((x) => (x === PS ? `raw page (${PS} bytes)` : `${x} bytes`)),
      );
      const zipped = sent.sizes.findIndex((x) => x < PS);
      await items.nth(zipped).dblclick();
      await view.locator('body').evaluate(() => getSelection()?.removeAllRanges()); // the double click selected a word
      await view
        .locator('.hex-caption')
        .filter({
          hasText: new RegExp(`decoded: decoded from the packet's qpl payload: ${sent.sizes[zipped]} compressed bytes`),
        })
        .waitFor({ timeout: 30_000 });
      await wb!.screenshot('qpl-01-page-sizes');
    } catch (e) {
      if (wb)
        console.error(
          `failure screenshot: ${await wb.screenshot('qpl-failure').catch(() => '')}\npage errors:\n${wb.pageErrors.join('\n')}`,
        );
      throw e;
    }
  },
);
