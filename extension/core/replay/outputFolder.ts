import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';

/** Held in the output folder while a replay writes there: a second replay into the same folder is refused. */
export const LOCK_FILE = '.mfd-replay.lock';
/** Left in the output folder by a replay that did not finish: its images have their full size but not their pages. */
export const INCOMPLETE_MARKER = 'REPLAY-INCOMPLETE.json';

/** The output folder cannot be used (unwritable, locked, or an output would overwrite an input): a usage error. */
export class ReplayRefused extends Error {}

interface LockInfo {
  pid: number;
  started: string;
  capture?: string;
}

/**
 * The output folder of one replay: created and checked writable up front, locked against a concurrent replay
 * (an exclusive lock file holding the pid; a lock whose process is gone is stale and taken over), and marked
 * incomplete from the start until the replay says it finished, so images of a replay that was interrupted,
 * killed or failed never look complete.
 */
export class OutputFolder {
  private released = false;
  private marked = false;
  private constructor(
    readonly dir: string,
    private readonly lockPath: string,
  ) {}

  static claim(dir: string, capture?: string): OutputFolder {
    const abs = resolve(dir);
    try {
      mkdirSync(abs, { recursive: true });
    } catch (e) {
      throw new ReplayRefused(`cannot write to ${dir}: ${(e as Error).message}`);
    }
    const lockPath = join(abs, LOCK_FILE);
    const info: LockInfo = { pid: process.pid, started: new Date().toISOString(), capture };
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(lockPath, 'wx');
        try {
          writeSync(fd, JSON.stringify(info) + '\n');
        } finally {
          closeSync(fd);
        }
        break;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code !== 'EEXIST') throw new ReplayRefused(`cannot write to ${dir}: ${(e as Error).message}`);
        const holder = readLock(lockPath);
        if (attempt === 0 && holder.stale) {
          rmSync(lockPath, { force: true });
          continue;
        }
        throw new ReplayRefused(
          `${dir} is in use by another replay (${holder.describe}); wait for it to end, or remove ${lockPath} if that process is gone`,
        );
      }
    }
    return new OutputFolder(abs, lockPath);
  }

  get markerPath(): string {
    return join(this.dir, INCOMPLETE_MARKER);
  }

  /**
   * Marks the folder's contents as not (yet) a finished replay. The first mark must be written; later ones
   * (with the reason) are best effort: on a full disk the first one stands, which says as much.
   */
  markIncomplete(reason: string, capture?: string): void {
    const text =
      JSON.stringify({ complete: false, reason, capture, pid: process.pid, at: new Date().toISOString() }, null, 2) +
      '\n';
    const first = !this.marked;
    this.marked = true;
    const tmp = this.markerPath + '.tmp';
    try {
      writeFileSync(tmp, text);
      renameSync(tmp, this.markerPath);
    } catch (e) {
      rmSync(tmp, { force: true });
      try {
        writeFileSync(this.markerPath, text);
      } catch {
        if (first) throw new ReplayRefused(`cannot write to ${this.dir}: ${(e as Error).message}`);
      }
    }
  }

  markComplete(): void {
    rmSync(this.markerPath, { force: true });
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (readLock(this.lockPath).pid === process.pid) rmSync(this.lockPath, { force: true });
  }
}

function readLock(path: string): { pid: number; stale: boolean; describe: string } {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { pid: -1, stale: true, describe: 'lock vanished' };
  }
  let info: Partial<LockInfo> = {};
  try {
    info = JSON.parse(text) as Partial<LockInfo>;
  } catch {
    // Half-written by a replay that was killed at that moment, or being written now: stale once it is old.
    const age = Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    return { pid: -1, stale: age > 10_000, describe: 'an unreadable lock file' };
  }
  const pid = typeof info.pid === 'number' ? info.pid : -1;
  return { pid, stale: !alive(pid), describe: `process ${pid}${info.started ? `, started ${info.started}` : ''}` };
}

function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/** Identity of a file (device and inode), or undefined when there is none. */
export function fileIdentity(path: string): string | undefined {
  const s = statSync(path, { throwIfNoEntry: false, bigint: true });
  return s ? `${s.dev}:${s.ino}` : undefined;
}

/**
 * Refuses outputs that are one of the inputs (the same device and inode, whatever the path: hard links and
 * symbolic links included): writing one would destroy what the replay reads or compares with.
 */
export function refuseOutputsThatAreInputs(
  outputs: readonly string[],
  inputs: readonly { role: string; path: string }[],
): void {
  const ids = new Map<string, { role: string; path: string }>();
  for (const i of inputs) {
    const id = fileIdentity(i.path);
    if (id) ids.set(id, i);
  }
  if (!ids.size) return;
  for (const o of outputs) {
    const id = fileIdentity(o);
    const input = id ? ids.get(id) : undefined;
    if (input)
      throw new ReplayRefused(
        `output ${o} is the ${input.role} ${input.path} (the same file): replaying would overwrite it; choose another --out`,
      );
  }
}
