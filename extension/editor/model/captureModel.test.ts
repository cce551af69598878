import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCaptureFile } from '../../core/analysis';
import { MfdBuilder } from '../../core/capture/mfdWriter';
import { MultifdChannelEncoder, page } from '../../../test/support/multifdEncoder';
import { makeLargeCapture } from '../../../test/support/makeLargeCapture';
import { PACKET_COLUMNS, SORT_COLUMNS } from '../../shared/packetColumns';
import { CaptureModel } from './captureModel';
import { csvCell, exportChunks } from './exportPackets';

const PS = 4096;
const dir = mkdtempSync(join(tmpdir(), 'mfd-model-'));
const models: CaptureModel[] = [];
function track(m: CaptureModel): CaptureModel {
  models.push(m);
  return m;
}
after(async () => {
  for (const m of models) await m.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Two channels: channel 0 nocomp-style zlib off, channel 1 zlib; SYNCs; zero pages; a re-sent page. */
async function smallCapture(method: 'none' | 'zlib'): Promise<string> {
  const c0 = new MultifdChannelEncoder({ version: '9.2', pageSize: PS, channelId: 0, method });
  const c1 = new MultifdChannelEncoder({ version: '9.2', pageSize: PS, channelId: 1, method });
  await c0.packet({
    ramblock: 'pc.ram',
    normal: [
      { offset: 0x1f000, data: page(PS, 1) },
      { offset: 0x20000, data: page(PS, 2) },
    ],
    zero: [0x30000],
    packetNum: 1,
  });
  await c1.packet({ ramblock: 'pc.ram', normal: [{ offset: 0x40000, data: page(PS, 3) }], packetNum: 2 });
  c0.sync(3);
  c1.sync(3);
  await c0.packet({ ramblock: 'pc.ram', normal: [{ offset: 0x50000, data: page(PS, 4) }], packetNum: 4 });
  await c1.packet({ ramblock: 'mem', zero: [0x1f000, 0x0], packetNum: 5 });
  await c1.packet({ ramblock: 'pc.ram', normal: [{ offset: 0x1f000, data: page(PS, 9) }], packetNum: 6 });
  const b = new MfdBuilder().meta({ pageSize: PS, parameters: { 'multifd-compression': method } });
  b.open(1, { label: 'ch0' }).open(2, { label: 'ch1' });
  b.data(1, c0.bytes()).data(2, c1.bytes()).close(1).close(2);
  const path = join(dir, `small-${method}.mfd`);
  writeFileSync(path, b.build());
  return path;
}

test('rows, sort, filter, locate', async () => {
  const m = track(new CaptureModel(await analyzeCaptureFile(await smallCapture('none'))));
  assert.equal(m.total, 7);
  assert.equal(m.currentView.rowCount, 7);
  const all = m.rows(0, 100).rows;
  assert.equal(all.length, 7);
  assert.deepEqual(
    all.map((r) => r.viewIndex),
    [0, 1, 2, 3, 4, 5, 6],
  );
  const first = all.find((r) => r.stream === 1 && r.index === 0)!;
  assert.equal(first.channel, 0);
  assert.equal(first.normalPages, 2);
  assert.equal(first.zeroPages, 1);
  assert.equal(first.ramblock, 'pc.ram');

  let v = await m.setView({ filter: 'channel == 1 && sync', sort: { column: 'time', direction: 'asc' } });
  assert.equal(v.rowCount, 1);
  assert.equal(m.rows(0, 10).rows[0].sync, true);

  v = await m.setView({ filter: 'zero > 0', sort: { column: 'zero_pages', direction: 'desc' } });
  assert.equal(v.rowCount, 2);
  assert.deepEqual(
    m.rows(0, 10).rows.map((r) => r.zeroPages),
    [2, 1],
  );

  v = await m.setView({
    filter: 'ramblock == "pc.ram" && offset == 0x1f000',
    sort: { column: 'packet_num', direction: 'asc' },
  });
  assert.equal(v.rowCount, 2);
  assert.deepEqual(
    m.rows(0, 10).rows.map((r) => r.packetNum),
    [1, 6],
  );
  assert.equal(m.locate({ stream: 2, index: 3 }), 1);
  assert.equal(m.locate({ stream: 2, index: 0 }), -1);

  const bad = await m.setView({ filter: 'ramblock == ', sort: { column: 'time', direction: 'asc' } });
  assert.ok(bad.error);
  assert.equal(bad.rowCount, 2, 'a bad filter keeps the current view');

  await m.setView({ filter: '', sort: { column: 'packet_num', direction: 'desc' } });
  const nums = m.rows(0, 10).rows.map((r) => r.packetNum);
  assert.deepEqual(
    nums,
    [...nums].sort((a, b) => b - a),
  );
});

test('a newer view cancels an older one', async () => {
  const m = track(new CaptureModel(await analyzeCaptureFile(await smallCapture('none'))));
  const a = m.setView({ filter: 'offset == 0x1f000', sort: { column: 'time', direction: 'asc' } });
  const b = m.setView({ filter: 'sync', sort: { column: 'time', direction: 'asc' } });
  const [ra, rb] = await Promise.all([a, b]);
  assert.equal(rb.rowCount, 2);
  assert.ok(ra.cancelled || ra.viewId < rb.viewId);
  assert.equal(m.currentView.rowCount, 2);
});

test('packet details come from the layout; offsets split normal / zero', async () => {
  const m = track(new CaptureModel(await analyzeCaptureFile(await smallCapture('none'))));
  const d = await m.packet({ stream: 1, index: 0 });
  assert.equal(d.cStruct, 'MultiFDPacket_t');
  const names = d.fields.map((f) => f.name);
  for (const n of [
    'magic',
    'version',
    'flags',
    'pages_alloc',
    'normal_pages',
    'next_packet_size',
    'packet_num',
    'zero_pages',
    'ramblock',
  ])
    assert.ok(names.includes(n), n);
  const zero = d.fields.find((f) => f.name === 'zero_pages')!;
  assert.deepEqual([zero.offset, zero.width, zero.filterName], [32, 4, 'zero']);
  assert.deepEqual(
    d.offsets.map((o) => [o.slot, o.value, o.kind, o.headerOffset]),
    [
      [0, 0x1f000, 'normal', 320],
      [1, 0x20000, 'normal', 328],
      [2, 0x30000, 'zero', 336],
    ],
  );
  assert.equal(d.header.length, 320 + 8 * 128);
  assert.equal(d.unusedSlots, 125);
  await assert.rejects(m.packet({ stream: 9, index: 0 }), /no packet/);
  await assert.rejects(m.packet({ stream: 1, index: 99 }), /no packet/);
});

for (const method of ['none', 'zlib'] as const) {
  test(`page content (${method})`, async () => {
    const m = track(new CaptureModel(await analyzeCaptureFile(await smallCapture(method))));
    const p1 = await m.page({ stream: 1, index: 0 }, 1);
    assert.equal(p1.source, method === 'none' ? 'payload' : 'decoded');
    assert.deepEqual(p1.bytes, page(PS, 2));
    // A later packet of the channel, then an earlier one again (the codec stream restarts).
    const p4 = await m.page({ stream: 1, index: 2 }, 0);
    assert.deepEqual(p4.bytes, page(PS, 4));
    const again = await m.page({ stream: 1, index: 0 }, 0);
    assert.deepEqual(again.bytes, page(PS, 1));
    const z = await m.page({ stream: 1, index: 0 }, 2);
    assert.equal(z.source, 'zero');
    assert.equal(
      z.bytes!.every((b) => b === 0),
      true,
    );
    const payload = await m.payload({ stream: 1, index: 0 }, 0, 1 << 30);
    assert.equal(payload.total, payload.bytes.length);
  });
}

test('page map and page writers', async () => {
  const m = track(new CaptureModel(await analyzeCaptureFile(await smallCapture('none'))));
  assert.deepEqual(m.blocks().sort(), ['mem', 'pc.ram']);
  const map = await m.pageMap('pc.ram');
  assert.equal(map.states[0x1f], 3, 're-sent');
  assert.equal(map.states[0x20], 1, 'normal');
  assert.equal(map.states[0x30], 2, 'zero');
  assert.equal(map.states[0x21], 0, 'never');
  const writers = await m.pageWriters('pc.ram', 0x1f000 + 5);
  assert.equal(writers.length, 2);
  assert.deepEqual(
    writers.map((w) => w.ref),
    [
      { stream: 1, index: 0 },
      { stream: 2, index: 3 },
    ],
  );
  const any = await m.pageWriters(undefined, 0x1f000);
  assert.equal(any.length, 3, 'pc.ram twice and mem once');
  m.setMismatches(new Map([['pc.ram', [{ start: 0x20000, end: 0x21000 }]]]));
  assert.equal((await m.pageMap('pc.ram')).states[0x20], 4);
});

test('export honours the filter and defuses formulas', async () => {
  const m = track(new CaptureModel(await analyzeCaptureFile(await smallCapture('none'))));
  await m.setView({ filter: 'zero > 0', sort: { column: 'time', direction: 'asc' } });
  const csv = [...exportChunks(m, 'csv')].join('');
  const lines = csv.trim().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^stream,channel,index,kind,epoch,packet_num/);
  const json = JSON.parse([...exportChunks(m, 'json')].join(''));
  assert.equal(json.packets.length, 2);
  assert.equal(json.filter, 'zero > 0');
  assert.equal(csvCell('=cmd()'), "'=cmd()");
  assert.equal(csvCell('a,"b"'), '"a,""b"""');
});

test('synthetic capture: 20k packets index, sort and filter quickly', async () => {
  const path = join(dir, 'large.mfd');
  const made = await makeLargeCapture(path, { packets: 20_000, syncEvery: 2000 });
  let t = performance.now();
  const m = track(new CaptureModel(await analyzeCaptureFile(path)));
  const analyzeMs = performance.now() - t;
  assert.equal(m.total, made.packets);
  t = performance.now();
  await m.setView({ filter: 'sync || zero > 6 && channel == 2', sort: { column: 'packet_num', direction: 'desc' } });
  const viewMs = performance.now() - t;
  t = performance.now();
  const r = await m.setView({ filter: 'offset == 0x1000', sort: { column: 'time', direction: 'asc' } });
  const offsetMs = performance.now() - t;
  assert.ok(r.rowCount > 0);
  console.log(
    `# 20k packets: analyze ${analyzeMs.toFixed(0)} ms, filter+sort ${viewMs.toFixed(0)} ms, offset filter ${offsetMs.toFixed(0)} ms`,
  );
});

test('every declared sort column orders the view by that column', async () => {
  const m = track(new CaptureModel(await analyzeCaptureFile(await smallCapture('none'))));
  const exported = new Map(PACKET_COLUMNS.map((c) => [c.key as string, c]));
  for (const column of SORT_COLUMNS) {
    for (const direction of ['asc', 'desc'] as const) {
      const v = await m.setView({ filter: '', sort: { column, direction } });
      assert.equal(v.rowCount, 7, column);
      const col = exported.get(column);
      assert.ok(col, column);
      const keys = m.rows(0, 100).rows.map((r) => {
        const x = col.exportValue(r);
        return typeof x === 'string' && /^0x/.test(x) ? parseInt(x, 16) : x;
      });
      const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      assert.deepEqual(keys, direction === 'asc' ? sorted : sorted.reverse(), `${column} ${direction}`);
    }
  }
  await assert.rejects(
    m.setView({ filter: '', sort: { column: 'normal' as never, direction: 'asc' } }),
    /cannot be sorted by "normal"/,
  );
  assert.deepEqual(
    [...exportChunks(m, 'csv')][0].trim().split(','),
    PACKET_COLUMNS.map((c) => c.exportName),
  );
});
