import { PACKET_COLUMNS } from '../../shared/packetColumns';
import type { CaptureModel } from './captureModel';

export type ExportFormat = 'csv' | 'json';

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
  if (format === 'csv') yield PACKET_COLUMNS.map((c) => c.exportName).join(',') + '\n';
  else
    yield `{"file":${JSON.stringify(model.fileName)},"filter":${JSON.stringify(model.currentView.spec.filter)},"sort":${JSON.stringify(model.currentView.spec.sort)},"packets":[\n`;
  for (let a = 0; a < ids.length; a += batch) {
    const parts: string[] = [];
    for (let i = a; i < Math.min(ids.length, a + batch); i++) {
      const r = model.rowOf(ids[i], i);
      if (format === 'csv') parts.push(PACKET_COLUMNS.map((c) => csvCell(c.exportValue(r))).join(',') + '\n');
      else
        parts.push(
          (i ? ',' : '') +
            JSON.stringify(Object.fromEntries(PACKET_COLUMNS.map((c) => [c.exportName, c.exportValue(r)]))) +
            '\n',
        );
    }
    yield parts.join('');
  }
  if (format === 'json') yield ']}\n';
}
