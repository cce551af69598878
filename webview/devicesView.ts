import type {
  DeviceFieldInfo,
  DeviceFieldsPage,
  DeviceSectionInfo,
  DiagnosticInfo,
} from '../extension/shared/protocol';
import { errorMessage } from '../extension/shared/errorMessage';
import { plural } from '../extension/shared/plural';
import { clear, el, icon } from './dom';
import { deviceFieldLabel, deviceFieldValue, deviceSectionMeaning, fieldBytesText } from './deviceText';
import type { Rpc } from './rpc';

/** Children asked for at a time: a section of 10^5 fields is shown a page at a time, with how many are left. */
export const FIELDS_PAGE = 200;

interface DevNode {
  key: string;
  label: string;
  value?: string;
  meaning?: string;
  iconName: string;
  cls?: string;
  section: DeviceSectionInfo;
  field?: DeviceFieldInfo;
  /** Sections, structs, subsections: children come from the host when first expanded. */
  expandable: boolean;
  children?: DevNode[];
  /** Children of this node loaded so far, and how many there are. */
  loaded?: number;
  total?: number;
  /** A "load more" node: the node whose next page it loads. */
  moreOf?: DevNode;
  problem?: { message: string; offset?: number; severity: DiagnosticInfo['severity']; code?: string };
}

/**
 * The Devices view: the main channel's device sections (name, instance, version, section id, byte range), each
 * expandable to its fields and their values, structs, arrays and subsections nested, loaded from the host a page
 * at a time. A section's problems (its Problems entries, and where its decoding stopped) are its first children.
 * One tab stop; arrows move, Right/Left expand/collapse, Enter on "more" loads the next page.
 */
export class DevicesView {
  readonly root: HTMLElement;
  private readonly head: HTMLElement;
  private readonly tree: HTMLElement;
  private nodes: DevNode[] = [];
  private visible: { node: DevNode; depth: number; el: HTMLElement }[] = [];
  private readonly expanded = new Set<string>();
  private active = -1;
  private loading?: Promise<void>;

  onSection: (s: DeviceSectionInfo) => void = () => {};
  onField: (s: DeviceSectionInfo, f: DeviceFieldInfo) => void = () => {};

  constructor(private readonly rpc: Rpc) {
    this.root = el('section', { class: 'devices side-panel', attrs: { 'aria-label': 'Devices' } });
    this.head = el('div', { class: 'dv-head', attrs: { 'aria-live': 'polite' }, text: 'Devices' });
    this.tree = el('div', {
      class: 'tree dv-tree',
      attrs: { role: 'tree', 'aria-label': 'Device sections and their fields', tabindex: 0 },
    });
    this.root.append(this.head, this.tree);
    this.tree.addEventListener('keydown', (e) => void this.key(e));
    this.tree.addEventListener('click', (e) => {
      const item = (e.target as HTMLElement).closest<HTMLElement>('[role=treeitem]');
      if (!item) return;
      const i = Number(item.dataset.pos);
      if ((e.target as HTMLElement).closest('.twistie')) void this.toggle(i);
      else if (this.visible[i]?.node.moreOf) void this.more(i);
      else this.setActive(i, true);
    });
    this.tree.addEventListener('dblclick', (e) => {
      const item = (e.target as HTMLElement).closest<HTMLElement>('[role=treeitem]');
      if (item) void this.toggle(Number(item.dataset.pos));
    });
  }

  focus(): void {
    this.tree.focus();
  }

  /** Reads the section list once (again after `reset`). */
  load(): Promise<void> {
    this.loading ??= this.fetchSections().catch((e) => {
      this.loading = undefined;
      this.head.textContent = `Cannot list the device sections: ${errorMessage(e)}`;
    });
    return this.loading;
  }

  private async fetchSections(): Promise<void> {
    this.head.textContent = 'Reading the device sections…';
    const r = await this.rpc.request('getDeviceSections', {});
    const withProblems = r.sections.filter((s) => s.problems.length).length;
    this.head.textContent =
      plural(r.sections.length, 'device section') +
      (withProblems ? `, ${withProblems} with problems` : '') +
      (r.unavailable ? ` — ${r.unavailable}` : '');
    this.nodes = r.sections.map((s) => this.sectionNode(s));
    if (!this.nodes.length) {
      clear(this.tree);
      this.tree.append(el('div', { class: 'empty', text: r.unavailable ?? 'No device section in this capture.' }));
      return;
    }
    this.rebuild();
    this.setActive(0, false);
  }

  private sectionNode(s: DeviceSectionInfo): DevNode {
    const worst = s.problems.some((p) => p.severity === 'error')
      ? 'error'
      : s.problems.some((p) => p.severity === 'warning')
        ? 'warning'
        : s.problems.length
          ? 'info'
          : undefined;
    return {
      key: `section:${s.section}`,
      label: s.idstr,
      value: `instance ${s.instanceId ?? '?'}, version ${s.versionId ?? '?'}, section ${s.sectionId}`,
      meaning: deviceSectionMeaning(s),
      iconName: worst ?? 'circuit-board',
      cls: worst ? `sev-${worst}` : undefined,
      section: s,
      expandable: true,
    };
  }

  private fieldNode(s: DeviceSectionInfo, f: DeviceFieldInfo): DevNode {
    return {
      key: `field:${s.section}:${f.path.join('.')}`,
      label: deviceFieldLabel(f),
      value: deviceFieldValue(f),
      meaning: fieldBytesText(f),
      iconName: f.subsection ? 'symbol-namespace' : f.childCount ? 'symbol-structure' : 'symbol-field',
      section: s,
      field: f,
      expandable: f.childCount > 0,
    };
  }

  /** Loads the next page of a node's children (the first one when it has none yet). */
  private async loadChildren(n: DevNode): Promise<void> {
    const start = n.loaded ?? 0;
    let page: DeviceFieldsPage;
    try {
      page = await this.rpc.request('getDeviceFields', {
        section: n.section.section,
        path: n.field?.path ?? [],
        start,
        count: FIELDS_PAGE,
      });
    } catch (e) {
      n.children = [this.problemNode(n, { message: `Cannot decode: ${errorMessage(e)}`, severity: 'error' }, 0)];
      n.loaded = 0;
      n.total = 0;
      return;
    }
    const kids = (n.children ?? []).filter((c) => !c.moreOf);
    if (!n.field && start === 0) {
      // The section's problems first: its diagnostics, then where this decoding stopped if they do not say it.
      const known = new Set(n.section.problems.map((p) => p.message));
      n.section.problems.forEach((p, i) => kids.push(this.problemNode(n, p, i)));
      page.problems
        .filter((p) => ![...known].some((m) => m.includes(p.message)))
        .forEach((p, i) => kids.push(this.problemNode(n, { ...p, severity: 'error' }, 100 + i)));
      if (!page.total && !kids.length)
        kids.push(this.problemNode(n, { message: 'No field decoded for this section.', severity: 'info' }, 0));
    }
    for (const f of page.fields) kids.push(this.fieldNode(n.section, f));
    n.loaded = start + page.fields.length;
    n.total = page.total;
    if (n.loaded < page.total)
      kids.push({
        key: `${n.key}:more`,
        label: `… ${(page.total - n.loaded).toLocaleString('en-US')} more`,
        value: `showing ${n.loaded.toLocaleString('en-US')} of ${page.total.toLocaleString('en-US')} fields; Enter loads ${Math.min(FIELDS_PAGE, page.total - n.loaded)} more`,
        iconName: 'ellipsis',
        cls: 'dv-more',
        section: n.section,
        expandable: false,
        moreOf: n,
      });
    n.children = kids;
  }

  private problemNode(
    n: DevNode,
    p: { message: string; offset?: number; severity: DiagnosticInfo['severity']; code?: string },
    i: number,
  ): DevNode {
    return {
      key: `${n.key}:problem:${i}`,
      label: p.code ?? 'problem',
      value: p.message,
      meaning: p.offset !== undefined ? `at stream offset ${p.offset}` : undefined,
      iconName: p.severity,
      cls: `sev-${p.severity} dv-problem`,
      section: n.section,
      expandable: false,
      problem: p,
    };
  }

  /**
   * Selects the innermost field of a section, among those loaded, whose bytes hold a stream offset (a byte clicked
   * in the bytes pane); false when none does.
   */
  selectOffset(section: number, offset: number): boolean {
    const root = this.nodes[section];
    if (!root) return false;
    const holds = (n: DevNode) =>
      !!n.field && offset >= n.field.offset && offset < n.field.offset + Math.max(1, n.field.length);
    const ancestors: DevNode[] = [];
    let best: DevNode | undefined;
    for (let level = root.children, parent: DevNode = root; level;) {
      const hit = level.find(holds);
      if (!hit) break;
      ancestors.push(parent);
      best = hit;
      parent = hit;
      level = hit.children;
    }
    if (!best) return false;
    for (const a of ancestors) this.expanded.add(a.key);
    this.rebuild();
    this.setActive(
      this.visible.findIndex((v) => v.node === best),
      true,
    );
    return true;
  }

  private rebuild(): void {
    clear(this.tree);
    this.visible = [];
    const add = (n: DevNode, depth: number, setSize: number, pos: number) => {
      const open = n.expandable && this.expanded.has(n.key);
      const item = el('div', {
        class: `item ${n.cls ?? ''}`,
        attrs: {
          role: 'treeitem',
          id: `dv-${this.visible.length}`,
          'aria-level': depth + 1,
          'aria-setsize': setSize,
          'aria-posinset': pos + 1,
          'aria-expanded': n.expandable ? String(open) : undefined,
          'aria-selected': 'false',
        },
        title: n.meaning ? `${n.label}: ${n.meaning}` : n.label,
      });
      item.dataset.pos = String(this.visible.length);
      item.dataset.key = n.key;
      item.style.paddingLeft = `${4 + depth * 16}px`;
      const tw = el('span', { class: 'twistie' });
      if (n.expandable) tw.append(icon(open ? 'chevron-down' : 'chevron-right'));
      item.append(tw, icon(n.iconName));
      item.append(el('span', { class: 'name', text: n.label }));
      if (n.value) item.append(el('span', { class: 'value', text: n.value }));
      if (n.meaning) item.append(el('span', { class: 'meaning', text: n.meaning }));
      this.tree.append(item);
      this.visible.push({ node: n, depth, el: item });
      const kids = open ? (n.children ?? []) : [];
      kids.forEach((c, i) => add(c, depth + 1, kids.length, i));
    };
    this.nodes.forEach((n, i) => add(n, 0, this.nodes.length, i));
  }

  private async toggle(i: number, open?: boolean): Promise<void> {
    const n = this.visible[i]?.node;
    if (!n?.expandable) return;
    const isOpen = this.expanded.has(n.key);
    const want = open ?? !isOpen;
    if (want === isOpen) return;
    if (want) {
      if (!n.children) await this.loadChildren(n);
      this.expanded.add(n.key);
    } else this.expanded.delete(n.key);
    this.rebuild();
    this.setActive(
      this.visible.findIndex((v) => v.node.key === n.key),
      false,
    );
  }

  private async more(i: number): Promise<void> {
    const parent = this.visible[i]?.node.moreOf;
    if (!parent) return;
    await this.loadChildren(parent);
    this.rebuild();
    // The first of the newly loaded fields takes the place of the "more" node.
    this.setActive(Math.min(i, this.visible.length - 1), true);
  }

  private setActive(i: number, announce: boolean): void {
    if (i < 0 || i >= this.visible.length) return;
    const prev = this.visible[this.active];
    if (prev) {
      prev.el.setAttribute('aria-selected', 'false');
      prev.el.classList.remove('active');
    }
    this.active = i;
    const v = this.visible[i];
    v.el.setAttribute('aria-selected', 'true');
    v.el.classList.add('active');
    this.tree.setAttribute('aria-activedescendant', v.el.id);
    v.el.scrollIntoView({ block: 'nearest' });
    if (!announce) return;
    if (v.node.field) this.onField(v.node.section, v.node.field);
    else if (!v.node.moreOf) this.onSection(v.node.section);
  }

  private async key(e: KeyboardEvent): Promise<void> {
    if (!this.visible.length) return;
    const i = this.active;
    const n = this.visible[i]?.node;
    const page = Math.max(1, Math.floor(this.tree.clientHeight / 20) - 1);
    switch (e.key) {
      case 'ArrowDown':
        this.setActive(Math.min(this.visible.length - 1, i + 1), true);
        break;
      case 'ArrowUp':
        this.setActive(Math.max(0, i - 1), true);
        break;
      case 'PageDown':
        this.setActive(Math.min(this.visible.length - 1, i + page), true);
        break;
      case 'PageUp':
        this.setActive(Math.max(0, i - page), true);
        break;
      case 'Home':
        this.setActive(0, true);
        break;
      case 'End':
        this.setActive(this.visible.length - 1, true);
        break;
      case 'ArrowRight':
        e.preventDefault();
        if (n?.expandable && !this.expanded.has(n.key)) await this.toggle(i, true);
        else if (n?.expandable) this.setActive(i + 1, true);
        return;
      case 'ArrowLeft': {
        if (n?.expandable && this.expanded.has(n.key)) void this.toggle(i, false);
        else {
          const depth = this.visible[i].depth;
          for (let j = i - 1; j >= 0; j--)
            if (this.visible[j].depth < depth) {
              this.setActive(j, true);
              break;
            }
        }
        break;
      }
      case 'Enter':
      case ' ':
        e.preventDefault();
        if (n?.moreOf) await this.more(i);
        else if (n?.expandable) await this.toggle(i);
        return;
      default:
        return;
    }
    e.preventDefault();
  }
}
