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

/** Page-map geometry: cell size and columns so `pages` cells fit a width, with a readable minimum. */
export function pageMapGeometry(
  pages: number,
  width: number,
  maxHeight = 30000,
): { cell: number; cols: number; rows: number } {
  const w = Math.max(16, Math.floor(width));
  let cell = 12;
  while (cell > 1) {
    const cols = Math.floor(w / cell);
    if (Math.ceil(pages / cols) * cell <= Math.max(240, Math.min(maxHeight, (pages * 4) / cols))) break;
    cell--;
  }
  const cols = Math.max(1, Math.floor(w / cell));
  let rows = Math.ceil(pages / cols);
  if (rows * cell > maxHeight) rows = Math.ceil(maxHeight / cell);
  return { cell, cols, rows };
}
