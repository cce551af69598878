import { LIST_COLUMNS, isSortColumn, type ListColumn } from '../extension/shared/packetColumns';
import type { PacketRef, PacketRow, SortColumn, ViewSpec } from '../extension/shared/protocol';
import type { Rpc } from './rpc';
import { clear, el, icon } from './dom';
import { formatTime, hexOffset } from './format';
import { firstVisibleRow, listOffsetAt, scrollTopFor, spacerHeight, type ScrollGeometry } from './scrollMapping';

export const ROW_HEIGHT = 22;
const BLOCK = 256;

/** How the list shows each of its columns (which columns, their order and labels: extension/shared/packetColumns). */
interface ColumnLook {
  cls: string;
  /** CSS grid track of the column. */
  width: string;
  cell(r: PacketRow): string;
}

const isMainRow = (r: PacketRow) => r.kind === 'main' || r.kind === 'ram-record' || r.kind === 'return-path';

/** The ramblock column: RAM records add their page offset; other main-channel rows show their section. */
function blockCell(r: PacketRow): string {
  if (r.kind === 'device-state') return `[dev] ${r.ramblock}`;
  if (r.kind === 'ram-record') return r.offset !== undefined ? `${r.ramblock} @${hexOffset(r.offset)}` : r.ramblock;
  if (r.kind === 'main')
    return r.section !== undefined ? `[${r.section === 'ram' ? 'ram' : 'dev'}] ${r.section}` : r.ramblock;
  return r.ramblock;
}

function streamCell(r: PacketRow): string {
  if (r.kind === 'return-path') return `${r.stream} / return path`;
  if (isMainRow(r)) return `${r.stream} / main`;
  return `${r.stream} / ${r.channel < 0 ? '?' : r.channel}`;
}

const LOOK: Record<ListColumn, ColumnLook> = {
  stream: { cls: 'c-stream', width: '90px', cell: streamCell },
  epoch: { cls: 'c-num', width: '56px', cell: (r) => String(r.epoch) },
  packet_num: { cls: 'c-num', width: '96px', cell: (r) => (r.packetNum < 0 ? '—' : String(r.packetNum)) },
  flags: { cls: 'c-flags', width: 'minmax(120px, 1.2fr)', cell: (r) => r.flagsText },
  ramblock: { cls: 'c-block', width: 'minmax(100px, 1fr)', cell: blockCell },
  normal_pages: {
    cls: 'c-num',
    width: '110px',
    cell: (r) => (r.kind === 'ram-record' || !isMainRow(r) ? String(r.normalPages) : ''),
  },
  zero_pages: {
    cls: 'c-num',
    width: '96px',
    cell: (r) => (r.kind === 'ram-record' || !isMainRow(r) ? String(r.zeroPages) : ''),
  },
  next_packet_size: { cls: 'c-num', width: '140px', cell: (r) => (isMainRow(r) ? '' : String(r.nextPacketSize)) },
  time: { cls: 'c-time', width: '100px', cell: (r) => formatTime(r.timeNs) },
};

const COLUMNS = LIST_COLUMNS.map((c) => ({ ...c, ...LOOK[c.key] }));

const SEVERITY_LABEL = ['', 'info', 'warning', 'error'];

/**
 * The packet list: a virtualized grid. Only the visible rows exist in the DOM; rows are fetched from the
 * host in blocks of the current view (filtered and sorted there). Arrow keys, Page Up/Down, Home/End move
 * the selection; Enter moves focus to the details.
 */
export class PacketList {
  readonly root: HTMLElement;
  private readonly header: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly layer: HTMLElement;
  private readonly status: HTMLElement;
  private readonly headerCells = new Map<ListColumn, HTMLElement>();
  private viewId = 0;
  private rowCount = 0;
  private readonly blocks = new Map<number, PacketRow[]>();
  private readonly loading = new Set<number>();
  private pool: HTMLElement[] = [];
  private selectedIndex = -1;
  private selectedRef?: PacketRef;
  private rafPending = false;
  /** When a view is taller than this many pixels, the spacer is scaled (browsers cap element heights). */
  private readonly maxSpacer = 8_000_000;

  onSelect: (ref: PacketRef, row: PacketRow) => void = () => {};
  onActivate: () => void = () => {};
  onSort: (column: SortColumn) => void = () => {};
  onScroll: (top: number) => void = () => {};

  constructor(private readonly rpc: Rpc) {
    this.root = el('div', {
      class: 'packet-list',
      attrs: {
        role: 'grid',
        'aria-label': 'Packets',
        'aria-rowcount': 0,
        'aria-colcount': COLUMNS.length,
        tabindex: 0,
        'aria-multiselectable': 'false',
      },
    });
    this.header = el('div', { class: 'row header-row', attrs: { role: 'row', 'aria-rowindex': 1 } });
    // One CSS grid for the header and every row, in the declared column order.
    this.root.style.setProperty('--list-columns', COLUMNS.map((c) => c.width).join(' '));
    for (const c of COLUMNS) {
      const key = c.key;
      const sortable = isSortColumn(key);
      const cell = el(
        'div',
        {
          class: `cell ${c.cls}`,
          attrs: {
            role: 'columnheader',
            'aria-sort': sortable ? 'none' : undefined,
            title: sortable ? `${c.describe} (click to sort)` : c.describe,
          },
        },
        [el('span', { class: 'label', text: c.label }), el('span', { class: 'sort-icon' })],
      );
      if (sortable) cell.addEventListener('click', () => this.onSort(key));
      this.headerCells.set(key, cell);
      this.header.append(cell);
    }
    this.viewport = el('div', { class: 'viewport' });
    this.spacer = el('div', { class: 'spacer' });
    this.layer = el('div', { class: 'layer', attrs: { role: 'rowgroup' } });
    this.viewport.append(this.spacer, this.layer);
    this.status = el('div', { class: 'list-status', attrs: { 'aria-live': 'polite' } });
    this.root.append(this.header, this.viewport, this.status);
    this.viewport.addEventListener('scroll', () => {
      this.schedule();
      this.onScroll(this.viewport.scrollTop);
    });
    new ResizeObserver(() => this.schedule()).observe(this.viewport);
    this.root.addEventListener('keydown', (e) => this.key(e));
    this.layer.addEventListener('click', (e) => {
      const rowEl = (e.target as HTMLElement).closest<HTMLElement>('.row');
      if (rowEl?.dataset.index) this.select(Number(rowEl.dataset.index));
      this.root.focus();
    });
    this.layer.addEventListener('dblclick', () => this.onActivate());
  }

  setSort(sort: ViewSpec['sort']): void {
    for (const [key, cell] of this.headerCells) {
      const on = key === sort.column;
      cell.setAttribute('aria-sort', on ? (sort.direction === 'asc' ? 'ascending' : 'descending') : 'none');
      const i = cell.querySelector('.sort-icon');
      if (!i) continue;
      clear(i);
      if (on) i.append(icon(sort.direction === 'asc' ? 'triangle-up' : 'triangle-down'));
    }
  }

  /** A new view from the host: drop cached rows, keep the selected packet if it is still there. */
  async setView(
    viewId: number,
    rowCount: number,
    totalCount: number,
    keepScroll?: number,
    mainCount = 0,
  ): Promise<void> {
    this.viewId = viewId;
    this.rowCount = rowCount;
    this.blocks.clear();
    this.loading.clear();
    this.root.setAttribute('aria-rowcount', String(rowCount + 1));
    this.spacer.style.height = `${spacerHeight(this.geometry())}px`;
    const n = (x: number) => x.toLocaleString('en-US');
    const whole = mainCount
      ? `${n(totalCount - mainCount)} packets and ${n(mainCount)} main-channel rows`
      : `${n(totalCount)} packets`;
    this.status.textContent =
      rowCount === totalCount
        ? whole
        : `${n(rowCount)} of ${n(totalCount)} ${mainCount ? 'rows' : 'packets'} match the filter`;
    this.selectedIndex = -1;
    if (this.selectedRef) {
      const { viewIndex } = await this.rpc.request('locate', { ...this.selectedRef, viewId });
      this.selectedIndex = viewIndex;
    }
    if (keepScroll !== undefined) this.viewport.scrollTop = keepScroll;
    else if (this.selectedIndex >= 0) this.scrollIntoView(this.selectedIndex);
    this.render();
  }

  /** Selects a packet by reference (reveal); returns false when the current view does not hold it. */
  async reveal(ref: PacketRef): Promise<boolean> {
    const { viewIndex } = await this.rpc.request('locate', { ...ref, viewId: this.viewId });
    if (viewIndex < 0) return false;
    this.select(viewIndex, true);
    return true;
  }

  focus(): void {
    this.root.focus();
  }

  private rowsPerPage(): number {
    return Math.max(1, Math.floor(this.viewport.clientHeight / ROW_HEIGHT) - 1);
  }

  /** The list's scroll geometry: its spacer is capped, and scrolled positions mapped (scrollMapping.ts). */
  private geometry(): ScrollGeometry {
    return {
      rowCount: this.rowCount,
      rowHeight: ROW_HEIGHT,
      viewportHeight: this.viewport.clientHeight,
      maxSpacer: this.maxSpacer,
    };
  }

  private firstVisible(): number {
    return firstVisibleRow(this.viewport.scrollTop, this.geometry());
  }

  private scrollIntoView(i: number): void {
    const first = this.firstVisible();
    const n = this.rowsPerPage();
    if (i < first) this.viewport.scrollTop = scrollTopFor(i * ROW_HEIGHT, this.geometry());
    else if (i > first + n - 1) this.viewport.scrollTop = scrollTopFor((i - n + 1) * ROW_HEIGHT, this.geometry());
  }

  private key(e: KeyboardEvent): void {
    if (!this.rowCount) return;
    const cur = this.selectedIndex < 0 ? this.firstVisible() - 1 : this.selectedIndex;
    let next: number | undefined;
    switch (e.key) {
      case 'ArrowDown':
        next = cur + 1;
        break;
      case 'ArrowUp':
        next = cur - 1;
        break;
      case 'PageDown':
        next = cur + this.rowsPerPage();
        break;
      case 'PageUp':
        next = cur - this.rowsPerPage();
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = this.rowCount - 1;
        break;
      case 'Enter':
        e.preventDefault();
        if (this.selectedIndex < 0) this.select(Math.max(0, this.firstVisible()), true);
        this.onActivate();
        return;
      default:
        return;
    }
    e.preventDefault();
    this.select(Math.max(0, Math.min(this.rowCount - 1, next)), true);
  }

  private select(i: number, scroll = false): void {
    this.selectedIndex = i;
    if (scroll) this.scrollIntoView(i);
    const row = this.blocks.get(Math.floor(i / BLOCK))?.[i % BLOCK];
    if (row) {
      this.selectedRef = { stream: row.stream, index: row.index };
      this.onSelect(this.selectedRef, row);
    } else {
      // Not fetched yet: fetch it, then announce.
      void this.fetch(Math.floor(i / BLOCK)).then(() => {
        const r = this.blocks.get(Math.floor(i / BLOCK))?.[i % BLOCK];
        if (r && this.selectedIndex === i) {
          this.selectedRef = { stream: r.stream, index: r.index };
          this.onSelect(this.selectedRef, r);
          this.render();
        }
      });
    }
    this.render();
  }

  private schedule(): void {
    if (this.rafPending) return;
    this.rafPending = true;
    requestAnimationFrame(() => {
      this.rafPending = false;
      this.render();
    });
  }

  private async fetch(block: number): Promise<void> {
    if (this.blocks.has(block) || this.loading.has(block)) return;
    const viewId = this.viewId;
    this.loading.add(block);
    try {
      const r = await this.rpc.request('getRows', { viewId, start: block * BLOCK, count: BLOCK });
      if (r.viewId !== this.viewId) return;
      this.blocks.set(block, r.rows);
      // Keep memory bounded: forget blocks far from the viewport.
      if (this.blocks.size > 64) {
        const here = Math.floor(this.firstVisible() / BLOCK);
        for (const k of [...this.blocks.keys()]) if (Math.abs(k - here) > 16) this.blocks.delete(k);
      }
      this.schedule();
    } finally {
      this.loading.delete(block);
    }
  }

  private render(): void {
    const first = Math.max(0, this.firstVisible() - 2);
    const count = Math.min(this.rowCount - first, Math.ceil(this.viewport.clientHeight / ROW_HEIGHT) + 5);
    const top = this.viewport.scrollTop - (listOffsetAt(this.viewport.scrollTop, this.geometry()) - first * ROW_HEIGHT);
    this.layer.style.transform = `translateY(${Math.max(0, top)}px)`;
    while (this.pool.length < Math.max(0, count)) {
      const r = el('div', { class: 'row', attrs: { role: 'row' } });
      for (const c of COLUMNS) r.append(el('div', { class: `cell ${c.cls}`, attrs: { role: 'gridcell' } }));
      this.pool.push(r);
      this.layer.append(r);
    }
    for (let k = 0; k < this.pool.length; k++) {
      const r = this.pool[k];
      const i = first + k;
      if (k >= count) {
        r.hidden = true;
        continue;
      }
      r.hidden = false;
      const row = this.blocks.get(Math.floor(i / BLOCK))?.[i % BLOCK];
      if (!row) void this.fetch(Math.floor(i / BLOCK));
      r.dataset.index = String(i);
      r.id = `pkt-row-${i}`;
      r.setAttribute('aria-rowindex', String(i + 2));
      const selected = i === this.selectedIndex;
      r.setAttribute('aria-selected', String(selected));
      r.className = `row${selected ? ' selected' : ''}${row && row.severity ? ` sev-${row.severity}` : ''}${row?.sync ? ' sync' : ''}${row && isMainRow(row) ? ` main-row ${row.kind}` : ''}${row ? '' : ' pending'}`;
      const cells = r.children;
      for (let c = 0; c < COLUMNS.length; c++) {
        const text = row ? COLUMNS[c].cell(row) : '';
        if (cells[c].textContent !== text) {
          cells[c].textContent = text;
          // Main-channel rows say more than the column shows (a command's arguments, the PING a PONG answers).
          (cells[c] as HTMLElement).title = text.length > 24 ? text : '';
        }
      }
      if (row?.severity) r.setAttribute('aria-description', `has ${SEVERITY_LABEL[row.severity]} diagnostics`);
      else r.removeAttribute('aria-description');
    }
    if (this.selectedIndex >= first && this.selectedIndex < first + count)
      this.root.setAttribute('aria-activedescendant', `pkt-row-${this.selectedIndex}`);
    else this.root.removeAttribute('aria-activedescendant');
  }
}
