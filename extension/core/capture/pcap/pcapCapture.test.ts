import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryByteSource } from '../fileAccessor';
import { openCaptureFromSource } from '../openCapture';
import { PcapChoiceNeeded } from './pcapCapture';
import { pcapFile, pcapngFile, tcpConnection, type LinkType, type TcpFrame } from '../../../../test/support/pcapWriter';
import { sampleStream } from '../../../../test/support/mainchannel/testStreams';

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** A stream that starts like a main channel, so the pcap reader takes its connection for a migration. */
function mainLike(n: number, seed = 1): Uint8Array {
  const b = bytes(n, seed);
  b.set([0x51, 0x45, 0x56, 0x4d], 0);
  return b;
}

function multifdLike(n: number, seed = 2): Uint8Array {
  const b = bytes(n, seed);
  b.set([0x11, 0x22, 0x33, 0x44], 0);
  return b;
}

async function open(file: Buffer, options = {}) {
  return openCaptureFromSource(new MemoryByteSource(new Uint8Array(file)), 'x.pcap', { pcap: options });
}

async function all(s: { read(a: number, b: number): Promise<Uint8Array>; length: number }): Promise<Uint8Array> {
  return s.read(0, s.length);
}

describe('pcap reader', () => {
  for (const link of ['ethernet', 'sll', 'sll2', 'null', 'raw'] as LinkType[]) {
    for (const v6 of [false, true]) {
      it(`reassembles both directions over ${link}, ${v6 ? 'IPv6' : 'IPv4'}`, async () => {
        const toServer = mainLike(5000);
        const toClient = bytes(700, 3);
        const [c, s] = v6 ? ['fd00::1', 'fd00::2'] : ['10.0.0.1', '10.0.0.2'];
        const frames = tcpConnection({ client: [c, 40000], server: [s, 4444], toServer, toClient, mss: 999 });
        const cap = await open(pcapFile(link, frames));
        assert.equal(cap.format, 'pcap');
        assert.equal(cap.streams.length, 1);
        assert.deepEqual(await all(cap.streams[0].toDestination), toServer);
        assert.deepEqual(await all(cap.streams[0].toSource), toClient);
        assert.equal(cap.streams[0].closeReason, 'eof');
        assert.equal(cap.streams[0].open?.server, v6 ? `[${s}]:4444` : `${s}:4444`);
        assert.deepEqual(cap.diagnostics, []);
      });
    }
  }

  it('reads pcapng with nanosecond timestamps, the same bytes as pcap', async () => {
    const toServer = mainLike(3000);
    const frames = tcpConnection({
      client: ['127.0.0.1', 50000],
      server: ['127.0.0.1', 4444],
      toServer,
      startUs: 1_700_000_000_123_456,
    });
    const cap = await open(pcapngFile('ethernet', frames));
    assert.equal(cap.format, 'pcapng');
    assert.deepEqual(await all(cap.streams[0].toDestination), toServer);
    assert.equal(cap.meta.captureStart, new Date(1_700_000_000_123.466).toISOString());
  });

  it('puts out-of-order segments in place, keeps the first copy of a retransmission, and unwraps sequence numbers past 2^32', async () => {
    const toServer = mainLike(8000);
    const frames = tcpConnection({
      client: ['127.0.0.1', 50000],
      server: ['127.0.0.1', 4444],
      toServer,
      isn: [2 ** 32 - 3000, 7],
      mss: 1000,
    });
    const data = frames.slice(3, 11);
    // Swap two segments, and send one again.
    [data[2], data[5]] = [data[5], data[2]];
    const reordered = [...frames.slice(0, 3), ...data, { ...data[4] }, ...frames.slice(11)];
    const cap = await open(pcapFile('ethernet', reordered));
    assert.deepEqual(await all(cap.streams[0].toDestination), toServer);
    assert.deepEqual(cap.diagnostics, []);
  });

  it('reports a retransmission whose bytes differ from the first copy, at its stream offset', async () => {
    const toServer = mainLike(4000);
    const frames = tcpConnection({ client: ['127.0.0.1', 50000], server: ['127.0.0.1', 4444], toServer, mss: 1000 });
    const liar: TcpFrame = { ...frames[4], payload: frames[4].payload!.slice() };
    liar.payload![10] ^= 0xff;
    const cap = await open(pcapFile('ethernet', [...frames.slice(0, 6), liar, ...frames.slice(6)]));
    const d = cap.diagnostics.find((x) => x.code === 'pcap.retransmission-differs');
    assert.ok(d, JSON.stringify(cap.diagnostics));
    assert.equal(d.location.streamOffset, 1000 + 10);
    assert.deepEqual(await all(cap.streams[0].toDestination), toServer, 'the first copy is kept');
  });

  it('a dropped segment is a hole at its exact stream offset: the stream ends there, with an error', async () => {
    const toServer = mainLike(5000);
    const frames = tcpConnection({ client: ['127.0.0.1', 50000], server: ['127.0.0.1', 4444], toServer, mss: 1000 });
    const cap = await open(
      pcapFile(
        'ethernet',
        frames.filter((_, i) => i !== 5),
      ),
    );
    const d = cap.diagnostics.find((x) => x.code === 'pcap.hole');
    assert.ok(d);
    assert.equal(d.severity, 'error');
    assert.equal(d.location.streamOffset, 2000);
    assert.match(
      d.message,
      /1000 byte\(s\) at stream offset 2000 are missing from the pcap \(not captured\); 3000 byte\(s\) from there on are not decoded/,
    );
    assert.equal(cap.streams[0].toDestination.length, 2000);
    assert.deepEqual(await all(cap.streams[0].toDestination), toServer.subarray(0, 2000));
  });

  it('a frame cut by the snaplen is a hole where the cut starts', async () => {
    const toServer = mainLike(3000);
    const frames = tcpConnection({ client: ['127.0.0.1', 50000], server: ['127.0.0.1', 4444], toServer, mss: 1000 });
    frames[4] = { ...frames[4], snap: 14 + 20 + 20 + 300 };
    const cap = await open(pcapFile('ethernet', frames));
    const d = cap.diagnostics.find((x) => x.code === 'pcap.hole');
    assert.ok(d);
    assert.equal(d.location.streamOffset, 1300);
    assert.match(d.message, /cut by the snaplen/);
  });

  it('tells migrations apart by destination endpoint and main channel, and asks which one when there are several', async () => {
    const one = [
      ...tcpConnection({ client: ['127.0.0.1', 50000], server: ['127.0.0.1', 4444], toServer: mainLike(2000, 1) }),
      ...tcpConnection({
        client: ['127.0.0.1', 50001],
        server: ['127.0.0.1', 4444],
        toServer: multifdLike(3000, 2),
        startUs: 1_700_000_000_001_000,
      }),
    ];
    const two = tcpConnection({
      client: ['127.0.0.1', 50002],
      server: ['127.0.0.1', 5555],
      toServer: mainLike(1000, 3),
      startUs: 1_700_000_000_002_000,
    });
    const file = pcapFile('ethernet', [...one, ...two]);
    await assert.rejects(
      open(file),
      (e: unknown) => e instanceof PcapChoiceNeeded && e.migrations.length === 2 && /--port/.test(e.message),
    );
    const a = await open(file, { port: 4444 });
    assert.equal(a.streams.length, 2);
    assert.deepEqual(await all(a.streams[1].toDestination), multifdLike(3000, 2));
    const b = await open(file, { migration: 2 });
    assert.equal(b.streams.length, 1);
    assert.deepEqual(await all(b.streams[0].toDestination), mainLike(1000, 3));
    await assert.rejects(open(file, { port: 7 }), /no migration goes to port 7/);
  });

  it('a connection still open when the capture ended is a warning: bytes may be missing after it', async () => {
    const toServer = mainLike(3000);
    const frames = tcpConnection({ client: ['127.0.0.1', 50000], server: ['127.0.0.1', 4444], toServer, mss: 1000 });
    const cap = await open(
      pcapFile(
        'ethernet',
        frames.filter((f) => !f.flags.fin),
      ),
    );
    const d = cap.diagnostics.find((x) => x.code === 'pcap.open-at-end');
    assert.ok(d, JSON.stringify(cap.diagnostics));
    assert.equal(d.severity, 'warning');
    assert.equal(d.location.streamOffset, 3000);
  });

  it('a main channel carried in a pcap decodes as it does from a dump', async () => {
    const toServer = sampleStream();
    const cap = await open(
      pcapFile(
        'ethernet',
        tcpConnection({ client: ['127.0.0.1', 50000], server: ['127.0.0.1', 4444], toServer, mss: 1460 }),
      ),
    );
    assert.deepEqual(await all(cap.streams[0].toDestination), toServer);
  });

  it('refuses nothing silently: a file cut inside a record, a 4 GiB captured length, and frames that are not TCP', async () => {
    const frames = tcpConnection({
      client: ['127.0.0.1', 50000],
      server: ['127.0.0.1', 4444],
      toServer: mainLike(3000),
      mss: 1000,
    });
    const file = pcapFile('ethernet', frames);
    const cut = await open(file.subarray(0, file.length - 30));
    assert.ok(cut.diagnostics.some((d) => d.code === 'pcap.truncated-file'));
    const huge = Buffer.from(file);
    huge.writeUInt32LE(0xffffffff, 24 + 8);
    const h = await open(huge);
    const d = h.diagnostics.find((x) => x.code === 'pcap.truncated-file');
    assert.ok(d);
    assert.equal(d.location.fileOffset, 24 + 8);
    assert.ok(h.diagnostics.some((x) => x.code === 'pcap.no-migration'));
  });
});
