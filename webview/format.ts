/** Pure formatting helpers for the webview (unit-tested without a DOM). */

export function hexOffset(n: number): string {
  return '0x' + n.toString(16);
}

export function byteHex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

export function asciiOf(b: number): string {
  return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
}

/** Classic 16-bytes-a-line dump: "00000010  01 02 …  |..|" lines; `base` is added to the shown offsets. */
export function hexDumpLines(bytes: Uint8Array, base = 0, width = 16): string[] {
  const lines: string[] = [];
  const digits = Math.max(8, (base + bytes.length).toString(16).length);
  for (let o = 0; o < bytes.length; o += width) {
    const row = bytes.subarray(o, o + width);
    let hex = '';
    let ascii = '';
    for (let i = 0; i < width; i++) {
      hex += i < row.length ? byteHex(row[i]) + ' ' : '   ';
      if (i === 7) hex += ' ';
      if (i < row.length) ascii += asciiOf(row[i]);
    }
    lines.push(`${(base + o).toString(16).padStart(digits, '0')}  ${hex} ${ascii}`);
  }
  return lines;
}

export function formatTime(ns: number): string {
  return (ns / 1e9).toFixed(6);
}

export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export { plural } from '../extension/shared/plural';

/** Chromium's canvases fail past 32,767 px a side; staying at half of that also bounds their memory. */
export const MAX_CANVAS_SIDE = 16384;
/** Browsers stop laying out past roughly 2^25 px: taller maps give each cell several pages. */
export const MAX_MAP_HEIGHT = 8_000_000;

/**
 * Page-map geometry: cell size and columns so the block's cells fit a width (a readable cell for small blocks,
 * down to 1 px), its rows as tall as they need (the map scrolls; only the visible rows are drawn), and, past
 * MAX_MAP_HEIGHT, several pages a cell.
 */
export interface PageMapGeometry {
  cell: number;
  cols: number;
  rows: number;
  /** Pages one cell stands for (1 unless the block would be taller than MAX_MAP_HEIGHT). */
  pagesPerCell: number;
  /** Height of the whole map in CSS px (the scrolled content). */
  height: number;
}

export function pageMapGeometry(pages: number, width: number): PageMapGeometry {
  const w = Math.max(16, Math.floor(width));
  let cell = 12;
  // The largest cell that keeps the map within about four pixels of height per row of pages at 1 px.
  while (cell > 1) {
    const cols = Math.floor(w / cell);
    if (Math.ceil(pages / cols) * cell <= Math.max(240, (pages * 4) / cols)) break;
    cell--;
  }
  const cols = Math.max(1, Math.floor(w / cell));
  const pagesPerCell = Math.max(1, Math.ceil(pages / (cols * Math.floor(MAX_MAP_HEIGHT / cell))));
  const rows = Math.max(1, Math.ceil(pages / pagesPerCell / cols));
  return { cell, cols, rows, pagesPerCell, height: rows * cell };
}

/** The cell (row, column) a page is drawn in. */
export function pageCell(g: PageMapGeometry, page: number): { row: number; col: number } {
  const c = Math.floor(page / g.pagesPerCell);
  return { row: Math.floor(c / g.cols), col: c % g.cols };
}

/** The first page of the cell under a point of the map (CSS px from its top-left, scrolling included), or -1. */
export function pageAt(g: PageMapGeometry, x: number, y: number, pages: number): number {
  const col = Math.floor(x / g.cell);
  const row = Math.floor(y / g.cell);
  if (x < 0 || y < 0 || col >= g.cols || row >= g.rows) return -1;
  const page = (row * g.cols + col) * g.pagesPerCell;
  return page < pages ? page : -1;
}

/**
 * The canvas for a viewport onto the map: as wide as the columns and as tall as the viewport (never the whole
 * map), its backing store scaled by the device pixel ratio but kept within MAX_CANVAS_SIDE on both sides.
 */
export function pageMapCanvas(
  g: PageMapGeometry,
  viewportHeight: number,
  devicePixelRatio: number,
): { cssWidth: number; cssHeight: number; scale: number; width: number; height: number } {
  const cssWidth = Math.min(g.cols * g.cell, MAX_CANVAS_SIDE);
  const cssHeight = Math.max(1, Math.min(g.height, Math.ceil(viewportHeight), MAX_CANVAS_SIDE));
  const scale = Math.max(0.1, Math.min(devicePixelRatio || 1, MAX_CANVAS_SIDE / cssWidth, MAX_CANVAS_SIDE / cssHeight));
  return {
    cssWidth,
    cssHeight,
    scale,
    width: Math.max(1, Math.floor(cssWidth * scale)),
    height: Math.max(1, Math.floor(cssHeight * scale)),
  };
}

/** The rows a viewport scrolled to `scrollTop` shows, [first, end). */
export function visibleMapRows(g: PageMapGeometry, scrollTop: number, viewportHeight: number): [number, number] {
  const first = Math.max(0, Math.floor(scrollTop / g.cell));
  return [Math.min(first, g.rows), Math.min(g.rows, Math.ceil((scrollTop + viewportHeight) / g.cell) + 1)];
}
