import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_CANVAS_SIDE,
  formatSize,
  formatTime,
  hexDumpLines,
  pageAt,
  pageCell,
  pageMapCanvas,
  pageMapGeometry,
  visibleMapRows,
} from './format';

test('hex dump lines', () => {
  const b = new Uint8Array(20).map((_, i) => (i === 0 ? 0x41 : i));
  const lines = hexDumpLines(b, 0x140);
  assert.equal(lines.length, 2);
  assert.equal(lines[0], '00000140  41 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  A...............');
  assert.ok(lines[1].startsWith('00000150  10 11 12 13 '));
  assert.ok(lines[1].endsWith(' ....'));
});

test('sizes and times', () => {
  assert.equal(formatSize(512), '512 B');
  assert.equal(formatSize(4096), '4.0 KiB');
  assert.equal(formatSize(256 << 20), '256 MiB');
  assert.equal(formatTime(1_500_000), '0.001500');
});

test('page map geometry fits width and keeps every page addressable', () => {
  for (const pages of [1, 100, 65536, 1 << 20]) {
    const g = pageMapGeometry(pages, 400);
    assert.ok(g.cols * g.cell <= 400);
    assert.ok(g.cell >= 1);
    if (pages <= 65536) assert.ok(g.cols * g.rows >= pages, `${pages}`);
  }
});

test('a 64 GiB block of 4 KiB pages: every page reachable, the canvas bounded on a 2x display', () => {
  const pages = (64 * 1024 ** 3) / 4096;
  for (const width of [200, 296, 650, 1600]) {
    const g = pageMapGeometry(pages, width);
    assert.equal(g.pagesPerCell, 1, 'one page a cell');
    assert.ok(g.cols * g.cell <= width);
    assert.ok(g.cols * g.rows >= pages, 'every page has a cell');
    assert.equal(g.height, g.rows * g.cell);
    assert.ok(g.height > 30000, `taller than the old 30,000 px cut (${g.height})`);
    for (const viewport of [80, 400, 700, 2000, 40000]) {
      const c = pageMapCanvas(g, viewport, 2);
      assert.ok(
        c.width <= MAX_CANVAS_SIDE && c.height <= MAX_CANVAS_SIDE,
        `${width}x${viewport}: ${c.width}x${c.height}`,
      );
      assert.ok(c.cssHeight <= viewport && c.cssWidth <= width);
    }
    // The last page: its row lies within the map, scrolled to the bottom it is drawn and a click there finds it.
    const last = pageCell(g, pages - 1);
    assert.equal(last.row, g.rows - 1);
    const viewport = 400;
    const bottom = g.height - viewport;
    const [first, end] = visibleMapRows(g, bottom, viewport);
    assert.ok(first <= last.row && last.row < end, 'the last row is drawn when scrolled to the bottom');
    const y = last.row * g.cell + g.cell / 2;
    assert.equal(pageAt(g, last.col * g.cell + g.cell / 2, y, pages), pages - 1);
    if (last.col + 1 < g.cols) assert.equal(pageAt(g, (last.col + 1) * g.cell + 1, y, pages), -1, 'past the last page');
    assert.equal(pageAt(g, 1, g.height + 1, pages), -1, 'below the map');
  }
});

test('a block too tall to lay out gives each cell several pages, still all reachable', () => {
  const pages = 2 ** 40 / 4096; // 1 TiB
  const g = pageMapGeometry(pages, 100);
  assert.ok(g.height <= 8_000_000, `${g.height}`);
  assert.ok(g.pagesPerCell > 1);
  assert.ok(g.cols * g.rows * g.pagesPerCell >= pages);
  const last = pageCell(g, pages - 1);
  assert.ok(last.row < g.rows);
  const p = pageAt(g, last.col * g.cell, last.row * g.cell, pages);
  assert.ok(p <= pages - 1 && p + g.pagesPerCell > pages - 1, 'the last cell holds the last page');
  const c = pageMapCanvas(g, 700, 3);
  assert.ok(c.width <= MAX_CANVAS_SIDE && c.height <= MAX_CANVAS_SIDE);
});

test('a canvas side past the limit lowers the backing scale, not the CSS size', () => {
  const g = { cell: 1, cols: 12000, rows: 100000, pagesPerCell: 1, height: 100000 };
  const c = pageMapCanvas(g, 12000, 2);
  assert.equal(c.cssWidth, 12000);
  assert.ok(c.width <= MAX_CANVAS_SIDE && c.height <= MAX_CANVAS_SIDE);
  assert.ok(c.scale < 2);
});
