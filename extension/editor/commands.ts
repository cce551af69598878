import * as vscode from 'vscode';
import { errorDetail, errorMessage } from '../core/util/errorMessage';
import type { CommandName } from '../shared/protocol';
import type { CaptureDocument } from './captureDocument';
import type { CaptureEditorProvider } from './captureEditorProvider';
import type { CapturePanel } from './capturePanel';
import { revealPacket, type CommandHost } from './commandHost';
import { exportList } from './exportCommand';
import { log } from './log';
import { CHOOSE_MIGRATION_COMMAND, chooseMigration } from './migrationCommand';
import { findPage, goToPacket } from './navigationCommands';
import { REVEAL_COMMAND, type RevealArgs } from './problems';
import { record } from './recordCommand';
import { compare, replay } from './replayCommands';
import { SEND_COMMAND, sendCaptureCommand } from './sendCommand';

export const COMMANDS = {
  replay: 'multifd.replayCapture',
  compare: 'multifd.compareWithReference',
  goToPacket: 'multifd.goToPacket',
  findPage: 'multifd.findPage',
  export: 'multifd.exportPacketList',
  record: 'multifd.recordMigration',
  send: SEND_COMMAND,
  reveal: REVEAL_COMMAND,
  chooseMigration: CHOOSE_MIGRATION_COMMAND,
} as const;

/**
 * The editor's commands, registered with VS Code and run from the webview's buttons. Each works on the
 * active capture editor, or on a .mfd passed from the explorer; each command lives in its own module.
 */
export class Commands {
  private host?: CommandHost;

  constructor(private readonly context: vscode.ExtensionContext) {}

  register(provider: CaptureEditorProvider): void {
    const host: CommandHost = { context: this.context, provider };
    this.host = host;
    const reg = (id: string, f: Parameters<typeof vscode.commands.registerCommand>[1]) =>
      this.context.subscriptions.push(vscode.commands.registerCommand(id, f));
    reg(COMMANDS.replay, (uri?: vscode.Uri) => this.withDoc(host, uri, (d) => replay(host, d)));
    reg(COMMANDS.compare, (uri?: vscode.Uri) => this.withDoc(host, uri, (d) => compare(host, d)));
    reg(COMMANDS.goToPacket, (uri?: vscode.Uri) => this.withDoc(host, uri, (d) => goToPacket(host, d)));
    reg(COMMANDS.findPage, (uri?: vscode.Uri) => this.withDoc(host, uri, (d) => findPage(host, d)));
    reg(COMMANDS.export, (uri?: vscode.Uri) => this.withDoc(host, uri, (d) => exportList(d)));
    reg(COMMANDS.record, () => record(host));
    reg(COMMANDS.send, (uri?: vscode.Uri) => this.withDoc(host, uri, (d) => sendCaptureCommand(d.uri)));
    reg(COMMANDS.chooseMigration, (uri?: vscode.Uri) => this.withDoc(host, uri, (d) => chooseMigration(host, d)));
    reg(COMMANDS.reveal, (args: RevealArgs | string) => this.revealFromLink(host, args));
  }

  /** From the webview's buttons. */
  runCommand(c: CommandName, panel: CapturePanel): void {
    const host = this.host;
    if (!host) return void this.fail(c, new Error('the editor commands are not registered yet'));
    const d = panel.document;
    const run: Record<CommandName, () => unknown> = {
      replay: () => replay(host, d),
      compare: () => compare(host, d),
      goToPacket: () => goToPacket(host, d),
      findPage: () => findPage(host, d),
      export: () => exportList(d),
      record: () => record(host),
      showProblems: () => vscode.commands.executeCommand('workbench.actions.view.problems'),
    };
    void Promise.resolve(run[c]()).catch((e) => this.fail(c, e));
  }

  private fail(what: string, e: unknown): void {
    log().error(`${what}: ${errorDetail(e)}`);
    void vscode.window.showErrorMessage(`Multifd: ${what} failed: ${errorMessage(e)}`);
  }

  private async withDoc(
    host: CommandHost,
    uri: vscode.Uri | undefined,
    f: (d: CaptureDocument) => Promise<unknown>,
  ): Promise<void> {
    try {
      let doc = host.provider.documentFor(uri instanceof vscode.Uri ? uri : undefined);
      if (!doc && uri instanceof vscode.Uri) doc = await host.provider.open(uri);
      if (!doc) {
        void vscode.window.showInformationMessage('Open a multifd capture (.mfd) first.');
        return;
      }
      await f(doc);
    } catch (e) {
      this.fail('command', e);
    }
  }

  /** The Problems panel's links: open the capture, then its packet. */
  private async revealFromLink(host: CommandHost, args: RevealArgs | string): Promise<void> {
    const a: RevealArgs = typeof args === 'string' ? JSON.parse(args) : args;
    const doc = await host.provider.open(vscode.Uri.parse(a.uri));
    if (doc) revealPacket(host, doc, { stream: a.stream, index: a.packet });
  }
}
