import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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

/**
 * tcpdump, as users run it, during real migrations that `mfd record` records at the same time: the pcap's
 * reassembled streams must equal the recorded ones byte for byte, and replaying the pcap must rebuild the
 * destination's RAM. A copy of a pcap with one segment removed must report the hole at its exact offset.
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
  });
}
