import type { FilterField, FilterRow, FilterType } from './fields';
import { FilterSyntaxError, type Token } from './lexer';

/**
 * The filter's compiled nodes: each sub-expression becomes a typed closure over a row. Types are checked
 * here, while the parser builds the nodes, so a type error carries the span of what is wrong. Chains
 * (`a || b || …`, `a && b && …`, `x & y & …`) are one node over a list of operands, evaluated in a loop:
 * a 10^5-term chain costs no stack.
 *
 * Evaluation is three-valued: when a row's offsets have not been read, a test on them is "unknown"
 * (undefined), so the host reads headers only for rows the other conditions do not already decide.
 */

/** true / false, or undefined when the answer depends on offsets not supplied. */
export type Tri = boolean | undefined;

/** A compiled sub-expression: its static type, its value reader, and its source span. */
export interface Node {
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

export function describeType(t: FilterType): string {
  return t === 'offsets' ? 'a set of offsets' : t === 'boolean' ? 'a condition' : `a ${t}`;
}

export function literal(type: FilterType, v: number | string | boolean, t: Token): Node {
  return { type, start: t.start, end: t.end, needsOffsets: false, literal: true, value: () => v };
}

export function fieldNode(f: FilterField, t: Token): Node {
  const get = f.get;
  return { type: f.type, start: t.start, end: t.end, needsOffsets: !!f.needsOffsets, value: (r) => get(r) };
}

/** A value used as a condition: non-zero, non-empty, true. */
export function asCondition(n: Node): Node {
  if (n.cond) return n;
  const v = n.value!;
  let cond: (r: FilterRow) => Tri;
  switch (n.type) {
    case 'boolean':
      cond = (r) => {
        const x = v(r);
        return x === undefined ? false : (x as boolean);
      };
      break;
    case 'number':
      cond = (r) => {
        const x = v(r);
        return x === undefined ? false : (x as number) !== 0;
      };
      break;
    case 'string':
      cond = (r) => {
        const x = v(r);
        return x === undefined ? false : (x as string).length > 0;
      };
      break;
    case 'offsets':
      cond = (r) => {
        const x = v(r) as number[] | undefined;
        return x === undefined ? undefined : x.length > 0;
      };
      break;
  }
  return { ...n, type: 'boolean', cond };
}

/**
 * A chain of `||` (decisive value true) or `&&` (decisive value false) in three-valued logic: a term that is
 * decisive settles it, an unknown term (offsets not read yet) leaves it unknown unless a later one is decisive.
 */
export function logicalChain(operands: Node[], decisive: boolean): Node {
  if (operands.length === 1) return operands[0];
  const conds = operands.map((n) => asCondition(n).cond!);
  return {
    type: 'boolean',
    start: operands[0].start,
    end: operands[operands.length - 1].end,
    needsOffsets: operands.some((n) => n.needsOffsets),
    cond: (row) => {
      let unknown = false;
      for (const c of conds) {
        const v = c(row);
        if (v === decisive) return decisive;
        if (v === undefined) unknown = true;
      }
      return unknown ? undefined : !decisive;
    },
  };
}

export function negation(op: Token, operand: Node): Node {
  const inner = asCondition(operand);
  const c = inner.cond!;
  return {
    type: 'boolean',
    start: op.start,
    end: inner.end,
    needsOffsets: inner.needsOffsets,
    cond: (r) => {
      const v = c(r);
      return v === undefined ? undefined : !v;
    },
  };
}

/** `x & y & …`: bitwise and of numbers, in BigInt so values above 2^32 (packet_num, offsets) stay exact. */
export function bitwiseAnd(operands: Node[]): Node {
  if (operands.length === 1) return operands[0];
  requireNumbers(operands);
  const values = operands.map((n) => n.value!);
  return {
    type: 'number',
    start: operands[0].start,
    end: operands[operands.length - 1].end,
    needsOffsets: false,
    value: (r) => {
      let acc: bigint | undefined;
      for (const v of values) {
        const x = v(r) as number | undefined;
        if (x === undefined) return undefined;
        acc = acc === undefined ? BigInt(x) : acc & BigInt(x);
      }
      return Number(acc);
    },
  };
}

/** The operands of `&` must be numbers: checked as each is parsed, so the first wrong one is reported. */
export function requireNumbers(operands: readonly Node[]): void {
  for (const n of operands)
    if (n.type !== 'number')
      throw new FilterSyntaxError(`"&" needs numbers, not ${describeType(n.type)}`, n.start, n.end);
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

export function compare(op: Token, left: Node, right: Node): Node {
  let l = left;
  let r = right;
  if (l.type === 'offsets' && r.type === 'offsets')
    throw new FilterSyntaxError('cannot compare two offset sets', op.start, op.end);
  // Keep the set on the left: `0x1000 == offset` means the same as `offset == 0x1000`.
  let o = op.text;
  if (r.type === 'offsets') {
    [l, r] = [r, l];
    o = ({ '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as Record<string, string>)[o] ?? o;
  }
  const lt = l.type === 'offsets' ? 'number' : l.type;
  if (lt !== r.type)
    throw new FilterSyntaxError(
      `cannot compare ${describeType(l.type)} with ${describeType(r.type)}`,
      left.start,
      right.end,
    );
  if (lt === 'boolean' && o !== '==' && o !== '!=')
    throw new FilterSyntaxError(`"${o}" does not apply to conditions`, op.start, op.end);
  const a = l.value ?? ((row: FilterRow) => l.cond!(row));
  const b = r.value ?? ((row: FilterRow) => r.cond!(row));
  const base = {
    type: 'boolean' as const,
    start: left.start,
    end: right.end,
    needsOffsets: l.needsOffsets || r.needsOffsets,
  };
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

export function range(v: Node, lo: Node, hi: Node): Node {
  if (v.type !== 'number' && v.type !== 'offsets')
    throw new FilterSyntaxError(`"in" needs a number or offset field, not ${describeType(v.type)}`, v.start, v.end);
  for (const n of [lo, hi])
    if (n.type !== 'number')
      throw new FilterSyntaxError(`range bounds must be numbers, not ${describeType(n.type)}`, n.start, n.end);
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

export function contains(op: Token, left: Node, right: Node): Node {
  if (left.type === 'offsets' && right.type === 'number') return compare({ ...op, text: '==' }, left, right);
  if (left.type !== 'string' || right.type !== 'string')
    throw new FilterSyntaxError(
      '"contains" needs a string field and a string (or an offset field and a number)',
      left.start,
      right.end,
    );
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
