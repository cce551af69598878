/**
 * The layering, checked by `npm run depcruise` (and so by `npm test`):
 *   extension/core     decoding, replay, recording: no VS Code, no UI, no CLI
 *   extension/shared   types and pure helpers shared by the extension host and the webview; imports nothing else
 *   extension/debug    the replay debugger; only extension/debug/vscode talks to VS Code
 *   extension/editor   the capture editor (VS Code side)
 *   extension/cli      the `mfd` command line
 *                      (editor, debug and cli do not import each other: extension/extension.ts wires them)
 *   webview/           the editor's page, bundled for the browser: it sees extension/shared only
 *   test/              suites and their support code; production code never imports it
 * Type-only imports count: a cycle through types is still a cycle for a reader.
 */
const PRODUCTION = '^(extension|webview)/';
const TEST_FILE = '\\.test\\.ts$';
// `vscode` exists only inside the extension host; the resolver finds its type declarations.
const VSCODE = ['^vscode$', '(^|/)node_modules/@types/vscode/'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-self-contained',
      comment:
        'extension/core is used by the CLI, the editor and the debugger alike: it must not depend on any of them, nor on VS Code.',
      severity: 'error',
      from: { path: '^extension/core/', pathNot: TEST_FILE },
      to: { path: ['^extension/(editor|debug|cli)/', ...VSCODE] },
    },
    {
      name: 'front-ends-are-siblings',
      comment:
        'The editor, the debugger and the CLI each build on core and shared; extension/extension.ts wires them together.',
      severity: 'error',
      from: { path: '^extension/(editor|debug|cli)/', pathNot: TEST_FILE },
      to: { path: '^extension/(editor|debug|cli)/', pathNot: '^extension/$1/' },
    },
    {
      name: 'debug-without-vscode',
      comment:
        'The debugger runs as a plain debug adapter (tests drive it over DAP); only extension/debug/vscode registers it with VS Code.',
      severity: 'error',
      from: { path: '^extension/debug/', pathNot: ['^extension/debug/vscode/', TEST_FILE] },
      to: { path: VSCODE },
    },
    {
      name: 'webview-sees-shared-only',
      comment:
        'The webview runs in a browser page: besides its own files it may import extension/shared and browser packages, nothing of the extension host or Node.',
      severity: 'error',
      from: { path: '^webview/', pathNot: TEST_FILE },
      to: { pathNot: ['^webview/', '^extension/shared/', '^node_modules/'] },
    },
    {
      name: 'shared-is-a-leaf',
      comment: 'extension/shared is bundled into the webview too: what it imports would reach the page through it.',
      severity: 'error',
      from: { path: '^extension/shared/', pathNot: TEST_FILE },
      to: { pathNot: ['^extension/shared/', '^node_modules/'] },
    },
    {
      name: 'webview-without-vscode',
      comment: 'The page talks to the extension host by messages only (webview/rpc.ts).',
      severity: 'error',
      from: { path: '^webview/' },
      to: { path: VSCODE },
    },
    {
      name: 'production-without-tests',
      comment: 'Test encoders, fixtures and helpers live under test/ and are never bundled.',
      severity: 'error',
      from: { path: PRODUCTION, pathNot: TEST_FILE },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      comment: 'Modules import each other in one direction only (type-only imports included).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|dist-vsix|node_modules|\\.vscode-test|\\.tools|\\.qemu|\\.bench)/' },
    // Type-only imports are kept (TypeScript would erase them before the bundler sees them).
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
