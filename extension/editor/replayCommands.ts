import { promises as fsp } from 'node:fs';
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import { formatProvenance } from '../core/replay/provenance';
import { replayCapture, type ReplayResult } from '../core/replay/replay';
import { uniqueNames } from '../core/replay/safeFileName';
import type { PacketRef, ReplayInfo } from '../shared/protocol';
import type { CaptureDocument } from './captureDocument';
import { hex, requireTrust, revealPacket, type CommandHost } from './commandHost';
import { log } from './log';
import type { CaptureModel } from './model/captureModel';
import { toVscodeDiagnostics } from './problems';
import { readSettings } from './settings';
import { plural } from '../shared/plural';

// Replay Capture and Compare With Reference RAM: rebuild the RAM images into a folder, show what differs.

async function pickFolder(doc: CaptureDocument, title: string): Promise<string | undefined> {
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
async function confirmOverwrite(model: CaptureModel, folder: string): Promise<boolean | undefined> {
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
  const what = clash.length
    ? `${clash.slice(0, 5).join(', ')}${clash.length > 5 ? ` and ${clash.length - 5} more` : ''}`
    : 'device-state files';
  const answer = await vscode.window.showWarningMessage(
    `${folder} already contains ${what}. Replay would overwrite them.`,
    { modal: true },
    'Overwrite',
  );
  return answer === 'Overwrite' ? true : undefined;
}

async function runReplay(host: CommandHost, doc: CaptureDocument, references?: Map<string, string>): Promise<void> {
  if (!requireTrust('Replay')) return;
  const model = await doc.model;
  const outDir = await pickFolder(
    doc,
    references
      ? 'Folder for the rebuilt RAM images (compared with the references)'
      : 'Folder for the rebuilt RAM images',
  );
  if (!outDir) return;
  const force = await confirmOverwrite(model, outDir);
  if (force === undefined) return;
  const ac = new AbortController();
  const started = Date.now();
  const result = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Replaying ${basename(doc.uri.fsPath)}`,
      cancellable: true,
    },
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
          progress.report({
            increment: pct - last,
            message: `${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} writes`,
          });
          last = pct;
        },
      });
    },
  );
  log().info(
    `replay of ${doc.uri.fsPath} into ${outDir}: ${result.steps} steps in ${Date.now() - started} ms${result.cancelled ? ' (cancelled)' : ''}`,
  );
  applyReplay(host, doc, model, result);
}

function applyReplay(host: CommandHost, doc: CaptureDocument, model: CaptureModel, r: ReplayResult): void {
  const mism = new Map<string, { start: number; end: number }[]>();
  for (const c of r.compare ?? [])
    mism.set(
      c.block,
      c.ranges.map((x) => ({ start: x.start, end: x.end })),
    );
  model.setMismatches(mism);
  host.provider.problems.set(doc.uri, toVscodeDiagnostics(doc.uri, r.diagnostics));
  const info: ReplayInfo = {
    outDir: r.outDir,
    blocks: r.blocks.map((b) => ({
      name: b.name,
      file: b.file,
      size: b.size,
      pagesWritten: b.pagesWritten,
      zeroPages: b.zeroPages,
      neverWritten: b.neverWritten,
    })),
    mismatches: (r.compare ?? []).map((c) => ({ block: c.block, mismatchedPages: c.mismatchedPages })),
    diagnostics: r.diagnostics.length,
  };
  host.provider.postTo(doc, { type: 'replayDone', replay: info });
  const mismatched = (r.compare ?? []).reduce((n, c) => n + c.mismatchedPages, 0);
  const text = r.cancelled
    ? `Replay cancelled after ${r.steps} writes; images in ${r.outDir} are partial.`
    : `Replayed into ${r.outDir}: ${r.blocks.map((b) => `${b.name} (${b.pagesWritten} pages written, ${b.neverWritten} never)`).join(', ')}.` +
      (r.compare
        ? ` ${mismatched ? `${plural(mismatched, 'page differs', 'pages differ')} from the reference.` : 'Every page matches the reference.'}`
        : '');
  const buttons = [...(mismatched ? ['Show Mismatches'] : []), 'Show Problems'];
  const show = mismatched
    ? vscode.window.showWarningMessage(text, ...buttons)
    : vscode.window.showInformationMessage(text, ...buttons);
  void show.then((b) => {
    if (b === 'Show Mismatches') void showMismatches(host, doc, r);
    if (b === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
  });
}

async function showMismatches(host: CommandHost, doc: CaptureDocument, r: ReplayResult): Promise<void> {
  type Item = vscode.QuickPickItem & { packet?: PacketRef; block: string; start: number };
  const items: Item[] = [];
  for (const c of r.compare ?? [])
    for (const x of c.ranges)
      items.push({
        label: `${c.block} ${hex(x.start)}–${hex(x.end - 1)}`,
        description: plural(x.pages, 'page'),
        detail: formatProvenance(x.provenance),
        block: c.block,
        start: x.start,
        packet:
          x.provenance.packetIndex !== undefined && x.provenance.stream !== undefined
            ? { stream: x.provenance.stream, index: x.provenance.packetIndex }
            : undefined,
      });
  const pick = await vscode.window.showQuickPick(items, {
    title: 'Pages that differ from the reference (last writer shown)',
    matchOnDetail: true,
  });
  if (!pick) return;
  host.provider.postTo(doc, { type: 'showPage', block: pick.block, offset: pick.start });
  if (pick.packet) revealPacket(host, doc, pick.packet);
}

export function replay(host: CommandHost, doc: CaptureDocument): Promise<void> {
  return runReplay(host, doc);
}

export async function compare(host: CommandHost, doc: CaptureDocument): Promise<void> {
  if (!requireTrust('Compare With Reference RAM')) return;
  const model = await doc.model;
  const blocks = model.blocks();
  if (!blocks.length) {
    void vscode.window.showInformationMessage('This capture names no ramblock to compare.');
    return;
  }
  const chosen =
    blocks.length === 1
      ? blocks
      : ((await vscode.window.showQuickPick(blocks, {
          canPickMany: true,
          title: 'Ramblocks to compare with a reference RAM image',
        })) ?? []);
  const refs = new Map<string, string>();
  for (const b of chosen) {
    const f = await vscode.window.showOpenDialog({
      title: `Reference RAM image for ${b} (a raw dump of the block)`,
      canSelectMany: false,
      openLabel: `Use for ${b}`,
      defaultUri: vscode.Uri.file(dirname(doc.uri.fsPath)),
    });
    if (!f?.[0]) return;
    refs.set(b, f[0].fsPath);
  }
  if (!refs.size) return;
  await runReplay(host, doc, refs);
}
