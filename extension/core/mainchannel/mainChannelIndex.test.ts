import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DiagnosticSink } from '../diagnostics/diagnostic';
import { indexMainChannel, MainRecordKind, readMainChannelPageSize, type MainChannelIndex } from './mainChannelIndex';
import { MainStreamEncoder } from '../../../test/support/mainchannel/mainStreamEncoder';
import { filledPage, memoryStream, sampleStream } from '../../../test/support/mainchannel/testStreams';

const PS = 4096;
const K = MainRecordKind;

async function index(
  bytes: Uint8Array,
  pageSize = PS,
  fileStart = 0,
): Promise<{ ix: MainChannelIndex; sink: DiagnosticSink }> {
  const sink = new DiagnosticSink();
  const ix = await indexMainChannel(memoryStream(bytes, fileStart), 7, pageSize, sink);
  return { ix, sink };
}

function codes(sink: DiagnosticSink): string[] {
  return sink.items.map((d) => d.code);
}

function kinds(ix: MainChannelIndex): MainRecordKind[] {
  return Array.from(ix.records.kind.view()) as MainRecordKind[];
}

describe('main channel: well-formed synthetic streams', () => {
  it('decodes configuration, MEM_SIZE, sections and records, device state through the VM description, to EOF', async () => {
    const bytes = sampleStream({ flush: true, device: true });
    const { ix, sink } = await index(bytes, PS, 100);
    assert.equal(ix.fileVersion, 3);
    assert.deepEqual(ix.configuration, {
      machineType: 'pc-i440fx-10.0',
      capabilities: [],
      uuid: '00010203-0405-0607-0809-0a0b0c0d0e0f',
      subsections: ['configuration/uuid'],
    });
    assert.equal(ix.totalRam, 18 * PS);
    assert.deepEqual(ix.ramblocks, [
      { name: 'pc.ram', usedLength: 16 * PS },
      { name: 'pc.bios', usedLength: 2 * PS },
    ]);
    assert.deepEqual(kinds(ix), [
      K.MemSize,
      K.Flush,
      K.Eos,
      K.Zero,
      K.Zero,
      K.Page,
      K.Page,
      K.Flush,
      K.Eos,
      K.Zero,
      K.Flush,
      K.Eos,
    ]);
    assert.deepEqual(Array.from(ix.records.section.view()), [0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2]);
    assert.deepEqual(Array.from(ix.records.block.view()), [-1, -1, -1, 0, 0, 0, 1, -1, -1, 0, -1, -1]);
    assert.deepEqual(Array.from(ix.records.offset.view()), [18 * PS, 0, 0, 0, PS, 2 * PS, PS, 0, 0, 3 * PS, 0, 0]);
    // FLUSH present: epochs count FLUSH records, and a marker belongs to the epoch it closes.
    assert.equal(ix.syncMode, 'flush');
    assert.equal(ix.flushCount, 3);
    assert.equal(ix.eosCount, 3);
    assert.equal(ix.syncMarkers, 3);
    assert.deepEqual(Array.from(ix.records.epoch.view()), [0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3]);
    // PAGE data positions point at the raw page bytes, ZERO's at the fill byte; other kinds have none.
    const stream = memoryStream(bytes);
    const p = ix.records.row(5);
    assert.equal(p.kind, K.Page);
    assert.deepEqual(await stream.read(p.dataPos, p.dataPos + PS), filledPage(PS, 1));
    assert.equal(ix.records.row(6).dataPos, ix.records.row(6).streamPos + 8 + 1 + 'pc.bios'.length);
    assert.deepEqual(await stream.read(ix.records.row(6).dataPos, ix.records.row(6).dataPos + PS), filledPage(PS, 2));
    // A ZERO record's data is its fill byte, after the idstr when the record names its block.
    assert.equal(ix.records.row(3).kind, K.Zero);
    assert.equal(ix.records.row(3).dataPos, ix.records.row(3).streamPos + 8 + 1 + 'pc.ram'.length);
    assert.equal(ix.records.row(2).dataPos, -1);
    assert.deepEqual(
      ix.sections.map((s) => [s.typeName, s.id, s.idstr]),
      [
        ['CONFIGURATION', 0, undefined],
        ['START', 1, 'ram'],
        ['PART', 1, 'ram'],
        ['COMMAND', 11, 'SWITCHOVER_START'],
        ['END', 1, 'ram'],
        ['FULL', 2, 'timer'],
        ['EOF', 0, undefined],
        ['VMDESCRIPTION', 0, undefined],
      ],
    );
    assert.equal(ix.sectionCount, 8);
    assert.equal(ix.complete, true);
    assert.equal(ix.stoppedAt?.reason, 'end (QEMU_VM_EOF)');
    // The timer's 8 body bytes end where its description (two int32) says, right before the footer.
    const timer = ix.sections[5];
    assert.equal(timer.bodyEnd! - timer.bodyOffset!, 8);
    assert.equal(timer.bodyOffset, timer.streamOffset + 1 + 4 + 1 + 'timer'.length + 4 + 4);
    assert.equal(ix.vmDescriptionPageSize, PS);
    assert.equal((ix.vmDescription as { devices: { name: string }[] }).devices[0].name, 'timer');
    assert.equal(ix.eofOffset, ix.vmDescriptionOffset! - 1);
    assert.deepEqual(codes(sink), ['main.vmdesc']);
    for (const d of sink.items) {
      assert.equal(d.location.stream, 7);
      assert.equal(d.location.fileOffset, d.location.streamOffset! + 100);
      assert.equal(d.severity, 'info');
    }
    assert.equal(ix.bytes, bytes.length);
  });

  it('stops at a device section the VM description does not describe, saying so', async () => {
    const { ix, sink } = await index(sampleStream({ flush: true, device: true, describeDevices: false }));
    assert.equal(ix.complete, false);
    assert.equal(ix.stoppedAt?.reason, 'device state "timer"');
    assert.deepEqual(codes(sink), ['main.vmdesc', 'main.device-not-described', 'main.device-state']);
    assert.equal(sink.items[1].severity, 'error');
    assert.match(
      sink.items[2].message,
      /cannot be delimited: the VM description does not delimit it; decoding stops here/,
    );
  });

  it('uses EOS as the sync marker when there is no MULTIFD_FLUSH (7.2/8.0, or flush after each section)', async () => {
    const { ix } = await index(sampleStream({ device: true }));
    assert.equal(ix.syncMode, 'eos');
    assert.equal(ix.flushCount, 0);
    assert.equal(ix.syncMarkers, 3);
    assert.deepEqual(kinds(ix), [K.MemSize, K.Eos, K.Zero, K.Zero, K.Page, K.Page, K.Eos, K.Zero, K.Eos]);
    assert.deepEqual(Array.from(ix.records.epoch.view()), [0, 0, 1, 1, 1, 1, 1, 2, 2]);
    assert.deepEqual(Array.from(ix.records.markersBefore(K.Eos)), [0, 0, 1, 1, 1, 1, 1, 2, 2]);
  });

  it('walks to QEMU_VM_EOF and the VM description when there is no device state', async () => {
    const { ix, sink } = await index(sampleStream());
    assert.equal(ix.complete, true);
    assert.equal(ix.stoppedAt?.reason, 'end (QEMU_VM_EOF)');
    assert.deepEqual(
      ix.sections.slice(-2).map((s) => s.typeName),
      ['EOF', 'VMDESCRIPTION'],
    );
    assert.equal(ix.eofOffset, ix.sections.at(-2)!.streamOffset);
    assert.equal(ix.vmDescriptionOffset, ix.sections.at(-1)!.streamOffset);
    assert.deepEqual(codes(sink), ['main.vmdesc']);
  });

  it('reads a VM description the tail search cannot see (bytes after it) during the walk', async () => {
    const bytes = new MainStreamEncoder().raw(sampleStream()).raw([1, 2, 3]).bytes();
    const { ix, sink } = await index(bytes);
    assert.equal(ix.complete, true);
    assert.equal(ix.vmDescriptionPageSize, PS);
    assert.deepEqual(codes(sink), ['main.vmdesc', 'main.bad-section']);
    assert.equal(sink.items[1].severity, 'warning');
  });

  it('handles a stream without VM description and without configuration record', async () => {
    const bytes = new MainStreamEncoder()
      .header()
      .sectionStart(3, 'ram')
      .memSize([{ name: 'a', usedLength: PS }])
      .eos()
      .footer(3)
      .eof()
      .bytes();
    const { ix, sink } = await index(bytes);
    assert.equal(ix.configuration, undefined);
    assert.equal(ix.vmDescription, undefined);
    assert.equal(ix.complete, true);
    assert.deepEqual(codes(sink), []);
  });

  it('accepts streams without section footers (machine types before 2.4)', async () => {
    const bytes = new MainStreamEncoder()
      .header()
      .sectionStart(0, 'ram')
      .memSize([{ name: 'a', usedLength: PS }])
      .eos()
      .sectionEnd(0)
      .zero(0, 'a')
      .eos()
      .eof()
      .bytes();
    const { ix, sink } = await index(bytes);
    assert.equal(ix.complete, true);
    assert.equal(ix.records.length, 4);
    assert.deepEqual(codes(sink), []);
  });

  it('reads target-page-bits, capabilities and x-ignore-shared block addresses', async () => {
    const bytes = new MainStreamEncoder()
      .header()
      .configuration({ machineType: 'virt', targetPageBits: 16, capabilities: ['x-ignore-shared'] })
      .sectionStart(1, 'ram')
      .memSize([
        { name: 'mach-virt.ram', usedLength: 4 * 65536, mrAddr: 0x4000_0000 },
        { name: 'shared', usedLength: 65536, mrAddr: 0x1_0000_0000 },
      ])
      .eos()
      .footer(1)
      .sectionEnd(1)
      .page(65536, 'mach-virt.ram', filledPage(65536, 3))
      .eos()
      .footer(1)
      .eof()
      .bytes();
    const { ix, sink } = await index(bytes, 65536);
    assert.equal(ix.configuration?.targetPageBits, 16);
    assert.deepEqual(ix.configuration?.capabilities, ['x-ignore-shared']);
    assert.deepEqual(ix.ramblocks, [
      { name: 'mach-virt.ram', usedLength: 4 * 65536, mrAddr: 0x4000_0000 },
      { name: 'shared', usedLength: 65536, mrAddr: 0x1_0000_0000 },
    ]);
    assert.equal(ix.records.row(2).offset, 65536);
    assert.equal(ix.records.row(2).kind, K.Page);
    assert.equal(ix.complete, true);
    assert.deepEqual(codes(sink), []);
    assert.deepEqual(await readMainChannelPageSize(memoryStream(bytes)), {
      pageSize: 65536,
      source: 'target-page-bits',
    });
  });

  it('reads block page sizes sent after POSTCOPY_ADVISE', async () => {
    const bytes = new MainStreamEncoder()
      .header()
      .command(1)
      .command(3, new Uint8Array(16))
      .sectionStart(1, 'ram')
      .memSize([
        { name: 'huge', usedLength: 4 << 20, pageSize: 2 << 20 },
        { name: 'small', usedLength: PS },
        { name: 'last-huge', usedLength: 2 << 20, pageSize: 2 << 20 },
      ])
      .flush()
      .eos()
      .footer(1)
      .eof()
      .bytes();
    const { ix, sink } = await index(bytes);
    assert.deepEqual(ix.ramblocks, [
      { name: 'huge', usedLength: 4 << 20, pageSize: 2 << 20 },
      { name: 'small', usedLength: PS },
      { name: 'last-huge', usedLength: 2 << 20, pageSize: 2 << 20 },
    ]);
    assert.deepEqual(kinds(ix), [K.MemSize, K.Flush, K.Eos]);
    assert.deepEqual(
      ix.sections.slice(0, 2).map((s) => s.idstr),
      ['OPEN_RETURN_PATH', 'POSTCOPY_ADVISE'],
    );
    assert.deepEqual(codes(sink), []);
  });

  it('follows mapped-ram: header after each block entry, then a jump over the page region', async () => {
    const e = new MainStreamEncoder()
      .header()
      .configuration({ machineType: 'pc-q35-10.0', capabilities: ['mapped-ram'] })
      .sectionStart(1, 'ram');
    const blocks = [
      { name: 'pc.ram', usedLength: 8 * PS },
      { name: 'pc.rom', usedLength: 2 * PS },
    ];
    e.word(10 * PS, 0x04);
    const expected: { bitmapOffset: number; pagesOffset: number }[] = [];
    for (const b of blocks) {
      e.name8(b.name).be64(b.usedLength);
      const bitmapOffset = e.length + 28;
      const pagesOffset = Math.ceil((bitmapOffset + 8) / 0x10000) * 0x10000;
      e.be32(1).be64(PS).be64(bitmapOffset).be64(pagesOffset);
      e.padTo(pagesOffset + b.usedLength, 0xee);
      expected.push({ bitmapOffset, pagesOffset });
    }
    e.eos().footer(1).sectionEnd(1).eos().footer(1).eof();
    const { ix, sink } = await index(e.bytes());
    assert.deepEqual(
      ix.ramblocks.map((b) => b.mappedRam),
      expected.map((x) => ({ pageSize: PS, ...x })),
    );
    assert.equal(ix.complete, true);
    assert.deepEqual(kinds(ix), [K.MemSize, K.Eos, K.Eos]);
    assert.deepEqual(codes(sink), ['main.mapped-ram']);
  });

  it('indexes XBZRLE and COMPRESS_PAGE records it can delimit, and says once that it does not decode them', async () => {
    const bytes = new MainStreamEncoder()
      .header()
      .sectionStart(1, 'ram')
      .memSize([{ name: 'pc.ram', usedLength: 8 * PS }])
      .eos()
      .footer(1)
      .sectionPart(1)
      .xbzrle(PS, 'pc.ram', new Uint8Array(10))
      .xbzrle(2 * PS, undefined, new Uint8Array(3))
      .compressPage(3 * PS, undefined, new Uint8Array(100))
      .compressPage(4 * PS, undefined, new Uint8Array(4110))
      .zero(5 * PS)
      .eos()
      .footer(1)
      .eof()
      .bytes();
    const { ix, sink } = await index(bytes);
    assert.deepEqual(kinds(ix), [K.MemSize, K.Eos, K.Xbzrle, K.Xbzrle, K.CompressPage, K.CompressPage, K.Zero, K.Eos]);
    assert.equal(ix.complete, true);
    assert.deepEqual(codes(sink), ['main.unsupported-record', 'main.unsupported-record']);
    assert.ok(sink.items.every((d) => d.severity === 'info'));
    assert.deepEqual(
      sink.items.map((d) => d.location.record),
      [2, 4],
    );
  });
});

describe('readMainChannelPageSize', () => {
  it('prefers the VM description', async () => {
    assert.deepEqual(await readMainChannelPageSize(memoryStream(sampleStream({ device: true }))), {
      pageSize: 4096,
      source: 'vmdesc',
    });
    assert.deepEqual(await readMainChannelPageSize(memoryStream(sampleStream({ pageSize: 16384 }))), {
      pageSize: 16384,
      source: 'vmdesc',
    });
  });
  it('falls back to target-page-bits, else gives nothing', async () => {
    const withBits = new MainStreamEncoder()
      .header()
      .configuration({ machineType: 'm', targetPageBits: 13 })
      .eof()
      .bytes();
    assert.deepEqual(await readMainChannelPageSize(memoryStream(withBits)), {
      pageSize: 8192,
      source: 'target-page-bits',
    });
    assert.deepEqual(await readMainChannelPageSize(memoryStream(sampleStream({ vmdesc: false }))), {});
    assert.deepEqual(await readMainChannelPageSize(memoryStream(new Uint8Array(0))), {});
    const badBits = new MainStreamEncoder().header().configuration({ machineType: 'm', targetPageBits: 40 }).bytes();
    assert.deepEqual(await readMainChannelPageSize(memoryStream(badBits)), {});
    const notJson = new MainStreamEncoder().header().eof().vmDescription('{"page_size": 4096').raw([0x7d]).bytes();
    assert.deepEqual(await readMainChannelPageSize(memoryStream(notJson)), {});
  });
});
