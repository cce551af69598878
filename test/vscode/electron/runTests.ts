// `npm run test:electron`: the same extension-host suite (test/vscode/exthost, runner test/vscode/runner) in a
// desktop VS Code downloaded by @vscode/test-electron. Needs the VS Code download servers and, on Linux without a
// display, xvfb (e.g. `xvfb-run -a npm run test:electron`). Where VS Code cannot be downloaded, use
// `node --import tsx --test test/vscode/extensionHost.test.ts`, which runs the same suite in code-server.
//   MFD_VSCODE_VERSION   VS Code version to download (default: stable)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { ROOT, buildExtension, buildExtensionHostTests } from '../harness';

const NETWORK =
  /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|getaddrinfo|socket hang up|status code 4\d\d|status code 5\d\d/i;

async function main(): Promise<number> {
  buildExtension();
  const runner = await buildExtensionHostTests();
  const workspace = mkdtempSync(join(tmpdir(), 'mfd-electron-ws-'));
  const userData = mkdtempSync(join(tmpdir(), 'mfd-electron-ud-'));
  const version = process.env.MFD_VSCODE_VERSION ?? 'stable';
  const launchArgs = [
    workspace,
    '--disable-extensions',
    '--disable-workspace-trust',
    '--skip-welcome',
    '--skip-release-notes',
    `--user-data-dir=${userData}`,
    '--disable-gpu',
  ];
  if (process.getuid?.() === 0) launchArgs.push('--no-sandbox');
  try {
    return await runTests({ version, extensionDevelopmentPath: ROOT, extensionTestsPath: runner, launchArgs });
  } catch (e) {
    const msg = e instanceof Error ? `${e.message}` : String(e);
    if (NETWORK.test(msg) || NETWORK.test(String((e as { code?: unknown })?.code ?? ''))) {
      console.error(
        `\ntest:electron: cannot download VS Code ${version} (${msg}).\n` +
          'This machine cannot reach the VS Code download servers. The same extension-host suite runs in code-server:\n' +
          '  bash scripts/install-code-server.sh && node --import tsx --test test/vscode/extensionHost.test.ts\n',
      );
      return 2;
    }
    console.error(`test:electron: ${msg}`);
    return 1;
  } finally {
    rmSync(workspace, { recursive: true, force: true });
    rmSync(userData, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
