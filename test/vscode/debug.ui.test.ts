// UI test of the multifd-replay debugger in code-server: open a sample capture, start "Multifd: Step Through Capture in Debugger"
// from its editor, step over twice (F10), and check the Variables view shows the second packet's header.
// Needs the extension's activate() to call registerDebugging (extension/debug/vscode) and
// scripts/install-code-server.sh to have run.
//   MFD_UI_EXTENSION=dev   load the repository as a development extension instead of packaging a .vsix
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withSamplesWorkbench } from './harness';

test('debug a capture replay: start, step twice, Variables view shows the packet', { timeout: 300_000 }, () =>
  withSamplesWorkbench('debug-ui', async (wb, mfd) => {
    await wb.quickOpen(mfd);
    await wb.webviewFrame();
    await wb.runCommand('Multifd: Step Through Capture in Debugger');

    const page = wb.page;
    // The Variables view is virtualized: a tall window keeps the whole Packet scope rendered.
    await page.setViewportSize({ width: 1400, height: 2000 });
    const toolbar = page.locator('.debug-toolbar');
    await toolbar.waitFor({ state: 'visible', timeout: 60_000 });
    // Stopped on entry: the call stack shows the start frame.
    await page
      .locator('.debug-call-stack .monaco-list-row', { hasText: 'start of replay' })
      .first()
      .waitFor({ timeout: 60_000 });
    await wb.screenshot('debug-01-entry');

    for (const n of [1, 2]) {
      await page.locator('.debug-toolbar .codicon-debug-step-over').click();
      await page
        .locator('.debug-call-stack .monaco-list-row', { hasText: /packet \d+ · packet_num/ })
        .first()
        .waitFor({ timeout: 60_000 });
      // Each step re-renders the views: wait for the step counter of this very step, not the previous one.
      const counter = page
        .locator('.debug-variables .monaco-list-row', { hasText: new RegExp(`replay step[\\s\\S]*\\b${n} of \\d+`) })
        .first();
      await counter.waitFor({ timeout: 60_000 });
      assert.match(
        await counter.innerText(),
        new RegExp(`replay step[\\s\\S]*\\b${n} of \\d+`),
        `after ${n} step(s) over`,
      );
    }
    const rows = await page.locator('.debug-variables .monaco-list-row').allInnerTexts();
    const text = rows.join('\n');
    for (const field of [
      'magic',
      'flags',
      'packet_num',
      'normal_pages',
      'zero_pages',
      'ramblock',
      'normal offsets',
      'zero offsets',
    ])
      assert.ok(text.includes(field), `Variables view lacks ${field}:\n${text}`);
    assert.match(text, /0x11223344/);
    await wb.screenshot('debug-02-after-two-steps');
    await page.locator('.debug-toolbar .codicon-debug-stop').click();
  }),
);
