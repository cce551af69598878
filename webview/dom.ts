/**
 * Tiny DOM helpers. Text always goes through textContent, never innerHTML: ramblock names, idstrs and META
 * text come from the capture. Styles are set through classes or the CSSOM (the CSP has no unsafe-inline).
 */
export interface ElOptions {
  class?: string;
  text?: string;
  attrs?: Record<string, string | number | boolean | undefined>;
  title?: string;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  opts?: ElOptions,
  children?: (Node | string)[],
): HTMLElementTagNameMap[K];
export function el(tag: string, opts?: ElOptions, children?: (Node | string)[]): HTMLElement;
export function el(tag: string, opts: ElOptions = {}, children: (Node | string)[] = []): HTMLElement {
  const e = document.createElement(tag);
  if (opts.class) e.className = opts.class;
  if (opts.text !== undefined) e.textContent = opts.text;
  if (opts.title !== undefined) e.title = opts.title;
  if (opts.attrs)
    for (const [k, v] of Object.entries(opts.attrs))
      if (v !== undefined && v !== false) e.setAttribute(k, v === true ? '' : String(v));
  for (const c of children) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

export function icon(name: string, label?: string): HTMLElement {
  const i = el('span', { class: `codicon codicon-${name}` });
  if (label) {
    i.setAttribute('role', 'img');
    i.setAttribute('aria-label', label);
  } else i.setAttribute('aria-hidden', 'true');
  return i;
}

export function clear(e: Element): void {
  while (e.firstChild) e.removeChild(e.firstChild);
}
