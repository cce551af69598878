import * as vscode from 'vscode';
import type { CaptureDocument } from './captureDocument';
import type { CommandHost } from './commandHost';
import type { MigrationSummary } from './migrationChoice';

export const CHOOSE_MIGRATION_COMMAND = 'multifd.chooseMigration';

interface PcapMeta {
  migrations?: MigrationSummary[];
  chosen?: { index: number };
}

/** Multifd: Choose Migration in Capture…: another migration of the same tcpdump file, remembered and reopened. */
export async function chooseMigration(host: CommandHost, doc: CaptureDocument): Promise<void> {
  const name = doc.uri.path.split('/').pop() ?? doc.uri.fsPath;
  const model = await doc.model.catch(() => undefined);
  if (!model) {
    // Indexing failed (e.g. the first quick pick was dismissed): forget any choice and ask again.
    await host.provider.choices.remember(doc.uri, undefined);
    await host.provider.reopen(doc);
    return;
  }
  const pcap = model.analysis.capture.meta.pcap as PcapMeta | undefined;
  const migrations = pcap?.migrations ?? [];
  if (migrations.length < 2) {
    void vscode.window.showInformationMessage(
      pcap
        ? `${name} holds ${migrations.length === 1 ? 'one migration' : 'no migration'}: there is nothing to choose.`
        : `${name} is not a tcpdump capture: it holds one migration.`,
    );
    return;
  }
  const current = pcap?.chosen?.index;
  const index = await host.provider.choices.ask(doc.uri, migrations, current);
  if (index === undefined || index === current) return;
  await host.provider.choices.remember(doc.uri, { migration: index });
  await host.provider.reopen(doc);
}
