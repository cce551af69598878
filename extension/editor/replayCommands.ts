import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
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
import { replayDestinations, type ReplayDestination } from './model/replayDestination';
import { plural } from '../shared/plural';

// Replay Capture and Compare With Reference RAM: rebuild the RAM images into a folder, show what differs.

type DestinationItem = vscode.QuickPickItem & { destination: ReplayDestination };

/** The output folder, or `temporary` (Compare without keeping images), or undefined when dismissed. */
async function pickDestination(
  doc: CaptureDocument,
  title: string,
  compare: boolean,
): Promise<{ dir: string; temporary: boolean } | undefined> {
  const { replayFolder } = readSettings(doc.uri);
  const items: DestinationItem[] = replayDestinations(doc.uri.fsPath, { configured: replayFolder, compare }).map(
    (d) => ({ label: d.label, detail: d.detail, destination: d }),
  );
  // A step of a multi-step flow: it stays open when focus moves (e.g. to look at the capture first).
  const pick = await vscode.window.showQuickPick(items, { title, matchOnDetail: true, ignoreFocusOut: true });
  if (!pick) return undefined;
  const d = pick.destination;
  if (d.kind === 'folder') return { dir: d.dir, temporary: false };
  if (d.kind === 'temporary') return { dir: await fsp.mkdtemp(join(tmpdir(), 'mfd-compare-')), temporary: true };
  const picked = await vscode.window.showOpenDialog({
    title,
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    openLabel: 'Replay Here',
    defaultUri: vscode.Uri.file(dirname(doc.uri.fsPath)),
  });
  return picked?.[0] ? { dir: picked[0].fsPath, temporary: false } : undefined;
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
  const destination = await pickDestination(
    doc,
    references ? 'Where to rebuild the RAM images compared with the references' : 'Where to rebuild the RAM images',
    !!references,
  );
  if (!destination) return;
  const outDir = destination.dir;
  const force = destination.temporary ? false : await confirmOverwrite(model, outDir);
  if (force === undefined) return;
  const ac = new AbortController();
  const started = Date.now();
  // A temporary folder (Compare without keeping images) is removed whatever the replay's outcome.
  const removeTemporary = () => (destination.temporary ? fsp.rm(outDir, { recursive: true, force: true }) : undefined);
  const result = await Promise.resolve(
    vscode.window.withProgress(
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
    ),
  ).finally(removeTemporary);
  log().info(
    `replay of ${doc.uri.fsPath} into ${outDir}: ${result.steps} steps in ${Date.now() - started} ms${result.cancelled ? ' (cancelled)' : ''}`,
  );
  applyReplay(host, doc, model, result, destination.temporary);
}

function applyReplay(
  host: CommandHost,
  doc: CaptureDocument,
  model: CaptureModel,
  r: ReplayResult,
  imagesRemoved: boolean,
): void {
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
    imagesKept: !imagesRemoved,
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
  const where = imagesRemoved ? 'Compared (images not kept)' : `Replayed into ${r.outDir}`;
  const text = r.cancelled
    ? `Replay cancelled after ${plural(r.steps, 'write')}; ${imagesRemoved ? 'nothing was kept' : `images in ${r.outDir} are partial`}.`
    : `${where}: ${r.blocks.map((b) => `${b.name} (${plural(b.pagesWritten, 'page')} written, ${b.neverWritten} never)`).join(', ')}.` +
      (r.compare
        ? ` ${mismatched ? `${plural(mismatched, 'page differs', 'pages differ')} from the reference.` : 'Every page matches the reference.'}`
        : '');
  const kept = !imagesRemoved && r.blocks.length > 0;
  const buttons = [
    ...(mismatched ? ['Show Mismatches'] : []),
    ...(kept ? ['Reveal in Explorer', 'Open Image'] : []),
    'Show Problems',
  ];
  const show = mismatched
    ? vscode.window.showWarningMessage(text, ...buttons)
    : vscode.window.showInformationMessage(text, ...buttons);
  void show.then((b) => {
    if (b === 'Show Mismatches') void showMismatches(host, doc, r);
    if (b === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
    if (b === 'Reveal in Explorer') void revealImages(r);
    if (b === 'Open Image') void openImage(r);
  });
}

/** The images' folder in the Explorer when it is in the workspace, else in the operating system's file manager. */
async function revealImages(r: ReplayResult): Promise<void> {
  const first = vscode.Uri.file(r.blocks[0].file);
  if (vscode.workspace.getWorkspaceFolder(first)) await vscode.commands.executeCommand('revealInExplorer', first);
  else await vscode.commands.executeCommand('revealFileInOS', first);
}

/** One block's image, opened as VS Code opens a binary file (the Hex Editor, when installed, offers itself). */
async function openImage(r: ReplayResult): Promise<void> {
  const block =
    r.blocks.length === 1
      ? r.blocks[0]
      : (
          await vscode.window.showQuickPick(
            r.blocks.map((b) => ({ label: b.name, description: b.file, b })),
            { title: 'RAM image to open' },
          )
        )?.b;
  if (block) await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(block.file));
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
          ignoreFocusOut: true,
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
