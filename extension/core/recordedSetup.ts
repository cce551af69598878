import type { CaptureReport } from './captureReport';

/**
 * What the capture itself records about the two QEMUs, as opposed to what the bytes let us infer: the versions
 * `mfd record` asked each side for (META `source`/`destination`, "QEMU 10.0.2 (Debian …): command line"), the
 * machine type the main channel's CONFIGURATION section names, and the migration capabilities and parameters
 * the recorder read over QMP (or, without them, the capabilities CONFIGURATION carries).
 */
export interface RecordedSetup {
  source?: QemuBuild;
  destination?: QemuBuild;
  machineType?: string;
  /** Capabilities that are on. */
  capabilities: string[];
  /** Where the capabilities come from. */
  capabilitiesFrom?: 'recorder' | 'CONFIGURATION';
  /** Migration parameters as the recorder read them (query-migrate-parameters), sorted by name. */
  parameters: [string, string][];
}

export interface QemuBuild {
  version: string;
  /** The distribution's package version, when QEMU reports one ("Debian 1:10.0.2+ds-2…"). */
  package?: string;
}

/** "QEMU 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1): qemu-system-x86_64 …" → 10.0.2, Debian …. */
export function parseQemuBuild(text: unknown): QemuBuild | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^QEMU (\d+(?:\.\d+)+[\w~+-]*)(?: \(([^)]*)\))?/.exec(text);
  if (!m) return undefined;
  return { version: m[1], ...(m[2] ? { package: m[2] } : {}) };
}

export function recordedSetup(r: Pick<CaptureReport, 'meta' | 'streams'>): RecordedSetup {
  const meta = r.meta ?? {};
  const main = r.streams.find((s) => s.kind === 'main')?.main;
  const recorded = (meta.parameters ?? undefined) as Record<string, unknown> | undefined;
  const recordedCaps = recorded?.capabilities as Record<string, unknown> | undefined;
  const capabilities = recordedCaps
    ? Object.keys(recordedCaps)
        .filter((k) => recordedCaps[k] === true)
        .sort()
    : [...(main?.capabilities ?? [])].sort();
  const parameters: [string, string][] = recorded
    ? Object.entries(recorded)
        .filter(([k, v]) => k !== 'capabilities' && v !== null && typeof v !== 'object')
        .map(([k, v]): [string, string] => [k, String(v)])
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    : [];
  const source = parseQemuBuild(meta.source);
  const destination = parseQemuBuild(meta.destination);
  return {
    ...(source ? { source } : {}),
    ...(destination ? { destination } : {}),
    ...(main?.machineType ? { machineType: main.machineType } : {}),
    capabilities,
    ...(recordedCaps
      ? { capabilitiesFrom: 'recorder' as const }
      : main
        ? { capabilitiesFrom: 'CONFIGURATION' as const }
        : {}),
    parameters,
  };
}

/** The QEMU fact: recorded versions first ("10.0.2 → 10.0.2"), else the inference from the bytes ("≥ 9.2"). */
export function qemuVersionText(setup: RecordedSetup, hint: string | null): string {
  const s = setup.source?.version;
  const d = setup.destination?.version;
  if (s && d) return s === d ? s : `${s} → ${d}`;
  if (s) return `${s} (source)`;
  if (d) return `${d} (destination)`;
  return hint ?? 'unknown';
}
