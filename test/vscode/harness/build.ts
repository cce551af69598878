import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ROOT, TEST_OUT_DIR, VSIX_PATH } from './paths';

const EXTHOST_SRC = resolve(ROOT, 'test', 'vscode', 'exthost');
const RUNNER_SRC = resolve(ROOT, 'test', 'vscode', 'runner', 'index.ts');

function findTests(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) findTests(full, out);
    else if (/\.(exthost|test)\.(ts|js)$/.test(name)) out.push(full);
  }
  return out;
}

/**
 * Bundles the mocha runner (test/vscode/runner/index.ts → out/vscode-test/runner.js) and every
 * test/vscode/exthost/**\/*.exthost.ts (→ out/vscode-test/exthost/**\/*.exthost.js) as CommonJS for code-server's
 * (or desktop VS Code's) Node extension host. `vscode` and `mocha` stay external: the extension host provides
 * `vscode`, and mocha resolves from the repository's node_modules. Returns the runner's path.
 * *.test.ts there is bundled too, but test/run-tests.mjs also hands every *.test.ts under test/vscode to `node --test`,
 * where `vscode` does not exist: name ext-host suites *.exthost.ts (or make run-tests.mjs skip test/vscode/exthost).
 */
export async function buildExtensionHostTests(): Promise<string> {
  const esbuild = await import('esbuild');
  rmSync(TEST_OUT_DIR, { recursive: true, force: true });
  const entryPoints: Record<string, string> = { runner: RUNNER_SRC };
  for (const file of findTests(EXTHOST_SRC)) {
    // Every bundle is named *.exthost.js, whatever the source suffix, so the runner has one pattern to load.
    entryPoints[join('exthost', relative(EXTHOST_SRC, file)).replace(/\.(exthost|test)\.(ts|js)$/, '.exthost')] = file;
  }
  await esbuild.build({
    entryPoints,
    outdir: TEST_OUT_DIR,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
  return join(TEST_OUT_DIR, 'runner.js');
}

function run(cmd: string, args: string[], what: string): void {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${what} failed (status ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
}

/** `npm run build`: dist/extension.js, dist/webview.js, … */
export function buildExtension(): void {
  run('npm', ['run', '--silent', 'build'], 'npm run build');
}

/** `npm run package` (build + vsce) → dist-vsix/qemu-multifd-inspector.vsix; returns that path. */
export function packageVsix(): string {
  run('npm', ['run', '--silent', 'package'], 'npm run package');
  if (!existsSync(VSIX_PATH)) throw new Error(`npm run package did not produce ${VSIX_PATH}`);
  return VSIX_PATH;
}

if (require.main === module) {
  buildExtensionHostTests().then(
    (p) => console.log(`built ${p}`),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
