import { createWriteStream, promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { CaptureDocument } from './captureDocument';
import { log } from './log';
import { exportChunks, type ExportFormat } from './model/exportPackets';

/** Export Packet List: the current view (filter and sort) as CSV or JSON, streamed to a file the user picks. */
export async function exportList(doc: CaptureDocument): Promise<void> {
  const model = await doc.model;
  const fmt = await vscode.window.showQuickPick(
    [
      { label: 'CSV', format: 'csv' as ExportFormat },
      { label: 'JSON', format: 'json' as ExportFormat },
    ],
    {
      title: `Export the packet list (${model.currentView.rowCount} rows${model.currentView.spec.filter ? `, filter: ${model.currentView.spec.filter}` : ''})`,
    },
  );
  if (!fmt) return;
  const base = basename(doc.uri.fsPath).replace(/\.[^.]*$/, '');
  const target = await vscode.window.showSaveDialog({
    title: 'Export Packet List',
    defaultUri: vscode.Uri.file(join(dirname(doc.uri.fsPath), `${base}.packets.${fmt.format}`)),
    filters: fmt.format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
  });
  if (!target) return;
  const path = target.fsPath;
  const exists = await fsp.stat(path).then(
    () => true,
    () => false,
  );
  if (exists) {
    const ok = await vscode.window.showWarningMessage(`${path} exists. Overwrite it?`, { modal: true }, 'Overwrite');
    if (ok !== 'Overwrite') return;
  }
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(path, { flags: exists ? 'w' : 'wx' });
    out.on('error', reject);
    out.on('finish', resolve);
    const chunks = exportChunks(model, fmt.format);
    const pump = () => {
      for (;;) {
        const n = chunks.next();
        if (n.done) return void out.end();
        if (!out.write(n.value)) return void out.once('drain', pump);
      }
    };
    pump();
  });
  log().info(`exported ${model.currentView.rowCount} packets to ${path}`);
  void vscode.window.showInformationMessage(`Exported ${model.currentView.rowCount} packets to ${path}.`);
}
