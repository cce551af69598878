import * as vscode from 'vscode';
import type { CaptureDocument } from './captureDocument';
import { hex, revealPacket, type CommandHost } from './commandHost';
import { parsePacketQuery, parsePageQuery } from './model/queryParsers';
import { plural } from '../shared/plural';

// Go to Packet and Find Page: a query typed by the user, answered by revealing packets and pages in the editor.

export async function goToPacket(host: CommandHost, doc: CaptureDocument): Promise<void> {
  const model = await doc.model;
  const text = await vscode.window.showInputBox({
    title: 'Go to Packet',
    prompt: 'stream:index (3:12), #packet_num (#45), or a row number of the list',
    value: doc.selection.packet ? `${doc.selection.packet.stream}:${doc.selection.packet.index}` : '',
    validateInput: (t) => {
      const q = parsePacketQuery(t);
      if ('error' in q) return q.error;
      if ('ref' in q && model.globalId(q.ref) < 0) return `there is no packet ${q.ref.index} in stream ${q.ref.stream}`;
      if ('viewIndex' in q && q.viewIndex >= model.currentView.rowCount)
        return `the list has ${model.currentView.rowCount} rows`;
      return undefined;
    },
  });
  if (text === undefined) return;
  const q = parsePacketQuery(text);
  if ('error' in q) return;
  if ('ref' in q) return revealPacket(host, doc, q.ref);
  if ('viewIndex' in q) {
    const r = model.rows(q.viewIndex, 1).rows[0];
    if (r) revealPacket(host, doc, { stream: r.stream, index: r.index });
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
      hits.map((h) => ({
        label: `stream ${h.stream} packet ${h.index}`,
        description: model.rowOf(model.globalId(h), -1).flagsText,
        ref: h,
      })),
      { title: `packet_num ${q.packetNum} appears ${hits.length} times` },
    );
    if (!pick) return;
    target = pick.ref;
  }
  revealPacket(host, doc, target);
}

export async function findPage(host: CommandHost, doc: CaptureDocument): Promise<void> {
  const model = await doc.model;
  const sel = doc.selection;
  const text = await vscode.window.showInputBox({
    title: 'Find Page',
    prompt: 'Page offset in hex (0x1f000) or decimal, optionally with a ramblock: pc.ram:0x1f000',
    value: sel.offset !== undefined ? `${sel.block ? sel.block + ':' : ''}${hex(sel.offset)}` : '',
    validateInput: (t) => {
      const q = parsePageQuery(t);
      if ('error' in q) return q.error;
      if (q.block !== undefined && !model.blocks().includes(q.block))
        return `no ramblock "${q.block}" (known: ${model.blocks().join(', ')})`;
      return undefined;
    },
  });
  if (text === undefined) return;
  const q = parsePageQuery(text);
  if ('error' in q) return;
  const writers = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: 'Finding the packets that touched the page' },
    () => model.pageWriters(q.block, q.offset),
  );
  const page = Math.floor(q.offset / model.analysis.pageSize) * model.analysis.pageSize;
  if (!writers.length) {
    void vscode.window.showInformationMessage(
      `No packet or record touched page ${hex(page)}${q.block ? ` of ${q.block}` : ''}.`,
    );
    return;
  }
  const block = q.block ?? writers[0].block;
  if (block) host.provider.postTo(doc, { type: 'showPage', block, offset: page });
  const pick = await vscode.window.showQuickPick(
    writers.map((w, i) => ({
      label: `${i + 1}. ${w.kind}`,
      description: w.packetNum !== undefined ? `packet_num ${w.packetNum}` : undefined,
      detail: w.label,
      w,
    })),
    {
      title: `Page ${hex(page)}${q.block ? ` of ${q.block}` : ''}: ${plural(writers.length, 'write')}, in replay order`,
      matchOnDetail: true,
    },
  );
  if (pick?.w.ref) revealPacket(host, doc, pick.w.ref);
}
