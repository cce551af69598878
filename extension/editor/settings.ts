import * as vscode from 'vscode';

export const SECTION = 'multifdInspector';

export interface Settings {
  /** Target page size override; undefined = infer from the capture. */
  pageSize?: number;
  /** Default folder offered by Replay Capture…; may use ${workspaceFolder}. */
  replayFolder?: string;
}

export function readSettings(scope?: vscode.Uri): Settings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  const ps = c.get<number>('pageSize', 0);
  const folder = c.get<string>('replay.defaultFolder', '').trim();
  return {
    pageSize: Number.isInteger(ps) && ps >= 512 && (ps & (ps - 1)) === 0 ? ps : undefined,
    replayFolder: folder ? expandFolder(folder, scope) : undefined,
  };
}

function expandFolder(folder: string, scope?: vscode.Uri): string {
  const ws = (scope && vscode.workspace.getWorkspaceFolder(scope)) ?? vscode.workspace.workspaceFolders?.[0];
  return folder.replace(/\$\{workspaceFolder\}/g, ws?.uri.fsPath ?? '');
}
