import type { FilterErrorInfo, FilterFieldInfo } from '../extension/shared/protocol';
import { clear, el } from './dom';

type TextField = HTMLElement & { value: string; invalid: boolean };

/** The filter expression box. It turns red with the message and the error position on a syntax error. */
export class FilterBox {
  readonly root: HTMLElement;
  private readonly input: TextField;
  private readonly message: HTMLElement;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private fields: FilterFieldInfo[] = [];
  onApply: (text: string) => void = () => {};

  constructor(initial: string) {
    this.root = el('div', { class: 'filter', attrs: { role: 'search' } });
    this.input = el('vscode-textfield', {
      attrs: {
        placeholder: 'Filter: channel == 2 && sync · zero > 0 · ramblock == "pc.ram" && offset == 0x1f000',
        'aria-label': 'Packet filter expression',
        'aria-describedby': 'filter-message',
        id: 'filter-input',
      },
    }) as TextField;
    this.input.value = initial;
    this.message = el('div', { class: 'filter-message', attrs: { id: 'filter-message', 'aria-live': 'polite' } });
    const apply = el('vscode-button', { attrs: { icon: 'filter', 'aria-label': 'Apply filter' }, text: 'Apply' });
    const help = el('vscode-button', {
      attrs: { icon: 'question', secondary: true, 'aria-label': 'Filter fields', 'aria-expanded': 'false' },
      text: 'Fields',
    });
    const helpBox = el('div', {
      class: 'filter-help',
      attrs: { hidden: true, role: 'region', 'aria-label': 'Filter fields' },
    });
    help.addEventListener('click', () => {
      const open = helpBox.hidden;
      helpBox.hidden = !open;
      help.setAttribute('aria-expanded', String(open));
      if (open) this.renderHelp(helpBox);
    });
    apply.addEventListener('click', () => this.fire());
    this.input.addEventListener('keydown', (e) => {
      if ((e as KeyboardEvent).key === 'Enter') this.fire();
      if ((e as KeyboardEvent).key === 'Escape' && this.input.value) {
        this.input.value = '';
        this.fire();
      }
    });
    this.input.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.fire(), 400);
    });
    this.root.append(el('div', { class: 'filter-row' }, [this.input, apply, help]), this.message, helpBox);
  }

  setFields(f: FilterFieldInfo[]): void {
    this.fields = f;
  }

  get value(): string {
    return this.input.value;
  }

  set value(v: string) {
    this.input.value = v;
  }

  focus(): void {
    this.input.focus();
  }

  private fire(): void {
    clearTimeout(this.timer);
    this.onApply(this.input.value);
  }

  showError(text: string, e: FilterErrorInfo | undefined): void {
    clear(this.message);
    this.input.invalid = !!e;
    this.root.classList.toggle('invalid', !!e);
    if (!e) return;
    // The expression with the offending span marked: all text nodes, never HTML.
    const expr = el('code', { class: 'expr' }, [
      text.slice(0, e.start),
      el('mark', { text: text.slice(e.start, e.end) || ' ' }),
      text.slice(e.end),
    ]);
    this.message.append(el('span', { text: `Column ${e.start + 1}: ${e.message}  ` }), expr);
  }

  showInfo(text: string): void {
    clear(this.message);
    this.message.append(el('span', { class: 'muted', text }));
  }

  private renderHelp(box: HTMLElement): void {
    clear(box);
    const table = el('table', { class: 'fields' });
    table.append(
      el('tr', {}, [el('th', { text: 'field' }), el('th', { text: 'type' }), el('th', { text: 'meaning' })]),
    );
    for (const f of this.fields)
      table.append(
        el('tr', {}, [
          el('td', {}, [el('code', { text: f.name })]),
          el('td', { text: f.type }),
          el('td', { text: f.cField ? `${f.description} (${f.cField})` : f.description }),
        ]),
      );
    box.append(
      el('p', {
        text: 'Operators: == != < <= > >= && || ! (also and, or, not), & (bitwise), "in a..b", "contains". Numbers in decimal or 0x hex; strings in quotes. Offset fields match if any used offset[] entry matches; != means none.',
      }),
      table,
    );
  }
}
