import * as vscode from 'vscode';
import type { CaptureDocument } from './captureDocument';
import type { CaptureModel } from './model/captureModel';
import { log } from './log';
import { webviewHtml } from './webviewHtml';
import { errorMessage } from '../core/util/errorMessage';
import type {
  CommandName,
  HostEvent,
  HostToWebview,
  RequestHandlers,
  RequestMethod,
  RequestOf,
  ResultOf,
  WebviewToHost,
} from '../shared/protocol';

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
    if (this.initialised || e.type === 'loading' || e.type === 'progress')
      void this.panel.webview.postMessage(e satisfies HostToWebview);
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
      void this.panel.webview.postMessage({ type: 'loadFailed', message: errorMessage(e) } satisfies HostEvent);
      return;
    }
    await this.panel.webview.postMessage({
      type: 'init',
      summary: model.summary(vscode.workspace.isTrusted),
      fields: model.filterFields(),
    } satisfies HostEvent);
    this.initialised = true;
    for (const e of this.queue.splice(0)) void this.panel.webview.postMessage(e);
  }

  private progress = (message: string) =>
    void this.panel.webview.postMessage({ type: 'progress', message } satisfies HostEvent);

  /** The model's answer to each request the webview can make; long ones report progress and clear it when done. */
  private handlers(model: CaptureModel): RequestHandlers {
    const withProgress = async <T>(work: Promise<T>): Promise<T> => {
      try {
        return await work;
      } finally {
        this.progress('');
      }
    };
    return {
      setView: (p) => withProgress(model.setView(p, this.progress)),
      getRows: (p) => model.rows(p.start, p.count),
      getPacket: (p) => model.packet(p),
      getPayload: (p) => model.payload(p, p.start, p.length),
      getPage: (p) => withProgress(model.page(p, p.slot, this.progress)),
      locate: (p) => ({ viewIndex: model.locate(p) }),
      getDiagnostics: (p) => model.diagnostics(p.start, p.count, p.severity),
      getPageMap: (p) => withProgress(model.pageMap(p.block, this.progress)),
      getPageWriters: async (p) => ({
        block: p.block,
        offset: p.offset,
        writers: await model.pageWriters(p.block, p.offset),
      }),
      getDeviceSections: () => model.devices.list(),
      getDeviceFields: (p) => model.devices.fields(p.section, p.path, p.start, p.count),
      getStats: () => withProgress(model.stats()),
    };
  }

  private async answer<M extends RequestMethod>(req: RequestOf<M>): Promise<void> {
    const started = Date.now();
    try {
      const model = await this.document.model;
      const handle: RequestHandlers[M] = this.handlers(model)[req.method];
      const result = await handle(req.params);
      const response: ResultOf<M> = { type: 'response', id: req.id, method: req.method, result };
      await this.panel.webview.postMessage(response);
      const ms = Date.now() - started;
      if (ms > 500) log().debug(`${req.method} took ${ms} ms`);
    } catch (e) {
      log().warn(`${req.method} failed: ${errorMessage(e)}`);
      await this.panel.webview.postMessage({
        type: 'response',
        id: req.id,
        method: req.method,
        error: errorMessage(e),
      } satisfies HostToWebview);
    }
  }
}
