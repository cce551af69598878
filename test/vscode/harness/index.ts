/**
 * Harness for tests that run in a real VS Code: code-server@4.100.3 (installed by scripts/install-code-server.sh)
 * driven through Debian's chromium with playwright-core. See test/vscode/README.md.
 */
export {
  ROOT,
  CODE_SERVER_BIN,
  CHROMIUM,
  SCREENSHOTS_DIR,
  LOGS_DIR,
  RUNNER_JS,
  EXTENSION_ID,
  VSIX_PATH,
  assertPrerequisites,
} from './paths';
export { startCodeServer, freePort, DEFAULT_SETTINGS, type CodeServer, type CodeServerOptions } from './codeServer';
export { launchChromium, newPage, CHROMIUM_ARGS, type LaunchChromiumOptions } from './browser';
export { Workbench, workbenchUrl, SEL, type OpenWorkbenchOptions, type WorkbenchUrlOptions } from './workbench';
export { launchVSCode, type VSCodeSession, type LaunchVSCodeOptions } from './session';
export { runExtensionHostTests, type ExtensionHostTestOptions } from './extensionHost';
export { buildExtension, buildExtensionHostTests, packageVsix } from './build';
export { withSamplesWorkbench } from './samplesSession';
