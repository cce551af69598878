// "Decode Multifd Packet at Address…" against a real debug adapter serving readMemory: our replay adapter,
// on a capture whose guest RAM holds MultiFDPacket_t images copied from a real QEMU 10.0 capture. (gdb's DAP
// mode needs gdb >= 14; Debian bookworm has 13.1, so the gdb variant is not run.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DebugSession } from '@vscode/debugadapter';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { analyzeCaptureFile } from '../../extension/core/analysis';
import { sourceBytes } from '../../extension/core/analysisTypes';
import { MfdBuilder } from '../../extension/core/capture/mfdWriter';
import { MainStreamEncoder } from '../support/mainchannel/mainStreamEncoder';
import { readPacket } from '../../extension/core/multifd/readPacket';
import { decodePacketFromMemory, LiveDecodeError, type DapRequest } from '../../extension/debug/decodeAtAddress';
import { MultifdChannelEncoder } from '../support/multifdEncoder';
import { DapHarness, NONE_10 } from './dapHarness';

const PS = 4096;

/** Packet 1 of stream 1 (nocomp, 5 normal + 123 zero pages) and a 9.2+ SYNC packet, from the real capture. */
async function realPackets() {
  const a = await analyzeCaptureFile(NONE_10);
  const m = a.multifd[0];
  const stream = sourceBytes(a, m.streamId);
  const data = await readPacket(stream, m.packets, 1, a.pageSize);
  let syncRow = 0;
  while (!m.packets.row(syncRow).sync) syncRow++;
  const sync = await readPacket(stream, m.packets, syncRow, a.pageSize);
  return { data, sync };
}

/** A capture whose pc.ram holds the packet images at 0x3000 (data packet) and 0x5000 (SYNC). */
async function captureHolding(file: string, images: Uint8Array[]): Promise<void> {
  const block = 'pc.ram';
  const main = new MainStreamEncoder().header().configuration({ machineType: 'pc-i440fx-10.0' });
  main.sectionStart(2, 'ram').memSize([{ name: block, usedLength: 16 * PS }]);
  main.flush();
  main.eos().footer(2);
  main.sectionEnd(2).eos().footer(2).eof();
  const ch = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 0, method: 'none' });
  ch.sync(0);
  const pages = images.map((img, i) => {
    const p = new Uint8Array(PS);
    p.set(img);
    return { offset: (3 + 2 * i) * PS, data: p };
  });
  await ch.packet({ ramblock: block, normal: pages, packetNum: 1 });
  ch.sync(2);
  writeFileSync(file, new MfdBuilder().meta({ pageSize: PS }).data(0, main.bytes()).data(1, ch.bytes()).build());
}

test('decode a MultiFDPacket_t from the memory of a debugged process (our replay adapter serves readMemory)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mfd-live-'));
  const h = new DapHarness();
  try {
    const { data, sync } = await realPackets();
    const file = join(dir, 'holds-packets.mfd');
    await captureHolding(file, [data.header, sync.header]);
    await h.start();
    const s = await h.launch({ capture: file, stopOnEntry: false });
    assert.equal(s.body.reason, 'end');
    const st = await h.dc.stackTraceRequest({ threadId: s.body.threadId });
    const request: DapRequest = async (command, args) => (await h.dc.customRequest(command, args)).body;

    // An expression the adapter evaluates to a memory reference, as `p->packet` in cppdbg.
    const d = await decodePacketFromMemory(request, {
      expression: 'pc.ram:0x3000',
      frameId: st.body.stackFrames[0].id,
      pageSize: PS,
    });
    assert.deepEqual(d.problems, []);
    assert.deepEqual(d.fields, data.fields);
    assert.deepEqual(d.normalOffsets, data.normalOffsets);
    assert.deepEqual(d.zeroOffsets, data.zeroOffsets);
    assert.equal(d.summary.packetNum, data.summary.packetNum);
    assert.equal(d.summary.ramblock, 'mem');
    assert.equal(d.address, '0x3000');

    const y = await decodePacketFromMemory(request, { expression: 'pc.ram:0x5000', pageSize: PS });
    assert.equal(y.summary.sync, true);
    assert.deepEqual([y.normalOffsets.length, y.zeroOffsets.length], [0, 0]);

    // Not a packet: the channel struct instead of p->packet, say.
    await assert.rejects(
      decodePacketFromMemory(request, { expression: 'pc.ram:0x9000' }),
      (e: Error) => e instanceof LiveDecodeError && /magic is 0x00000000, not 0x11223344/.test(e.message),
    );
    // Unreadable memory: the last 128 bytes of the block hold no full header.
    await assert.rejects(
      decodePacketFromMemory(request, { memoryReference: 'ramblock:pc.ram+0xff80' }),
      (e: Error) => e instanceof LiveDecodeError && /unreadable: 128 of 320 bytes read, 192 unreadable/.test(e.message),
    );
    // An adapter error (unknown memory reference).
    await assert.rejects(
      decodePacketFromMemory(request, { memoryReference: '0x7f0000001000' }),
      (e: Error) =>
        e instanceof LiveDecodeError &&
        /readMemory of 320 bytes at 0x7f0000001000\+0 failed: memory reference/.test(e.message),
    );
    // An expression the adapter cannot evaluate.
    await assert.rejects(
      decodePacketFromMemory(request, { expression: 'p->packet' }),
      (e: Error) => e instanceof LiveDecodeError && /could not evaluate "p->packet"/.test(e.message),
    );
  } finally {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an adapter without readMemory is reported clearly', async () => {
  // The debug adapter library's base session: it answers readMemory with an empty response.
  const server = createServer((socket) => {
    const s = new DebugSession();
    s.setRunAsServer(true);
    s.start(socket, socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dc = new DebugClient('node', 'unused', 'none');
  await dc.start((server.address() as AddressInfo).port);
  try {
    await dc.initializeRequest();
    const request: DapRequest = async (command, args) => (await dc.customRequest(command, args)).body;
    await assert.rejects(
      decodePacketFromMemory(request, { expression: '0x1000' }),
      (e: Error) => e instanceof LiveDecodeError && /does not support reading memory/.test(e.message),
    );
    await assert.rejects(
      decodePacketFromMemory(request, { expression: 'p->packet' }),
      (e: Error) => e instanceof LiveDecodeError && /not an address/.test(e.message),
    );
  } finally {
    await dc.disconnectRequest({}).catch(() => undefined);
    (dc as unknown as { stopAdapter(): void }).stopAdapter();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
