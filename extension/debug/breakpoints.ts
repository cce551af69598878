import { parseFilter, type CompiledFilter } from '../core/filter/filter';
import type { FilterRow } from '../core/filter/fields';

/**
 * What the replay debugger can break on, parsed from DAP requests. Function breakpoints name a page
 * (`mem:0x1f000`), a ramblock (`pc.ram`) or a filter expression of the packet list (`packet_num == 12`);
 * their `condition` is a filter expression too. Data breakpoints watch one page: written, or written as a
 * zero page.
 */

export type BreakTarget =
  | { kind: 'page'; block: string; offset: number }
  | { kind: 'block'; block: string }
  | { kind: 'filter'; filter: CompiledFilter };

export type HitTest = (count: number) => boolean;

export interface Breakpoint {
  id: number;
  target: BreakTarget;
  /** Also true on a page: the write must be a zero page (data breakpoints "written as zero"). */
  zeroOnly?: boolean;
  condition?: CompiledFilter;
  hit?: HitTest;
  hits: number;
}

/** `mem:0x1f000` → block and page offset; the block part may itself hold colons (`0000:00:02.0/vga.vram`). */
export function parsePageRef(
  text: string,
  blocks: readonly string[],
  pageSize: number,
): { block: string; offset: number } | undefined {
  const m = /^(.*?)\s*:\s*(0x[0-9a-fA-F_]+|[0-9][0-9_]*)$/.exec(text.trim());
  if (!m) return undefined;
  const block = blocks.includes(m[1]) ? m[1] : undefined;
  if (block === undefined) return undefined;
  const raw = m[2].replace(/_/g, '');
  const offset = raw.startsWith('0x') ? parseInt(raw.slice(2), 16) : Number(raw);
  if (!Number.isSafeInteger(offset)) return undefined;
  return { block, offset: offset - (offset % pageSize) };
}

export function formatPage(block: string, offset: number): string {
  return `${block}:0x${offset.toString(16)}`;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

export function parseFunctionBreakpoint(
  name: string,
  blocks: readonly string[],
  pageSize: number,
): Parsed<BreakTarget> {
  const text = name.trim();
  if (blocks.includes(text)) return { ok: true, value: { kind: 'block', block: text } };
  const page = parsePageRef(text, blocks, pageSize);
  if (page) return { ok: true, value: { kind: 'page', ...page } };
  const colon = /^(.*?)\s*:\s*(0x[0-9a-fA-F_]+|[0-9][0-9_]*)$/.exec(text);
  if (colon && !blocks.includes(colon[1]))
    return { ok: false, message: `no ramblock named "${colon[1]}" (ramblocks: ${blocks.join(', ') || 'none'})` };
  const f = parseFilter(text);
  if (f.ok && text) return { ok: true, value: { kind: 'filter', filter: f.filter } };
  const why = f.ok ? 'empty' : `${f.error.message} at column ${f.error.start + 1}`;
  return {
    ok: false,
    message: `"${text}" is not a ramblock (${blocks.join(', ') || 'none'}), a page (ramblock:0xOFFSET) or a filter expression: ${why}`,
  };
}

export function parseCondition(text: string | undefined): Parsed<CompiledFilter | undefined> {
  if (!text?.trim()) return { ok: true, value: undefined };
  const f = parseFilter(text);
  return f.ok
    ? { ok: true, value: f.filter }
    : { ok: false, message: `condition: ${f.error.message} at column ${f.error.start + 1}` };
}

/** VS Code's hit count box: `5` (the 5th time), `>= 5`, `> 5`, `== 5`, `% 5` (every 5th). */
export function parseHitCondition(text: string | undefined): Parsed<HitTest | undefined> {
  if (!text?.trim()) return { ok: true, value: undefined };
  const m = /^\s*(>=|<=|==|>|<|%)?\s*(\d+)\s*$/.exec(text);
  if (!m) return { ok: false, message: `hit count "${text}": expected N, >= N, > N, == N or % N` };
  const n = Number(m[2]);
  switch (m[1]) {
    case '>=':
      return { ok: true, value: (c) => c >= n };
    case '>':
      return { ok: true, value: (c) => c > n };
    case '<=':
      return { ok: true, value: (c) => c <= n };
    case '<':
      return { ok: true, value: (c) => c < n };
    case '%':
      return { ok: true, value: (c) => n > 0 && c % n === 0 };
    default:
      return { ok: true, value: (c) => c === n };
  }
}

/** A data breakpoint's id: what it watches, in a form the adapter can parse back. */
export function dataIdOf(block: string, offset: number, zeroOnly: boolean): string {
  return `${zeroOnly ? 'zero' : 'write'}:0x${offset.toString(16)}:${block}`;
}

export function parseDataId(dataId: string): { block: string; offset: number; zeroOnly: boolean } | undefined {
  const m = /^(zero|write):0x([0-9a-f]+):(.*)$/.exec(dataId);
  return m ? { zeroOnly: m[1] === 'zero', offset: parseInt(m[2], 16), block: m[3] } : undefined;
}

/** Whether a condition holds for a packet; main-channel records have no packet row, so a condition fails. */
export function conditionHolds(condition: CompiledFilter | undefined, row: FilterRow | undefined): boolean {
  if (!condition) return true;
  if (!row) return false;
  return condition.test(row) === true;
}
