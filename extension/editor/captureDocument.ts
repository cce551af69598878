import * as vscode from 'vscode';
import { analyzeCaptureFile } from '../core/analysis';
import type { CaptureAnalysis } from '../core/analysisTypes';
import { PcapChoiceNeeded, type PcapOpenOptions } from '../core/capture/pcap/pcapCapture';
import { errorMessage } from '../core/util/errorMessage';
import type { PacketRef } from '../shared/protocol';
import { CaptureModel } from './model/captureModel';
import { log } from './log';
import type { MigrationChoices } from './migrationChoice';
import { readSettings } from './settings';
import { plural } from '../shared/plural';

/**
 * One open capture. The analysis (the core's index) lives here, in the extension host; every editor panel
 * on the same file shares it. Indexing is async with positional reads, so the host stays responsive.
 * A tcpdump file holding several migrations opens the one remembered for it, else the one the user picks.
 */
export class CaptureDocument implements vscode.CustomDocument {
  readonly model: Promise<CaptureModel>;
  selection: { packet?: PacketRef; block?: string; offset?: number } = {};
  private readonly onDisposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.onDisposeEmitter.event;

  constructor(
    readonly uri: vscode.Uri,
    private readonly choices: MigrationChoices,
  ) {
    const started = Date.now();
    this.model = this.analyze().then(async (a) => {
      const m = await CaptureModel.load(a);
      log().info(
        `${uri.fsPath}: indexed ${plural(m.total, 'packet')} in ${plural(a.multifd.length, 'multifd stream')}, ${plural(a.diagnostics.length, 'diagnostic')}, page size ${a.pageSize} (${a.pageSizeSource}) in ${Date.now() - started} ms`,
      );
      return m;
    });
    this.model.catch((e) => log().error(`${uri.fsPath}: cannot index: ${errorMessage(e)}`));
  }

  private async analyze(): Promise<CaptureAnalysis> {
    const { pageSize } = readSettings(this.uri);
    const open = (pcap?: PcapOpenOptions) =>
      analyzeCaptureFile(this.uri.fsPath, { pageSize, open: pcap ? { pcap } : undefined });
    const remembered = this.choices.remembered(this.uri);
    try {
      return await open(remembered);
    } catch (e) {
      if (!(e instanceof PcapChoiceNeeded)) throw e;
      // Several migrations and none chosen yet, or the remembered one is no longer in the file: ask.
      log().info(
        `${this.uri.fsPath}: ${e.migrations.length} migrations in the file${remembered ? ` (the remembered choice ${JSON.stringify(remembered)} matches none)` : ''}; asking which one`,
      );
      const index = await this.choices.ask(this.uri, e.migrations);
      if (index === undefined)
        throw new Error(
          `${this.uri.fsPath} holds ${e.migrations.length} migrations and none was chosen: run "Multifd: Choose Migration in Capture…" or reopen the file`,
        );
      await this.choices.remember(this.uri, { migration: index });
      return open({ migration: index });
    }
  }

  dispose(): void {
    this.onDisposeEmitter.fire();
    this.onDisposeEmitter.dispose();
    // Also when indexing is still running: the model is released once it exists.
    void this.model.then((m) => m.dispose()).catch(() => undefined);
  }
}
