import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

/** Repository root (this file is test/vscode/harness/paths.ts). */
export const ROOT = resolve(__dirname, '..', '..', '..');

/** Where scripts/install-code-server.sh puts code-server (override: MFD_CODE_SERVER_DIR). */
export const CODE_SERVER_DIR = process.env.MFD_CODE_SERVER_DIR ?? resolve(ROOT, '.vscode-test', 'code-server');
export const CODE_SERVER_BIN = resolve(CODE_SERVER_DIR, 'node_modules', '.bin', 'code-server');
/** Debian's chromium (override: MFD_CHROMIUM). */
export const CHROMIUM = process.env.MFD_CHROMIUM ?? '/usr/bin/chromium';

export const ARTIFACTS_DIR = resolve(ROOT, 'test-artifacts');
export const SCREENSHOTS_DIR = resolve(ARTIFACTS_DIR, 'screenshots');
export const LOGS_DIR = resolve(ARTIFACTS_DIR, 'logs');

/** Bundled extension-host test runner and suites (built by buildExtensionHostTests(); outside dist/ so the .vsix never carries them). */
export const TEST_OUT_DIR = resolve(ROOT, 'out', 'vscode-test');
export const RUNNER_JS = resolve(TEST_OUT_DIR, 'runner.js');

export const EXTENSION_ID = 'qemu-multifd-inspector.qemu-multifd-inspector';
export const VSIX_PATH = resolve(ROOT, 'dist-vsix', 'qemu-multifd-inspector.vsix');

const INSTALL_HINT =
  'Run `bash scripts/install-code-server.sh` (installs chromium, ripgrep, build headers and code-server@4.100.3).';

/** Throws a clear error when code-server or chromium is missing. Tests call this so they fail rather than skip. */
export function assertPrerequisites(opts: { browser?: boolean } = {}): void {
  const problems: string[] = [];
  if (!existsSync(CODE_SERVER_BIN)) problems.push(`code-server not found at ${CODE_SERVER_BIN}.`);
  if (opts.browser !== false && !(existsSync(CHROMIUM) && statSync(CHROMIUM).isFile()))
    problems.push(`chromium not found at ${CHROMIUM}.`);
  try {
    require.resolve('playwright-core');
  } catch {
    problems.push('playwright-core is not installed (run `npm ci`).');
  }
  if (problems.length) throw new Error(`${problems.join(' ')} ${INSTALL_HINT}`);
}
