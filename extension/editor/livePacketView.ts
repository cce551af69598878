import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { MfdBuilder } from '../core/capture/mfdWriter';
import { MULTIFD_STREAM_MAGIC } from '../core/layout/streamMagic';
import { MULTIFD_PACKET_SIZE, MULTIFD_VERSION } from '../core/multifd/constants';
import { MULTIFD_INIT_LAYOUT } from '../core/multifd/layouts';
import { INIT_FIELDS, offsetEntriesIn } from '../core/multifd/packetHeaders';
import type { LiveDecodedPacket } from '../core/multifd/readPacket';
import { CAPTURE_VIEW_TYPE } from './captureEditorProvider';

let counter = 0;

/**
 * Shows a packet read out of a debugged QEMU in the same editor as captured packets: the header bytes become a
 * one-packet capture (a MultiFDInit_t stand-in, then the header exactly as read), so the details tree, the
 * zero-page highlighting and byte highlighting all work unchanged. The pages themselves live elsewhere in
 * QEMU's memory (p->pages, the iovs), so a packet with normal pages shows its payload as absent.
 */
export async function showLivePacket(title: string, decoded: LiveDecodedPacket): Promise<void> {
  const header = decoded.header;
  // The page size that makes this header's offset[] exactly page_count entries long.
  const pageCount = Math.max(1, offsetEntriesIn(header.length));
  const init = new Uint8Array(MULTIFD_INIT_LAYOUT.fixedSize);
  init.set(MULTIFD_STREAM_MAGIC.bytes, INIT_FIELDS.magic.offset);
  new DataView(init.buffer).setUint32(INIT_FIELDS.version.offset, MULTIFD_VERSION);
  const file = new MfdBuilder()
    .meta({
      tool: 'qemu-multifd-inspector (decoded from debuggee memory)',
      created: new Date().toISOString(),
      pageSize: MULTIFD_PACKET_SIZE / pageCount,
      source: `${title}${decoded.address ? ` at ${decoded.address}` : ''}`,
      note: 'Only the MultiFDPacket_t was read; the handshake is a stand-in and the payload was not in the packet.',
      problems: decoded.problems,
    })
    .open(0, { label: `debuggee memory ${decoded.address ?? decoded.memoryReference}` })
    .data(0, init)
    .data(0, header)
    .build();
  const dir = join(tmpdir(), 'mfd-live-packets');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `packet-${process.pid}-${++counter}.mfd`);
  writeFileSync(path, file, { flag: 'wx' });
  await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(path), CAPTURE_VIEW_TYPE);
  if (decoded.problems.length)
    void vscode.window.showWarningMessage(`Multifd: ${title}: ${decoded.problems.join('; ')}`);
}
