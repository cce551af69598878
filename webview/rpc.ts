import type {
  HostEvent,
  HostToWebview,
  RequestMap,
  RequestMethod,
  WebviewEvent,
  WebviewState,
} from '../extension/shared/protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** The webview end of the typed protocol: requests with promised results, events both ways, saved state. */
export class Rpc {
  private readonly api: VsCodeApi = acquireVsCodeApi();
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly listeners: ((e: HostEvent) => void)[] = [];

  constructor() {
    window.addEventListener('message', (ev: MessageEvent<HostToWebview>) => {
      const m = ev.data;
      if (!m || typeof m !== 'object') return;
      if (m.type === 'response') {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if ('error' in m) p.reject(new Error(m.error));
        else p.resolve(m.result);
        return;
      }
      for (const l of this.listeners) l(m);
    });
  }

  request<M extends RequestMethod>(method: M, params: RequestMap[M]['params']): Promise<RequestMap[M]['result']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.api.postMessage({ type: 'request', id, method, params });
    });
  }

  send(e: WebviewEvent): void {
    this.api.postMessage(e);
  }

  onEvent(l: (e: HostEvent) => void): void {
    this.listeners.push(l);
  }

  getState(): Partial<WebviewState> | undefined {
    return (this.api.getState() as Partial<WebviewState> | undefined) ?? undefined;
  }

  setState(s: WebviewState): void {
    this.api.setState(s);
  }
}
