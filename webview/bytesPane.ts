import type { PacketDetails, PageContent, PayloadChunk } from '../extension/shared/protocol';
import { clear, el } from './dom';
import { asciiOf, byteHex, hexDumpLines, hexOffset } from './format';

export type BytesTab = 'header' | 'payload' | 'page';
const TABS: BytesTab[] = ['header', 'payload', 'page'];
const WIDTH = 16;

/**
 * The bytes pane, with Wireshark's tabs for reassembled data: the header (every byte a span, so a selected
 * field's bytes light up), the compressed payload as it travelled, and one page after decoding.
 */
export class BytesPane {
  readonly root: HTMLElement;
  private readonly tabs: HTMLElement & { selectedIndex: number };
  private readonly panels: Record<BytesTab, HTMLElement>;
  private readonly headerView: HTMLElement;
  private byteEls: HTMLElement[] = [];
  private highlighted: [number, number] | undefined;
  private payloadBytes: Uint8Array[] = [];
  private payloadTotal = 0;
  private payloadStreamOffset = 0;
  /** The payload tab shows a window around a device field instead of the payload from its start. */
  private windowShown = false;
  tab: BytesTab = 'header';

  onTab: (t: BytesTab) => void = () => {};
  onByteClick: (offset: number) => void = () => {};
  onMorePayload: () => void = () => {};
  onWholePayload: () => void = () => {};
  /** A byte clicked in a field's window: its stream offset. */
  onWindowByteClick: (streamOffset: number) => void = () => {};

  constructor() {
    this.root = el('section', { class: 'bytes pane', attrs: { 'aria-label': 'Packet bytes' } });
    this.tabs = el('vscode-tabs', { attrs: { 'aria-label': 'Bytes views' } }) as HTMLElement & {
      selectedIndex: number;
    };
    const labels: Record<BytesTab, string> = { header: 'Header', payload: 'Compressed payload', page: 'Page' };
    this.panels = {} as Record<BytesTab, HTMLElement>;
    for (const t of TABS) {
      this.tabs.append(el('vscode-tab-header', { attrs: { slot: 'header', id: `tab-${t}` }, text: labels[t] }));
      const panel = el('vscode-tab-panel', { attrs: { 'aria-labelledby': `tab-${t}` } });
      const body = el('div', { class: 'hex', attrs: { tabindex: 0, role: 'region', 'aria-label': labels[t] } });
      panel.append(body);
      this.tabs.append(panel);
      this.panels[t] = body;
    }
    this.headerView = this.panels.header;
    this.tabs.addEventListener('vsc-tabs-select', (e) => {
      const i = (e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
      this.tab = TABS[i] ?? 'header';
      this.onTab(this.tab);
    });
    this.headerView.addEventListener('click', (e) => {
      const b = (e.target as HTMLElement).closest<HTMLElement>('.b');
      if (b?.dataset.o) this.onByteClick(Number(b.dataset.o));
    });
    this.panels.payload.addEventListener('click', (e) => {
      const b = (e.target as HTMLElement).closest<HTMLElement>('.b');
      if (this.windowShown && b?.dataset.o) this.onWindowByteClick(Number(b.dataset.o));
    });
    this.root.append(this.tabs);
    this.clearAll();
  }

  selectTab(t: BytesTab): void {
    this.tab = t;
    this.tabs.selectedIndex = TABS.indexOf(t);
  }

  clearAll(): void {
    for (const t of TABS) {
      clear(this.panels[t]);
      this.panels[t].append(
        el('div', {
          class: 'empty',
          text: t === 'page' ? 'Select an offset[] entry in the details to see its page.' : 'Select a packet.',
        }),
      );
    }
    this.byteEls = [];
  }

  /** Header bytes, one span per byte, with field highlighting. */
  showHeader(d: PacketDetails): void {
    const v = this.headerView;
    clear(v);
    const frag = document.createDocumentFragment();
    frag.append(
      el('div', {
        class: 'hex-caption',
        text: `${d.cStruct}: ${d.header.length} bytes at stream offset ${hexOffset(d.headerOffset)}`,
      }),
    );
    this.byteEls = spanLines(frag, d.header, d.headerOffset, d.headerOffset);
    v.append(frag);
    this.highlighted = undefined;
  }

  highlight(range: [number, number] | undefined): void {
    if (this.highlighted) for (let i = this.highlighted[0]; i < this.highlighted[1]; i++) this.mark(i, false);
    this.highlighted = range;
    if (!range) return;
    for (let i = range[0]; i < range[1]; i++) this.mark(i, true);
    this.byteEls[range[0]]?.scrollIntoView({ block: 'nearest' });
  }

  private mark(i: number, on: boolean): void {
    const b = this.byteEls[i] as (HTMLElement & { twin?: HTMLElement }) | undefined;
    if (!b) return;
    b.classList.toggle('hl', on);
    b.twin?.classList.toggle('hl', on);
  }

  startPayload(d: PacketDetails): void {
    this.payloadBytes = [];
    this.windowShown = false;
    this.payloadTotal = d.payloadLength;
    this.payloadStreamOffset = d.payloadOffset;
    const v = this.panels.payload;
    clear(v);
    v.append(
      el('div', {
        class: 'empty',
        text: d.payloadLength ? 'Loading…' : 'This packet has no payload (no normal pages).',
      }),
    );
  }

  /** The payload tab shows something: the payload's first chunks, or a field's window. */
  get payloadShown(): boolean {
    return this.windowShown || this.payloadLoaded > 0;
  }

  /**
   * A window of the payload (a device section's body) around a field, every byte a span, the field's bytes
   * [range[0], range[1]) (stream offsets) highlighted; the caption says what is shown.
   */
  showPayloadWindow(c: PayloadChunk, range: [number, number], caption: string): void {
    this.payloadBytes = [];
    this.windowShown = true;
    const v = this.panels.payload;
    clear(v);
    const frag = document.createDocumentFragment();
    frag.append(el('div', { class: 'hex-caption', text: caption }));
    const spans = spanLines(frag, c.bytes, c.streamOffset, 0);
    let first: HTMLElement | undefined;
    spans.forEach((b, i) => {
      const o = c.streamOffset + i;
      if (o < range[0] || o >= range[1]) return;
      b.classList.add('hl');
      (b as HTMLElement & { twin?: HTMLElement }).twin?.classList.add('hl');
      first ??= b;
    });
    const shownEnd = c.streamOffset + c.bytes.length;
    if (range[1] > shownEnd)
      frag.append(
        el('div', {
          class: 'note',
          text: `The field runs on for ${range[1] - shownEnd} more bytes past the ${c.bytes.length} shown.`,
        }),
      );
    const whole = el('vscode-button', { attrs: { secondary: true }, text: 'Show the payload from its start' });
    whole.addEventListener('click', () => this.onWholePayload());
    frag.append(whole);
    v.append(frag);
    first?.scrollIntoView({ block: 'nearest' });
  }

  get payloadLoaded(): number {
    return this.payloadBytes.reduce((n, b) => n + b.length, 0);
  }

  addPayload(c: PayloadChunk): void {
    this.windowShown = false;
    this.payloadBytes.push(c.bytes);
    const v = this.panels.payload;
    clear(v);
    const loaded = this.payloadLoaded;
    v.append(
      el('div', {
        class: 'hex-caption',
        text: `payload: ${c.total} bytes at stream offset ${hexOffset(this.payloadStreamOffset)}; showing ${loaded}`,
      }),
    );
    let pos = 0;
    const pre = el('pre', { class: 'dump' });
    const lines: string[] = [];
    for (const b of this.payloadBytes) {
      lines.push(...hexDumpLines(b, this.payloadStreamOffset + pos));
      pos += b.length;
    }
    pre.textContent = lines.join('\n');
    v.append(pre);
    if (loaded < this.payloadTotal) {
      const more = el('vscode-button', {
        attrs: { secondary: true },
        text: `Load ${Math.min(65536, this.payloadTotal - loaded)} more bytes`,
      });
      more.addEventListener('click', () => this.onMorePayload());
      v.append(more);
    }
  }

  pageLoading(text: string): void {
    const v = this.panels.page;
    clear(v);
    v.append(el('div', { class: 'empty', text }));
  }

  showPage(p: PageContent, pageSize: number): void {
    const v = this.panels.page;
    clear(v);
    const where = `offset[${p.slot}] = ${hexOffset(p.offset)} in ${p.ramblock} (page ${Math.floor(p.offset / pageSize)})`;
    v.append(
      el('div', {
        class: 'hex-caption',
        text: `${p.kind === 'zero' ? 'zero page' : 'normal page'} ${where} — ${p.source}${p.note ? `: ${p.note}` : ''}`,
      }),
    );
    if (p.bytes) {
      const allZero = p.bytes.every((b) => b === 0);
      if (allZero && p.kind === 'normal')
        v.append(el('div', { class: 'note', text: 'Every byte is zero although this page travelled as data.' }));
      const pre = el('pre', { class: 'dump' });
      pre.textContent = hexDumpLines(p.bytes, 0).join('\n');
      v.append(pre);
    }
  }
}

/**
 * Hex and ASCII lines of `bytes`, one span per byte (each hex span's `twin` is its ASCII span), appended to
 * `frag`; `base` is the stream offset of bytes[0], `dataBase` what a span's data-o counts from. Returns the spans.
 */
function spanLines(frag: DocumentFragment, bytes: Uint8Array, base: number, dataBase: number): HTMLElement[] {
  const spans: HTMLElement[] = new Array(bytes.length);
  for (let o = 0; o < bytes.length; o += WIDTH) {
    const line = el('div', { class: 'line' });
    line.append(el('span', { class: 'off', text: (base + o).toString(16).padStart(8, '0') }));
    const hex = el('span', { class: 'hexcol' });
    const ascii = el('span', { class: 'ascii' });
    for (let i = o; i < Math.min(bytes.length, o + WIDTH); i++) {
      const b = el('span', { class: 'b', text: byteHex(bytes[i]) });
      b.dataset.o = String(base - dataBase + i);
      hex.append(b);
      const a = el('span', { class: 'a', text: asciiOf(bytes[i]) });
      a.dataset.o = b.dataset.o;
      ascii.append(a);
      spans[i] = b;
      (b as HTMLElement & { twin?: HTMLElement }).twin = a;
    }
    line.append(hex, ascii);
    frag.append(line);
  }
  return spans;
}
