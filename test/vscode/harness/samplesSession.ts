import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildExtension, packageVsix } from './build';
import { ROOT, assertPrerequisites } from './paths';
import { launchVSCode, type VSCodeSession } from './session';
import type { Workbench } from './workbench';

/**
 * Runs `body` in a workbench opened on samples/ with the extension installed from its .vsix (or, with
 * MFD_UI_EXTENSION=dev, loaded from the repository), once the first sample shows in the explorer. On failure it
 * keeps a screenshot named `<name>-failure` and says where code-server's log is; code-server always stops.
 *   MFD_UI_SAMPLES=<dir>   open another folder than samples/
 */
export async function withSamplesWorkbench(
  name: string,
  body: (wb: Workbench, mfd: string) => Promise<void>,
): Promise<void> {
  assertPrerequisites();
  const samples = resolve(process.env.MFD_UI_SAMPLES ?? resolve(ROOT, 'samples'));
  assert.ok(existsSync(samples), `no samples folder at ${samples}`);
  const mfd = readdirSync(samples)
    .filter((f) => f.endsWith('.mfd'))
    .sort()[0];
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
    await body(wb, mfd);
  } catch (e) {
    if (wb) {
      const shot = await wb.screenshot(`${name}-failure`).catch(() => undefined);
      console.error(`failure screenshot: ${shot}\npage errors:\n${wb.pageErrors.join('\n')}`);
    }
    if (vsc) console.error(`code-server log: ${vsc.server.logFile}`);
    throw e;
  } finally {
    await vsc?.dispose();
  }
}
