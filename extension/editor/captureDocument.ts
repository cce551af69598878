import * as vscode from 'vscode';
import { analyzeCaptureFile } from '../core/analysis';
import { errorMessage } from '../core/util/errorMessage';
import type { PacketRef } from '../shared/protocol';
import { CaptureModel } from './model/captureModel';
import { log } from './log';
import { readSettings } from './settings';

/**
 * One open capture. The analysis (the core's index) lives here, in the extension host; every editor panel
 * on the same file shares it. Indexing is async with positional reads, so the host stays responsive.
 */
export class CaptureDocument implements vscode.CustomDocument {
  readonly model: Promise<CaptureModel>;
  selection: { packet?: PacketRef; block?: string; offset?: number } = {};
  private readonly onDisposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.onDisposeEmitter.event;

  constructor(readonly uri: vscode.Uri) {
    const started = Date.now();
    const { pageSize } = readSettings(uri);
    this.model = analyzeCaptureFile(uri.fsPath, { pageSize }).then((a) => {
      const m = new CaptureModel(a);
      log().info(`${uri.fsPath}: indexed ${m.total} packets in ${a.multifd.length} multifd stream(s), ${a.diagnostics.length} diagnostic(s), page size ${a.pageSize} (${a.pageSizeSource}) in ${Date.now() - started} ms`);
      return m;
    });
    this.model.catch((e) => log().error(`${uri.fsPath}: cannot index: ${errorMessage(e)}`));
  }

  dispose(): void {
    this.onDisposeEmitter.fire();
    this.onDisposeEmitter.dispose();
    // Also when indexing is still running: the model is released once it exists.
    void this.model.then((m) => m.dispose()).catch(() => undefined);
  }
}
