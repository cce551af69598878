import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeCapture } from '../../core/analysis';
import { MemoryByteSource } from '../../core/capture/fileAccessor';
import { openCaptureFromSource } from '../../core/capture/openCapture';
import { buildSectionList } from '../../core/mainchannel/sectionList';
import { DEFAULT_VIEW, type ViewSpec } from '../../shared/protocol';
import { mainChannelCapture, MAIN_CAPTURE_PS } from '../../../test/support/mainChannelCapture';
import { CaptureModel } from './captureModel';

async function model(zeroRecords = 200) {
  const c = mainChannelCapture({ zeroRecords });
  const analysis = await analyzeCapture(await openCaptureFromSource(new MemoryByteSource(c.bytes)));
  return { c, m: await CaptureModel.load(analysis), analysis };
}

const view = (filter: string, sort: ViewSpec['sort'] = DEFAULT_VIEW.sort): ViewSpec => ({ filter, sort });

describe('main-channel rows in the packet list', () => {
  it('lists every top-level record, RAM record and return-path message, in stream order', async () => {
    const { c, m, analysis } = await model();
    const list = (await buildSectionList(analysis))!;
    assert.equal(list.rows.length, c.topLevel, 'the section list has the records the capture was built with');
    const main = m.packets.main!;
    assert.equal(main.top, c.topLevel);
    assert.equal(main.ram, c.ramRecords);
    assert.equal(main.returnPath, c.returnPathMessages);
    assert.equal(m.total, c.topLevel + c.ramRecords + c.returnPathMessages);
    // The main stream's rows run in stream order: sections and the RAM records inside them interleaved.
    for (let i = 1; i < main.top + main.ram; i++)
      assert.ok(main.streamOffset(i) > main.streamOffset(i - 1), `row ${i} starts after row ${i - 1}`);
    const names = Array.from({ length: 12 }, (_, i) => m.rowOf(i, i).record);
    assert.deepEqual(names, [
      'CONFIGURATION',
      'COMMAND',
      'COMMAND',
      'COMMAND',
      'START',
      'MEM_SIZE',
      'EOS',
      'PART',
      'ZERO',
      'ZERO',
      'ZERO',
      'ZERO',
    ]);
    const z = m.rowOf(9, 9);
    assert.equal(z.kind, 'ram-record');
    assert.equal(z.ramblock, 'pc.ram', 'a CONTINUE record names the block its predecessor named');
    assert.equal(z.offset, MAIN_CAPTURE_PS);
    assert.equal(z.zeroPages, 1);
    assert.equal(z.section, 'ram');
    const ping = m.rowOf(2, 2);
    assert.equal(ping.command, 'PING');
    assert.match(ping.flagsText, /^COMMAND PING \(value 1\); PONG at return-path offset 0/);
    const last = m.rowOf(m.total - 1, 0);
    assert.equal(last.kind, 'return-path');
    assert.equal(last.record, 'SHUT');
    const pong = m.rowOf(main.top + main.ram, 0);
    assert.equal(pong.record, 'PONG');
    assert.match(pong.flagsText, /answers the PING at main-channel offset \d+/);
    assert.ok(pong.timeNs > 0, 'the return path carries capture times');
    await m.dispose();
  });

  it('filters by stream, record, section, device, command and return path', async () => {
    const { c, m } = await model();
    const count = async (f: string) => {
      const r = await m.setView(view(f));
      assert.equal(r.error, undefined, `${f}: ${r.error?.message}`);
      return r.rowCount;
    };
    assert.equal(await count('stream == 0'), c.topLevel + c.ramRecords + c.returnPathMessages);
    assert.equal(await count('record == "ZERO"'), c.zeroRecords);
    assert.equal(await count('kind == "ram-record"'), c.ramRecords);
    assert.equal(await count('kind == "main"'), c.topLevel);
    assert.equal(await count('command == "PING"'), 2);
    assert.equal(await count('cmd == "OPEN_RETURN_PATH"'), 1);
    assert.equal(await count('returnpath'), c.returnPathMessages);
    assert.equal(await count('returnpath && record == "PONG"'), 2);
    assert.equal(await count('device == "timer"'), 1);
    assert.equal(await count('section == "timer"'), 1);
    // The RAM section's START, PART, END and its records.
    assert.equal(await count('section == "ram"'), 3 + c.ramRecords);
    assert.equal(await count('ramblock == "pc.ram" && record == "PAGE"'), 1);
    assert.equal(await count(`zero_offset == ${MAIN_CAPTURE_PS * 3}`), 1);
    assert.equal(await count(`offset in 0 .. ${MAIN_CAPTURE_PS * 9}`), 10);
    assert.equal(await count('version == 2 && record == "FULL"'), 1);
    assert.equal(await count('!main'), 0, 'the capture has no multifd channel');
    // Multifd-only fields do not match main-channel rows.
    assert.equal(await count('packet_num >= 0'), 0);
    await m.dispose();
  });

  it('serves a window of rows and locates a row after a sort, without building the others', async () => {
    const { c, m } = await model(5000);
    await m.setView(view('', { column: 'ramblock', direction: 'desc' }));
    const w = m.rows(2500, 40);
    assert.equal(w.rows.length, 40);
    assert.ok(w.rows.every((r, k) => r.viewIndex === 2500 + k));
    const v = await m.setView(view('record == "ZERO"'));
    assert.equal(v.rowCount, c.zeroRecords);
    const last = m.rows(v.rowCount - 1, 1).rows[0];
    assert.equal(last.offset, (c.zeroRecords - 1) * MAIN_CAPTURE_PS, 'the last ZERO record is sent last');
    assert.equal(m.locate({ stream: 0, index: last.index }), v.rowCount - 1);
    assert.equal(m.locate({ stream: 0, index: 0 }), -1, 'CONFIGURATION is filtered out');
    await m.dispose();
  });

  it('shows a record through its layout: fields with their byte ranges, the page it writes', async () => {
    const { c, m } = await model();
    const main = m.packets.main!;
    // Row 8: the first ZERO record, which names its block.
    const d = await m.packet({ stream: 0, index: 8 });
    assert.equal(d.cStruct, 'RAM record (save_page_header)');
    assert.deepEqual(
      d.fields.map((f) => [f.name, f.offset, f.width]),
      [
        ['addr', 0, 8],
        ['idstr_len', 8, 1],
        ['idstr', 9, 6],
        ['fill', 15, 1],
      ],
    );
    assert.equal(d.fields[2].display, 'pc.ram');
    assert.equal(d.headerOffset, main.streamOffset(8));
    assert.deepEqual(d.offsets, [{ slot: 0, value: 0, kind: 'zero', headerOffset: 0 }]);
    const zero = await m.page({ stream: 0, index: 8 }, 0);
    assert.equal(zero.source, 'zero');
    // The PAGE record: its data is the payload and the page.
    const pageRow = main.rowOfRecord(2 + c.zeroRecords)!;
    const p = await m.packet({ stream: 0, index: pageRow });
    assert.equal(p.row.record, 'PAGE');
    assert.equal(p.payloadLength, MAIN_CAPTURE_PS);
    const page = await m.page({ stream: 0, index: pageRow }, 0);
    assert.equal(page.source, 'payload');
    assert.equal(page.bytes![1], (7 + 7) & 0xff);
    // A command: its arguments through the command layout.
    const ping = await m.packet({ stream: 0, index: 2 });
    assert.deepEqual(
      ping.fields.map((f) => [f.name, f.display]),
      [
        ['section_type', '8 (COMMAND)'],
        ['cmd', '2 (PING)'],
        ['len', '4'],
        ['value', '1'],
      ],
    );
    // A section header with its idstr.
    const full = await m.packet({
      stream: 0,
      index: main.rowAtOffset(main.list.rows.find((r) => r.idstr === 'timer')!.start)!,
    });
    assert.deepEqual(
      full.fields.map((f) => f.name),
      ['section_type', 'section_id', 'idstr_len', 'idstr', 'instance_id', 'version_id'],
    );
    assert.equal(full.payloadLength, 8, "the timer's body, as the VM description delimits it");
    // A return-path message, from the other direction.
    const pong = await m.packet({ stream: 0, index: main.top + main.ram });
    assert.deepEqual(
      pong.fields.map((f) => [f.name, f.display]),
      [
        ['type', '2 (PONG)'],
        ['len', '4'],
        ['value', '1'],
      ],
    );
    await m.dispose();
  });

  it('links a main-channel diagnostic to the row holding its offset', async () => {
    const c = mainChannelCapture({ zeroRecords: 10 });
    const bytes = c.bytes;
    const analysis = await analyzeCapture(await openCaptureFromSource(new MemoryByteSource(bytes)));
    const m = await CaptureModel.load(analysis);
    const withStream = analysis.diagnostics.filter((d) => d.location.stream === 0 && d.location.packet === undefined);
    assert.ok(withStream.length > 0, 'the capture has main-channel diagnostics');
    for (const d of withStream) {
      const row = m.mainRowOf(d.location);
      assert.notEqual(row, undefined, `${d.code} at ${d.location.streamOffset} has a row`);
      const r = m.packets.main!;
      assert.ok(r.streamOffset(row!) <= d.location.streamOffset!, 'the row starts at or before the offset');
    }
    const listed = m.diagnostics(0, 100).items.filter((i) => i.packet?.stream === 0);
    assert.equal(listed.length, withStream.length, 'the diagnostics list links each one to its row');
    await m.dispose();
  });
});
