import * as vscode from 'vscode';
import { errorMessage } from '../core/util/errorMessage';
import { CaptureDocument } from './captureDocument';
import { CapturePanel, type PanelHost } from './capturePanel';
import { toVscodeDiagnostics } from './problems';
import { log } from './log';
import { MigrationChoices } from './migrationChoice';
import type { CommandName, HostEvent } from '../shared/protocol';

export const CAPTURE_VIEW_TYPE = 'multifd.capture';
export const RAW_VIEW_TYPE = 'multifd.rawChannel';

/**
 * The read-only custom editor for captures: default for *.mfd, and offered through "Open With…" for raw
 * channel dumps. Documents (and their index) are shared by all panels on the same file.
 */
export class CaptureEditorProvider implements vscode.CustomReadonlyEditorProvider<CaptureDocument> {
  private readonly documents = new Map<string, CaptureDocument>();
  private active?: CapturePanel;
  private readonly panels = new Set<CapturePanel>();
  /** Which migration of a tcpdump file each document shows (remembered in the workspace state). */
  readonly choices: MigrationChoices;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly problems: vscode.DiagnosticCollection,
    private readonly host: PanelHost,
  ) {
    this.choices = new MigrationChoices(context.workspaceState);
  }

  static register(
    context: vscode.ExtensionContext,
    problems: vscode.DiagnosticCollection,
    host: PanelHost,
  ): CaptureEditorProvider {
    const p = new CaptureEditorProvider(context, problems, host);
    const options = {
      supportsMultipleEditorsPerDocument: true,
      webviewOptions: { retainContextWhenHidden: false, enableFindWidget: false },
    };
    context.subscriptions.push(
      vscode.window.registerCustomEditorProvider(CAPTURE_VIEW_TYPE, p, options),
      vscode.window.registerCustomEditorProvider(RAW_VIEW_TYPE, p, options),
    );
    return p;
  }

  get activePanel(): CapturePanel | undefined {
    return this.active;
  }

  /** The capture of the active editor, else the one of `uri`, else the only one open. */
  documentFor(uri?: vscode.Uri): CaptureDocument | undefined {
    if (uri) return this.documents.get(uri.toString());
    if (this.active) return this.active.document;
    return this.documents.size === 1 ? [...this.documents.values()][0] : undefined;
  }

  panelsOf(doc: CaptureDocument): CapturePanel[] {
    return [...this.panels].filter((p) => p.document === doc);
  }

  /** Sends an event to the document's active (or first) panel. */
  postTo(doc: CaptureDocument, e: HostEvent): void {
    const panels = this.panelsOf(doc);
    const target = panels.find((p) => p.panel.active) ?? panels[0];
    target?.post(e);
  }

  async openCustomDocument(uri: vscode.Uri): Promise<CaptureDocument> {
    if (uri.scheme !== 'file')
      throw new Error(`Multifd Inspector reads captures from the local file system only (this is ${uri.scheme}:)`);
    const doc = new CaptureDocument(uri, this.choices);
    this.documents.set(uri.toString(), doc);
    doc.onDidDispose(() => {
      this.documents.delete(uri.toString());
      this.problems.delete(uri);
    });
    doc.model.then(
      (m) =>
        this.problems.set(
          uri,
          toVscodeDiagnostics(uri, m.analysis.diagnostics, (l) => m.mainRowOf(l)),
        ),
      (e) => void vscode.window.showErrorMessage(`Cannot open ${uri.fsPath}: ${errorMessage(e)}`),
    );
    return doc;
  }

  async resolveCustomEditor(document: CaptureDocument, webviewPanel: vscode.WebviewPanel): Promise<void> {
    const panel = new CapturePanel(document, webviewPanel, this.context.extensionUri, this.host);
    this.panels.add(panel);
    if (webviewPanel.active) this.active = panel;
    webviewPanel.onDidChangeViewState(() => {
      if (webviewPanel.active) this.active = panel;
      else if (this.active === panel) this.active = undefined;
    });
    webviewPanel.onDidDispose(() => {
      this.panels.delete(panel);
      if (this.active === panel) this.active = undefined;
      panel.dispose();
    });
    log().debug(`editor opened on ${document.uri.fsPath}`);
  }

  /** Opens (or focuses) the capture editor of `uri`, returning its document once indexed. */
  async open(uri: vscode.Uri): Promise<CaptureDocument | undefined> {
    const existing = this.documents.get(uri.toString());
    const viewType =
      existing && this.panelsOf(existing)[0]?.panel.viewType.endsWith(RAW_VIEW_TYPE)
        ? RAW_VIEW_TYPE
        : CAPTURE_VIEW_TYPE;
    await vscode.commands.executeCommand('vscode.openWith', uri, viewType);
    return this.documents.get(uri.toString());
  }

  /**
   * Closes every editor of the document and opens it again with the same editor type: a new document, so a new
   * choice of migration is read. Waits for the old document to go first, or VS Code would hand it back.
   */
  async reopen(doc: CaptureDocument): Promise<void> {
    const key = doc.uri.toString();
    const viewType = this.panelsOf(doc)[0]?.panel.viewType.endsWith(RAW_VIEW_TYPE) ? RAW_VIEW_TYPE : CAPTURE_VIEW_TYPE;
    const tabs = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter((t) => t.input instanceof vscode.TabInputCustom && t.input.uri.toString() === key);
    const gone = new Promise<void>((resolve) => {
      if (!this.documents.has(key)) return resolve();
      doc.onDidDispose(() => resolve());
      setTimeout(resolve, 5_000);
    });
    await vscode.window.tabGroups.close(tabs);
    await gone;
    await vscode.commands.executeCommand('vscode.openWith', doc.uri, viewType);
  }

  runCommand(c: CommandName, panel: CapturePanel): void {
    this.host.runCommand(c, panel);
  }
}
