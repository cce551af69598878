/**
 * What a capture's META says the destination must match: QEMU only accepts a migration stream from a VM of the
 * same machine type and RAM size (and, for multifd, the same -uuid in each channel's handshake), with the same
 * migration capabilities and multifd parameters. The recording driver writes the command lines as
 * "QEMU 10.0.2 (package): argv…"; other writers may put free text there, which is then shown as is.
 */

export interface DestinationRequirements {
  /** The QEMU version text of each side, when the META names it. */
  sourceQemu?: string;
  destinationQemu?: string;
  /** The recorded destination command line, as text and split into arguments. */
  destinationCommandLine?: string;
  destinationArgv?: string[];
  machine?: string;
  memory?: string;
  uuid?: string;
  incoming?: string;
  pageSize?: number;
  /** Capabilities that were on. */
  capabilities: string[];
  /** Parameters as set on the source (capabilities left out). */
  parameters: Record<string, unknown>;
}

/** Parameters that change how the destination reads multifd channels: shown first. */
export const KEY_PARAMETERS = [
  'multifd-channels',
  'multifd-compression',
  'zero-page-detection',
  'multifd-zlib-level',
  'multifd-zstd-level',
  'multifd-qatzip-level',
  'mode',
];

export function destinationRequirements(meta: Record<string, unknown>): DestinationRequirements {
  const src = splitVersion(meta.source);
  const dst = splitVersion(meta.destination);
  const params = isObject(meta.parameters) ? { ...meta.parameters } : {};
  const caps = isObject(params.capabilities) ? params.capabilities : {};
  delete params.capabilities;
  const r: DestinationRequirements = {
    sourceQemu: src.version,
    destinationQemu: dst.version,
    destinationCommandLine: dst.commandLine,
    capabilities: Object.keys(caps).filter((k) => caps[k] === true),
    parameters: params,
  };
  const ps = Number(meta.pageSize);
  if (Number.isInteger(ps) && ps > 0) r.pageSize = ps;
  if (dst.commandLine) {
    let argv: string[] | undefined;
    try {
      argv = splitCommandLine(dst.commandLine);
    } catch {
      argv = undefined; // free text, not a command line
    }
    if (argv && argv.some((a) => a.startsWith('-'))) {
      r.destinationArgv = argv;
      r.machine = optionValue(argv, '-machine') ?? optionValue(argv, '-M');
      r.memory = optionValue(argv, '-m');
      r.uuid = optionValue(argv, '-uuid');
      r.incoming = optionValue(argv, '-incoming');
    }
  }
  return r;
}

/** Human lines: what the destination must be started with. */
export function describeRequirements(r: DestinationRequirements): string[] {
  const lines: string[] = [];
  if (r.sourceQemu || r.destinationQemu)
    lines.push(`recorded with: source ${r.sourceQemu ?? '?'}, destination ${r.destinationQemu ?? '?'}`);
  const vm = [
    r.machine && `-machine ${r.machine}`,
    r.memory && `-m ${r.memory}`,
    r.uuid && `-uuid ${r.uuid}`,
    r.pageSize && `target page size ${r.pageSize}`,
  ].filter(Boolean);
  lines.push(
    vm.length
      ? `the destination must match: ${vm.join(', ')}`
      : 'the capture does not say which machine, RAM size and -uuid the destination had: use those of the recorded migration',
  );
  lines.push(`capabilities on: ${r.capabilities.length ? r.capabilities.join(', ') : '(none recorded)'}`);
  const key = KEY_PARAMETERS.filter((k) => k in r.parameters).map((k) => `${k}=${String(r.parameters[k])}`);
  if (key.length) lines.push(`parameters: ${key.join(', ')}`);
  else if (!Object.keys(r.parameters).length) lines.push('parameters: (none recorded)');
  if (r.destinationCommandLine) lines.push(`recorded destination command line: ${r.destinationCommandLine}`);
  return lines;
}

function splitVersion(v: unknown): { version?: string; commandLine?: string } {
  if (typeof v !== 'string' || !v.trim()) return {};
  // "QEMU 10.0.2 (Debian 1:10.0.2+ds-2): qemu-system-x86_64 …": the version ends at the first "): ".
  const m = /^(QEMU [^\s(]+(?: \([^]*?\))?): ([^]*)$/.exec(v.trim());
  if (m) return { version: m[1], commandLine: m[2] };
  return /^\S*qemu\S*\s+-/.test(v.trim()) ? { commandLine: v.trim() } : { version: v.trim() };
}

function optionValue(argv: string[], name: string): string | undefined {
  for (let i = argv.length - 2; i >= 0; i--) if (argv[i] === name || argv[i] === `-${name}`) return argv[i + 1];
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Splits a POSIX-shell-quoted command line ('single', "double", backslash escapes); no expansion. */
export function splitCommandLine(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' at character ${i}`);
      cur += text.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      i++;
      for (; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1])) i++;
        cur += text[i];
      }
      if (i >= text.length) throw new Error('unterminated "');
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}
