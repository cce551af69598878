/// <reference types="mocha" />
// Runs inside the extension host: the capture editor, its commands and its Problems entries.
import * as assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { MfdBuilder } from '../../../extension/core/capture/mfdWriter';
import { MultifdChannelEncoder, page } from '../../support/multifdEncoder';

const EXTENSION_ID = 'qemu-multifd-inspector.qemu-multifd-inspector';

async function waitFor<T>(f: () => T | undefined, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('capture editor', () => {
  let uri: vscode.Uri;

  before(async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)!.activate();
    const enc = new MultifdChannelEncoder({ version: '9.2', pageSize: 4096, channelId: 0 });
    await enc.packet({
      ramblock: 'pc.ram',
      normal: [{ offset: 0x1000, data: page(4096, 1) }],
      zero: [0x2000],
      packetNum: 1,
    });
    await enc.packet({ ramblock: 'pc.ram', normal: [{ offset: 0x3000, data: page(4096, 2) }], packetNum: 2 });
    const bytes = enc.bytes();
    // Cut the last payload short: a truncated-payload diagnostic on packet 1.
    const b = new MfdBuilder()
      .meta({ pageSize: 4096 })
      .open(1, { label: 'ch0' })
      .data(1, bytes.subarray(0, bytes.length - 100))
      .close(1);
    const dir = mkdtempSync(join(tmpdir(), 'mfd-exthost-'));
    const path = join(dir, 'truncated.mfd');
    writeFileSync(path, b.build());
    uri = vscode.Uri.file(path);
  });

  it('registers the Multifd commands', async () => {
    const all = await vscode.commands.getCommands(true);
    for (const c of [
      'multifd.replayCapture',
      'multifd.compareWithReference',
      'multifd.goToPacket',
      'multifd.findPage',
      'multifd.exportPacketList',
      'multifd.recordMigration',
      'multifd.sendCapture',
      'multifd.revealPacket',
    ])
      assert.ok(all.includes(c), c);
  });

  it('opens a .mfd in the custom editor by default', async () => {
    await vscode.commands.executeCommand('vscode.open', uri);
    const tab = await waitFor(() => {
      const t = vscode.window.tabGroups.activeTabGroup.activeTab;
      return t?.input instanceof vscode.TabInputCustom ? t : undefined;
    }, 'the custom editor tab');
    assert.equal((tab.input as vscode.TabInputCustom).viewType, 'multifd.capture');
  });

  it('puts diagnostics in the Problems panel with a link that reveals the packet', async () => {
    const ds = await waitFor(() => {
      const d = vscode.languages.getDiagnostics(uri);
      return d.length ? d : undefined;
    }, 'diagnostics on the capture');
    const truncated = ds.find((d) => typeof d.code === 'object' && d.code.value === 'multifd.truncated-payload');
    assert.ok(truncated, `codes: ${ds.map((d) => JSON.stringify(d.code)).join(', ')}`);
    assert.equal(truncated.range.start.line, 1, 'line = packet index');
    assert.match(truncated.message, /stream 1, packet 1/);
    const target = (truncated.code as { target: vscode.Uri }).target;
    assert.equal(target.scheme, 'command');
    assert.equal(target.path, 'multifd.revealPacket');
    const args = JSON.parse(decodeURIComponent(target.query));
    assert.deepEqual({ stream: args[0].stream, packet: args[0].packet }, { stream: 1, packet: 1 });
    await vscode.commands.executeCommand('multifd.revealPacket', args[0]);
    const t = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.ok(t?.input instanceof vscode.TabInputCustom);
  });
});
