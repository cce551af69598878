import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

/**
 * Debian's tcpdump on the loopback interface, as a user would run it during a migration: `tcpdump -i lo -w FILE
 * tcp port PORT`. Started before the migration, stopped (SIGINT, so it flushes) after it.
 */
export class Tcpdump {
  private exited: Promise<number | null>;
  private stderr = '';

  private constructor(
    private readonly proc: ChildProcess,
    private readonly out: string,
  ) {
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  /** Waits until tcpdump says it listens: packets before that would be missing from the file. */
  static async start(out: string, port: number, extraArgs: string[] = []): Promise<Tcpdump> {
    // -U: write each packet as it arrives; -Z root: keep writing as root into our folder; -B: a large kernel buffer
    // so nothing is dropped on a 2-core machine.
    // --immediate-mode: each packet leaves the kernel's ring at once, so none is left behind when it stops.
    const proc = spawn(
      'tcpdump',
      [
        '-i',
        'lo',
        '--immediate-mode',
        '-U',
        '-Z',
        'root',
        '-B',
        '65536',
        '-w',
        out,
        ...extraArgs,
        'tcp',
        'port',
        String(port),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const t = new Tcpdump(proc, out);
    const deadline = Date.now() + 10_000;
    while (!t.stderr.includes('listening on')) {
      if (proc.exitCode !== null) throw new Error(`tcpdump exited: ${t.stderr}`);
      if (Date.now() > deadline) throw new Error(`tcpdump did not start: ${t.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return t;
  }

  /**
   * Stops the capture once the file has stopped growing (packets still in the kernel's buffer are lost on
   * SIGINT); resolves with what tcpdump printed (its packet and drop counts).
   */
  async stop(): Promise<string> {
    let size = -1;
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 300));
      const now = existsSync(this.out) ? statSync(this.out).size : 0;
      if (now === size) break;
      size = now;
    }
    this.proc.kill('SIGINT');
    await this.exited;
    return this.stderr;
  }

  /** "N packets dropped by kernel", from tcpdump's closing lines. */
  static dropped(stderr: string): number {
    const m = /(\d+) packets? dropped by kernel/.exec(stderr);
    return m ? Number(m[1]) : NaN;
  }
}
