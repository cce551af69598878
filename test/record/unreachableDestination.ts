import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';

/**
 * A destination whose TCP handshake never completes: a process that listens with a backlog of one and then
 * blocks its event loop, so it never accepts; once its accept queue is full (two connections), the kernel
 * drops further SYNs.
 */
export async function unreachableDestination(): Promise<{ port: number; stop: () => void }> {
  const script = `const s = require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
    require('fs').writeSync(1, s.address().port + '\\n');
    setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120000), 20);
  });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  const port = await new Promise<number>((r) => child.stdout!.once('data', (b) => r(Number(String(b).trim()))));
  await new Promise((r) => setTimeout(r, 200));
  // Fill the accept queue: the next connection (the recorder's) waits for a SYN-ACK that never comes.
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const filler = connect({ host: '127.0.0.1', port });
    filler.on('error', () => undefined);
    await new Promise((r) => filler.once('connect', r));
    fillers.push(filler);
  }
  return { port, stop: () => (fillers.forEach((f) => f.destroy()), child.kill('SIGKILL')) };
}
