import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryByteSource } from '../fileAccessor';
import { openCaptureFromSource } from '../openCapture';
import { analyzeCapture } from '../../analysis';
import { replayCapture } from '../../replay/replay';
import { pcapFile, tcpConnection } from '../../../../test/support/pcapWriter';
import { MultifdChannelEncoder, page } from '../../../../test/support/multifdEncoder';

/**
 * A multifd channel in a pcap with segments removed, end to end: the pcap reader keeps the holes, the index
 * resumes after them, and replay names what it could not rebuild while every page it did rebuild is right.
 */

const PS = 4096;
const HEADER = 1344;
const PAGES = 16;
const PACKET = HEADER + PAGES * PS;
const MSS = 1000;
const headerOf = (k: number) => 64 + HEADER + (k - 1) * PACKET;
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function channel(method: 'none' | 'zlib'): Promise<Uint8Array> {
  const e = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 0, method });
  e.sync(0);
  for (let k = 1; k <= 5; k++) {
    const normal = Array.from({ length: PAGES }, (_, i) => {
      const n = (k - 1) * PAGES + i;
      return { offset: n * PS, data: page(PS, n) };
    });
    await e.packet({ ramblock: 'pc.ram', normal, packetNum: k, zero: [(100 + k) * PS] });
  }
  e.sync(6);
  return e.bytes();
}

/** The pcap of one connection carrying `bytes`, without the data segments that start at the given stream offsets. */
async function holed(bytes: Uint8Array, dropAt: number[]) {
  const frames = tcpConnection({
    client: ['127.0.0.1', 50001],
    server: ['127.0.0.1', 4444],
    toServer: bytes,
    mss: MSS,
  }).filter((f) => !(f.payload && dropAt.includes(f.seq - 1001)));
  const capture = await openCaptureFromSource(
    new MemoryByteSource(new Uint8Array(pcapFile('ethernet', frames))),
    'x.pcap',
  );
  return analyzeCapture(capture);
}

async function replay(a: Awaited<ReturnType<typeof holed>>, workers: boolean | 'auto' = false) {
  const out = mkdtempSync(join(tmpdir(), 'mfd-holes-'));
  dirs.push(out);
  const r = await replayCapture(a, { outDir: join(out, 'replay'), workers });
  const mem = r.blocks.find((b) => b.name === 'pc.ram');
  assert.ok(mem);
  return { r, image: readFileSync(mem.file) };
}

describe('a pcap with segments removed from a multifd channel', () => {
  it('a lost header: the hole at its exact offset, decoding resumes at the next packet, replay names the lost packet_num range and fails', async () => {
    const b = await channel('none');
    // The segment that holds most of packet 3's header.
    const seg = Math.floor(headerOf(3) / MSS) * MSS + MSS;
    const a = await holed(b, [seg]);
    const hole = a.diagnostics.find((d) => d.code === 'pcap.hole');
    assert.ok(hole, JSON.stringify(a.diagnostics));
    assert.equal(hole.location.streamOffset, seg);
    assert.match(
      hole.message,
      /1000 byte\(s\) at stream offset \d+ are missing from the pcap \(not captured\); decoding resumes/,
    );
    const resync = a.diagnostics.find((d) => d.code === 'multifd.resync');
    assert.ok(resync);
    assert.match(resync.message, new RegExp(`decoding resumed at stream offset ${headerOf(4)}`));
    const m = a.multifd[0];
    assert.deepEqual(
      Array.from({ length: m.packets.length }, (_, r) => m.packets.packetNum.get(r)),
      [0, 1, 2, 4, 5, 6],
    );

    const { r, image } = await replay(a);
    const lost = r.diagnostics.filter((d) => d.code === 'replay.pages-lost');
    assert.ok(
      lost.some((d) =>
        /packets between packet_num 2 and 4 of channel 0 were lost .*\(1 packet_num value\(s\) in between are on no channel\); the pages they carried are unknown/.test(
          d.message,
        ),
      ),
      JSON.stringify(lost),
    );
    assert.ok(lost.every((d) => d.severity === 'error'));
    assert.deepEqual(r.lost?.packets, [
      { stream: 0, channel: 0, holeOffset: seg, afterPacketNum: 2, beforePacketNum: 4, missing: 1, syncRounds: 0 },
    ]);
    // Packets 1, 2, 4, 5 rebuilt; packet 3's pages (32…47) never written.
    for (let n = 0; n < 5 * PAGES; n++) {
      const got = image.subarray(n * PS, n * PS + PS);
      const expected = n >= 32 && n < 48 ? new Uint8Array(PS) : page(PS, n);
      assert.ok(Buffer.from(got).equals(Buffer.from(expected)), `page ${n}`);
    }
  });

  it('a payload segment: the header frames the packet, replay rebuilds the pages around the hole and names the ones in it', async () => {
    const b = await channel('none');
    const payload4 = headerOf(4) + HEADER;
    const seg = Math.ceil((payload4 + 5000) / MSS) * MSS;
    const a = await holed(b, [seg]);
    const resync = a.diagnostics.find((d) => d.code === 'multifd.resync');
    assert.ok(resync);
    assert.match(resync.message, /nothing skipped/);
    const { r, image } = await replay(a);
    // The pages of packet 4 (48…63) whose bytes the segment held.
    const hit: number[] = [];
    for (let i = 0; i < PAGES; i++) {
      const p = payload4 + i * PS;
      if (p < seg + MSS && seg < p + PS) hit.push((48 + i) * PS);
    }
    assert.ok(hit.length >= 1);
    assert.deepEqual(
      r.lost?.listed.map((l) => [l.block, l.offset, l.packet]),
      hit.map((o) => ['pc.ram', o, 4]),
    );
    const d = r.diagnostics.find((x) => x.code === 'replay.pages-lost');
    assert.ok(d);
    assert.match(d.message, new RegExp(`pc\\.ram 0x${hit[0].toString(16)}`));
    assert.equal(r.lost?.packets.length, 0);
    for (let n = 0; n < 5 * PAGES; n++) {
      const got = image.subarray(n * PS, n * PS + PS);
      const expected = hit.includes(n * PS) ? new Uint8Array(PS) : page(PS, n);
      assert.ok(Buffer.from(got).equals(Buffer.from(expected)), `page ${n}`);
    }
  });

  it('zlib: the channel stops at the hole (its codec stream is continuous), later data pages are named, zero pages still apply', async () => {
    const b = await channel('zlib');
    const a = await holed(b, [Math.floor(b.length / 2 / MSS) * MSS]);
    const { r, image } = await replay(a);
    const stopped = r.diagnostics.find((d) => d.code === 'replay.stopped');
    assert.ok(stopped, JSON.stringify(r.diagnostics.map((d) => d.code)));
    assert.match(stopped.message, /broke the channel's zlib stream, which QEMU keeps continuous per channel/);
    assert.ok((r.lost?.pages ?? 0) >= PAGES, `${r.lost?.pages} lost`);
    // Every page rebuilt is the page sent; every other data page is named.
    const named = new Set(r.lost?.listed.map((l) => l.offset));
    for (let n = 0; n < 5 * PAGES; n++) {
      const got = image.subarray(n * PS, n * PS + PS);
      if (named.has(n * PS)) continue;
      assert.ok(Buffer.from(got).equals(Buffer.from(page(PS, n))), `page ${n}`);
    }
    // The zero pages (101…105) of packets after the hole are applied from their headers.
    assert.equal(r.provenanceOf('pc.ram', 105 * PS).kind, 'zero');
    // Decoding in worker threads (when built) stops at the same place.
    const viaWorkers = await replay(a, 'auto');
    assert.equal(viaWorkers.r.lost?.pages, r.lost?.pages);
    assert.ok(viaWorkers.image.equals(image));
  });
});
