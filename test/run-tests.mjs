// Runs the test suites with Node's own test runner, so one summary line closes the run.
//   node test/run-tests.mjs            unit tests (next to the code) + real-QEMU suite + VS Code suites
//   node test/run-tests.mjs --unit     unit tests only
// Suites whose prerequisites are missing fail loudly rather than skipping: CI installs them all.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const unitOnly = process.argv.includes('--unit');

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

const unit = [...find('extension'), ...find('webview'), ...find('test/record'), ...find('test/debug'), ...find('test/fuzz')];
const suites = unitOnly ? unit : [...unit, ...find('test/qemu'), ...find('test/vscode')];
const args = ['--import', 'tsx', '--test', '--test-concurrency=1', ...(process.env.MFD_TEST_REPORTER ? [`--test-reporter=${process.env.MFD_TEST_REPORTER}`] : []), ...suites];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
