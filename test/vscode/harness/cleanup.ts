/**
 * Last-resort cleanup: code-server runs in its own process group (so it can be killed as a whole), which also means
 * it would outlive this process. Everything registered here is killed/removed synchronously when this process exits
 * or is interrupted (node --test sends SIGTERM to a test file that times out).
 */
const pending = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const fn of [...pending]) {
    pending.delete(fn);
    try {
      fn();
    } catch {
      /* best effort */
    }
  }
}

export function registerCleanup(fn: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', runAll);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(sig, () => {
        runAll();
        process.exit(sig === 'SIGINT' ? 130 : 143);
      });
    }
  }
  pending.add(fn);
  return () => pending.delete(fn);
}
