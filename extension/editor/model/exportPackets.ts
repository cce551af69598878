import type { PacketRow } from '../../shared/protocol';
import type { CaptureModel } from './captureModel';

export type ExportFormat = 'csv' | 'json';

const COLUMNS: { name: string; get(r: PacketRow): string | number | boolean }[] = [
  { name: 'stream', get: (r) => r.stream },
  { name: 'channel', get: (r) => r.channel },
  { name: 'index', get: (r) => r.index },
  { name: 'kind', get: (r) => r.kind },
  { name: 'epoch', get: (r) => r.epoch },
  { name: 'packet_num', get: (r) => r.packetNum },
  { name: 'flags', get: (r) => '0x' + r.flags.toString(16) },
  { name: 'flags_text', get: (r) => r.flagsText },
  { name: 'sync', get: (r) => r.sync },
  { name: 'method', get: (r) => r.method },
  { name: 'ramblock', get: (r) => r.ramblock },
  { name: 'normal_pages', get: (r) => r.normal },
  { name: 'zero_pages', get: (r) => r.zero },
  { name: 'next_packet_size', get: (r) => r.nextPacketSize },
  { name: 'time_ns', get: (r) => r.timeNs },
  { name: 'severity', get: (r) => ['none', 'info', 'warning', 'error'][r.severity] },
];

/**
 * One CSV cell. Capture strings (ramblock names) are untrusted: quote when needed, and defuse a leading
 * = + - @ so a spreadsheet does not run them as formulas.
 */
export function csvCell(v: string | number | boolean): string {
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

/** The current view of the model (filter and sort honoured), as text chunks of about `batch` rows. */
export function* exportChunks(model: CaptureModel, format: ExportFormat, batch = 2000): Generator<string> {
  const ids = model.viewIds();
  if (format === 'csv') yield COLUMNS.map((c) => c.name).join(',') + '\n';
  else yield `{"file":${JSON.stringify(model.fileName)},"filter":${JSON.stringify(model.currentView.spec.filter)},"sort":${JSON.stringify(model.currentView.spec.sort)},"packets":[\n`;
  for (let a = 0; a < ids.length; a += batch) {
    const parts: string[] = [];
    for (let i = a; i < Math.min(ids.length, a + batch); i++) {
      const r = model.rowOf(ids[i], i);
      if (format === 'csv') parts.push(COLUMNS.map((c) => csvCell(c.get(r))).join(',') + '\n');
      else parts.push((i ? ',' : '') + JSON.stringify(Object.fromEntries(COLUMNS.map((c) => [c.name, c.get(r)]))) + '\n');
    }
    yield parts.join('');
  }
  if (format === 'json') yield ']}\n';
}
