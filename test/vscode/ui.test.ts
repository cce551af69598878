// First UI test: the packaged extension (.vsix) installed into code-server, the workbench opened on samples/,
// a .mfd file opened with Quick Open, the custom editor's webview rendered; screenshots go to
// test-artifacts/screenshots/. Needs scripts/install-code-server.sh to have run; fails (does not skip) otherwise.
//   MFD_UI_EXTENSION=dev   load the repository as a development extension instead of packaging a .vsix (faster)
//   MFD_UI_SAMPLES=<dir>   open another folder than samples/
import { test } from 'node:test';
import { withSamplesWorkbench } from './harness';

test('a .mfd file opens in the custom editor', { timeout: 300_000 }, () =>
  withSamplesWorkbench('ui', async (wb, mfd) => {
    await wb.screenshot('ui-01-workbench');

    await wb.quickOpen(mfd);
    const view = await wb.webviewFrame();
    // The custom editor rendered something (a text editor would have no webview at all).
    await view.locator('body *').first().waitFor({ state: 'visible', timeout: 60_000 });
    await wb.page.waitForTimeout(500); // let the webview finish its first paint before the screenshot
    await wb.screenshot('ui-02-custom-editor');
  }),
);
