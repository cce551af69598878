import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CODE_SERVER_BIN, LOGS_DIR, assertPrerequisites } from './paths';
import { registerCleanup } from './cleanup';

/** Settings written to the temporary user-data dir; callers can add or override keys. */
export const DEFAULT_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'git.enabled': false,
  'chat.disableAIFeatures': true,
  'window.commandCenter': false,
};

export interface CodeServerOptions {
  /** .vsix files (or gallery ids) installed into the temporary extensions dir before the server starts. */
  installExtensions?: string[];
  /** Extra user settings, merged over DEFAULT_SETTINGS. */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server and therefore for its extension host. */
  env?: Record<string, string>;
  /** How long to wait for "HTTP server listening" (default 60 s). */
  startTimeoutMs?: number;
  /** Prefix of the log file under test-artifacts/logs/ (default "code-server"). */
  logName?: string;
}

export interface CodeServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** http://127.0.0.1:PORT/ */
  readonly url: string;
  /** Remote authority as the browser workbench sees it: 127.0.0.1:PORT */
  readonly authority: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  /** The file the server's stdout/stderr is copied to. */
  readonly logFile: string;
  /** Everything code-server printed so far. */
  log(): string;
  /** A vscode-remote: URI for an absolute path on this machine (what the payload parameter needs). */
  remoteUri(absPath: string): string;
  /** Resolves when the server process exits. */
  readonly exited: Promise<number | null>;
  /** Kills the whole process group and deletes the temporary dirs. Safe to call twice. */
  stop(): Promise<void>;
}

const READY = /HTTP server listening on (\S+)/;

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** Environment for code-server: ours minus anything that would make it talk to an enclosing VS Code. */
function serverEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      /^(VSCODE_|ELECTRON_|CODE_SERVER_)/.test(k) ||
      k === 'PASSWORD' ||
      k === 'HASHED_PASSWORD' ||
      k === 'NODE_OPTIONS'
    )
      continue;
    env[k] = v;
  }
  // No extension gallery: keeps the server from reaching out to a marketplace (loopback only).
  env.EXTENSIONS_GALLERY = '{}';
  return { ...env, ...extra };
}

function baseArgs(configFile: string, userDataDir: string, extensionsDir: string): string[] {
  return ['--config', configFile, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

export async function startCodeServer(opts: CodeServerOptions = {}): Promise<CodeServer> {
  assertPrerequisites({ browser: false });
  const tmp = mkdtempSync(join(tmpdir(), 'mfd-vscode-'));
  const cleanupTmp = () => rmSync(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  try {
    const configFile = join(tmp, 'config.yaml');
    const userDataDir = join(tmp, 'user-data');
    const extensionsDir = join(tmp, 'extensions');
    mkdirSync(join(userDataDir, 'User'), { recursive: true });
    mkdirSync(extensionsDir, { recursive: true });
    writeFileSync(configFile, 'auth: none\ncert: false\n');
    writeFileSync(
      join(userDataDir, 'User', 'settings.json'),
      JSON.stringify({ ...DEFAULT_SETTINGS, ...opts.settings }, null, 2),
    );
    const env = serverEnv(opts.env);
    const common = baseArgs(configFile, userDataDir, extensionsDir);

    for (const ext of opts.installExtensions ?? []) {
      const r = spawnSync(CODE_SERVER_BIN, [...common, '--install-extension', resolve(ext), '--force'], {
        env,
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (r.status !== 0)
        throw new Error(
          `code-server --install-extension ${ext} failed (status ${r.status}):\n${r.stdout}\n${r.stderr}`,
        );
    }

    // A free port can be taken between probing and binding: retry a few times.
    let lastError: unknown;
    for (let attempt = 0; attempt < 4; attempt++) {
      const port = await freePort();
      try {
        return await launch({ tmp, cleanupTmp, common, env, port, opts });
      } catch (e) {
        lastError = e;
        if (!(e instanceof PortInUseError)) throw e;
      }
    }
    throw lastError;
  } catch (e) {
    cleanupTmp();
    throw e;
  }
}

class PortInUseError extends Error {}

interface LaunchArgs {
  tmp: string;
  cleanupTmp: () => void;
  common: string[];
  env: NodeJS.ProcessEnv;
  port: number;
  opts: CodeServerOptions;
}

async function launch({ tmp, cleanupTmp, common, env, port, opts }: LaunchArgs): Promise<CodeServer> {
  const args = [
    ...common,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--disable-proxy',
    '--ignore-last-opened',
  ];
  mkdirSync(LOGS_DIR, { recursive: true });
  const logFile = join(LOGS_DIR, `${opts.logName ?? 'code-server'}-${stamp()}-${port}.log`);
  const logStream: WriteStream = createWriteStream(logFile);
  let output = '';
  const child: ChildProcess = spawn(CODE_SERVER_BIN, args, {
    env,
    cwd: tmp,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;

  let stopped = false;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      /* already gone */
    }
  };
  const unregister = registerCleanup(() => {
    killGroup('SIGKILL');
    cleanupTmp();
  });

  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  let onData: (s: string) => void = () => {};
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      output += chunk;
      logStream.write(chunk);
      onData(chunk);
    });
  }

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    killGroup('SIGTERM');
    const timer = new Promise<void>((r) => setTimeout(r, 5000).unref());
    await Promise.race([exited, timer]);
    await new Promise((r) => setTimeout(r, 200));
    killGroup('SIGKILL'); // extension hosts, pty host, file watchers: anything left in the group
    logStream.end();
    cleanupTmp();
    unregister();
  };

  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  try {
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(
        () => rej(new Error(`code-server did not report "HTTP server listening" within ${timeoutMs} ms:\n${output}`)),
        timeoutMs,
      );
      const check = () => {
        if (READY.test(output)) {
          clearTimeout(timer);
          res();
        } else if (/EADDRINUSE/.test(output)) {
          clearTimeout(timer);
          rej(new PortInUseError(`port ${port} in use`));
        }
      };
      onData = check;
      check();
      void exited.then((code) => {
        clearTimeout(timer);
        if (/EADDRINUSE/.test(output)) rej(new PortInUseError(`port ${port} in use`));
        else rej(new Error(`code-server exited with ${code} before listening:\n${output}`));
      });
    });
  } catch (e) {
    onData = () => {};
    stopped = true;
    killGroup('SIGKILL');
    logStream.end();
    unregister();
    // The temporary dir is reused by the next attempt (PortInUseError) or removed by the caller.
    throw e;
  }
  onData = () => {};

  const authority = `127.0.0.1:${port}`;
  return {
    host: '127.0.0.1',
    port,
    url: `http://${authority}/`,
    authority,
    userDataDir: join(tmp, 'user-data'),
    extensionsDir: join(tmp, 'extensions'),
    logFile,
    log: () => output,
    remoteUri: (absPath: string) => `vscode-remote://${authority}${encodeURI(resolve(absPath))}`,
    exited,
    stop,
  };
}
