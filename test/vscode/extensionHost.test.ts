// Runs the extension-host suite (test/vscode/exthost/**/*.exthost.ts, mocha, bundled with test/vscode/runner) inside
// code-server's real Node extension host, with this repository as the development extension.
// Needs scripts/install-code-server.sh to have run; fails (does not skip) otherwise.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { ROOT, assertPrerequisites, buildExtension, buildExtensionHostTests, runExtensionHostTests } from './harness';

test('extension-host tests pass in code-server', { timeout: 300_000 }, async () => {
  assertPrerequisites();
  if (process.env.MFD_SKIP_BUILD !== '1') buildExtension();
  const runner = await buildExtensionHostTests();
  const samples = resolve(ROOT, 'samples');
  const code = await runExtensionHostTests({
    extensionDevelopmentPath: ROOT,
    extensionTestsPath: runner,
    workspace: existsSync(samples) ? samples : undefined,
    timeoutMs: 240_000,
  });
  assert.equal(code, 0, 'the extension-host mocha suite failed (its report is in the output above)');
});
