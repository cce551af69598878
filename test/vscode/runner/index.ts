/**
 * Extension-host test runner: the module VS Code `require`s as extensionTestsPath (same contract as
 * @vscode/test-electron: export `run(): Promise<void>`, reject on failure). Bundled to out/vscode-test/runner.js
 * by test/vscode/harness/build.ts; it runs inside the extension host (code-server's, or desktop VS Code's).
 *
 * Loads every bundled out/vscode-test/exthost/**\/*.exthost.js (sources: test/vscode/exthost/**\/*.exthost.ts).
 * Both mocha interfaces are available:
 * `describe/it/before/after` (bdd) and `suite/test/suiteSetup/setup` (tdd).
 * Environment: MFD_MOCHA_GREP (only tests whose full title matches), MFD_MOCHA_TIMEOUT (ms, default 60000).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

function findTests(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) findTests(full, out);
    else if (name.endsWith('.exthost.js')) out.push(full);
  }
  return out;
}

export async function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'bdd',
    color: false,
    reporter: 'spec',
    timeout: Number(process.env.MFD_MOCHA_TIMEOUT ?? 60_000),
  });
  // Also expose the tdd globals (suite/test/…) next to bdd's.
  Mocha.interfaces.tdd(mocha.suite);
  if (process.env.MFD_MOCHA_GREP) mocha.grep(process.env.MFD_MOCHA_GREP);

  const files = findTests(join(__dirname, 'exthost'));
  if (files.length === 0) throw new Error(`no *.exthost.js under ${join(__dirname, 'exthost')}`);
  for (const f of files) mocha.addFile(f);

  const failures = await new Promise<number>((resolve, reject) => {
    try {
      mocha.run((n) => resolve(n));
    } catch (e) {
      reject(e);
    }
  });
  if (failures > 0) throw new Error(`${failures} extension-host test(s) failed`);
}
