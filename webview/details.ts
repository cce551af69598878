import type { OffsetEntry, PacketDetails } from '../extension/shared/protocol';
import { framingNode } from './framingNode';
import type { DetailTarget, TreeNode } from './treeNode';
export type { DetailTarget } from './treeNode';
import { clear, el, icon } from './dom';
import { hexOffset } from './format';

const SEVERITY_ICON: Record<string, string> = { error: 'error', warning: 'warning', info: 'info' };

/**
 * Packet details: a tree of every header field (name, value, meaning — from the layout), the used offset[]
 * entries split into normal pages and zero pages, the payload and the packet's diagnostics. One tab stop;
 * arrows move, Left/Right collapse/expand, Enter opens a page offset in the bytes pane.
 */
export class DetailsTree {
  readonly root: HTMLElement;
  private readonly tree: HTMLElement;
  private nodes: TreeNode[] = [];
  private visible: { node: TreeNode; depth: number; el: HTMLElement }[] = [];
  private expanded = new Set<string>(['fields', 'normal', 'zero', 'framing', 'diagnostics']);
  private active = -1;

  onSelect: (t: DetailTarget) => void = () => {};
  onActivate: (t: DetailTarget) => void = () => {};

  constructor() {
    this.root = el('section', { class: 'details pane', attrs: { 'aria-label': 'Packet details' } });
    this.tree = el('div', {
      class: 'tree',
      attrs: { role: 'tree', 'aria-label': 'Packet header fields', tabindex: 0 },
    });
    this.root.append(this.tree);
    this.tree.addEventListener('keydown', (e) => this.key(e));
    this.tree.addEventListener('click', (e) => {
      const item = (e.target as HTMLElement).closest<HTMLElement>('[role=treeitem]');
      if (!item) return;
      const i = Number(item.dataset.pos);
      if ((e.target as HTMLElement).closest('.twistie')) this.toggle(i);
      else this.setActive(i, true);
    });
    this.tree.addEventListener('dblclick', (e) => {
      const item = (e.target as HTMLElement).closest<HTMLElement>('[role=treeitem]');
      if (item) this.onActivate(this.visible[Number(item.dataset.pos)].node.target);
    });
    this.showEmpty('Select a packet to see its header.');
  }

  focus(): void {
    this.tree.focus();
  }

  showEmpty(text: string): void {
    this.nodes = [];
    clear(this.tree);
    this.tree.append(el('div', { class: 'empty', text }));
  }

  show(d: PacketDetails, selectKey?: string): void {
    const ramblockLike = d.row.kind === 'device-state' || d.row.kind === 'main' ? 'idstr' : 'ramblock';
    const main = d.row.kind === 'main' || d.row.kind === 'ram-record' || d.row.kind === 'return-path';
    const where = main
      ? `stream ${d.ref.stream} (${d.row.kind === 'return-path' ? 'return path' : 'main channel'}), row ${d.ref.index}, at stream offset ${hexOffset(d.headerOffset)}, ${d.headerLength} bytes`
      : `stream ${d.ref.stream} (channel ${d.row.channel < 0 ? '?' : d.row.channel}), packet ${d.ref.index}, header at stream offset ${hexOffset(d.headerOffset)}, ${d.headerLength} bytes`;
    const fields: TreeNode[] = d.fields.map((f) => ({
      key: `field:${f.name}`,
      label: f.name,
      value: f.display,
      meaning: `${f.meaning}${f.since ? ` (since ${f.since})` : ''} — bytes ${f.offset}..${f.offset + f.width - 1}${f.filterName ? `, filter field "${f.filterName}"` : ''}`,
      iconName: f.name === ramblockLike ? 'symbol-string' : 'symbol-field',
      target: { key: `field:${f.name}`, range: [f.offset, f.offset + f.width], field: f.name },
    }));
    const normal = d.offsets.filter((o) => o.kind === 'normal');
    const zero = d.offsets.filter((o) => o.kind === 'zero');
    const entry = (o: OffsetEntry): TreeNode => ({
      key: `slot:${o.slot}`,
      label: main ? 'page' : `offset[${o.slot}]`,
      value: hexOffset(o.value),
      meaning: `${o.kind === 'zero' ? 'zero page' : 'normal page'} at ${hexOffset(o.value)} in ${d.row.ramblock}: Enter shows the page`,
      iconName: o.kind === 'zero' ? 'circle-large-outline' : 'file-binary',
      cls: o.kind,
      target: { key: `slot:${o.slot}`, range: [o.headerOffset, o.headerOffset + d.offsetEntryWidth], offset: o },
    });
    const base = d.offsetsFieldOffset;
    const w = d.offsetEntryWidth;
    const nodes: TreeNode[] = [
      {
        key: 'fields',
        label: d.cStruct,
        value: where,
        iconName: 'symbol-structure',
        target: { key: 'fields', range: [0, d.headerLength] },
        children: fields,
      },
    ];
    if (d.row.kind === 'ram' || (d.row.kind === 'ram-record' && d.offsets.length)) {
      nodes.push({
        key: 'normal',
        label: main ? 'page with its data' : 'offset[] normal pages',
        value: `${normal.length} (data follows the header)`,
        iconName: 'files',
        target: { key: 'normal', range: normal.length ? [base, base + w * normal.length] : undefined },
        children: normal.map(entry),
      });
      nodes.push({
        key: 'zero',
        label: main ? 'zero page' : 'offset[] zero pages',
        value: `${zero.length} (no data on the wire)`,
        iconName: 'circle-large-outline',
        target: {
          key: 'zero',
          range: zero.length ? [base + w * normal.length, base + w * (normal.length + zero.length)] : undefined,
        },
        children: zero.map(entry),
      });
      if (d.unusedSlots) {
        const start = base + w * d.offsets.length;
        nodes.push({
          key: 'unused',
          label: 'offset[] unused slots',
          value: `${d.unusedSlots} (stale or zero; not read by the destination)`,
          iconName: 'dash',
          target: { key: 'unused', range: [start, start + w * d.unusedSlots] },
        });
      }
    }
    const framing = d.framing && framingNode(d.framing, normal, d.row.ramblock);
    if (framing) nodes.push(framing);
    nodes.push({
      key: 'payload',
      label: 'payload',
      value: d.payloadLength
        ? `${d.payloadLength} bytes at stream offset ${hexOffset(d.payloadOffset)}${main ? '' : ` (${d.row.method})`}`
        : 'none',
      iconName: 'package',
      target: { key: 'payload' },
    });
    nodes.push({
      key: 'diagnostics',
      label: 'diagnostics',
      value: String(d.diagnostics.length),
      iconName: d.diagnostics.length ? 'warning' : 'pass',
      target: { key: 'diagnostics' },
      children: d.diagnostics.map((x) => ({
        key: `diag:${x.id}`,
        label: x.code,
        value: x.message,
        meaning: x.location,
        iconName: SEVERITY_ICON[x.severity],
        cls: `sev-${x.severity}`,
        target: { key: `diag:${x.id}`, diagnostic: x },
      })),
    });
    this.nodes = nodes;
    this.rebuild();
    const want = selectKey ? this.visible.findIndex((v) => v.node.key === selectKey) : -1;
    this.setActive(want >= 0 ? want : 0, want >= 0);
  }

  /** Selects the node whose byte range covers a header byte (click in the bytes pane). */
  selectByte(offset: number): void {
    let best = -1;
    let bestWidth = Infinity;
    const walk = (list: TreeNode[]) => {
      for (const n of list) {
        const r = n.target.range;
        if (r && offset >= r[0] && offset < r[1] && r[1] - r[0] < bestWidth && n.key !== 'fields') {
          best = -1;
          bestWidth = r[1] - r[0];
          this.ensureVisible(n.key);
          best = this.visible.findIndex((v) => v.node.key === n.key);
        }
        if (n.children) walk(n.children);
      }
    };
    walk(this.nodes);
    if (best >= 0) this.setActive(best, true);
  }

  private ensureVisible(key: string): void {
    const parent = this.nodes.find((n) => n.children?.some((c) => c.key === key));
    if (parent && !this.expanded.has(parent.key)) {
      this.expanded.add(parent.key);
      this.rebuild();
    }
  }

  private rebuild(): void {
    clear(this.tree);
    this.visible = [];
    const add = (n: TreeNode, depth: number, setSize: number, pos: number) => {
      const hasKids = !!n.children?.length;
      const open = hasKids && this.expanded.has(n.key);
      const item = el('div', {
        class: `item ${n.cls ?? ''}`,
        attrs: {
          role: 'treeitem',
          id: `tree-${this.visible.length}`,
          'aria-level': depth + 1,
          'aria-setsize': setSize,
          'aria-posinset': pos + 1,
          'aria-expanded': hasKids ? String(open) : undefined,
          'aria-selected': 'false',
        },
        title: n.meaning,
      });
      item.dataset.pos = String(this.visible.length);
      item.classList.add(`depth-${Math.min(depth, 3)}`);
      const tw = el('span', { class: 'twistie' });
      if (hasKids) tw.append(icon(open ? 'chevron-down' : 'chevron-right'));
      item.append(tw);
      if (n.iconName) item.append(icon(n.iconName));
      item.append(el('span', { class: 'name', text: n.label }));
      if (n.value !== undefined) item.append(el('span', { class: 'value', text: n.value }));
      if (n.meaning && depth > 0) item.append(el('span', { class: 'meaning', text: n.meaning }));
      this.tree.append(item);
      this.visible.push({ node: n, depth, el: item });
      const kids = open ? (n.children ?? []) : [];
      kids.forEach((c, i) => add(c, depth + 1, kids.length, i));
    };
    this.nodes.forEach((n, i) => add(n, 0, this.nodes.length, i));
  }

  private toggle(i: number, open?: boolean): void {
    const n = this.visible[i]?.node;
    if (!n?.children?.length) return;
    const isOpen = this.expanded.has(n.key);
    const want = open ?? !isOpen;
    if (want === isOpen) return;
    if (want) this.expanded.add(n.key);
    else this.expanded.delete(n.key);
    this.rebuild();
    this.setActive(
      this.visible.findIndex((v) => v.node.key === n.key),
      false,
    );
  }

  private setActive(i: number, announce: boolean): void {
    if (i < 0 || i >= this.visible.length) return;
    if (this.active >= 0 && this.visible[this.active])
      this.visible[this.active].el.setAttribute('aria-selected', 'false');
    this.visible[this.active]?.el.classList.remove('active');
    this.active = i;
    const v = this.visible[i];
    v.el.setAttribute('aria-selected', 'true');
    v.el.classList.add('active');
    this.tree.setAttribute('aria-activedescendant', v.el.id);
    v.el.scrollIntoView({ block: 'nearest' });
    if (announce) this.onSelect(v.node.target);
  }

  private key(e: KeyboardEvent): void {
    if (!this.visible.length) return;
    const i = this.active;
    const n = this.visible[i]?.node;
    switch (e.key) {
      case 'ArrowDown':
        this.setActive(Math.min(this.visible.length - 1, i + 1), true);
        break;
      case 'ArrowUp':
        this.setActive(Math.max(0, i - 1), true);
        break;
      case 'Home':
        this.setActive(0, true);
        break;
      case 'End':
        this.setActive(this.visible.length - 1, true);
        break;
      case 'ArrowRight':
        if (n?.children?.length && !this.expanded.has(n.key)) this.toggle(i, true);
        else if (n?.children?.length) this.setActive(i + 1, true);
        break;
      case 'ArrowLeft': {
        if (n?.children?.length && this.expanded.has(n.key)) this.toggle(i, false);
        else {
          const depth = this.visible[i].depth;
          for (let j = i - 1; j >= 0; j--) if (this.visible[j].depth < depth) return void this.setActive(j, true);
        }
        break;
      }
      case 'Enter':
      case ' ':
        if (n) {
          if (n.children?.length && e.key === ' ') this.toggle(i);
          else this.onActivate(n.target);
        }
        break;
      default:
        return;
    }
    e.preventDefault();
  }
}
