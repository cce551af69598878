import * as vscode from 'vscode';
import type { PacketRef } from '../shared/protocol';
import type { CaptureDocument } from './captureDocument';
import type { CaptureEditorProvider } from './captureEditorProvider';

/** What the editor's commands work with: the extension's context and the capture editors. */
export interface CommandHost {
  readonly context: vscode.ExtensionContext;
  readonly provider: CaptureEditorProvider;
}

export const hex = (n: number) => '0x' + n.toString(16);

/** Scrolls the document's editor to a packet (clearing a filter that hides it). */
export function revealPacket(host: CommandHost, doc: CaptureDocument, packet: PacketRef): void {
  host.provider.postTo(doc, { type: 'reveal', packet, clearFilterIfHidden: true });
}

/** Commands that write files run only in a trusted workspace; otherwise this says so and offers the trust settings. */
export function requireTrust(what: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window
    .showWarningMessage(`${what} writes files and is available only in a trusted workspace.`, 'Manage Workspace Trust')
    .then((b) => {
      if (b) void vscode.commands.executeCommand('workbench.trust.manage');
    });
  return false;
}
