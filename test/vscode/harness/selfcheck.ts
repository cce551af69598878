/**
 * Proves the harness independently of the real extension: writes a minimal throwaway extension with the same id
 * (custom editor for *.mfd, one command) into a temp dir, then
 *   1. runs the real extension-host suite (test/vscode/exthost) against it via runExtensionHostTests();
 *   2. packages it with vsce (same flags and .vscodeignore as `npm run package`), installs the .vsix into code-server
 *      and drives the UI: workbench → Quick Open a .mfd → webview content → command palette → notification → screenshots.
 * Run: node --import tsx test/vscode/harness/selfcheck.ts   (npm run test:vscode:selfcheck)
 * Exit code 0 when everything worked.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, assertPrerequisites, buildExtensionHostTests, launchVSCode, runExtensionHostTests } from './index';

const EXTENSION_JS = `
const vscode = require('vscode');
exports.activate = (context) => {
  context.subscriptions.push(vscode.commands.registerCommand('selfcheck.hello', () =>
    vscode.window.showInformationMessage('Hello from the selfcheck extension')));
  context.subscriptions.push(vscode.window.registerCustomEditorProvider('selfcheck.mfd', {
    openCustomDocument: (uri) => ({ uri, dispose() {} }),
    resolveCustomEditor: async (doc, panel) => {
      const bytes = await vscode.workspace.fs.readFile(doc.uri);
      panel.webview.html = '<!doctype html><html><body><h1 id="title">Selfcheck: ' +
        doc.uri.path.split('/').pop() + '</h1><p id="size">' + bytes.length + ' bytes</p></body></html>';
    },
  }));
};
exports.deactivate = () => {};
`;

function writeThrowawayExtension(dir: string): void {
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'extension.js'), EXTENSION_JS);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        name: 'qemu-multifd-inspector',
        publisher: 'qemu-multifd-inspector',
        version: '0.0.0-selfcheck',
        engines: { vscode: '^1.100.0' },
        main: './dist/extension.js',
        activationEvents: [],
        contributes: {
          commands: [{ command: 'selfcheck.hello', title: 'Selfcheck: Say Hello' }],
          customEditors: [
            { viewType: 'selfcheck.mfd', displayName: 'Selfcheck', selector: [{ filenamePattern: '*.mfd' }] },
          ],
        },
      },
      null,
      2,
    ),
  );
}

function packageThrowaway(dir: string): string {
  copyFileSync(join(ROOT, '.vscodeignore'), join(dir, '.vscodeignore'));
  writeFileSync(join(dir, 'README.md'), '# Selfcheck\n\nThrowaway extension used to check the VS Code test harness.\n');
  const out = join(dir, 'selfcheck.vsix');
  const vsce = join(ROOT, 'node_modules', '.bin', 'vsce');
  const args = [
    'package',
    '--no-dependencies',
    '--allow-missing-repository',
    '--skip-license',
    '--no-rewrite-relative-links',
    '--out',
    out,
  ];
  const r = spawnSync(vsce, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  if (r.status !== 0 || !existsSync(out)) throw new Error(`vsce package failed:\n${r.stdout}\n${r.stderr}`);
  return out;
}

async function main(): Promise<void> {
  assertPrerequisites();
  const tmp = mkdtempSync(join(tmpdir(), 'mfd-selfcheck-'));
  const ext = join(tmp, 'extension');
  const ws = join(tmp, 'workspace');
  mkdirSync(ws, { recursive: true });
  writeThrowawayExtension(ext);
  writeFileSync(join(ws, 'sample.mfd'), Buffer.alloc(1234, 7));
  const t0 = Date.now();
  const secs = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  try {
    // 1. extension-host suite
    const runner = await buildExtensionHostTests();
    const code = await runExtensionHostTests({
      extensionDevelopmentPath: ext,
      extensionTestsPath: runner,
      workspace: ws,
    });
    console.log(`[selfcheck] extension-host suite exit code ${code} (${secs()})`);
    assert.equal(code, 0, 'extension-host suite failed');

    // 2. UI
    const t1 = Date.now();
    const vsix = packageThrowaway(ext);
    console.log(`[selfcheck] packaged ${vsix} (${((Date.now() - t1) / 1000).toFixed(1)} s)`);
    const vsc = await launchVSCode({ installExtensions: [vsix] });
    try {
      const wb = await vsc.openWorkbench(ws);
      await wb.waitForExplorerItem('sample.mfd');
      console.log(`[selfcheck] workbench ready (${((Date.now() - t1) / 1000).toFixed(1)} s)`);
      await wb.screenshot('selfcheck-01-workbench');
      await wb.quickOpen('sample.mfd');
      const view = await wb.webviewFrame();
      await view.locator('#title').waitFor();
      assert.equal(await view.locator('#title').textContent(), 'Selfcheck: sample.mfd');
      assert.equal(await view.locator('#size').textContent(), '1234 bytes');
      console.log(`[selfcheck] custom editor webview shown (${((Date.now() - t1) / 1000).toFixed(1)} s)`);
      await wb.screenshot('selfcheck-02-custom-editor');
      await wb.runCommand('Selfcheck: Say Hello');
      await wb.waitForNotification('Hello from the selfcheck extension');
      const shot = await wb.screenshot('selfcheck-03-notification');
      console.log(`[selfcheck] UI flow done (${((Date.now() - t1) / 1000).toFixed(1)} s), last screenshot ${shot}`);
    } finally {
      await vsc.dispose();
    }
    console.log(`[selfcheck] OK (${secs()})`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error('[selfcheck] FAILED:', e);
  process.exit(1);
});
