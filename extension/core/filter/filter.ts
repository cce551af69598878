import { FILTER_FIELD_MAP, type FilterField, type FilterRow, type FilterType } from './fields';

/**
 * The packet-list filter language, a small Wireshark-like expression language over packet fields:
 *
 *   expr   := or
 *   or     := and (('||' | 'or') and)*
 *   and    := not (('&&' | 'and') not)*
 *   not    := ('!' | 'not') not | test
 *   test   := value (cmpop value | 'in' value '..' value | 'contains' value)?
 *   value  := atom ('&' atom)*                      bitwise and, numbers only
 *   atom   := '(' expr ')' | field | number | string | 'true' | 'false'
 *   cmpop  := '==' | '!=' | '<' | '<=' | '>' | '>='
 *
 * Numbers are decimal or 0x hex; strings use "…" or '…'. A bare value in a condition is true when it is
 * non-zero / non-empty. Offset sets (offset, normal_offset, zero_offset) match when ANY member satisfies the
 * comparison; `!=` on a set means "no member equals". Types are checked while parsing, so `ramblock == 3`
 * is reported with its position.
 *
 * Evaluation is three-valued: when a row's offsets have not been read, a test on them is "unknown"
 * (undefined), so the host reads headers only for rows the other conditions do not already decide.
 */

export interface FilterError {
  message: string;
  /** Character positions in the expression, [start, end). */
  start: number;
  end: number;
}

/** true / false, or undefined when the answer depends on offsets not supplied. */
export type Tri = boolean | undefined;

export interface CompiledFilter {
  readonly text: string;
  /** True when some test reads offset[] entries (the host must read packet headers). */
  readonly needsOffsets: boolean;
  /** Field names the expression uses. */
  readonly fields: readonly string[];
  test(row: FilterRow): Tri;
}

export type ParseResult = { ok: true; filter: CompiledFilter } | { ok: false; error: FilterError };

type TokKind = 'num' | 'str' | 'ident' | 'op' | 'eof';
interface Token {
  kind: TokKind;
  text: string;
  value?: number | string;
  start: number;
  end: number;
}

class SyntaxError_ extends Error {
  constructor(message: string, readonly start: number, readonly end: number) {
    super(message);
  }
}

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '..', '<', '>', '!', '&', '(', ')', '='];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '"' || c === "'") {
      let value = '';
      i++;
      while (i < src.length && src[i] !== c) {
        if (src[i] === '\\' && i + 1 < src.length) {
          const n = src[i + 1];
          value += n === 'n' ? '\n' : n === 't' ? '\t' : n === '0' ? '\0' : n;
          i += 2;
        } else value += src[i++];
      }
      if (i >= src.length) throw new SyntaxError_('unterminated string', start, src.length);
      i++;
      out.push({ kind: 'str', text: src.slice(start, i), value, start, end: i });
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^(0x[0-9a-fA-F_]+|0b[01_]+|[0-9][0-9_]*)/.exec(src.slice(i))!;
      // `1..5`: the number stops before the range operator.
      const text = m[0];
      i += text.length;
      if (i < src.length && /[A-Za-z_]/.test(src[i])) {
        let j = i;
        while (j < src.length && /[A-Za-z0-9_]/.test(src[j])) j++;
        throw new SyntaxError_(`malformed number "${src.slice(start, j)}"`, start, j);
      }
      const clean = text.replace(/_/g, '');
      const value = clean.startsWith('0x') ? parseInt(clean.slice(2), 16) : clean.startsWith('0b') ? parseInt(clean.slice(2), 2) : Number(clean);
      if (!Number.isFinite(value) || clean === '0x' || clean === '0b') throw new SyntaxError_(`malformed number "${text}"`, start, i);
      if (value > Number.MAX_SAFE_INTEGER) throw new SyntaxError_(`number ${text} is too large (above 2^53)`, start, i);
      out.push({ kind: 'num', text, value, start, end: i });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_.]/.test(src[i]) && !(src[i] === '.' && src[i + 1] === '.')) i++;
      out.push({ kind: 'ident', text: src.slice(start, i), start, end: i });
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new SyntaxError_(`unexpected character "${c}"`, i, i + 1);
    if (op === '=') throw new SyntaxError_('"=" is not an operator: use "==" to compare', i, i + 1);
    i += op.length;
    out.push({ kind: 'op', text: op, start, end: i });
  }
  out.push({ kind: 'eof', text: '', start: src.length, end: src.length });
  return out;
}

/** A compiled sub-expression: its static type, its value reader, and its source span. */
interface Node {
  type: FilterType;
  start: number;
  end: number;
  /** For values: the value (offsets → number[]; undefined = not available). */
  value?: (r: FilterRow) => unknown;
  /** For conditions. */
  cond?: (r: FilterRow) => Tri;
  needsOffsets: boolean;
  /** A constant known at parse time (literals). */
  literal?: boolean;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'contains', 'true', 'false']);

class Parser {
  private pos = 0;
  readonly fieldsUsed = new Set<string>();
  constructor(private readonly toks: Token[]) {}

  private peek(): Token {
    return this.toks[this.pos];
  }
  private next(): Token {
    return this.toks[this.pos++];
  }
  private isOp(t: Token, ...ops: string[]): boolean {
    return t.kind === 'op' && ops.includes(t.text);
  }
  private isWord(t: Token, ...words: string[]): boolean {
    return t.kind === 'ident' && words.includes(t.text.toLowerCase());
  }

  parse(): Node {
    const n = this.or();
    const t = this.peek();
    if (t.kind !== 'eof') throw new SyntaxError_(t.kind === 'op' && t.text === ')' ? 'unbalanced ")"' : `unexpected "${t.text}": expected "&&", "||" or the end`, t.start, t.end);
    return asCondition(n);
  }

  private or(): Node {
    return this.logical(() => this.and(), '||', 'or', true);
  }

  private and(): Node {
    return this.logical(() => this.not(), '&&', 'and', false);
  }

  /**
   * A chain of `||` (decisive value true) or `&&` (decisive value false) in three-valued logic: a side that is
   * decisive settles it, an unknown side (offsets not read yet) leaves it unknown unless the other is decisive.
   */
  private logical(operand: () => Node, op: string, word: string, decisive: boolean): Node {
    let left = operand();
    while (this.isOp(this.peek(), op) || this.isWord(this.peek(), word)) {
      this.next();
      const l = asCondition(left);
      const r = asCondition(operand());
      const lc = l.cond!;
      const rc = r.cond!;
      left = {
        type: 'boolean',
        start: l.start,
        end: r.end,
        needsOffsets: l.needsOffsets || r.needsOffsets,
        cond: (row) => {
          const a = lc(row);
          if (a === decisive) return decisive;
          const b = rc(row);
          if (b === decisive) return decisive;
          return a === undefined || b === undefined ? undefined : !decisive;
        },
      };
    }
    return left;
  }

  private not(): Node {
    const t = this.peek();
    if (this.isOp(t, '!') || this.isWord(t, 'not')) {
      this.next();
      const inner = asCondition(this.not());
      const c = inner.cond!;
      return { type: 'boolean', start: t.start, end: inner.end, needsOffsets: inner.needsOffsets, cond: (r) => { const v = c(r); return v === undefined ? undefined : !v; } };
    }
    return this.test();
  }

  private test(): Node {
    const left = this.value();
    const t = this.peek();
    if (t.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.text)) {
      this.next();
      const right = this.value();
      return compare(t, left, right);
    }
    if (this.isWord(t, 'in')) {
      this.next();
      const lo = this.value();
      const dots = this.next();
      if (!this.isOp(dots, '..')) throw new SyntaxError_('expected ".." in a range: offset in 0x1000..0x1fff', dots.start, dots.end);
      const hi = this.value();
      return range(left, lo, hi);
    }
    if (this.isWord(t, 'contains')) {
      this.next();
      const right = this.value();
      return contains(t, left, right);
    }
    return left;
  }

  private value(): Node {
    let left = this.atom();
    while (this.isOp(this.peek(), '&')) {
      this.next();
      const right = this.atom();
      for (const n of [left, right]) if (n.type !== 'number') throw new SyntaxError_(`"&" needs numbers, not ${describeType(n.type)}`, n.start, n.end);
      const a = left.value!;
      const b = right.value!;
      const l = left;
      left = {
        type: 'number',
        start: l.start,
        end: right.end,
        needsOffsets: false,
        value: (r) => {
          const x = a(r) as number | undefined;
          const y = b(r) as number | undefined;
          if (x === undefined || y === undefined) return undefined;
          // BigInt keeps values above 2^32 (packet_num, offsets) exact.
          return Number((BigInt(x) & BigInt(y)));
        },
      };
    }
    return left;
  }

  private atom(): Node {
    const t = this.next();
    switch (t.kind) {
      case 'num':
        return literal('number', t.value as number, t);
      case 'str':
        return literal('string', t.value as string, t);
      case 'op':
        if (t.text === '(') {
          const inner = this.or();
          const close = this.next();
          if (!this.isOp(close, ')')) throw new SyntaxError_(close.kind === 'eof' ? 'missing ")"' : `expected ")" but found "${close.text}"`, close.kind === 'eof' ? t.start : close.start, close.end);
          return { ...inner, start: t.start, end: close.end };
        }
        throw new SyntaxError_(t.text === ')' ? 'unbalanced ")"' : `expected a field, number or string before "${t.text}"`, t.start, t.end);
      case 'eof':
        throw new SyntaxError_('the expression ends too early: expected a field, number or string', t.start, t.end);
      case 'ident': {
        const word = t.text.toLowerCase();
        if (word === 'true' || word === 'false') return literal('boolean', word === 'true', t);
        if (KEYWORDS.has(word)) throw new SyntaxError_(`"${t.text}" cannot start a value`, t.start, t.end);
        const f = FILTER_FIELD_MAP.get(t.text) ?? FILTER_FIELD_MAP.get(word);
        if (!f) throw new SyntaxError_(`unknown field "${t.text}"${suggest(t.text)}`, t.start, t.end);
        this.fieldsUsed.add(f.name);
        return fieldNode(f, t);
      }
    }
  }
}

function suggest(name: string): string {
  const lower = name.toLowerCase();
  const hit = [...FILTER_FIELD_MAP.keys()].find((k) => k.startsWith(lower.slice(0, 3)) || lower.startsWith(k));
  return hit ? ` (did you mean "${hit}"?)` : '';
}

function describeType(t: FilterType): string {
  return t === 'offsets' ? 'a set of offsets' : t === 'boolean' ? 'a condition' : `a ${t}`;
}

function literal(type: FilterType, v: number | string | boolean, t: Token): Node {
  return { type, start: t.start, end: t.end, needsOffsets: false, literal: true, value: () => v };
}

function fieldNode(f: FilterField, t: Token): Node {
  const get = f.get;
  return { type: f.type, start: t.start, end: t.end, needsOffsets: !!f.needsOffsets, value: (r) => get(r) };
}

/** A value used as a condition: non-zero, non-empty, true. */
function asCondition(n: Node): Node {
  if (n.cond) return n;
  const v = n.value!;
  let cond: (r: FilterRow) => Tri;
  switch (n.type) {
    case 'boolean':
      cond = (r) => { const x = v(r); return x === undefined ? false : (x as boolean); };
      break;
    case 'number':
      cond = (r) => { const x = v(r); return x === undefined ? false : (x as number) !== 0; };
      break;
    case 'string':
      cond = (r) => { const x = v(r); return x === undefined ? false : (x as string).length > 0; };
      break;
    case 'offsets':
      cond = (r) => { const x = v(r) as number[] | undefined; return x === undefined ? undefined : x.length > 0; };
      break;
  }
  return { ...n, type: 'boolean', cond };
}

function scalarCompare(op: string, a: number | string | boolean, b: number | string | boolean): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

function compare(op: Token, left: Node, right: Node): Node {
  let l = left;
  let r = right;
  if (l.type === 'offsets' && r.type === 'offsets') throw new SyntaxError_('cannot compare two offset sets', op.start, op.end);
  // Keep the set on the left: `0x1000 == offset` means the same as `offset == 0x1000`.
  let o = op.text;
  if (r.type === 'offsets') {
    [l, r] = [r, l];
    o = ({ '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as Record<string, string>)[o] ?? o;
  }
  const lt = l.type === 'offsets' ? 'number' : l.type;
  if (lt !== r.type) throw new SyntaxError_(`cannot compare ${describeType(l.type)} with ${describeType(r.type)}`, left.start, right.end);
  if (lt === 'boolean' && o !== '==' && o !== '!=') throw new SyntaxError_(`"${o}" does not apply to conditions`, op.start, op.end);
  const a = l.value ?? ((row: FilterRow) => l.cond!(row));
  const b = r.value ?? ((row: FilterRow) => r.cond!(row));
  const base = { type: 'boolean' as const, start: left.start, end: right.end, needsOffsets: l.needsOffsets || r.needsOffsets };
  if (l.type === 'offsets') {
    const negate = o === '!=';
    const test = negate ? '==' : o;
    return {
      ...base,
      cond: (row) => {
        const set = a(row) as readonly number[] | undefined;
        const y = b(row) as number | undefined;
        if (set === undefined) return undefined;
        if (y === undefined) return false;
        const any = set.some((x) => scalarCompare(test, x, y));
        return negate ? !any : any;
      },
    };
  }
  return {
    ...base,
    cond: (row) => {
      const x = a(row) as number | string | boolean | undefined;
      const y = b(row) as number | string | boolean | undefined;
      if (x === undefined || y === undefined) return o === '!=' ? x !== y : false;
      return scalarCompare(o, x, y);
    },
  };
}

function range(v: Node, lo: Node, hi: Node): Node {
  if (v.type !== 'number' && v.type !== 'offsets') throw new SyntaxError_(`"in" needs a number or offset field, not ${describeType(v.type)}`, v.start, v.end);
  for (const n of [lo, hi]) if (n.type !== 'number') throw new SyntaxError_(`range bounds must be numbers, not ${describeType(n.type)}`, n.start, n.end);
  const get = v.value!;
  const a = lo.value!;
  const b = hi.value!;
  return {
    type: 'boolean',
    start: v.start,
    end: hi.end,
    needsOffsets: v.needsOffsets,
    cond: (row) => {
      const x = get(row) as number | readonly number[] | undefined;
      const l = a(row) as number;
      const h = b(row) as number;
      if (x === undefined) return v.type === 'offsets' ? undefined : false;
      if (typeof x === 'number') return x >= l && x <= h;
      return x.some((y) => y >= l && y <= h);
    },
  };
}

function contains(op: Token, left: Node, right: Node): Node {
  if (left.type === 'offsets' && right.type === 'number') return compare({ ...op, text: '==' }, left, right);
  if (left.type !== 'string' || right.type !== 'string') throw new SyntaxError_('"contains" needs a string field and a string (or an offset field and a number)', left.start, right.end);
  const a = left.value!;
  const b = right.value!;
  return {
    type: 'boolean',
    start: left.start,
    end: right.end,
    needsOffsets: false,
    cond: (row) => {
      const x = a(row) as string | undefined;
      const y = b(row) as string | undefined;
      return x !== undefined && y !== undefined && x.includes(y);
    },
  };
}

const MATCH_ALL: CompiledFilter = { text: '', needsOffsets: false, fields: [], test: () => true };

export function parseFilter(text: string): ParseResult {
  if (!text.trim()) return { ok: true, filter: MATCH_ALL };
  try {
    const p = new Parser(tokenize(text));
    const root = p.parse();
    const cond = root.cond!;
    return { ok: true, filter: { text, needsOffsets: root.needsOffsets, fields: [...p.fieldsUsed], test: cond } };
  } catch (e) {
    if (e instanceof SyntaxError_) return { ok: false, error: { message: e.message, start: e.start, end: Math.max(e.end, e.start + 1) } };
    throw e;
  }
}

/** Field names and descriptions, for completion and the filter box's help. */
export function filterFieldHelp(): { name: string; type: FilterType; description: string; cField?: string }[] {
  return [...FILTER_FIELD_MAP.values()].map((f) => ({ name: f.name, type: f.type, description: f.description, cField: f.cField }));
}
