import { promises as fsp } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { requireTrust, type CommandHost } from './commandHost';
import { log } from './log';

/** Record Migration: runs `mfd record` (the bundled CLI) in a terminal between a source and a destination QEMU. */
export async function record(host: CommandHost): Promise<void> {
  if (!requireTrust('Record Migration')) return;
  const endpoint = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):\d{1,5}$/;
  const check = (t: string) =>
    endpoint.test(t.trim()) && Number(t.trim().split(':').pop()) <= 65535
      ? undefined
      : 'HOST:PORT, e.g. 0.0.0.0:4444 or [::1]:4444';
  const listen = await vscode.window.showInputBox({
    title: 'Record Migration (1/3)',
    prompt: "Listen on (point the source QEMU's migrate URI here)",
    value: '0.0.0.0:4444',
    validateInput: check,
  });
  if (!listen) return;
  const forward = await vscode.window.showInputBox({
    title: 'Record Migration (2/3)',
    prompt: "Forward to the destination's migrate-incoming address",
    value: '127.0.0.1:4445',
    validateInput: check,
  });
  if (!forward) return;
  const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const out = await vscode.window.showSaveDialog({
    title: 'Record Migration (3/3): capture file',
    filters: { 'Multifd capture': ['mfd'] },
    defaultUri: ws ? vscode.Uri.file(join(ws, 'migration.mfd')) : undefined,
  });
  if (!out) return;
  const args = ['record', '--listen', listen.trim(), '--forward', forward.trim(), '--out', out.fsPath];
  if (
    await fsp.stat(out.fsPath).then(
      () => true,
      () => false,
    )
  ) {
    const ok = await vscode.window.showWarningMessage(
      `${out.fsPath} exists. Overwrite it?`,
      { modal: true },
      'Overwrite',
    );
    if (ok !== 'Overwrite') return;
    args.push('--force');
  }
  const cli = vscode.Uri.joinPath(host.context.extensionUri, 'dist', 'mfd.js').fsPath;
  // The CLI runs on the extension host's own Node (Electron's, run as Node on desktop); no shell quoting involved.
  const term = vscode.window.createTerminal({
    name: 'mfd record',
    shellPath: process.execPath,
    shellArgs: [cli, ...args],
    env: { ELECTRON_RUN_AS_NODE: '1' },
    iconPath: new vscode.ThemeIcon('record'),
  });
  term.show();
  log().info(`record: ${cli} ${args.join(' ')}`);
  void vscode.window
    .showInformationMessage(
      `Recording to ${basename(out.fsPath)}: migrate the source to tcp:${listen.trim()}. Stop with Ctrl+C in the terminal, then open the capture.`,
      'Open Capture',
    )
    .then((b) => {
      if (b) void vscode.commands.executeCommand('vscode.openWith', out, 'multifd.capture');
    });
}
