import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstVisibleRow, listOffsetAt, scrollTopFor, spacerHeight, type ScrollGeometry } from './scrollMapping';

const geometry = (rowCount: number, viewportHeight = 700): ScrollGeometry => ({
  rowCount,
  rowHeight: 22,
  viewportHeight,
  maxSpacer: 8_000_000,
});

/** Rows any part of which is visible at a scrollTop. */
function visibleRows(scrollTop: number, g: ScrollGeometry): [number, number] {
  const top = listOffsetAt(scrollTop, g);
  return [
    Math.floor(top / g.rowHeight),
    Math.min(g.rowCount - 1, Math.ceil((top + g.viewportHeight) / g.rowHeight) - 1),
  ];
}

for (const rows of [10, 1000, 360_000, 364_000, 1_000_000, 2_000_000]) {
  for (const height of [300, 700, 1000]) {
    test(`${rows.toLocaleString('en-US')} rows, a ${height} px viewport: both ends and every row reachable`, () => {
      const g = geometry(rows, height);
      const bottom = Math.max(0, spacerHeight(g) - height);
      assert.equal(visibleRows(0, g)[0], 0, 'the first row at the top');
      const [, last] = visibleRows(bottom, g);
      assert.equal(last, Math.max(0, rows - 1), 'the last row in view at the bottom of the scrollbar');
      // Scrolling a row into view at the top puts exactly that row first, wherever it is.
      for (const i of [0, 1, Math.floor(rows / 3), rows - Math.floor(height / 22), rows - 1]) {
        if (i < 0) continue;
        const st = scrollTopFor(i * g.rowHeight, g);
        assert.ok(st >= 0 && st <= bottom, `scrollTop ${st} of ${bottom}`);
        const [a, b] = visibleRows(st, g);
        assert.ok(a <= i && i <= b, `row ${i} visible (rows ${a}..${b})`);
      }
    });
  }
}

test('a list under the cap maps one to one', () => {
  const g = geometry(1000);
  assert.equal(listOffsetAt(1234, g), 1234);
  assert.equal(scrollTopFor(1234, g), 1234);
  assert.equal(firstVisibleRow(1234, g), 56);
});

test('a capped list: monotone, and the scroll range is the list range scaled', () => {
  const g = geometry(1_000_000);
  assert.equal(spacerHeight(g), 8_000_000);
  let prev = -1;
  for (let st = 0; st <= 8_000_000 - 700; st += 99_991) {
    const off = listOffsetAt(st, g);
    assert.ok(off > prev);
    prev = off;
  }
  assert.equal(listOffsetAt(8_000_000 - 700, g), 22_000_000 - 700);
});
