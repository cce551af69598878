import { createServer, type AddressInfo, type Server } from 'node:net';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import assert from 'node:assert/strict';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { MultifdReplaySession, type ReplayLaunchArguments } from '../../extension/debug/replaySession';

export const FIXTURES = resolve(__dirname, 'fixtures');
export const GOLDEN = resolve(__dirname, 'golden');
export const NONE_10 = resolve(FIXTURES, 'qemu10-none-2ch.mfd');
export const ZLIB_72_LIVE = resolve(FIXTURES, 'qemu7.2-zlib-2ch-live.mfd');

type Message = DebugProtocol.ProtocolMessage & Record<string, unknown>;

/** A `stopped` event of the replay adapter, which always names the thread that stopped. */
export type ReplayStopped = DebugProtocol.StoppedEvent & { body: { threadId: number } };

function replayStopped(e: DebugProtocol.Event): ReplayStopped {
  const s = e as DebugProtocol.StoppedEvent;
  assert.equal(typeof s.body.threadId, 'number', `stopped event without a thread: ${JSON.stringify(s.body)}`);
  return s as ReplayStopped;
}

/**
 * The replay adapter served in-process on a local socket (the adapter's server mode), a DebugClient from
 * @vscode/debugadapter-testsupport connected to it, and a transcript of every message each way.
 */
export class DapHarness {
  readonly transcript: { dir: '>' | '<'; msg: Message }[] = [];
  readonly dc = new DebugClient('node', 'unused', 'multifd-replay');
  private sessions: MultifdReplaySession[] = [];
  private readonly server: Server = createServer((socket) => {
    const session = new MultifdReplaySession();
    session.setRunAsServer(true);
    const handle = session.handleMessage.bind(session);
    session.handleMessage = (m: DebugProtocol.ProtocolMessage) => {
      this.transcript.push({ dir: '>', msg: structuredClone(m) as Message });
      handle(m);
    };
    session.onDidSendMessage((m) => this.transcript.push({ dir: '<', msg: structuredClone(m) as Message }));
    session.start(socket, socket);
    this.sessions.push(session);
  });

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.dc.defaultTimeout = 60_000;
    await this.dc.start((this.server.address() as AddressInfo).port);
  }

  /** initialize → launch → (initialized) → breakpoints → configurationDone → launch response → first stop. */
  async launch(
    args: Partial<ReplayLaunchArguments>,
    configure: () => Promise<unknown> = async () => undefined,
  ): Promise<ReplayStopped> {
    await this.dc.initializeRequest({
      adapterID: 'multifd-replay',
      clientID: 'test',
      linesStartAt1: true,
      columnsStartAt1: true,
      pathFormat: 'path',
    });
    const initialized = this.dc.waitForEvent('initialized');
    const launched = this.dc.launchRequest({
      capture: NONE_10,
      stopOnEntry: true,
      ...args,
    } as DebugProtocol.LaunchRequestArguments);
    const stopped = this.dc.waitForEvent('stopped');
    await initialized;
    await configure();
    await this.dc.configurationDoneRequest();
    await launched;
    return replayStopped(await stopped);
  }

  /** Sends a movement request and waits for the stop it leads to. */
  async move(
    command: 'next' | 'stepIn' | 'stepOut' | 'continue' | 'stepBack' | 'reverseContinue',
    threadId = 1,
    extra: Record<string, unknown> = {},
  ): Promise<ReplayStopped> {
    const stopped = this.dc.waitForEvent('stopped');
    await this.dc.customRequest(command, { threadId, ...extra });
    return replayStopped(await stopped);
  }

  /** The stack of the stopped thread, then the variables of every scope of its top frame (one level deep). */
  async inspect(threadId: number): Promise<{ frames: string[]; scopes: Record<string, Record<string, string>> }> {
    const st = await this.dc.stackTraceRequest({ threadId });
    const frames = st.body.stackFrames.map((f) => f.name);
    const scopes: Record<string, Record<string, string>> = {};
    const top = st.body.stackFrames[0];
    if (top) {
      const sc = await this.dc.scopesRequest({ frameId: top.id });
      for (const s of sc.body.scopes) {
        const v = await this.dc.variablesRequest({ variablesReference: s.variablesReference });
        scopes[s.name] = Object.fromEntries(v.body.variables.map((x) => [x.name, x.value]));
      }
    }
    return { frames, scopes };
  }

  private stopped = false;

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.dc.disconnectRequest({}).catch(() => undefined);
    (this.dc as unknown as { stopAdapter(): void }).stopAdapter();
    await new Promise((r) => setTimeout(r, 20));
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /**
   * The transcript with volatile parts made stable: message seq numbers go, absolute paths become
   * placeholders, and frame ids and variable references are renumbered in order of first appearance.
   */
  stableTranscript(paths: Record<string, string>): unknown[] {
    const refs = new Map<number, string>();
    const frames = new Map<number, string>();
    const token = (map: Map<number, string>, prefix: string, n: number) => {
      if (n === 0) return 0;
      if (!map.has(n)) map.set(n, `${prefix}${map.size + 1}`);
      return map.get(n);
    };
    const entries = Object.entries(paths).sort((a, b) => b[1].length - a[1].length);
    const walk = (v: unknown, key?: string, parentKey?: string): unknown => {
      if (typeof v === 'string') {
        let s = v;
        for (const [name, p] of entries) s = s.split(p).join(`<${name}>`);
        return s;
      }
      if (typeof v === 'number') {
        if (key === 'variablesReference') return token(refs, '@var', v);
        if (key === 'frameId' || (key === 'id' && parentKey === 'stackFrames')) return token(frames, '@frame', v);
        return v;
      }
      if (Array.isArray(v)) return v.map((x) => walk(x, undefined, key));
      if (v && typeof v === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) {
          if (k === 'seq' || k === 'request_seq') continue;
          out[k] = walk(x, k, key);
        }
        return out;
      }
      return v;
    };
    return this.transcript.map((t) => ({ [t.dir === '>' ? 'client' : 'adapter']: walk(t.msg) }));
  }
}

/** Compares with test/debug/golden/<name>.json; MFD_UPDATE_GOLDEN=1 (re)writes it. */
export function assertGolden(name: string, actual: unknown): void {
  const file = resolve(GOLDEN, `${name}.json`);
  const text = `${JSON.stringify(actual, null, 1)}\n`;
  if (process.env.MFD_UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return;
  }
  assert.ok(existsSync(file), `golden transcript ${file} is missing: run with MFD_UPDATE_GOLDEN=1 once and review it`);
  assert.deepEqual(
    JSON.parse(text),
    JSON.parse(readFileSync(file, 'utf8')),
    `transcript differs from ${file} (MFD_UPDATE_GOLDEN=1 to accept)`,
  );
}
