// Builds the three bundles: the extension (extension host), the webview, and the `mfd` CLI.
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, chmodSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'info', target: 'es2022' };

const builds = [
  {
    ...common,
    entryPoints: ['extension/cli/mfd.ts'],
    outfile: 'dist/mfd.js',
    platform: 'node',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
  },
];
if (existsSync('extension/extension.ts')) {
  builds.push({
    ...common,
    entryPoints: ['extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    external: ['vscode'],
  });
}
if (existsSync('extension/core/replay/decodeWorker.ts')) {
  builds.push({
    ...common,
    entryPoints: ['extension/core/replay/decodeWorker.ts'],
    outfile: 'dist/decodeWorker.js',
    platform: 'node',
    format: 'cjs',
  });
}
if (existsSync('webview/main.ts')) {
  builds.push({
    ...common,
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview.js',
    platform: 'browser',
    format: 'esm',
  });
}

mkdirSync('dist', { recursive: true });
if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  chmodSync('dist/mfd.js', 0o755);
}
// The webview's assets ship inside dist/ because the .vsix carries no node_modules.
const assets = [
  ['node_modules/@vscode/codicons/dist/codicon.css', 'dist/codicon.css'],
  ['node_modules/@vscode/codicons/dist/codicon.ttf', 'dist/codicon.ttf'],
  ['node_modules/@vscode-elements/elements/dist/bundled.js', 'dist/vscode-elements.js'],
];
for (const [from, to] of assets) if (existsSync(from)) cpSync(from, to);
