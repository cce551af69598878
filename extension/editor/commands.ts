import { createWriteStream, promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { formatProvenance } from '../core/replay/provenance';
import { replayCapture, type ReplayResult } from '../core/replay/replay';
import { uniqueNames } from '../core/replay/safeFileName';
import { errorDetail, errorMessage } from '../core/util/errorMessage';
import type { CommandName, PacketRef, ReplayInfo } from '../shared/protocol';
import type { CaptureDocument } from './captureDocument';
import type { CaptureEditorProvider } from './captureEditorProvider';
import type { CapturePanel } from './capturePanel';
import { log } from './log';
import { exportChunks, type ExportFormat } from './model/exportPackets';
import type { CaptureModel } from './model/captureModel';
import { parsePacketQuery, parsePageQuery } from './model/queryParsers';
import { REVEAL_COMMAND, toVscodeDiagnostics, type RevealArgs } from './problems';
import { readSettings } from './settings';
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
} as const;

const hex = (n: number) => '0x' + n.toString(16);

/** The editor's commands. Each works on the active capture editor, or on a .mfd passed from the explorer. */
export class Commands {
  private provider!: CaptureEditorProvider;

  constructor(private readonly context: vscode.ExtensionContext) {}

  register(provider: CaptureEditorProvider): void {
    this.provider = provider;
    const reg = (id: string, f: Parameters<typeof vscode.commands.registerCommand>[1]) => this.context.subscriptions.push(vscode.commands.registerCommand(id, f));
    reg(COMMANDS.replay, (uri?: vscode.Uri) => this.withDoc(uri, (d) => this.replay(d)));
    reg(COMMANDS.compare, (uri?: vscode.Uri) => this.withDoc(uri, (d) => this.compare(d)));
    reg(COMMANDS.goToPacket, (uri?: vscode.Uri) => this.withDoc(uri, (d) => this.goToPacket(d)));
    reg(COMMANDS.findPage, (uri?: vscode.Uri) => this.withDoc(uri, (d) => this.findPage(d)));
    reg(COMMANDS.export, (uri?: vscode.Uri) => this.withDoc(uri, (d) => this.exportList(d)));
    reg(COMMANDS.record, () => this.record());
    reg(COMMANDS.send, (uri?: vscode.Uri) => this.withDoc(uri, (d) => sendCaptureCommand(d.uri)));
    reg(COMMANDS.reveal, (args: RevealArgs | string) => this.revealFromLink(args));
  }

  /** From the webview's buttons. */
  runCommand(c: CommandName, panel: CapturePanel): void {
    const d = panel.document;
    const run: Record<CommandName, () => unknown> = {
      replay: () => this.replay(d),
      compare: () => this.compare(d),
      goToPacket: () => this.goToPacket(d),
      findPage: () => this.findPage(d),
      export: () => this.exportList(d),
      record: () => this.record(),
      showProblems: () => vscode.commands.executeCommand('workbench.actions.view.problems'),
    };
    void Promise.resolve(run[c]()).catch((e) => this.fail(c, e));
  }

  private fail(what: string, e: unknown): void {
    log().error(`${what}: ${errorDetail(e)}`);
    void vscode.window.showErrorMessage(`Multifd: ${what} failed: ${errorMessage(e)}`);
  }

  private async withDoc(uri: vscode.Uri | undefined, f: (d: CaptureDocument) => Promise<unknown>): Promise<void> {
    try {
      let doc = this.provider.documentFor(uri instanceof vscode.Uri ? uri : undefined);
      if (!doc && uri instanceof vscode.Uri) doc = await this.provider.open(uri);
      if (!doc) {
        void vscode.window.showInformationMessage('Open a multifd capture (.mfd) first.');
        return;
      }
      await f(doc);
    } catch (e) {
      this.fail('command', e);
    }
  }

  private reveal(doc: CaptureDocument, packet: PacketRef, slot?: number): void {
    this.provider.postTo(doc, { type: 'reveal', packet, slot, clearFilterIfHidden: true });
  }

  private async revealFromLink(args: RevealArgs | string): Promise<void> {
    const a: RevealArgs = typeof args === 'string' ? JSON.parse(args) : args;
    const uri = vscode.Uri.parse(a.uri);
    const doc = await this.provider.open(uri);
    if (doc) this.reveal(doc, { stream: a.stream, index: a.packet });
  }

  // ---- Replay / Compare ---------------------------------------------------------------------------------

  private requireTrust(what: string): boolean {
    if (vscode.workspace.isTrusted) return true;
    void vscode.window.showWarningMessage(`${what} writes files and is available only in a trusted workspace.`, 'Manage Workspace Trust').then((b) => {
      if (b) void vscode.commands.executeCommand('workbench.trust.manage');
    });
    return false;
  }

  private async pickFolder(doc: CaptureDocument, title: string): Promise<string | undefined> {
    const { replayFolder } = readSettings(doc.uri);
    const picked = await vscode.window.showOpenDialog({
      title,
      canSelectFiles: false,
      canSelectFolders: true,
      canSelectMany: false,
      openLabel: 'Replay Here',
      defaultUri: vscode.Uri.file(replayFolder ?? dirname(doc.uri.fsPath)),
    });
    return picked?.[0]?.fsPath;
  }

  /**
   * Replay writes one image per ramblock (and device-state blobs) inside the chosen folder. Existing files
   * are replaced only after the user confirms.
   */
  private async confirmOverwrite(model: CaptureModel, folder: string): Promise<boolean | undefined> {
    let existing: string[] = [];
    try {
      existing = await fsp.readdir(folder);
    } catch {
      return false;
    }
    if (!existing.length) return false;
    const planned = [...uniqueNames(model.blocks(), '.ram').values()];
    const clash = planned.filter((n) => existing.includes(n));
    const hasDeviceState = model.analysis.multifd.some((m) => m.deviceStatePackets > 0);
    if (!clash.length && !hasDeviceState) return false;
    const what = clash.length ? `${clash.slice(0, 5).join(', ')}${clash.length > 5 ? ` and ${clash.length - 5} more` : ''}` : 'device-state files';
    const answer = await vscode.window.showWarningMessage(`${folder} already contains ${what}. Replay would overwrite them.`, { modal: true }, 'Overwrite');
    return answer === 'Overwrite' ? true : undefined;
  }

  private async runReplay(doc: CaptureDocument, references?: Map<string, string>): Promise<void> {
    if (!this.requireTrust('Replay')) return;
    const model = await doc.model;
    const outDir = await this.pickFolder(doc, references ? 'Folder for the rebuilt RAM images (compared with the references)' : 'Folder for the rebuilt RAM images');
    if (!outDir) return;
    const force = await this.confirmOverwrite(model, outDir);
    if (force === undefined) return;
    const ac = new AbortController();
    const started = Date.now();
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Replaying ${basename(doc.uri.fsPath)}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => ac.abort());
        let last = 0;
        return replayCapture(model.analysis, {
          outDir,
          references,
          force,
          signal: ac.signal,
          onProgress: (done, total) => {
            const pct = total ? (100 * done) / total : 100;
            progress.report({ increment: pct - last, message: `${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} writes` });
            last = pct;
          },
        });
      },
    );
    log().info(`replay of ${doc.uri.fsPath} into ${outDir}: ${result.steps} steps in ${Date.now() - started} ms${result.cancelled ? ' (cancelled)' : ''}`);
    this.applyReplay(doc, model, result);
  }

  private applyReplay(doc: CaptureDocument, model: CaptureModel, r: ReplayResult): void {
    const mism = new Map<string, { start: number; end: number }[]>();
    for (const c of r.compare ?? []) mism.set(c.block, c.ranges.map((x) => ({ start: x.start, end: x.end })));
    model.setMismatches(mism);
    this.provider.problems.set(doc.uri, toVscodeDiagnostics(doc.uri, r.diagnostics));
    const info: ReplayInfo = {
      outDir: r.outDir,
      blocks: r.blocks.map((b) => ({ name: b.name, file: b.file, size: b.size, pagesWritten: b.pagesWritten, zeroPages: b.zeroPages, neverWritten: b.neverWritten })),
      mismatches: (r.compare ?? []).map((c) => ({ block: c.block, mismatchedPages: c.mismatchedPages })),
      diagnostics: r.diagnostics.length,
    };
    this.provider.postTo(doc, { type: 'replayDone', replay: info });
    const mismatched = (r.compare ?? []).reduce((n, c) => n + c.mismatchedPages, 0);
    const text = r.cancelled
      ? `Replay cancelled after ${r.steps} writes; images in ${r.outDir} are partial.`
      : `Replayed into ${r.outDir}: ${r.blocks.map((b) => `${b.name} (${b.pagesWritten} pages written, ${b.neverWritten} never)`).join(', ')}.` +
        (r.compare ? ` ${mismatched ? `${mismatched} page(s) differ from the reference.` : 'Every page matches the reference.'}` : '');
    const buttons = [...(mismatched ? ['Show Mismatches'] : []), 'Show Problems'];
    const show = mismatched ? vscode.window.showWarningMessage(text, ...buttons) : vscode.window.showInformationMessage(text, ...buttons);
    void show.then((b) => {
      if (b === 'Show Mismatches') void this.showMismatches(doc, r);
      if (b === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
    });
  }

  private async showMismatches(doc: CaptureDocument, r: ReplayResult): Promise<void> {
    type Item = vscode.QuickPickItem & { packet?: PacketRef; block: string; start: number };
    const items: Item[] = [];
    for (const c of r.compare ?? [])
      for (const x of c.ranges)
        items.push({ label: `${c.block} ${hex(x.start)}–${hex(x.end - 1)}`, description: `${x.pages} page(s)`, detail: formatProvenance(x.provenance), block: c.block, start: x.start, packet: x.provenance.packetIndex !== undefined && x.provenance.stream !== undefined ? { stream: x.provenance.stream, index: x.provenance.packetIndex } : undefined });
    const pick = await vscode.window.showQuickPick(items, { title: 'Pages that differ from the reference (last writer shown)', matchOnDetail: true });
    if (!pick) return;
    this.provider.postTo(doc, { type: 'showPage', block: pick.block, offset: pick.start });
    if (pick.packet) this.reveal(doc, pick.packet);
  }

  private replay(doc: CaptureDocument): Promise<void> {
    return this.runReplay(doc);
  }

  private async compare(doc: CaptureDocument): Promise<void> {
    if (!this.requireTrust('Compare With Reference RAM')) return;
    const model = await doc.model;
    const blocks = model.blocks();
    if (!blocks.length) {
      void vscode.window.showInformationMessage('This capture names no ramblock to compare.');
      return;
    }
    const chosen = blocks.length === 1 ? blocks : (await vscode.window.showQuickPick(blocks, { canPickMany: true, title: 'Ramblocks to compare with a reference RAM image' })) ?? [];
    const refs = new Map<string, string>();
    for (const b of chosen) {
      const f = await vscode.window.showOpenDialog({ title: `Reference RAM image for ${b} (a raw dump of the block)`, canSelectMany: false, openLabel: `Use for ${b}`, defaultUri: vscode.Uri.file(dirname(doc.uri.fsPath)) });
      if (!f?.[0]) return;
      refs.set(b, f[0].fsPath);
    }
    if (!refs.size) return;
    await this.runReplay(doc, refs);
  }

  // ---- Go to Packet / Find Page -------------------------------------------------------------------------

  private async goToPacket(doc: CaptureDocument): Promise<void> {
    const model = await doc.model;
    const text = await vscode.window.showInputBox({
      title: 'Go to Packet',
      prompt: 'stream:index (3:12), #packet_num (#45), or a row number of the list',
      value: doc.selection.packet ? `${doc.selection.packet.stream}:${doc.selection.packet.index}` : '',
      validateInput: (t) => {
        const q = parsePacketQuery(t);
        if ('error' in q) return q.error;
        if ('ref' in q && model.globalId(q.ref) < 0) return `there is no packet ${q.ref.index} in stream ${q.ref.stream}`;
        if ('viewIndex' in q && q.viewIndex >= model.currentView.rowCount) return `the list has ${model.currentView.rowCount} rows`;
        return undefined;
      },
    });
    if (text === undefined) return;
    const q = parsePacketQuery(text);
    if ('error' in q) return;
    if ('ref' in q) return this.reveal(doc, q.ref);
    if ('viewIndex' in q) {
      const r = model.rows(q.viewIndex, 1).rows[0];
      if (r) this.reveal(doc, { stream: r.stream, index: r.index });
      return;
    }
    const hits = model.findByPacketNum(q.packetNum);
    if (!hits.length) {
      void vscode.window.showInformationMessage(`No packet has packet_num ${q.packetNum}.`);
      return;
    }
    let target = hits[0];
    if (hits.length > 1) {
      const pick = await vscode.window.showQuickPick(
        hits.map((h) => ({ label: `stream ${h.stream} packet ${h.index}`, description: model.rowOf(model.globalId(h), -1).flagsText, ref: h })),
        { title: `packet_num ${q.packetNum} appears ${hits.length} times` },
      );
      if (!pick) return;
      target = pick.ref;
    }
    this.reveal(doc, target);
  }

  private async findPage(doc: CaptureDocument): Promise<void> {
    const model = await doc.model;
    const sel = doc.selection;
    const text = await vscode.window.showInputBox({
      title: 'Find Page',
      prompt: 'Page offset in hex (0x1f000) or decimal, optionally with a ramblock: pc.ram:0x1f000',
      value: sel.offset !== undefined ? `${sel.block ? sel.block + ':' : ''}${hex(sel.offset)}` : '',
      validateInput: (t) => {
        const q = parsePageQuery(t);
        if ('error' in q) return q.error;
        if (q.block !== undefined && !model.blocks().includes(q.block)) return `no ramblock "${q.block}" (known: ${model.blocks().join(', ')})`;
        return undefined;
      },
    });
    if (text === undefined) return;
    const q = parsePageQuery(text);
    if ('error' in q) return;
    const writers = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Finding the packets that touched the page' }, () => model.pageWriters(q.block, q.offset));
    const page = Math.floor(q.offset / model.analysis.pageSize) * model.analysis.pageSize;
    if (!writers.length) {
      void vscode.window.showInformationMessage(`No packet or record touched page ${hex(page)}${q.block ? ` of ${q.block}` : ''}.`);
      return;
    }
    const block = q.block ?? writers[0].label.split(' in ')[1]?.split(':')[0];
    if (block) this.provider.postTo(doc, { type: 'showPage', block, offset: page });
    const pick = await vscode.window.showQuickPick(
      writers.map((w, i) => ({ label: `${i + 1}. ${w.kind}`, description: w.packetNum !== undefined ? `packet_num ${w.packetNum}` : undefined, detail: w.label, w })),
      { title: `Page ${hex(page)}${q.block ? ` of ${q.block}` : ''}: ${writers.length} write(s), in replay order`, matchOnDetail: true },
    );
    if (pick?.w.ref) this.reveal(doc, pick.w.ref);
  }

  // ---- Export -------------------------------------------------------------------------------------------

  private async exportList(doc: CaptureDocument): Promise<void> {
    const model = await doc.model;
    const fmt = await vscode.window.showQuickPick(
      [
        { label: 'CSV', format: 'csv' as ExportFormat },
        { label: 'JSON', format: 'json' as ExportFormat },
      ],
      { title: `Export the packet list (${model.currentView.rowCount} rows${model.currentView.spec.filter ? `, filter: ${model.currentView.spec.filter}` : ''})` },
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
    const exists = await fsp.stat(path).then(() => true, () => false);
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

  // ---- Record -------------------------------------------------------------------------------------------

  private async record(): Promise<void> {
    if (!this.requireTrust('Record Migration')) return;
    const endpoint = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):\d{1,5}$/;
    const check = (t: string) => (endpoint.test(t.trim()) && Number(t.trim().split(':').pop()) <= 65535 ? undefined : 'HOST:PORT, e.g. 0.0.0.0:4444 or [::1]:4444');
    const listen = await vscode.window.showInputBox({ title: 'Record Migration (1/3)', prompt: 'Listen on (point the source QEMU\'s migrate URI here)', value: '0.0.0.0:4444', validateInput: check });
    if (!listen) return;
    const forward = await vscode.window.showInputBox({ title: 'Record Migration (2/3)', prompt: "Forward to the destination's migrate-incoming address", value: '127.0.0.1:4445', validateInput: check });
    if (!forward) return;
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const out = await vscode.window.showSaveDialog({ title: 'Record Migration (3/3): capture file', filters: { 'Multifd capture': ['mfd'] }, defaultUri: ws ? vscode.Uri.file(join(ws, 'migration.mfd')) : undefined });
    if (!out) return;
    const args = ['record', '--listen', listen.trim(), '--forward', forward.trim(), '--out', out.fsPath];
    if (await fsp.stat(out.fsPath).then(() => true, () => false)) {
      const ok = await vscode.window.showWarningMessage(`${out.fsPath} exists. Overwrite it?`, { modal: true }, 'Overwrite');
      if (ok !== 'Overwrite') return;
      args.push('--force');
    }
    const cli = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'mfd.js').fsPath;
    // The CLI runs on the extension host's own Node (Electron's, run as Node on desktop); no shell quoting involved.
    const term = vscode.window.createTerminal({ name: 'mfd record', shellPath: process.execPath, shellArgs: [cli, ...args], env: { ELECTRON_RUN_AS_NODE: '1' }, iconPath: new vscode.ThemeIcon('record') });
    term.show();
    log().info(`record: ${cli} ${args.join(' ')}`);
    void vscode.window.showInformationMessage(`Recording to ${basename(out.fsPath)}: migrate the source to tcp:${listen.trim()}. Stop with Ctrl+C in the terminal, then open the capture.`, 'Open Capture').then((b) => {
      if (b) void vscode.commands.executeCommand('vscode.openWith', out, 'multifd.capture');
    });
  }
}
