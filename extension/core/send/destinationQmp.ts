import { QmpClient, QmpCommandError } from '../qmp/qmpClient';
import type { DestinationRequirements } from './destinationRequirements';
import { sleep } from './wait';

/**
 * With the destination's QMP socket: set the capabilities and parameters the capture's META names, start
 * listening (`migrate-incoming`) when the destination was started with `-incoming defer`, and afterwards read
 * what the destination says about the migration (its own `query-migrate`, with the error when it failed).
 */

export interface QmpPreparation {
  /** "QEMU 10.0.2 (package)" of the destination. */
  version?: string;
  /** Changes made: capability → state, parameter → value. */
  capabilitiesSet: Record<string, boolean>;
  parametersSet: Record<string, unknown>;
  /** What happened with migrate-incoming. */
  incoming: string;
  warnings: string[];
}

export interface DestinationOutcome {
  /** The destination's last query-migrate status, or "exited" when its monitor went away. */
  status: string;
  queryMigrate?: Record<string, unknown>;
  error?: string;
  /** performance.now() when the destination reported completion (MIGRATION event, else the poll). */
  completedAt?: number;
  events: { event: string; data?: Record<string, unknown> }[];
}

const SKIPPED_PARAMETERS = new Set(['tls-creds', 'tls-hostname', 'tls-authz']);
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

export async function prepareDestination(
  qmp: QmpClient,
  req: DestinationRequirements,
  metaHasParameters: boolean,
  uri: string,
): Promise<QmpPreparation> {
  const prep: QmpPreparation = { capabilitiesSet: {}, parametersSet: {}, incoming: '', warnings: [] };
  const v = await qmp.execute<{ qemu: { major: number; minor: number; micro: number }; package: string }>(
    'query-version',
  );
  prep.version = `QEMU ${v.qemu.major}.${v.qemu.minor}.${v.qemu.micro}${v.package ? ` (${v.package.trim()})` : ''}`;

  const before = await qmp.execute<Record<string, unknown>>('query-migrate');
  if (typeof before.status === 'string' && !['none', 'setup'].includes(before.status)) {
    prep.warnings.push(
      `the destination's incoming migration is already "${before.status}": a destination takes one incoming migration; start a fresh one`,
    );
  }

  if (!metaHasParameters) {
    prep.warnings.push('the capture has no recorded capabilities/parameters: the destination keeps its own');
  } else {
    const caps = await qmp.execute<{ capability: string; state: boolean }[]>('query-migrate-capabilities');
    const known = new Set(caps.map((c) => c.capability));
    for (const c of req.capabilities)
      if (!known.has(c))
        prep.warnings.push(`capability ${c} was on in the recording but this destination QEMU does not know it`);
    // 'events' only adds MIGRATION events on the monitor (nothing on the wire): kept on to time the completion.
    const wantOn = (c: string): boolean => c === 'events' || req.capabilities.includes(c);
    const changes = caps
      .filter((c) => c.state !== wantOn(c.capability))
      .map((c) => ({ capability: c.capability, state: !c.state }));
    await applyAll(
      changes,
      (list) => qmp.execute('migrate-set-capabilities', { capabilities: list }),
      (c) => `capability ${c.capability}=${c.state}`,
      (c) => (prep.capabilitiesSet[c.capability] = c.state),
      prep.warnings,
    );

    const current = await qmp.execute<Record<string, unknown>>('query-migrate-parameters');
    const wanted = Object.entries(req.parameters).filter(([k]) => !SKIPPED_PARAMETERS.has(k));
    for (const [k] of wanted)
      if (!(k in current))
        prep.warnings.push(`parameter ${k} was recorded but this destination QEMU does not report it; not set`);
    const changed = wanted.filter(([k, val]) => k in current && JSON.stringify(current[k]) !== JSON.stringify(val));
    await applyAll(
      changed,
      (list) => qmp.execute('migrate-set-parameters', Object.fromEntries(list)),
      ([k, val]) => `parameter ${k}=${JSON.stringify(val)}`,
      ([k, val]) => (prep.parametersSet[k] = val),
      prep.warnings,
    );
  }

  try {
    // exit-on-error=false (QEMU ≥ 9.1) keeps a failed destination alive, so its error can be read back.
    await qmp.execute('migrate-incoming', { uri, 'exit-on-error': false });
    prep.incoming = `migrate-incoming ${uri}`;
  } catch (e) {
    if (e instanceof QmpCommandError && /exit-on-error/.test(e.desc)) {
      try {
        await qmp.execute('migrate-incoming', { uri });
        prep.incoming = `migrate-incoming ${uri}`;
      } catch (e2) {
        prep.incoming = alreadyListening(e2, uri);
      }
    } else prep.incoming = alreadyListening(e, uri);
  }
  return prep;
}

function alreadyListening(e: unknown, uri: string): string {
  if (!(e instanceof QmpCommandError)) throw e;
  return `migrate-incoming refused (${e.desc}); assuming the destination already listens on ${uri}`;
}

/** All changes in one command; when QEMU refuses, one at a time so each refusal is named. */
async function applyAll<T>(
  items: T[],
  apply: (list: T[]) => Promise<unknown>,
  name: (x: T) => string,
  done: (x: T) => void,
  warnings: string[],
): Promise<void> {
  if (!items.length) return;
  try {
    await apply(items);
    items.forEach(done);
    return;
  } catch (e) {
    if (!(e instanceof QmpCommandError)) throw e;
  }
  for (const x of items) {
    try {
      await apply([x]);
      done(x);
    } catch (e) {
      if (!(e instanceof QmpCommandError)) throw e;
      warnings.push(`cannot set ${name(x)} on the destination: ${e.desc}`);
    }
  }
}

/**
 * Waits until the destination's incoming migration ends (completed, failed) or its monitor goes away.
 * `timeoutMs` 0 waits until `signal` aborts.
 */
export async function waitForDestination(
  qmp: QmpClient,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<DestinationOutcome> {
  const deadline = timeoutMs > 0 ? performance.now() + timeoutMs : Infinity;
  let last: Record<string, unknown> | undefined;
  let status = 'unknown';
  let polledAt = 0;
  while (!signal?.aborted) {
    try {
      last = await qmp.execute<Record<string, unknown>>('query-migrate');
      polledAt = performance.now();
      status = typeof last.status === 'string' ? last.status : 'none';
    } catch {
      status = 'exited';
      break;
    }
    if (TERMINAL.has(status) || performance.now() > deadline) break;
    await sleep(20, signal);
  }
  if (signal?.aborted && !TERMINAL.has(status)) status = `${status} (send cancelled)`;
  else if (performance.now() > deadline && !TERMINAL.has(status) && status !== 'exited')
    status = `${status} (still not finished ${timeoutMs} ms after the last byte)`;
  const completedEvent = qmp.events.find((e) => e.event === 'MIGRATION' && e.data?.status === 'completed');
  const failedEvent = [...qmp.events].reverse().find((e) => e.event === 'MIGRATION' && e.data?.status === 'failed');
  return {
    status,
    queryMigrate: last,
    error:
      typeof last?.['error-desc'] === 'string'
        ? (last['error-desc'] as string)
        : failedEvent
          ? 'the destination reported status "failed" (its stderr has the reason)'
          : undefined,
    completedAt: completedEvent?.receivedAt ?? (status === 'completed' ? polledAt : undefined),
    events: qmp.events.map((e) => ({ event: e.event, data: e.data })),
  };
}
