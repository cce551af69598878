import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigration, removeWorkDir, type MigrationOptions, type MigrationResult } from './migration';
import { qemuAvailable } from './qemuBinaries';
import { freePort } from './qemuProcess';
import { Tcpdump } from './tcpdump';
import { compareRamFiles } from './guestRam';
import { openCapture } from '../../extension/core/capture/openCapture';
import { pcapFrames, writeWithout } from '../support/pcapEdit';
import { inspectJson, MFD, replayJson } from '../support/mfdCli';
import { analyzeCaptureFile } from '../../extension/core/analysis';
import { headerReader, readPacketPages } from '../../extension/core/multifd/packetPages';
import { FLAG_SYNC } from '../../extension/core/multifd/constants';

/**
 * tcpdump, as users run it, during real migrations that `mfd record` records at the same time: the pcap's
 * reassembled streams must equal the recorded ones byte for byte, and replaying the pcap must rebuild the
 * destination's RAM. A copy of a pcap with one segment removed must report the hole at its exact offset;
 * with segments removed from a multifd channel, decoding resumes after each hole where the recorded capture
 * says the next packet starts, and replay names what it could not rebuild while the rest equals the RAM.
 */
type Case = Omit<MigrationOptions, 'out'> & { name: string };
const CASES: Case[] = [
  { name: '7.2 zlib, live guest', qemu: '7.2', channels: 2, compression: 'zlib', ramMiB: 32, live: true },
  {
    name: '10.0 none, live guest',
    qemu: '10.0',
    channels: 2,
    compression: 'none',
    zeroPageDetection: 'multifd',
    ramMiB: 32,
    live: true,
  },
  {
    name: '10.0 zstd zero-page-detection=legacy, live guest',
    qemu: '10.0',
    channels: 3,
    compression: 'zstd',
    zeroPageDetection: 'legacy',
    ramMiB: 32,
    live: true,
  },
  {
    name: '11.1 zlib, live guest',
    qemu: '11.1',
    channels: 2,
    compression: 'zlib',
    zeroPageDetection: 'multifd',
    ramMiB: 32,
    live: true,
  },
  { name: '11.1 zstd', qemu: '11.1', channels: 4, compression: 'zstd', ramMiB: 32, live: false },
];

before(() => {
  assert.ok(existsSync(MFD), `${MFD} is missing: run npm run build`);
  assert.equal(spawnSync('tcpdump', ['--version']).status, 0, 'tcpdump is needed: run bash scripts/setup.sh');
  for (const v of ['7.2', '11.1'] as const)
    assert.ok(qemuAvailable(v), `QEMU ${v} is needed: run bash scripts/setup.sh`);
});

for (const c of CASES) {
  describe(`tcpdump during a real migration: QEMU ${c.name}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfd-pcap-'));
    const capture = join(dir, 'capture.mfd');
    const pcap = join(dir, 'migration.pcap');
    let result: MigrationResult;
    let port: number;
    let tcpdumpSaid = '';

    before(async () => {
      port = await freePort();
      const dump = await Tcpdump.start(pcap, port);
      try {
        // The recorder forwards to the destination's port, the one tcpdump watches: it sees what QEMU's destination read.
        result = await runMigration({ ...c, out: capture, incomingPort: port, workDir: join(dir, 'vm') });
      } finally {
        tcpdumpSaid = await dump.stop();
      }
    });
    after(async () => {
      if (result) await removeWorkDir(result);
      rmSync(dir, { recursive: true, force: true });
    });

    test('the pcap holds the recorded streams byte for byte', async () => {
      assert.equal(result.status, 'completed', result.error);
      assert.equal(Tcpdump.dropped(tcpdumpSaid), 0, tcpdumpSaid);
      const fromPcap = await openCapture(pcap);
      const recorded = await openCapture(capture);
      try {
        assert.equal(fromPcap.format, 'pcap');
        assert.deepEqual(
          fromPcap.diagnostics.filter((d) => d.severity !== 'info'),
          [],
        );
        assert.equal(fromPcap.streams.length, recorded.streams.length);
        for (const s of fromPcap.streams) {
          const r = recorded.streams[s.id];
          for (const dir of ['toDestination', 'toSource'] as const) {
            assert.equal(s[dir].length, r[dir].length, `stream ${s.id} ${dir} length`);
            const [a, b] = await Promise.all([s[dir].read(0, s[dir].length), r[dir].read(0, r[dir].length)]);
            assert.ok(Buffer.from(a).equals(Buffer.from(b)), `stream ${s.id} ${dir}: bytes differ`);
          }
        }
      } finally {
        await fromPcap.source.close();
        await recorded.source.close();
      }
    });

    test('mfd replay of the pcap rebuilds the destination RAM byte for byte', async () => {
      const out = join(dir, 'replay');
      const r = replayJson([pcap, '--out', out, '--reference', `mem=${result.destinationRam}`]);
      assert.equal(r.code, 0, r.stderr + JSON.stringify(r.json?.diagnostics?.filter((d) => d.severity !== 'info')));
      const mem = r.json?.blocks.find((b) => b.name === 'mem');
      assert.ok(mem, r.stderr);
      assert.deepEqual(await compareRamFiles(mem.file, result.destinationRam), {
        equal: true,
        sizeA: mem.size,
        sizeB: mem.size,
        differingPages: 0,
      });
    });

    test('a segment removed from the pcap is a hole at its exact stream offset, and an error', async () => {
      const { file, frames } = pcapFrames(pcap);
      // The second connection to the destination's port is a multifd channel; drop one of its data segments mid-stream.
      const conns = [...new Set(frames.filter((f) => f.dport === port).map((f) => f.sport))];
      const channel = frames.filter((f) => f.sport === conns[1] && f.payloadLength > 0);
      assert.ok(channel.length >= 4, `${channel.length} data segments on the channel`);
      // A segment sent once (not one a zero-window probe or a retransmission also carries).
      const once = channel.filter((f) => channel.filter((g) => g.seq === f.seq).length === 1);
      const victim = once[Math.floor(once.length / 2)];
      // Its stream offset, from TCP itself: sequence number relative to the SYN's, plus one.
      const syn = frames.find((f) => f.sport === conns[1] && (f.flags & 0x12) === 0x02);
      assert.ok(syn, 'the channel opened during the capture');
      const expected = (victim.seq - syn.seq - 1) >>> 0;
      const holed = join(dir, 'holed.pcap');
      writeWithout(file, [victim], holed);
      const r = inspectJson([holed]);
      assert.equal(r.code, 1, r.stderr);
      const hole = r.json?.diagnostics.find((d) => d.code === 'pcap.hole');
      assert.ok(hole, JSON.stringify(r.json?.diagnostics));
      assert.equal(hole.location.stream, 1);
      assert.equal(hole.location.streamOffset, expected);
      // The hole is the victim's bytes, less any that another copy (a retransmission cut differently) still holds.
      const m = new RegExp(`(\\d+) byte\\(s\\) at stream offset ${expected} are missing`).exec(hole.message);
      assert.ok(m, hole.message);
      assert.ok(
        Number(m[1]) > 0 && Number(m[1]) <= victim.payloadLength,
        `${m[1]} of the segment's ${victim.payloadLength} bytes missing`,
      );
    });

    test('segments removed from a multifd channel: holes at the recorded offsets, decoding resumes, replay names what is lost', async () => {
      const { file, frames } = pcapFrames(pcap);
      const conns = [...new Set(frames.filter((f) => f.dport === port).map((f) => f.sport))];
      const syn = frames.find((f) => f.sport === conns[1] && (f.flags & 0x12) === 0x02);
      assert.ok(syn, 'the channel opened during the capture');
      const offsetOf = (f: (typeof frames)[number]) => (f.seq - syn.seq - 1) >>> 0;
      const channel = frames.filter((f) => f.sport === conns[1] && f.payloadLength > 0);
      const once = channel.filter((f) => channel.filter((g) => g.seq === f.seq).length === 1);
      // Where packets start and what they carry, from the capture `mfd record` made of the same migration.
      const recorded = await analyzeCaptureFile(capture);
      try {
        const m = recorded.multifd.find((x) => x.streamId === 1);
        assert.ok(m, 'stream 1 is a multifd channel');
        const t = m.packets;
        const rows = Array.from({ length: t.length }, (_, r) => r);
        const head = (r: number) => t.headerOffset.get(r);
        const payloadEnd = (r: number) => head(r) + t.headerLength.get(r) + t.payloadLength.get(r);
        const hasData = (r: number) => !t.isDeviceState(r) && t.normalPages.get(r) > 0;
        // Whether [a, b) overlaps row r's header.
        const inside = (a: number, b: number, r: number) => a < head(r) + t.headerLength.get(r) && b > head(r);
        // Victim 1: a segment wholly inside one packet's data: its header survives.
        const inPayload = once.filter((f) => {
          const a = offsetOf(f);
          return rows.some(
            (r) => hasData(r) && a > head(r) + t.headerLength.get(r) && a + f.payloadLength < payloadEnd(r),
          );
        });
        // Victim 2: a segment holding the header of a data packet (not a SYNC, so epochs stay right), away from
        // victim 1's packet so that each hole is resumed from on its own; before or after victim 1, since a small
        // channel may have few segments. (Compressed payloads can all be shorter than a segment: then only victim 2.)
        const first = inPayload[Math.floor(inPayload.length / 3)] as (typeof frames)[number] | undefined;
        if (c.compression === 'none') assert.ok(first, `${inPayload.length} segments inside payloads`);
        const firstRow = first && rows.find((r) => head(r) < offsetOf(first) && offsetOf(first) < payloadEnd(r));
        const overHeader = once.filter((f) => {
          const a = offsetOf(f);
          const hit = rows.filter((r) => inside(a, a + f.payloadLength, r));
          const apart =
            firstRow === undefined ||
            (!hit.includes(firstRow) &&
              !hit.includes(firstRow + 1) &&
              (a + f.payloadLength <= head(firstRow) || a >= payloadEnd(firstRow)));
          return apart && hit.length > 0 && hit.every((r) => hasData(r) && (t.flags.get(r) & FLAG_SYNC) === 0);
        });
        const second = overHeader[Math.floor(overHeader.length / 2)];
        assert.ok(
          second,
          `${overHeader.length} segments over a data packet's header (${channel.length} segments, ${once.length} sent once, ${inPayload.length} inside payloads, ${t.length} packets; overlapping a header: ${once.filter((f) => rows.some((r) => inside(offsetOf(f), offsetOf(f) + f.payloadLength, r))).length})`,
        );
        const victims = first ? [first, second] : [second];
        const holes = victims.map((f) => ({ at: offsetOf(f), length: f.payloadLength }));
        const last = holes[holes.length - 1];
        const holed = join(dir, 'holed-multifd.pcap');
        writeWithout(file, victims, holed);

        const inspect = inspectJson([holed]);
        assert.equal(inspect.code, 1, inspect.stderr);
        const diags = inspect.json?.diagnostics ?? [];
        for (const h of holes) {
          const d = diags.find((x) => x.code === 'pcap.hole' && x.location.streamOffset === h.at);
          assert.ok(d, `a pcap.hole at ${h.at}: ${JSON.stringify(diags.filter((x) => x.severity !== 'info'))}`);
          assert.equal(d.location.stream, 1);
          assert.match(d.message, new RegExp(`${h.length} byte\\(s\\) at stream offset ${h.at} are missing`));
        }
        const resyncs = diags.filter((x) => x.code === 'multifd.resync' && x.location.stream === 1);
        // Hole 1: its packet's header frames it, decoding goes on at the packet's end.
        const r1 = rows.find((r) => head(r) < holes[0].at && holes[0].at < payloadEnd(r))!;
        if (first)
          assert.ok(
            resyncs.some(
              (d) =>
                d.location.streamOffset === holes[0].at &&
                d.message.includes(`resumed at its end, stream offset ${payloadEnd(r1)}`),
            ),
            JSON.stringify(resyncs),
          );
        // Hole 2: at the first packet the recording has after the hole.
        const lostRows = rows.filter((r) => inside(last.at, last.at + last.length, r));
        const next = rows.find((r) => head(r) >= last.at + last.length)!;
        assert.ok(
          resyncs.some(
            (d) =>
              d.location.streamOffset === last.at &&
              d.message.includes(`decoding resumed at stream offset ${head(next)}`),
          ),
          JSON.stringify(resyncs),
        );
        const s1 = inspect.json?.streams.find((x) => x.id === 1);
        assert.equal(s1?.packets, t.length - lostRows.length, 'every packet but those whose header was in a hole');
        for (const h of holes)
          assert.ok(
            s1?.holes?.some((x) => x.streamOffset === h.at && x.length === h.length && x.resumedAt !== undefined),
            JSON.stringify(s1?.holes),
          );

        const out = join(dir, 'replay-holed');
        const r = replayJson([holed, '--out', out]);
        assert.equal(r.code, 1, r.stderr);
        const lost = r.json?.diagnostics.filter((d) => d.code === 'replay.pages-lost') ?? [];
        assert.ok(lost.length > 0 && lost.every((d) => d.severity === 'error'), JSON.stringify(lost));
        const before = t.packetNum.get(lostRows[0] - 1);
        const after = t.packetNum.get(lostRows[lostRows.length - 1] + 1);
        assert.ok(
          r.json?.lost?.packets.some(
            (p) => p.stream === 1 && p.afterPacketNum === before && p.beforePacketNum === after,
          ),
          JSON.stringify(r.json?.lost?.packets),
        );
        assert.ok(
          lost.some((d) => d.message.includes(`packets between packet_num ${before} and ${after}`)),
          JSON.stringify(lost),
        );
        if (c.compression !== 'none') {
          const stopped = r.json?.diagnostics.find((d) => d.code === 'replay.stopped' && d.location.stream === 1);
          assert.ok(stopped, JSON.stringify(r.json?.diagnostics.filter((d) => d.severity === 'error')));
          assert.match(stopped.message, new RegExp(`broke the channel's ${c.compression} stream`));
          return;
        }
        // nocomp: the pages in the first hole are named by offset; every page not lost equals the destination's.
        const ps = recorded.pageSize;
        const named = new Set((r.json?.lost?.listed ?? []).filter((l) => l.block === 'mem').map((l) => l.offset));
        const { normalOffsets } = await readPacketPages(
          headerReader(recorded.streams[1].stream.toDestination),
          t,
          r1,
          ps,
        );
        const inHole1 = normalOffsets.filter((_, k) => {
          const a = head(r1) + t.headerLength.get(r1) + k * ps;
          return a < holes[0].at + holes[0].length && holes[0].at < a + ps;
        });
        assert.ok(inHole1.length > 0);
        // Named: pages of the packets whose data a hole took (no later write replaced them), nothing else.
        const damaged = new Set(inHole1);
        const prev = await readPacketPages(
          headerReader(recorded.streams[1].stream.toDestination),
          t,
          lostRows[0] - 1,
          ps,
        );
        for (const o of prev.normalOffsets) damaged.add(o);
        assert.ok(named.size > 0, 'some page of the first hole is named');
        for (const o of named) assert.ok(damaged.has(o), `0x${o.toString(16)} named but not in a damaged packet`);
        const excluded = new Set(named);
        for (const lr of lostRows) {
          const p = await readPacketPages(headerReader(recorded.streams[1].stream.toDestination), t, lr, ps);
          for (const o of [...p.normalOffsets, ...p.zeroOffsets]) excluded.add(o);
        }
        for (const o of inHole1) excluded.add(o);
        const mem = r.json?.blocks.find((b) => b.name === 'mem');
        assert.ok(mem, r.stderr);
        const [got, want] = [readFileSync(mem.file), readFileSync(result.destinationRam)];
        assert.equal(got.length, want.length);
        let compared = 0;
        for (let o = 0; o < got.length; o += ps) {
          if (excluded.has(o)) continue;
          compared++;
          assert.ok(got.subarray(o, o + ps).equals(want.subarray(o, o + ps)), `page 0x${o.toString(16)} differs`);
        }
        assert.ok(compared > 0 && excluded.size > 0);
      } finally {
        await recorded.capture.source.close();
      }
    });
  });
}
