import { DIAGNOSTIC_CODES, type DiagnosticCode, type Severity } from './codes';

export type { Severity } from './codes';

/** Where a diagnostic points: a stream, a packet (index in that stream's packet list) and byte offsets. */
export interface DiagnosticLocation {
  stream?: number;
  /** Index of the packet in its stream's packet list (0-based, handshake excluded). */
  packet?: number;
  /** Index of the main-channel RAM record. */
  record?: number;
  /** Byte offset inside the stream (source → destination bytes). */
  streamOffset?: number;
  /** Byte offset in the capture file. */
  fileOffset?: number;
}

export interface Diagnostic {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  location: DiagnosticLocation;
  /** A second place involved (for example the earlier writer of a page written twice). */
  related?: DiagnosticLocation;
}

export function makeDiagnostic(
  code: DiagnosticCode,
  message: string,
  location: DiagnosticLocation,
  options: { severity?: Severity; related?: DiagnosticLocation } = {},
): Diagnostic {
  const d: Diagnostic = { code, severity: options.severity ?? DIAGNOSTIC_CODES[code].severity, message, location };
  if (options.related) d.related = options.related;
  return d;
}

/** "stream 3, packet 12, stream offset 0x1f40 (file 0x2a10)" */
export function formatLocation(l: DiagnosticLocation): string {
  const parts: string[] = [];
  if (l.stream !== undefined) parts.push(`stream ${l.stream}`);
  if (l.packet !== undefined) parts.push(`packet ${l.packet}`);
  if (l.record !== undefined) parts.push(`record ${l.record}`);
  if (l.streamOffset !== undefined) parts.push(`stream offset ${l.streamOffset}`);
  if (l.fileOffset !== undefined) parts.push(`file offset ${l.fileOffset}`);
  return parts.join(', ');
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = formatLocation(d.location);
  return `${d.severity}[${d.code}] ${where ? where + ': ' : ''}${d.message}`;
}

/**
 * Collects diagnostics, and caps repeats of one code so a hostile or badly broken capture cannot grow
 * memory without bound. The cap is reported once per code.
 */
export class DiagnosticSink {
  readonly items: Diagnostic[] = [];
  private readonly perCode = new Map<string, number>();
  constructor(private readonly maxPerCode = 1000) {}

  add(d: Diagnostic): void {
    const n = (this.perCode.get(d.code) ?? 0) + 1;
    this.perCode.set(d.code, n);
    if (n <= this.maxPerCode) this.items.push(d);
    else if (n === this.maxPerCode + 1)
      this.items.push({
        ...d,
        severity: 'info',
        code: 'diagnostics.capped',
        message: `more ${d.code} diagnostics not listed (only the first ${this.maxPerCode} are kept)`,
      });
  }
  report(
    code: DiagnosticCode,
    message: string,
    location: DiagnosticLocation,
    options?: { severity?: Severity; related?: DiagnosticLocation },
  ): void {
    this.add(makeDiagnostic(code, message, location, options));
  }
  /** How many of each code were raised, including those past the cap. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.perCode);
  }
}

export function countBySeverity(ds: readonly Diagnostic[]): Record<Severity, number> {
  const c = { error: 0, warning: 0, info: 0 };
  for (const d of ds) c[d.severity]++;
  return c;
}
