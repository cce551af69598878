import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DiagnosticSink, type Diagnostic } from '../diagnostics/diagnostic';
import { indexMainChannel, MainRecordKind, type MainChannelIndex } from './mainChannelIndex';
import { MainStreamEncoder } from '../../../test/support/mainchannel/mainStreamEncoder';
import { memoryStream, sampleStream } from '../../../test/support/mainchannel/testStreams';

const PS = 4096;

async function index(
  bytes: Uint8Array,
  pageSize = PS,
  options = {},
): Promise<{ ix: MainChannelIndex; sink: DiagnosticSink; ds: Diagnostic[] }> {
  const sink = new DiagnosticSink();
  const ix = await indexMainChannel(memoryStream(bytes, 10), 1, pageSize, sink, options);
  // Every diagnostic carries its stream and both offsets.
  for (const d of sink.items) {
    assert.equal(d.location.stream, 1, d.message);
    assert.equal(typeof d.location.streamOffset, 'number', d.message);
    assert.equal(d.location.fileOffset, d.location.streamOffset! + 10, d.message);
  }
  return { ix, sink, ds: sink.items };
}

function only(ds: Diagnostic[], code: string): Diagnostic {
  const hits = ds.filter((d) => d.code === code);
  assert.equal(hits.length, 1, `${code} once in ${JSON.stringify(ds.map((d) => d.code))}`);
  return hits[0];
}

/** A stream with one RAM START holding `body` after a one-block MEM_SIZE. */
function ramStream(
  body: (e: MainStreamEncoder) => void,
  blocks = [{ name: 'pc.ram', usedLength: 8 * PS }],
): Uint8Array {
  const e = new MainStreamEncoder().header().sectionStart(1, 'ram').memSize(blocks);
  body(e);
  return e.bytes();
}

describe('main channel: truncated and hostile input', () => {
  it('never throws on a stream cut at every byte, and reports where it stops', async () => {
    for (const full of [sampleStream({ flush: true, device: true }), sampleStream({ flush: true })]) {
      const whole = await index(full);
      const fullRecords = whole.ix.records.length;
      for (let n = 0; n < full.length; n++) {
        const cut = full.subarray(0, n);
        const { ix, ds } = await index(cut);
        assert.ok(ix.records.length <= fullRecords);
        assert.equal(ix.bytes, n);
        assert.ok(ix.stoppedAt, `cut at ${n}: stoppedAt set`);
        assert.ok(ix.stoppedAt.streamOffset <= n, `cut at ${n}: stopped at ${ix.stoppedAt.streamOffset}`);
        const t = ds.filter((d) => d.code === 'main.truncated');
        const device = ds.some((d) => d.code === 'main.device-state');
        const tail = ix.complete && ix.sections.at(-1)?.typeName === 'EOF';
        assert.ok(t.length === 1 || device || tail, `cut at ${n}: ${JSON.stringify(ds.map((d) => d.code))}`);
        if (t.length)
          assert.ok(t[0].location.streamOffset! <= n, `cut at ${n}: truncated at ${t[0].location.streamOffset}`);
        assert.ok(!ds.some((d) => d.severity === 'error'), `cut at ${n}: ${JSON.stringify(ds.map((d) => d.message))}`);
      }
    }
  });

  it('rejects a bad magic and file versions other than 3', async () => {
    let r = await index(Uint8Array.from([0x11, 0x22, 0x33, 0x44, 0, 0, 0, 1]));
    assert.equal(only(r.ds, 'main.bad-magic').location.streamOffset, 0);
    assert.equal(r.ix.records.length, 0);
    r = await index(new MainStreamEncoder().header(2).eof().bytes());
    assert.match(only(r.ds, 'main.bad-version').message, /obsolete/);
    assert.equal(r.ix.fileVersion, 2);
    r = await index(new MainStreamEncoder().header(0x7fffffff).bytes());
    only(r.ds, 'main.bad-version');
    r = await index(Uint8Array.from([0x51, 0x45]));
    only(r.ds, 'main.truncated');
    r = await index(new Uint8Array(0));
    only(r.ds, 'main.truncated');
  });

  it('does not trust lengths in the configuration record', async () => {
    let r = await index(new MainStreamEncoder().header().u8(7).be32(0xffffffff).raw([0x41, 0x42]).bytes());
    assert.equal(only(r.ds, 'main.bad-configuration').location.streamOffset, 9);
    r = await index(
      new MainStreamEncoder()
        .header()
        .u8(7)
        .be32(1)
        .raw([0x41])
        .subsection('configuration/capabilities')
        .be32(0xfffffff0)
        .name8('x')
        .bytes(),
    );
    only(r.ds, 'main.bad-configuration');
    r = await index(
      new MainStreamEncoder()
        .header()
        .configuration({ machineType: 'm' })
        .subsection('configuration/mystery')
        .be32(5)
        .eof()
        .bytes(),
    );
    assert.match(only(r.ds, 'main.bad-configuration').message, /configuration\/mystery/);
    r = await index(
      new MainStreamEncoder()
        .header()
        .configuration({ machineType: 'm' })
        .subsection('configuration/uuid', 9)
        .raw(new Uint8Array(16))
        .eof()
        .bytes(),
    );
    only(r.ds, 'main.bad-configuration');
    // A machine-type length that runs past the end is a truncation.
    r = await index(new MainStreamEncoder().header().u8(7).be32(4000).raw([0x41]).bytes());
    assert.equal(only(r.ds, 'main.truncated').location.streamOffset, 8);
  });

  it('stops on MEM_SIZE block lengths that do not add up', async () => {
    let r = await index(
      ramStream(
        (e) => e.eos().footer(1).eof(),
        [
          { name: 'a', usedLength: 8 * PS },
          { name: 'a', usedLength: PS },
          { name: 'a', usedLength: PS },
        ],
      ),
    );
    assert.equal(only(r.ds, 'main.mem-size-mismatch').severity, 'warning');
    assert.equal(r.ix.complete, true);
    const over = new MainStreamEncoder()
      .header()
      .sectionStart(1, 'ram')
      .word(4 * PS, 4)
      .name8('a')
      .be64(8 * PS)
      .eos()
      .footer(1)
      .eof()
      .bytes();
    r = await index(over);
    assert.match(only(r.ds, 'main.mem-size-mismatch').message, /larger than/);
    assert.equal(r.ix.stoppedAt?.reason, 'MEM_SIZE lengths do not add up');
    // A huge total with a tiny stream: the block loop ends at the end of the stream, not at the total.
    const huge = new MainStreamEncoder()
      .header()
      .sectionStart(1, 'ram')
      .word(0x7fff_ffff_ffff_f000n, 4)
      .name8('a')
      .be64(PS)
      .bytes();
    r = await index(huge);
    only(r.ds, 'main.truncated');
    // Zero-length blocks cannot loop forever either: each costs stream bytes, and the block count is capped.
    const zeros = new MainStreamEncoder().header().sectionStart(1, 'ram').word(PS, 4);
    for (let i = 0; i < 5000; i++) zeros.name8(`z${i}`).be64(0);
    r = await index(zeros.bytes());
    only(r.ds, 'main.mem-size-mismatch');
    assert.equal(r.ix.ramblocks.length, 4096);
  });

  it('reports unknown flag combinations and stops', async () => {
    for (const flags of [0x400, 0x800, 0x01, 0x02 | 0x08, 0x20, 0, 0x10 | 0x200]) {
      const r = await index(
        ramStream((e) =>
          e
            .word(PS, flags)
            .raw(new Uint8Array(PS + 16))
            .eos()
            .footer(1)
            .eof(),
        ),
      );
      const d = only(r.ds, 'main.unknown-ram-flags');
      assert.equal(d.location.streamOffset, r.ix.stoppedAt?.streamOffset);
      assert.equal(r.ix.complete, false);
    }
    // Bits between 0x3ff and the page size are flags for small pages, offset bits for large ones.
    const r = await index(
      ramStream((e) => e.zero(0x10000, 'big').eos().footer(1).eof(), [{ name: 'big', usedLength: 4 * 65536 }]),
      65536,
    );
    assert.deepEqual(r.ds, []);
    assert.equal(r.ix.records.offset.get(1), 0x10000);
  });

  it('stops at RDMA hook records and undelimitable XBZRLE/COMPRESS_PAGE headers', async () => {
    let r = await index(ramStream((e) => e.word(0, 0x80).eos().footer(1).eof()));
    assert.equal(only(r.ds, 'main.unsupported-record').severity, 'error');
    r = await index(ramStream((e) => e.xbzrle(0, 'pc.ram', new Uint8Array(4), 2).eos()));
    assert.equal(only(r.ds, 'main.unsupported-record').severity, 'error');
    r = await index(
      ramStream((e) =>
        e
          .word(0, 0x40)
          .name8('pc.ram')
          .u8(1)
          .be16(PS + 1)
          .raw(new Uint8Array(PS + 1))
          .eos(),
      ),
    );
    assert.equal(only(r.ds, 'main.unsupported-record').severity, 'error');
    r = await index(ramStream((e) => e.word(0, 0x100).name8('pc.ram').be32(0xffffffff).eos()));
    assert.equal(only(r.ds, 'main.unsupported-record').severity, 'error');
    assert.equal(r.ix.stoppedAt?.reason, 'bad COMPRESS_PAGE length');
  });

  it('reports bad blocks, offsets and fill bytes but keeps indexing (the records are still delimited)', async () => {
    const bytes = ramStream((e) =>
      e
        .zero(0) // CONTINUE before any block
        .zero(0, 'nosuch')
        .zero(PS)
        .zero(8 * PS, 'pc.ram') // just past the block
        .zero(PS, undefined, 0x5a)
        .page(0x7fff_0000_0000, undefined, new Uint8Array(PS))
        .eos()
        .footer(1)
        .eof(),
    );
    const { ix, ds } = await index(bytes);
    assert.equal(ix.complete, true);
    assert.deepEqual(
      ds.map((d) => [d.code, d.location.record]),
      [
        ['main.no-block', undefined],
        ['main.unknown-ramblock', undefined],
        ['main.offset-range', 4],
        ['main.zero-fill', 5],
        ['main.offset-range', 6],
      ],
    );
    assert.deepEqual(Array.from(ix.records.block.view()), [-1, -1, 1, 1, 0, 0, 0, -1]);
    assert.deepEqual(ix.ramblocks[1], { name: 'nosuch', usedLength: 0, unannounced: true });
    assert.equal(ix.records.row(6).offset, 0x7fff_0000_0000);
  });

  it('handles 255-byte names of arbitrary bytes', async () => {
    const name = String.fromCharCode(...Array.from({ length: 255 }, (_, i) => 255 - i));
    const { ix, ds } = await index(
      ramStream((e) => e.zero(PS, name).eos().footer(1).eof(), [{ name, usedLength: 2 * PS }]),
    );
    assert.deepEqual(ds, []);
    assert.equal(ix.ramblocks[0].name, name);
  });

  it('checks section footers, section ids and top-level record types', async () => {
    let r = await index(ramStream((e) => e.eos().footer(2).eof()));
    assert.match(only(r.ds, 'main.footer-mismatch').message, /names section id 2/);
    r = await index(ramStream((e) => e.eos().footer(1).sectionPart(1).eos().sectionPart(1).eos().footer(1).eof()));
    assert.match(only(r.ds, 'main.footer-mismatch').message, /no footer/);
    r = await index(ramStream((e) => e.eos().footer(1).sectionPart(9).eos().footer(9).eof()));
    assert.match(only(r.ds, 'main.bad-section').message, /section id 9/);
    r = await index(ramStream((e) => e.eos().footer(1).u8(0x42)));
    assert.match(only(r.ds, 'main.bad-section').message, /0x42/);
    r = await index(ramStream((e) => e.eos().footer(1).u8(0x7e)));
    only(r.ds, 'main.bad-section');
    r = await index(ramStream((e) => e.eos().footer(1).command(0x1234, [1, 2, 3]).eof()));
    assert.equal(only(r.ds, 'main.bad-section').severity, 'warning');
    assert.equal(r.ix.complete, true);
    // A command whose length runs past the end.
    r = await index(ramStream((e) => e.eos().footer(1).u8(8).be16(11).be16(0xffff).raw([1])));
    only(r.ds, 'main.truncated');
    // An iterative section no reader knows stops the walk with an error; a dirty-bitmap section cut after its header is a truncation.
    r = await index(new MainStreamEncoder().header().sectionStart(4, 'block', 0, 1).raw([0, 0, 0, 0]).bytes());
    assert.match(only(r.ds, 'main.iterative-unknown').message, /"block".*no reader/);
    assert.equal(r.ix.stoppedAt?.streamOffset, 8);
    r = await index(new MainStreamEncoder().header().sectionStart(4, 'dirty-bitmap', 0, 1).bytes());
    assert.match(only(r.ds, 'main.truncated').message, /dirty-bitmap.*chunk 0/);
  });

  it('bounds the record table and the section list', async () => {
    const bytes = ramStream((e) => {
      for (let i = 0; i < 50; i++) e.flush();
      e.eos().footer(1);
      for (let i = 0; i < 20; i++) e.sectionPart(1).eos().footer(1);
      e.eof();
    });
    let r = await index(bytes, PS, { maxRecords: 10 });
    only(r.ds, 'main.record-limit');
    assert.equal(r.ix.records.length, 10);
    r = await index(bytes, PS, { maxSections: 5 });
    assert.equal(r.ix.sections.length, 5);
    assert.equal(r.ix.sectionCount, 22);
    assert.equal(r.ix.complete, true);
  });

  it('falls back to 4096 for a page size QEMU cannot have', async () => {
    const r = await index(sampleStream(), 1000);
    only(r.ds, 'multifd.page-size-unknown');
    assert.equal(r.ix.complete, true);
  });

  it('reports a VM description that does not parse, and page sizes that disagree', async () => {
    let r = await index(new MainStreamEncoder().header().eof().vmDescription('{"page_size": 4096, ]}').bytes());
    assert.equal(only(r.ds, 'main.vmdesc').severity, 'warning');
    assert.equal(r.ix.vmDescription, undefined);
    r = await index(sampleStream({ pageSize: 8192 }), 4096);
    only(r.ds, 'multifd.page-size-conflict');
    // A length that misses the end by one byte is not a VM description.
    const b = new MainStreamEncoder().header().eof().u8(6).be32(3).raw([0x7b, 0x7d]).bytes();
    r = await index(b);
    assert.equal(r.ix.vmDescriptionOffset, undefined);
    only(r.ds, 'main.truncated');
  });

  it('survives random corruption of a valid stream', async () => {
    const base = sampleStream({ flush: true, device: true, pageSize: 1024 });
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let iter = 0; iter < 400; iter++) {
      const b = base.slice();
      const hits = 1 + rand(4);
      for (let h = 0; h < hits; h++) b[8 + rand(b.length - 8)] = rand(256);
      const { ix } = await index(b, 1024);
      assert.ok(ix.stoppedAt);
      assert.ok(ix.records.length < 100);
      for (let i = 0; i < ix.records.length; i++)
        assert.ok(
          ix.records.kind.get(i) >= MainRecordKind.MemSize && ix.records.kind.get(i) <= MainRecordKind.CompressPage,
        );
    }
  });
});
