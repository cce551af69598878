import * as vscode from 'vscode';
import type { PcapChoiceNeeded, PcapOpenOptions } from '../core/capture/pcap/pcapCapture';

export type MigrationSummary = PcapChoiceNeeded['migrations'][number];

const STATE_KEY = 'multifd.pcapMigrations';

/**
 * Which migration of a tcpdump capture the editor shows, per file: asked with a quick pick when the file holds
 * several, remembered in the workspace state so that reopening the file shows the same one.
 */
export class MigrationChoices {
  constructor(private readonly state: vscode.Memento) {}

  remembered(uri: vscode.Uri): PcapOpenOptions | undefined {
    const all = this.state.get<Record<string, PcapOpenOptions>>(STATE_KEY, {});
    return all[uri.toString()];
  }

  async remember(uri: vscode.Uri, options: PcapOpenOptions | undefined): Promise<void> {
    const all = { ...this.state.get<Record<string, PcapOpenOptions>>(STATE_KEY, {}) };
    if (options) all[uri.toString()] = options;
    else delete all[uri.toString()];
    await this.state.update(STATE_KEY, all);
  }

  /** The quick pick: one item per migration; the 1-based index of the one chosen, undefined when dismissed. */
  async ask(uri: vscode.Uri, migrations: MigrationSummary[], current?: number): Promise<number | undefined> {
    const items = migrations.map((m) => ({
      label: `Migration ${m.index}: to ${m.server}`,
      description: `${m.index === current ? '(shown) ' : ''}started ${m.startTime}`,
      detail: `${m.connections} connection${m.connections === 1 ? '' : 's'}, ${m.bytes.toLocaleString('en-US')} bytes to the destination`,
      index: m.index,
    }));
    const name = uri.path.split('/').pop() ?? uri.fsPath;
    const picked = await vscode.window.showQuickPick(items, {
      title: `${name} holds ${migrations.length} migrations`,
      placeHolder: 'Choose the migration to inspect (destination endpoint, start time, connections, bytes)',
      ignoreFocusOut: true,
    });
    return picked?.index;
  }
}
