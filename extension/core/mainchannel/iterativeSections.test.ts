import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DiagnosticSink, type Diagnostic } from '../diagnostics/diagnostic';
import { indexMainChannel, type MainChannelIndex } from './mainChannelIndex';
import { MainStreamEncoder } from '../../../test/support/mainchannel/mainStreamEncoder';
import { memoryStream } from '../../../test/support/mainchannel/testStreams';
import { DirtyBitmapSender, VfioSender } from '../../../test/support/mainchannel/iterativeSenders';
import { VFIO_MIG_FLAG_DEV_SETUP_STATE } from './vfioLayouts';

const VFIO = '0000:00:02.0/vfio';

async function index(bytes: Uint8Array): Promise<{ ix: MainChannelIndex; ds: Diagnostic[] }> {
  const sink = new DiagnosticSink();
  const ix = await indexMainChannel(memoryStream(bytes, 10), 3, 4096, sink);
  for (const d of sink.items) {
    assert.equal(d.location.stream, 3, d.message);
    assert.equal(d.location.fileOffset, d.location.streamOffset! + 10, d.message);
  }
  return { ix, ds: sink.items };
}

const codes = (ds: Diagnostic[]) => ds.map((d) => d.code);
const section = (ix: MainChannelIndex, type: string, idstr: string) =>
  ix.sections.filter((s) => s.typeName === type && s.idstr === idstr);

/** A precopy migration of a paused VM with one bitmap, as block-dirty-bitmap.c sends it: setup, iterations, completion. */
function dirtyBitmapStream(): { bytes: Uint8Array; buffer: Uint8Array } {
  const e = new MainStreamEncoder().header();
  const s = new DirtyBitmapSender(e);
  const buffer = Uint8Array.from({ length: 64 }, (_, i) => (i === 0 ? 1 : 0));
  e.sectionStart(2, 'dirty-bitmap', 0, 1);
  s.start('disk0', 'bitmap0', 65536).eos();
  e.footer(2).sectionPart(2);
  s.eos();
  e.footer(2).sectionEnd(2);
  s.bits('disk0', 'bitmap0', 0, 1 << 20, buffer)
    .bits('disk0', 'bitmap0', 1 << 20, 1 << 20)
    .complete('disk0', 'bitmap0')
    .eos();
  e.footer(2).eof();
  return { bytes: e.bytes(), buffer };
}

/** A VFIO device without multifd transfer: setup, one precopy iteration, the stop-copy blocks, the config space. */
function vfioStream(config = Uint8Array.of(1, 2, 3, 4, 5)): Uint8Array {
  const e = new MainStreamEncoder().header();
  const v = new VfioSender(e);
  e.sectionStart(5, VFIO, 0, 1);
  v.setup();
  e.footer(5).sectionPart(5);
  v.iterate(new Uint8Array(100).fill(7));
  e.footer(5).sectionEnd(5);
  v.complete([new Uint8Array(300).fill(8), new Uint8Array(20).fill(9)]);
  e.footer(5).sectionFull(6, VFIO, 0, 1);
  v.config(config);
  e.footer(6).eof();
  return e.bytes();
}

describe('iterative sections other than RAM', () => {
  it('walks dirty-bitmap START/PART/END chunk by chunk to EOF, names carried from chunk to chunk', async () => {
    const { bytes } = dirtyBitmapStream();
    const { ix, ds } = await index(bytes);
    assert.deepEqual(codes(ds), []);
    assert.equal(ix.complete, true);
    const [start] = section(ix, 'START', 'dirty-bitmap');
    assert.deepEqual(
      start.iterative?.markers.map((m) => m.name),
      ['START', 'EOS'],
    );
    const f = start.iterative!.markers[0].fields;
    assert.equal(f.node_alias, 'disk0');
    assert.equal(f.bitmap_alias, 'bitmap0');
    assert.equal(f.granularity, 65536);
    assert.equal(f.bitmap_flags, 1);
    const [end] = section(ix, 'END', 'dirty-bitmap');
    const m = end.iterative!.markers;
    assert.deepEqual(
      m.map((x) => x.name),
      ['BITS', 'BITS|ZEROES', 'COMPLETE', 'EOS'],
    );
    // The END's chunks name neither: they are those of the START's chunk.
    assert.equal(m[0].fields.node_alias, undefined);
    assert.equal(m[0].fields.node, 'disk0');
    assert.equal(m[0].fields.bitmap, 'bitmap0');
    assert.equal(m[0].fields.buf_size, 64);
    assert.equal(m[0].end - m[0].offset, 1 + 8 + 4 + 8 + 64);
    assert.equal(m[1].fields.nr_sectors, 1 << 20);
    assert.equal(m[1].end - m[1].offset, 1 + 8 + 4);
    assert.equal(end.bodyOffset, end.streamOffset + 5);
    assert.equal(end.bodyEnd, m[3].end);
    assert.equal(section(ix, 'PART', 'dirty-bitmap')[0].iterative?.markerCount, 1);
  });

  it('walks VFIO setup, data, stop-copy and config-space sections to EOF', async () => {
    const { ix, ds } = await index(vfioStream());
    assert.deepEqual(codes(ds), []);
    assert.equal(ix.complete, true);
    const names = (type: string) => section(ix, type, VFIO)[0].iterative!.markers.map((m) => m.name);
    assert.deepEqual(names('START'), ['DEV_SETUP_STATE', 'END_OF_STATE']);
    assert.deepEqual(names('PART'), ['DEV_DATA_STATE', 'END_OF_STATE']);
    assert.deepEqual(names('END'), ['DEV_DATA_STATE', 'DEV_DATA_STATE', 'END_OF_STATE']);
    assert.deepEqual(names('FULL'), ['DEV_CONFIG_STATE', 'config space', 'END_OF_STATE']);
    const end = section(ix, 'END', VFIO)[0].iterative!.markers;
    assert.deepEqual(
      end.slice(0, 2).map((m) => [m.fields.data_size, m.end - m.offset]),
      [
        [300, 316],
        [20, 36],
      ],
    );
    assert.equal(section(ix, 'FULL', VFIO)[0].iterative!.markers[1].fields.bytes, 5);
  });

  it('walks the main-channel sections of a VFIO device whose state goes over multifd, and switchover-ack', async () => {
    const e = new MainStreamEncoder().header();
    const v = new VfioSender(e);
    e.sectionStart(5, VFIO, 0, 1);
    v.setup();
    e.footer(5).sectionPart(5);
    v.iterate(new Uint8Array(10).fill(1), true);
    e.footer(5).sectionEnd(5);
    v.dummyEos();
    e.footer(5).sectionFull(6, VFIO, 0, 1);
    v.configLoadReady();
    e.footer(6).eof();
    const { ix, ds } = await index(e.bytes());
    assert.deepEqual(codes(ds), []);
    assert.equal(ix.complete, true);
    const names = (type: string) => section(ix, type, VFIO)[0].iterative!.markers.map((m) => m.name);
    assert.deepEqual(names('PART'), ['DEV_DATA_STATE', 'DEV_INIT_DATA_SENT']);
    assert.deepEqual(names('END'), ['END_OF_STATE']);
    assert.deepEqual(names('FULL'), ['DEV_CONFIG_LOAD_READY']);
  });

  it('finds the end of a config space that holds END_OF_STATE itself by the footer that follows', async () => {
    const inner = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xef, 0x10, 0x00, 0x01, 0x42);
    const { ix, ds } = await index(vfioStream(inner));
    assert.deepEqual(codes(ds), []);
    assert.equal(section(ix, 'FULL', VFIO)[0].iterative!.markers[1].fields.bytes, inner.length);
  });

  it('reads a VFIO FULL section through the VM description, which describes it as one buffer', async () => {
    const e = new MainStreamEncoder().header();
    e.sectionFull(6, VFIO, 0, 1);
    new VfioSender(e).config(Uint8Array.of(9, 9, 9));
    e.footer(6).eof();
    e.vmDescription({
      page_size: 4096,
      devices: [{ name: VFIO, instance_id: 0, fields: [{ name: 'data', type: 'buffer', size: 8 + 3 + 8 }] }],
    });
    const { ix, ds } = await index(e.bytes());
    assert.deepEqual(codes(ds), ['main.vmdesc']);
    assert.equal(ix.complete, true);
    const full = section(ix, 'FULL', VFIO)[0];
    assert.deepEqual(
      full.iterative?.markers.map((m) => m.name),
      ['DEV_CONFIG_STATE', 'config space', 'END_OF_STATE'],
    );
    assert.equal(full.bodyEnd, full.iterative!.markers[2].end);
  });

  it('names the bytes QEMU refuses: the section, the chunk or marker, the byte offset', async () => {
    // An unknown VFIO marker.
    let e = new MainStreamEncoder().header().sectionStart(5, VFIO, 0, 1);
    const badAt = e.length;
    e.be64(0xffffffffef100009n).footer(5).eof();
    let r = await index(e.bytes());
    assert.deepEqual(codes(r.ds), ['main.vfio']);
    assert.equal(r.ds[0].severity, 'error');
    assert.equal(r.ds[0].location.streamOffset, badAt);
    assert.match(r.ds[0].message, /section "0000:00:02.0\/vfio" \(id 5, START\).*0xffffffffef100009.*Unknown tag/);
    assert.equal(r.ix.complete, false);
    // DEV_SETUP_STATE not followed by END_OF_STATE.
    e = new MainStreamEncoder().header().sectionStart(5, VFIO, 0, 1);
    new VfioSender(e).marker(VFIO_MIG_FLAG_DEV_SETUP_STATE).marker(VFIO_MIG_FLAG_DEV_SETUP_STATE);
    r = await index(e.footer(5).eof().bytes());
    assert.match(r.ds[0].message, /EOS not found/);
    // A bitmap buffer larger than the destination accepts.
    e = new MainStreamEncoder().header().sectionStart(2, 'dirty-bitmap', 0, 1);
    new DirtyBitmapSender(e).start('d', 'b', 65536);
    const bitsAt = e.length;
    e.u8(0x40).be64(0).be32(8).be64(20000);
    r = await index(e.bytes());
    assert.deepEqual(codes(r.ds), ['main.dirty-bitmap']);
    assert.equal(r.ds[0].location.streamOffset, bitsAt + 13);
    assert.match(r.ds[0].message, /chunk 1 \(BITS\) declares a 20000-byte buffer/);
    // Reserved START flags: refused by the destination, but delimited, so the walk goes on to EOF.
    e = new MainStreamEncoder().header().sectionStart(2, 'dirty-bitmap', 0, 1);
    new DirtyBitmapSender(e).start('d', 'b', 65536, 0x81).eos();
    r = await index(e.footer(2).eof().bytes());
    assert.deepEqual(codes(r.ds), ['main.dirty-bitmap']);
    assert.match(r.ds[0].message, /reserved bits/);
    assert.equal(r.ix.complete, true);
    // Two flags bytes, and a chunk before any name: warnings, walked on.
    e = new MainStreamEncoder().header().sectionStart(2, 'dirty-bitmap', 0, 1);
    e.raw([0x80, 0x20]).u8(0x01).footer(2).eof();
    r = await index(e.bytes());
    assert.deepEqual(codes(r.ds), ['main.dirty-bitmap', 'main.dirty-bitmap']);
    assert.ok(r.ds.every((d) => d.severity === 'warning'));
    assert.match(r.ds[0].message, /2 flags bytes/);
    assert.match(r.ds[1].message, /names no node/);
    assert.equal(r.ix.complete, true);
  });

  it('never throws on these streams cut at every byte, and reports where it stops, with no error', async () => {
    for (const full of [dirtyBitmapStream().bytes, vfioStream()]) {
      for (let n = 8; n < full.length; n++) {
        const { ix, ds } = await index(full.subarray(0, n));
        assert.ok(ix.stoppedAt && ix.stoppedAt.streamOffset <= n, `cut at ${n}`);
        assert.equal(ix.complete, false, `cut at ${n}`);
        assert.ok(!ds.some((d) => d.severity === 'error'), `cut at ${n}: ${ds.map((d) => d.message).join('; ')}`);
        assert.ok(ds.length > 0, `cut at ${n}: something says why the walk stopped`);
      }
    }
  });
});
