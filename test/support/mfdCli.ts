import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { CaptureReport } from '../../extension/core/captureReport';
import type { ReplayJson } from '../../extension/cli/commands/replay';

/** The built CLI, run as a user runs it, with --json parsed into the types the commands print. */
export const MFD = join(resolve(__dirname, '..', '..'), 'dist', 'mfd.js');

export interface CliRun<T> {
  code: number;
  /** Undefined when stdout was not JSON (the command failed before printing). */
  json: T | undefined;
  stderr: string;
}

export function mfdJson<T>(args: string[], node = process.execPath): CliRun<T> {
  const r = spawnSync(node, [MFD, ...args, '--json'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  let json: T | undefined;
  try {
    json = JSON.parse(r.stdout) as T;
  } catch {
    json = undefined;
  }
  return { code: r.status ?? -1, json, stderr: r.stderr + (json ? '' : r.stdout.slice(0, 2000)) };
}

export const inspectJson = (args: string[], node?: string): CliRun<CaptureReport> =>
  mfdJson<CaptureReport>(['inspect', ...args], node);
export const replayJson = (args: string[], node?: string): CliRun<ReplayJson> =>
  mfdJson<ReplayJson>(['replay', ...args], node);
