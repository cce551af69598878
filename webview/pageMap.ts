import {
  PAGE_STATES,
  PageState,
  type PacketRef,
  type PageMapInfo,
  type PageWriterInfo,
} from '../extension/shared/protocol';
import type { Rpc } from './rpc';
import { clear, el } from './dom';
import { hexOffset, pageMapGeometry, plural } from './format';

const STATE_VARS = [
  '--vscode-editorWidget-border',
  '--vscode-charts-blue',
  '--vscode-charts-green',
  '--vscode-charts-yellow',
  '--vscode-charts-red',
];
const STATE_FALLBACK = ['#80808040', '#3794ff', '#89d185', '#cca700', '#f14c4c'];

/**
 * Page map of one ramblock on a canvas: each page coloured never sent / normal / zero / re-sent / mismatching
 * the reference. Clicking a page (or Enter on the keyboard cursor) lists every packet that touched it.
 */
export class PageMap {
  readonly root: HTMLElement;
  private readonly select: HTMLElement & { value: string };
  private readonly canvas: HTMLCanvasElement;
  private readonly scroller: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly info: HTMLElement;
  private readonly writers: HTMLElement;
  private map?: PageMapInfo;
  private cursor = 0;
  private geometry = { cell: 4, cols: 1, rows: 1 };
  private blocks: string[] = [];
  block?: string;

  onReveal: (ref: PacketRef) => void = () => {};
  onBlock: (block: string) => void = () => {};

  constructor(private readonly rpc: Rpc) {
    this.root = el('section', { class: 'pagemap side-panel', attrs: { 'aria-label': 'Page map' } });
    this.select = el('vscode-single-select', { attrs: { 'aria-label': 'ramblock' } }) as HTMLElement & {
      value: string;
    };
    this.select.addEventListener('change', () => void this.load(this.select.value));
    this.legend = el('div', { class: 'legend', attrs: { role: 'list', 'aria-label': 'Legend' } });
    this.scroller = el('div', { class: 'canvas-scroll' });
    this.canvas = el('canvas', { attrs: { tabindex: 0, role: 'img', 'aria-label': 'Page map' } });
    this.scroller.append(this.canvas);
    this.info = el('div', { class: 'pm-info', attrs: { 'aria-live': 'polite' } });
    this.writers = el('div', {
      class: 'pm-writers',
      attrs: { role: 'list', 'aria-label': 'Packets that touched the page' },
    });
    this.root.append(
      el('div', { class: 'pm-head' }, [el('span', { class: 'k', text: 'ramblock' }), this.select]),
      this.legend,
      this.scroller,
      this.info,
      this.writers,
    );
    this.canvas.addEventListener('click', (e) => {
      const r = this.canvas.getBoundingClientRect();
      const col = Math.floor((e.clientX - r.left) / this.geometry.cell);
      const row = Math.floor((e.clientY - r.top) / this.geometry.cell);
      const page = row * this.geometry.cols + col;
      if (this.map && col < this.geometry.cols && page < this.map.states.length) {
        this.cursor = page;
        this.draw();
        void this.listWriters();
      }
    });
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    new ResizeObserver(() => this.draw()).observe(this.scroller);
  }

  setBlocks(blocks: string[], preferred?: string): void {
    this.blocks = blocks;
    clear(this.select);
    for (const b of blocks) this.select.append(el('vscode-option', { attrs: { value: b }, text: b }));
    const first = preferred && blocks.includes(preferred) ? preferred : blocks[0];
    if (first) this.select.value = first;
  }

  async load(block?: string): Promise<void> {
    const b = block ?? this.block ?? this.blocks[0];
    if (!b) {
      this.info.textContent = 'No ramblock in this capture.';
      return;
    }
    this.block = b;
    this.onBlock(b);
    this.info.textContent = `Building the page map of ${b}…`;
    const map = await this.rpc.request('getPageMap', { block: b });
    if (map.block !== this.block) return;
    this.map = map;
    this.cursor = Math.min(this.cursor, Math.max(0, map.states.length - 1));
    clear(this.legend);
    PAGE_STATES.forEach((name, i) => {
      if (i === PageState.Mismatch && !map.compared) return;
      this.legend.append(
        el('span', { class: 'legend-item', attrs: { role: 'listitem' } }, [
          el('span', { class: `swatch state-${i}` }),
          el('span', { text: `${name}: ${map.counts[i].toLocaleString('en-US')}` }),
        ]),
      );
    });
    this.canvas.setAttribute(
      'aria-label',
      `Page map of ${b}: ${plural(map.states.length, 'page')}; ${PAGE_STATES.map((n, i) => `${map.counts[i]} ${n}`).join(', ')}. Arrow keys move, Enter lists the packets that touched a page.`,
    );
    this.info.textContent = `${b}: ${plural(map.states.length, 'page')} of ${map.pageSize} bytes`;
    this.draw();
  }

  /** Moves the cursor to a page (Find Page) and lists its writers. */
  async showPage(block: string, offset: number): Promise<void> {
    if (this.block !== block || !this.map) {
      if (this.blocks.includes(block)) this.select.value = block;
      await this.load(block);
    }
    if (!this.map) return;
    this.cursor = Math.min(Math.floor(offset / this.map.pageSize), this.map.states.length - 1);
    this.draw();
    await this.listWriters();
  }

  focus(): void {
    this.canvas.focus();
  }

  private colors(): string[] {
    const cs = getComputedStyle(document.body);
    return STATE_VARS.map((v, i) => cs.getPropertyValue(v).trim() || STATE_FALLBACK[i]);
  }

  private draw(): void {
    const m = this.map;
    if (!m) return;
    const width = this.scroller.clientWidth - 4;
    if (width <= 0) return;
    this.geometry = pageMapGeometry(m.states.length, width);
    const { cell, cols, rows } = this.geometry;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.max(1, cols * cell * dpr);
    this.canvas.height = Math.max(1, rows * cell * dpr);
    this.canvas.style.width = `${cols * cell}px`;
    this.canvas.style.height = `${rows * cell}px`;
    const ctx = this.canvas.getContext('2d')!;
    ctx.scale(dpr, dpr);
    const colors = this.colors();
    const gap = cell >= 4 ? 1 : 0;
    // Draw runs of equal state per row: far fewer fill calls than one per page.
    for (let r = 0; r < rows; r++) {
      let c = 0;
      while (c < cols) {
        const p = r * cols + c;
        if (p >= m.states.length) break;
        const s = m.states[p];
        let e = c + 1;
        while (e < cols && r * cols + e < m.states.length && m.states[r * cols + e] === s) e++;
        ctx.fillStyle = colors[s];
        if (gap) for (let k = c; k < e; k++) ctx.fillRect(k * cell, r * cell, cell - gap, cell - gap);
        else ctx.fillRect(c * cell, r * cell, (e - c) * cell, cell);
        c = e;
      }
    }
    // Keyboard cursor.
    const cr = Math.floor(this.cursor / cols);
    const cc = this.cursor % cols;
    ctx.strokeStyle = getComputedStyle(document.body).getPropertyValue('--vscode-focusBorder').trim() || '#007fd4';
    ctx.lineWidth = 2;
    ctx.strokeRect(cc * cell - 1, cr * cell - 1, Math.max(3, cell) + 1, Math.max(3, cell) + 1);
  }

  private key(e: KeyboardEvent): void {
    const m = this.map;
    if (!m) return;
    const cols = this.geometry.cols;
    const moves: Record<string, number> = {
      ArrowRight: 1,
      ArrowLeft: -1,
      ArrowDown: cols,
      ArrowUp: -cols,
      PageDown: cols * 16,
      PageUp: -cols * 16,
    };
    if (e.key in moves) {
      this.cursor = Math.max(0, Math.min(m.states.length - 1, this.cursor + moves[e.key]));
    } else if (e.key === 'Home') this.cursor = 0;
    else if (e.key === 'End') this.cursor = m.states.length - 1;
    else if (e.key === 'Enter') {
      void this.listWriters();
    } else return;
    e.preventDefault();
    this.draw();
    this.info.textContent = `page ${this.cursor} (offset ${hexOffset(this.cursor * m.pageSize)}): ${PAGE_STATES[m.states[this.cursor]]}`;
  }

  private async listWriters(): Promise<void> {
    const m = this.map;
    if (!m || !this.block) return;
    const offset = this.cursor * m.pageSize;
    this.info.textContent = `page ${this.cursor} (offset ${hexOffset(offset)}): ${PAGE_STATES[m.states[this.cursor]]} — looking for writers…`;
    const r = await this.rpc.request('getPageWriters', { block: this.block, offset });
    this.renderWriters(r.writers, offset);
  }

  private renderWriters(ws: PageWriterInfo[], offset: number): void {
    clear(this.writers);
    const state = this.map ? `${PAGE_STATES[this.map.states[this.cursor]]}; ` : '';
    this.info.textContent = `page ${this.cursor} (offset ${hexOffset(offset)}) of ${this.block}: ${state}${plural(ws.length, 'write')}`;
    for (const w of ws) {
      const item = el('div', { class: 'writer', attrs: { role: 'listitem' } });
      const ref = w.ref;
      if (ref) {
        const link = el('a', { attrs: { href: '#', role: 'link' }, text: w.label });
        link.addEventListener('click', (e) => {
          e.preventDefault();
          this.onReveal(ref);
        });
        item.append(link);
      } else item.append(el('span', { text: w.label }));
      this.writers.append(item);
    }
  }
}
