import * as vscode from 'vscode';
import { CaptureEditorProvider } from './editor/captureEditorProvider';
import { Commands } from './editor/commands';
import { log } from './editor/log';
import { SECTION } from './editor/settings';
import { REVEAL_COMMAND } from './editor/problems';
import { showLivePacket } from './editor/livePacketView';
import { registerDebugging } from './debug/vscode';

export function activate(context: vscode.ExtensionContext): { provider: CaptureEditorProvider } {
  const output = log();
  context.subscriptions.push(output);
  const problems = vscode.languages.createDiagnosticCollection('multifd');
  context.subscriptions.push(problems);
  const commands = new Commands(context);
  const provider = CaptureEditorProvider.register(context, problems, {
    runCommand: (c, panel) => commands.runCommand(c, panel),
  });
  commands.register(provider);
  registerDebugging(context, {
    revealPacket: (uri, stream, packetIndex) =>
      void vscode.commands.executeCommand(REVEAL_COMMAND, { uri: uri.toString(), stream, packet: packetIndex }),
    showDecodedPacket: (title, decoded) =>
      void showLivePacket(title, decoded).catch((e) => output.error(`decoded packet view: ${(e as Error).message}`)),
  });
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.pageSize`))
        void vscode.window.showInformationMessage(
          'Multifd: the page size applies to captures opened from now on. Reopen open captures to re-index them.',
        );
    }),
  );
  output.info(
    `activated (VS Code ${vscode.version}, ${vscode.workspace.isTrusted ? 'trusted' : 'restricted'} workspace)`,
  );
  return { provider };
}

export function deactivate(): void {}
