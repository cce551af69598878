import type { DiagnosticInfo, PacketRef, Severity } from '../extension/shared/protocol';
import type { Rpc } from './rpc';
import { clear, el, icon } from './dom';

/** The capture's diagnostics, a page at a time; each with a link to its packet. */
export class DiagnosticsPanel {
  readonly root: HTMLElement;
  private readonly list: HTMLElement;
  private readonly head: HTMLElement;
  private severity?: Severity;
  private loaded = 0;
  private total = 0;
  onReveal: (ref: PacketRef) => void = () => {};
  onProblems: () => void = () => {};

  constructor(private readonly rpc: Rpc) {
    this.root = el('section', { class: 'diagnostics side-panel', attrs: { 'aria-label': 'Diagnostics' } });
    this.head = el('div', { class: 'dp-head', attrs: { 'aria-live': 'polite' } });
    this.list = el('div', { class: 'dp-list', attrs: { role: 'list' } });
    const problems = el('vscode-button', { attrs: { secondary: true, icon: 'warning' }, text: 'Open Problems panel' });
    problems.addEventListener('click', () => this.onProblems());
    this.root.append(el('div', { class: 'dp-bar' }, [this.head, problems]), this.list);
  }

  async show(severity?: Severity): Promise<void> {
    this.severity = severity;
    this.loaded = 0;
    clear(this.list);
    await this.more();
  }

  focus(): void {
    (this.list.querySelector('a') as HTMLElement | null)?.focus();
  }

  private async more(): Promise<void> {
    const r = await this.rpc.request('getDiagnostics', { start: this.loaded, count: 200, severity: this.severity });
    this.total = r.total;
    this.list.querySelector('.dp-more')?.remove();
    for (const d of r.items) this.list.append(this.item(d));
    this.loaded += r.items.length;
    this.head.textContent = `${this.total} ${this.severity ?? ''} diagnostic${this.total === 1 ? '' : 's'}`.replace(
      '  ',
      ' ',
    );
    if (this.loaded < this.total) {
      const b = el('vscode-button', {
        class: 'dp-more',
        attrs: { secondary: true },
        text: `Show more (${this.total - this.loaded} left)`,
      });
      b.addEventListener('click', () => void this.more());
      this.list.append(b);
    }
  }

  private item(d: DiagnosticInfo): HTMLElement {
    const row = el('div', { class: `dp-item sev-${d.severity}`, attrs: { role: 'listitem' } }, [
      icon(d.severity, d.severity),
      el('code', { text: d.code }),
    ]);
    row.append(el('span', { class: 'msg', text: d.message }));
    if (d.packet) {
      const ref = d.packet;
      const a = el('a', { attrs: { href: '#' }, text: d.location });
      a.addEventListener('click', (e) => {
        e.preventDefault();
        this.onReveal(ref);
      });
      row.append(a);
    } else if (d.location) row.append(el('span', { class: 'muted', text: d.location }));
    return row;
  }
}
