// First UI test: the packaged extension (.vsix) installed into code-server, the workbench opened on samples/,
// a .mfd file opened with Quick Open, the custom editor's webview rendered; screenshots go to
// test-artifacts/screenshots/. Needs scripts/install-code-server.sh to have run; fails (does not skip) otherwise.
//   MFD_UI_EXTENSION=dev   load the repository as a development extension instead of packaging a .vsix (faster)
//   MFD_UI_SAMPLES=<dir>   open another folder than samples/
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { ROOT, assertPrerequisites, buildExtension, launchVSCode, packageVsix, type VSCodeSession, type Workbench } from './harness';

test('a .mfd file opens in the custom editor', { timeout: 300_000 }, async () => {
  assertPrerequisites();
  const samples = resolve(process.env.MFD_UI_SAMPLES ?? resolve(ROOT, 'samples'));
  assert.ok(existsSync(samples), `no samples folder at ${samples}`);
  const mfd = readdirSync(samples).filter((f) => f.endsWith('.mfd')).sort()[0];
  assert.ok(mfd, `no .mfd file in ${samples}`);

  const dev = process.env.MFD_UI_EXTENSION === 'dev';
  if (dev) buildExtension();
  const vsix = dev ? undefined : packageVsix();

  let vsc: VSCodeSession | undefined;
  let wb: Workbench | undefined;
  try {
    vsc = await launchVSCode({ installExtensions: vsix ? [vsix] : [] });
    wb = await vsc.openWorkbench(samples, dev ? { extensionDevelopmentPath: ROOT } : {});
    await wb.waitForExplorerItem(mfd);
    await wb.screenshot('ui-01-workbench');

    await wb.quickOpen(mfd);
    const view = await wb.webviewFrame();
    // The custom editor rendered something (a text editor would have no webview at all).
    await view.locator('body *').first().waitFor({ state: 'visible', timeout: 60_000 });
    await wb.page.waitForTimeout(500); // let the webview finish its first paint before the screenshot
    await wb.screenshot('ui-02-custom-editor');
  } catch (e) {
    // Keep what the page looked like at the failure, and say where the logs are.
    if (wb) {
      const shot = await wb.screenshot('ui-failure').catch(() => undefined);
      console.error(`failure screenshot: ${shot}\npage errors:\n${wb.pageErrors.join('\n')}`);
    }
    if (vsc) console.error(`code-server log: ${vsc.server.logFile}`);
    throw e;
  } finally {
    await vsc?.dispose();
  }
});
