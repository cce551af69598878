// `npm test` (after the build): the static checks, then the suites with Node's own test runner, so one summary
// line closes the run.
//   node test/run-tests.mjs            checks, then unit tests (next to the code), the Node 22 run of the zstd
//                                      receiver, the real-QEMU suites and the VS Code suites
//   node test/run-tests.mjs --unit     unit tests only, no checks
// Checks: ESLint, Prettier (--check) and the dependency rules (.dependency-cruiser.cjs). The first that fails
// stops the run before any suite, after the tool's own report.
// Prerequisites are not optional: the real-QEMU suites fail when a QEMU (7.2, 10.0, 11.1) or Node 22 is missing,
// the VS Code suites when code-server or chromium is; scripts/setup.sh installs them all, as CI does. What skips
// does so on purpose: on Node 20 the unit run skips the node:zlib zstd cases (test/node22 runs them under
// Node 22), and MFD_UI_LARGE_PACKETS=0 leaves out the large-capture UI test.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const unitOnly = process.argv.includes('--unit');

const CHECKS = [
  ['ESLint', 'lint'],
  ['Prettier', 'format:check'],
  ['dependency rules', 'depcruise'],
];

function find(dir, out = []) {
  if (!existsSync(join(root, dir))) return out;
  for (const name of readdirSync(join(root, dir))) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const rel = join(dir, name);
    if (statSync(join(root, rel)).isDirectory()) find(rel, out);
    else if (name.endsWith('.test.ts')) out.push(rel);
  }
  return out;
}

if (!unitOnly) {
  for (const [label, script] of CHECKS) {
    const r = spawnSync('npm', ['run', '--silent', script], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(`\n${label} failed (npm run ${script}); the suites were not run.`);
      process.exit(r.status || 1);
    }
  }
}

const unit = [
  ...find('extension'),
  ...find('webview'),
  ...find('test/record'),
  ...find('test/debug'),
  ...find('test/fuzz'),
];
const suites = unitOnly ? unit : [...unit, ...find('test/node22'), ...find('test/qemu'), ...find('test/vscode')];
const reporter = process.env.MFD_TEST_REPORTER ? [`--test-reporter=${process.env.MFD_TEST_REPORTER}`] : [];
const args = ['--import', 'tsx', '--test', '--test-concurrency=1', ...reporter, ...suites];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
