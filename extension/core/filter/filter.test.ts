import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilter, filterFieldHelp } from './filter';
import { FILTER_FIELD_MAP, unmappedLayoutFields, type FilterRow } from './fields';
import { RAM_PACKET_LAYOUT, DEVICE_STATE_LAYOUT, MULTIFD_INIT_LAYOUT } from '../multifd/layouts';
import type { PacketSummary } from '../multifd/packetTable';

function summary(over: Partial<PacketSummary> = {}): PacketSummary {
  return {
    stream: 1,
    index: 0,
    kind: 'ram',
    headerOffset: 64,
    headerLength: 1344,
    payloadOffset: 1408,
    payloadLength: 8192,
    flags: 0,
    sync: false,
    method: 'none',
    pagesAlloc: 128,
    normalPages: 2,
    zeroPages: 1,
    nextPacketSize: 8192,
    packetNum: 7,
    ramblock: 'pc.ram',
    instanceId: 0,
    epoch: 0,
    timestampNs: 1000,
    severity: 0,
    ...over,
  };
}
function row(over: Partial<PacketSummary> = {}, extra: Partial<FilterRow> = {}): FilterRow {
  return { summary: summary(over), channel: 2, offsets: { normal: [0x1f000, 0x20000], zero: [0x30000] }, ...extra };
}
function run(expr: string, r: FilterRow) {
  const p = parseFilter(expr);
  if (!p.ok) assert.fail(`${expr}: ${p.error.message} at ${p.error.start}`);
  return p.filter.test(r);
}
function error(expr: string) {
  const p = parseFilter(expr);
  assert.equal(p.ok, false, `${expr} should not parse`);
  return (p as { ok: false; error: { message: string; start: number; end: number } }).error;
}

test('every layout filterName is a filter field', () => {
  assert.deepEqual(unmappedLayoutFields(), []);
  for (const layout of [MULTIFD_INIT_LAYOUT, RAM_PACKET_LAYOUT, DEVICE_STATE_LAYOUT])
    for (const f of layout.fields) if (f.filterName) assert.ok(FILTER_FIELD_MAP.has(f.filterName), f.filterName);
  for (const name of [
    'channel',
    'stream',
    'epoch',
    'sync',
    'offset',
    'method',
    'kind',
    'zero',
    'normal',
    'ramblock',
    'packet_num',
  ])
    assert.ok(FILTER_FIELD_MAP.has(name), name);
  assert.ok(
    filterFieldHelp()
      .find((f) => f.name === 'zero')!
      .cField!.includes('MultiFDPacket_t.zero_pages'),
  );
});

test('empty filter matches everything', () => {
  assert.equal(run('', row()), true);
  assert.equal(run('   ', row()), true);
});

test('examples from the issue', () => {
  assert.equal(run('channel == 2 && sync', row({ sync: true, flags: 1 })), true);
  assert.equal(run('channel == 2 && sync', row()), false);
  assert.equal(run('zero > 0', row()), true);
  assert.equal(run('zero > 0', row({ zeroPages: 0 })), false);
  assert.equal(run('ramblock == "pc.ram" && offset == 0x1f000', row()), true);
  assert.equal(run('ramblock == "mem" && offset == 0x1f000', row()), false);
});

test('numbers, strings, keywords, precedence', () => {
  assert.equal(run('packet_num == 7', row()), true);
  assert.equal(run('packet_num == 0b111', row()), true);
  assert.equal(run('next_packet_size == 8_192', row()), true);
  assert.equal(run("ramblock == 'pc.ram'", row()), true);
  assert.equal(run('ramblock contains "ram"', row()), true);
  assert.equal(run('not sync and (normal >= 2 or zero == 9)', row()), true);
  assert.equal(run('sync || normal == 2 && zero == 9', row()), false, '&& binds tighter than ||');
  assert.equal(run('!(sync || normal == 2)', row()), false);
  assert.equal(run('flags & 0x1', row({ flags: 3 })), true);
  assert.equal(run('flags & 0x1 == 0', row({ flags: 2 })), true);
  assert.equal(run('method == "zlib"', row({ method: 'zlib' })), true);
  assert.equal(run('kind == "device-state" && idstr == "vfio"', row({ kind: 'device-state', ramblock: 'vfio' })), true);
  assert.equal(run('idstr == "pc.ram"', row()), false, 'idstr applies to device-state packets only');
  assert.equal(run('packet_num != 3', row({ kind: 'device-state', packetNum: -1 })), true);
  assert.equal(run('sync == false', row()), true);
  assert.equal(run('epoch in 0..2', row({ epoch: 2 })), true);
});

test('offset sets match any member; != means none', () => {
  assert.equal(run('offset == 0x30000', row()), true);
  assert.equal(run('zero_offset == 0x30000', row()), true);
  assert.equal(run('normal_offset == 0x30000', row()), false);
  assert.equal(run('offset != 0x1f000', row()), false);
  assert.equal(run('offset != 0x99000', row()), true);
  assert.equal(run('0x20000 == offset', row()), true);
  assert.equal(run('offset in 0x21000..0x2ffff', row()), false);
  assert.equal(run('offset in 0x21000..0x30000', row()), true);
  assert.equal(run('offset > 0x2ffff', row()), true);
  assert.equal(run('0x2ffff < offset', row()), true);
  assert.equal(run('zero_offset', row()), true);
});

test('three-valued evaluation when offsets are not read', () => {
  const noOffsets = row({}, { offsets: undefined });
  assert.equal(run('offset == 0x1f000', noOffsets), undefined);
  assert.equal(run('ramblock == "mem" && offset == 0x1f000', noOffsets), false, 'decided without offsets');
  assert.equal(run('ramblock == "pc.ram" && offset == 0x1f000', noOffsets), undefined);
  assert.equal(run('sync || offset == 1', row({ sync: true }, { offsets: undefined })), true);
  assert.equal(run('!(offset == 1)', noOffsets), undefined);
  const p = parseFilter('zero > 0 && offset == 1');
  assert.ok(p.ok && p.filter.needsOffsets);
  const q = parseFilter('zero > 0');
  assert.ok(q.ok && !q.filter.needsOffsets);
});

test('syntax and type errors carry positions', () => {
  let e = error('channel == ');
  assert.match(e.message, /ends too early/);
  e = error('chanel == 2');
  assert.match(e.message, /unknown field "chanel".*channel/);
  assert.deepEqual([e.start, e.end], [0, 6]);
  e = error('ramblock == 3');
  assert.match(e.message, /cannot compare a string with a number/);
  assert.deepEqual([e.start, e.end], [0, 13]);
  e = error('zero = 1');
  assert.match(e.message, /use "=="/);
  assert.equal(e.start, 5);
  e = error('(sync');
  assert.match(e.message, /missing "\)"/);
  e = error('sync)');
  assert.match(e.message, /unbalanced/);
  e = error('ramblock == "pc.ram');
  assert.match(e.message, /unterminated string/);
  assert.equal(e.start, 12);
  e = error('zero > 0x');
  assert.match(e.message, /malformed number/);
  e = error('zero > 12abc');
  assert.match(e.message, /malformed number "12abc"/);
  e = error('sync > true');
  assert.match(e.message, /does not apply/);
  e = error('zero $ 1');
  assert.match(e.message, /unexpected character "\$"/);
  assert.equal(e.start, 5);
  e = error('offset == offset');
  assert.match(e.message, /two offset sets/);
  e = error('zero 1');
  assert.match(e.message, /unexpected "1"/);
  e = error('ramblock in 1..2');
  assert.match(e.message, /"in" needs/);
  e = error('ramblock & 1');
  assert.match(e.message, /"&" needs numbers/);
});

test('a capture-controlled string cannot break the evaluator', () => {
  const nasty = row({ ramblock: '"); alert(1); ("' });
  assert.equal(run('ramblock == "\\"); alert(1); (\\""', nasty), true);
  assert.equal(run('ramblock contains "alert"', nasty), true);
});

test('deep nesting is a syntax error with its position, not a stack overflow', () => {
  const deep = '('.repeat(1000) + 'sync' + ')'.repeat(1000);
  const e = error(deep);
  assert.match(e.message, /nested too deeply/);
  assert.ok(e.start > 0 && e.start < 1000, `position ${e.start}`);
  assert.match(error('!'.repeat(100_000) + 'sync').message, /nested too deeply/);
  assert.match(error('(('.repeat(50_000) + 'sync').message, /nested too deeply/);
  // Nesting a person writes still parses.
  assert.equal(run('('.repeat(50) + 'sync' + ')'.repeat(50), row({ sync: true })), true);
  assert.equal(run('!!!!sync', row({ sync: true })), true);
});

test('a long flat || / && chain parses and evaluates without recursion', () => {
  const terms = 20_000;
  const or = Array.from({ length: terms }, (_, i) => `packet_num == ${i + 100}`).join(' || ');
  assert.equal(run(or, row({ packetNum: terms + 99 })), true);
  assert.equal(run(or, row({ packetNum: 7 })), false);
  const and = Array.from({ length: terms }, () => 'normal == 2').join(' && ');
  assert.equal(run(and, row()), true);
  assert.equal(run(and + ' && zero == 9', row()), false);
  const mixed = Array.from({ length: terms }, (_, i) => `normal == 2 && packet_num == ${i}`).join(' or ');
  assert.equal(run(mixed, row({ packetNum: terms - 1 })), true);
  // Unknown (offsets not read) stays unknown through the chain unless a decisive term settles it.
  const withOffsets = Array.from({ length: terms }, () => 'offset == 1').join(' || ');
  assert.equal(run(withOffsets, row({}, { offsets: undefined })), undefined);
  assert.equal(run(withOffsets + ' || sync', row({ sync: true }, { offsets: undefined })), true);
  const bits = Array.from({ length: terms }, () => '0xff').join(' & ');
  assert.equal(run(`flags & ${bits}`, row({ flags: 3 })), true);
});

test('main-channel rows: their fields match them, multifd-only fields do not', () => {
  const main = (over: Partial<NonNullable<FilterRow['main']>> = {}): FilterRow => ({
    main: {
      stream: 0,
      index: 12,
      kind: 'ram-record',
      record: 'ZERO',
      section: 'ram',
      ramblock: 'pc.ram',
      offset: 0x2000,
      pageKind: 'zero',
      epoch: 1,
      timestampNs: 5000,
      severity: 0,
      returnPath: false,
      ...over,
    },
    channel: -1,
    offsets: { normal: [], zero: [0x2000] },
  });
  assert.equal(run('stream == 0', main()), true);
  assert.equal(run('record == "ZERO" && section == "ram" && ramblock == "pc.ram"', main()), true);
  assert.equal(run('zero_offset == 0x2000 && main && !returnpath', main()), true);
  assert.equal(run('kind == "ram-record" && epoch == 1 && time == 5000', main()), true);
  assert.equal(run('packet_num >= 0 || sync || normal > 0', main()), false, 'multifd fields are absent, not zero');
  const cmd = main({ kind: 'main', record: 'COMMAND', command: 'POSTCOPY_ADVISE', section: undefined, ramblock: '' });
  assert.equal(run('command == "POSTCOPY_ADVISE" && cmd == "POSTCOPY_ADVISE"', cmd), true);
  assert.equal(run('ramblock == ""', cmd), false, 'a row without a block has no ramblock');
  const dev = main({ kind: 'main', record: 'FULL', section: 'timer', device: 'timer', instanceId: 0, versionId: 2 });
  assert.equal(run('device == "timer" && instance_id == 0 && version == 2', dev), true);
  assert.equal(run('returnpath', main({ kind: 'return-path', record: 'PONG', returnPath: true })), true);
  // A device-state packet's idstr is a device too; a multifd RAM packet is not main.
  assert.equal(run('device == "vfio" && !main', row({ kind: 'device-state', ramblock: 'vfio' })), true);
  assert.equal(run('main || returnpath', row()), false);
  const names = filterFieldHelp().map((f) => f.name);
  for (const n of ['record', 'section', 'device', 'command', 'cmd', 'returnpath', 'main', 'version'])
    assert.ok(names.includes(n), `${n} is offered by the filter's help`);
  assert.equal(parseFilter('record == 3').ok, false, 'record is a string');
});
