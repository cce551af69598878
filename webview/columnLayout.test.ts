import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnTracks, gridTemplate, tracksWidth, withColumnHidden, withColumnWidth } from './columnLayout';

const DEFAULTS = [
  { key: 'stream', width: 100 },
  { key: 'packet_num', width: 60 },
  { key: 'flags', width: 130, grow: true },
];

test('defaults: every column, grow columns take spare room', () => {
  const t = columnTracks(DEFAULTS, undefined);
  assert.deepEqual(
    t.map((c) => c.key),
    ['stream', 'packet_num', 'flags'],
  );
  assert.equal(gridTemplate(t), '100px 60px minmax(130px, 1fr)');
  assert.equal(tracksWidth(t), 290);
});

test('a header never gets narrower than its measured label', () => {
  const t = columnTracks(DEFAULTS, withColumnWidth(undefined, 'packet_num', 45), new Map([['packet_num', 98]]));
  assert.equal(t[1].width, 98, 'the sorted header "packet_num ▲" fits');
});

test('hidden and resized columns, and never all hidden', () => {
  let p = withColumnHidden(DEFAULTS, undefined, 'stream', true);
  p = withColumnWidth(p, 'flags', 200);
  const t = columnTracks(DEFAULTS, p);
  assert.deepEqual(
    t.map((c) => c.key),
    ['packet_num', 'flags'],
  );
  assert.equal(gridTemplate(t), '60px 200px', 'a column resized by hand keeps its width');
  p = withColumnHidden(DEFAULTS, p, 'packet_num', true);
  p = withColumnHidden(DEFAULTS, p, 'flags', true);
  assert.deepEqual(p.hidden, ['stream', 'packet_num'], 'the last visible column stays');
  assert.equal(columnTracks(DEFAULTS, { hidden: ['stream', 'packet_num', 'flags'] }).length, 1);
  p = withColumnHidden(DEFAULTS, p, 'stream', false);
  assert.deepEqual(p.hidden, ['packet_num']);
});
