import * as vscode from 'vscode';
import { errorMessage } from '../../core/util/errorMessage';
import {
  decodePacketFromMemory,
  describeLivePacket,
  LiveDecodeError,
  type LiveDecodedPacket,
} from '../decodeAtAddress';
import {
  MultifdReplaySession,
  REPLAY_DEBUG_TYPE,
  REVEAL_EVENT,
  type ReplayLaunchArguments,
  type RevealEventBody,
} from '../replaySession';

/** What the debugging glue needs from the capture editor. */
export interface DebuggingHooks {
  /** Reveal and select a packet in the open `.mfd` editor of that capture. */
  revealPacket(captureUri: vscode.Uri, stream: number, packetIndex: number): void;
  /** Show a packet decoded from a live session in the editor's packet-details view. */
  showDecodedPacket(title: string, decoded: LiveDecodedPacket): void;
}

export const DEBUG_REPLAY_COMMAND = 'multifd.debugReplay';
export const DECODE_AT_ADDRESS_COMMAND = 'multifd.decodePacketAtAddress';

export function initialConfiguration(capture = '${file}'): vscode.DebugConfiguration {
  return { type: REPLAY_DEBUG_TYPE, request: 'launch', name: 'Replay multifd capture', capture, stopOnEntry: true };
}

class ReplayConfigurationProvider implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return [initialConfiguration()];
  }

  resolveDebugConfiguration(
    folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.DebugConfiguration | undefined {
    // F5 with no launch.json: replay the capture open in the active editor.
    if (!config.type && !config.request && !config.name) {
      const uri = activeCaptureUri();
      if (!uri) return undefined;
      return { ...initialConfiguration(uri.fsPath), cwd: folder?.uri.fsPath };
    }
    if (!config.capture) {
      const uri = activeCaptureUri();
      if (!uri) {
        void vscode.window.showErrorMessage(
          'Multifd replay: set "capture" in the launch configuration to the .mfd file to replay.',
        );
        return undefined;
      }
      config.capture = uri.fsPath;
    }
    config.cwd ??= folder?.uri.fsPath;
    return config;
  }
}

function activeCaptureUri(): vscode.Uri | undefined {
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
  const input = tab?.input;
  if (input instanceof vscode.TabInputCustom && input.uri.path.endsWith('.mfd')) return input.uri;
  const doc = vscode.window.activeTextEditor?.document.uri;
  return doc?.path.endsWith('.mfd') ? doc : undefined;
}

/**
 * Registers the `multifd-replay` debugger (inline adapter, configuration provider), the command that starts
 * it from a `.mfd` editor, the editor-follows-session wiring, and "Decode Multifd Packet at Address…".
 */
export function registerDebugging(context: vscode.ExtensionContext, hooks: DebuggingHooks): void {
  const provider = new ReplayConfigurationProvider();
  context.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory(REPLAY_DEBUG_TYPE, {
      createDebugAdapterDescriptor: () => new vscode.DebugAdapterInlineImplementation(new MultifdReplaySession()),
    }),
    vscode.debug.registerDebugConfigurationProvider(REPLAY_DEBUG_TYPE, provider),
    vscode.debug.registerDebugConfigurationProvider(
      REPLAY_DEBUG_TYPE,
      { provideDebugConfigurations: () => [initialConfiguration()] },
      vscode.DebugConfigurationProviderTriggerKind.Dynamic,
    ),
    vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
      if (e.session.type !== REPLAY_DEBUG_TYPE || e.event !== REVEAL_EVENT) return;
      const b = e.body as RevealEventBody;
      hooks.revealPacket(vscode.Uri.file(b.capture), b.stream, b.packetIndex);
    }),
    vscode.commands.registerCommand(DEBUG_REPLAY_COMMAND, async (uri?: vscode.Uri) => {
      const target = uri instanceof vscode.Uri ? uri : activeCaptureUri();
      if (!target) {
        void vscode.window.showErrorMessage('Multifd: open a .mfd capture to debug its replay.');
        return;
      }
      const folder = vscode.workspace.getWorkspaceFolder(target);
      const config: vscode.DebugConfiguration & Partial<ReplayLaunchArguments> = {
        ...initialConfiguration(target.fsPath),
        name: `Replay ${target.path.split('/').pop()}`,
        cwd: folder?.uri.fsPath,
      };
      await vscode.debug.startDebugging(folder, config);
    }),
    vscode.commands.registerCommand(DECODE_AT_ADDRESS_COMMAND, () => decodeAtAddressCommand(hooks)),
  );
}

async function decodeAtAddressCommand(hooks: DebuggingHooks): Promise<void> {
  const session = vscode.debug.activeDebugSession;
  if (!session) {
    void vscode.window.showErrorMessage(
      'Decode Multifd Packet at Address: no active debug session. Stop QEMU in a multifd thread (for example in multifd_recv_unfill_packet) first.',
    );
    return;
  }
  const expression = await vscode.window.showInputBox({
    title: 'Decode Multifd Packet at Address',
    prompt: `An expression or address in ${session.name}: a MultiFDPacket_t pointer such as p->packet`,
    value: 'p->packet',
  });
  if (!expression) return;
  const item = vscode.debug.activeStackItem;
  const frameId = item instanceof vscode.DebugStackFrame && item.session.id === session.id ? item.frameId : undefined;
  const pageSize = vscode.workspace.getConfiguration('multifdInspector').get<number>('pageSize') || undefined;
  try {
    const decoded = await decodePacketFromMemory(
      (command, args) => Promise.resolve(session.customRequest(command, args)),
      { expression, frameId, pageSize },
    );
    hooks.showDecodedPacket(describeLivePacket(decoded), decoded);
    if (decoded.problems.length)
      void vscode.window.showWarningMessage(`Decoded packet: ${decoded.problems.join('; ')}`);
  } catch (e) {
    const msg = e instanceof LiveDecodeError ? e.message : `unexpected error: ${errorMessage(e)}`;
    void vscode.window.showErrorMessage(
      `Decode Multifd Packet at Address (${session.type} session "${session.name}"): ${msg}`,
    );
  }
}
