import { el, icon } from './dom';

export interface MenuColumn {
  key: string;
  label?: string;
}

/**
 * The packet list's Columns menu: a checkbox per column, opened from the list's Columns button or the header's
 * context menu. Arrow keys move, Space/Enter toggles, Escape closes and gives focus back.
 */
export class ColumnMenu {
  readonly root: HTMLElement;
  readonly button: HTMLButtonElement;
  private readonly items: HTMLElement[] = [];
  private returnFocus?: HTMLElement;

  constructor(
    private readonly columns: MenuColumn[],
    private readonly isShown: (key: string) => boolean,
    toggle: (key: string, show: boolean) => void,
    reset: () => void,
  ) {
    this.button = el(
      'button',
      {
        class: 'list-tool',
        attrs: { type: 'button', 'aria-haspopup': 'menu', 'aria-expanded': 'false' },
        title: 'Show or hide columns (also: right-click a column header)',
      },
      [icon('list-selection'), el('span', { text: 'Columns' })],
    ) as HTMLButtonElement;
    this.root = el('div', { class: 'col-menu', attrs: { role: 'menu', 'aria-label': 'Columns', hidden: true } });
    for (const c of columns) {
      const item = el('div', {
        class: 'col-menu-item',
        attrs: { role: 'menuitemcheckbox', tabindex: -1, 'data-key': c.key, 'aria-checked': 'true' },
      });
      item.append(el('span', { class: 'check' }, [icon('check')]), el('span', { text: c.label ?? c.key }));
      item.addEventListener('click', () => toggle(c.key, !this.isShown(c.key)));
      this.items.push(item);
      this.root.append(item);
    }
    const resetItem = el('div', { class: 'col-menu-item reset', attrs: { role: 'menuitem', tabindex: -1 } }, [
      el('span', { class: 'check' }),
      el('span', { text: 'Reset columns' }),
    ]);
    resetItem.addEventListener('click', () => {
      reset();
      this.close();
    });
    this.items.push(resetItem);
    this.root.append(resetItem);
    this.button.addEventListener('click', () => {
      if (!this.root.hidden) return this.close();
      const r = this.button.getBoundingClientRect();
      this.open(r.left, r.top, true);
    });
    this.root.addEventListener('keydown', (e) => this.key(e));
    // A click anywhere else closes it, as VS Code's menus do.
    document.addEventListener('pointerdown', (e) => {
      if (!this.root.hidden && !this.root.contains(e.target as Node) && !this.button.contains(e.target as Node))
        this.close(false);
    });
    window.addEventListener('blur', () => this.close(false));
  }

  /** Checkmarks from the list's current columns. */
  refresh(): void {
    this.columns.forEach((c, i) => this.items[i].setAttribute('aria-checked', String(this.isShown(c.key))));
  }

  /** Opens at a point (a header's context menu), or above it when `above` (the button at the list's foot). */
  open(x: number, y: number, above = false): void {
    this.returnFocus = (document.activeElement as HTMLElement | null) ?? undefined;
    this.refresh();
    this.root.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    const w = this.root.offsetWidth;
    const h = this.root.offsetHeight;
    const left = Math.max(0, Math.min(x, window.innerWidth - w - 2));
    const top = above ? Math.max(0, y - h - 2) : Math.max(0, Math.min(y, window.innerHeight - h - 2));
    this.root.style.left = `${left}px`;
    this.root.style.top = `${top}px`;
    this.items[0].focus();
  }

  close(refocus = true): void {
    if (this.root.hidden) return;
    this.root.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    if (refocus) this.returnFocus?.focus();
  }

  private key(e: KeyboardEvent): void {
    const i = this.items.indexOf(document.activeElement as HTMLElement);
    const move = (d: number) => this.items[(i + d + this.items.length) % this.items.length].focus();
    if (e.key === 'ArrowDown') move(1);
    else if (e.key === 'ArrowUp') move(-1);
    else if (e.key === 'Home') this.items[0].focus();
    else if (e.key === 'End') this.items[this.items.length - 1].focus();
    else if (e.key === 'Escape' || e.key === 'Tab') this.close();
    else if (e.key === 'Enter' || e.key === ' ') (document.activeElement as HTMLElement | null)?.click();
    else return;
    e.preventDefault();
    e.stopPropagation();
  }
}
