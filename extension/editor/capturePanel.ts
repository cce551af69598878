import * as vscode from 'vscode';
import type { CaptureDocument } from './captureDocument';
import type { CaptureModel } from './model/captureModel';
import { log } from './log';
import { webviewHtml } from './webviewHtml';
import type { CommandName, HostEvent, HostToWebview, RequestMap, RequestMethod, WebviewRequest, WebviewToHost } from '../shared/protocol';

/** What a panel needs from the rest of the extension. */
export interface PanelHost {
  runCommand(command: CommandName, panel: CapturePanel): void;
}

/**
 * One webview showing a capture. Answers the webview's range requests from the document model; queues
 * host events (reveal, showPage) until the webview has loaded and been initialised.
 */
export class CapturePanel implements vscode.Disposable {
  private ready = false;
  private initialised = false;
  private readonly queue: HostEvent[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    readonly document: CaptureDocument,
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly host: PanelHost,
  ) {
    panel.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')] };
    panel.webview.html = webviewHtml(panel.webview, extensionUri, document.uri.path.split('/').pop() ?? 'capture');
    this.disposables.push(panel.webview.onDidReceiveMessage((m: WebviewToHost) => void this.onMessage(m)));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  /** Sends an event now, or once the webview is initialised. */
  post(e: HostEvent): void {
    if (this.initialised || e.type === 'loading' || e.type === 'progress') void this.panel.webview.postMessage(e satisfies HostToWebview);
    else this.queue.push(e);
  }

  private async onMessage(m: WebviewToHost): Promise<void> {
    if (!m || typeof m !== 'object') return;
    switch (m.type) {
      case 'ready':
        // A webview (re)loads when shown again (no retainContextWhenHidden): it restores its own state.
        this.ready = true;
        this.initialised = false;
        await this.init();
        return;
      case 'request':
        await this.answer(m);
        return;
      case 'runCommand':
        this.host.runCommand(m.command, this);
        return;
      case 'selection':
        this.document.selection = { packet: m.packet, block: m.block, offset: m.offset };
        return;
      case 'log':
        log()[m.level](`webview: ${m.message}`);
        return;
    }
  }

  private async init(): Promise<void> {
    if (!this.ready) return;
    void this.panel.webview.postMessage({ type: 'loading', message: 'Indexing the capture…' } satisfies HostEvent);
    let model: CaptureModel;
    try {
      model = await this.document.model;
    } catch (e) {
      void this.panel.webview.postMessage({ type: 'loadFailed', message: (e as Error).message } satisfies HostEvent);
      return;
    }
    await this.panel.webview.postMessage({ type: 'init', summary: model.summary(vscode.workspace.isTrusted), fields: model.filterFields() } satisfies HostEvent);
    this.initialised = true;
    for (const e of this.queue.splice(0)) void this.panel.webview.postMessage(e);
  }

  private progress = (message: string) => void this.panel.webview.postMessage({ type: 'progress', message } satisfies HostEvent);

  private async answer(req: WebviewRequest): Promise<void> {
    const started = Date.now();
    try {
      const model = await this.document.model;
      const result = await this.dispatch(model, req);
      await this.panel.webview.postMessage({ type: 'response', id: req.id, method: req.method, result } as HostToWebview);
      const ms = Date.now() - started;
      if (ms > 500) log().debug(`${req.method} took ${ms} ms`);
    } catch (e) {
      log().warn(`${req.method} failed: ${(e as Error).message}`);
      await this.panel.webview.postMessage({ type: 'response', id: req.id, method: req.method, error: (e as Error).message } satisfies HostToWebview);
    }
  }

  private async dispatch<M extends RequestMethod>(model: CaptureModel, req: WebviewRequest & { method: M }): Promise<RequestMap[M]['result']> {
    const r = req as WebviewRequest;
    let out: unknown;
    switch (r.method) {
      case 'setView':
        out = await model.setView(r.params, this.progress);
        this.progress('');
        break;
      case 'getRows':
        out = model.rows(r.params.start, r.params.count);
        break;
      case 'getPacket':
        out = await model.packet(r.params);
        break;
      case 'getPayload':
        out = await model.payload(r.params, r.params.start, r.params.length);
        break;
      case 'getPage':
        out = await model.page(r.params, r.params.slot, this.progress);
        this.progress('');
        break;
      case 'locate':
        out = { viewIndex: model.locate(r.params) };
        break;
      case 'getDiagnostics':
        out = model.diagnostics(r.params.start, r.params.count, r.params.severity);
        break;
      case 'getPageMap':
        out = await model.pageMap(r.params.block, this.progress);
        this.progress('');
        break;
      case 'getPageWriters':
        out = { block: r.params.block, offset: r.params.offset, writers: await model.pageWriters(r.params.block, r.params.offset) };
        break;
    }
    return out as RequestMap[M]['result'];
  }
}
