import { FILTER_FIELD_MAP } from './fields';
import { FilterSyntaxError, type Token } from './lexer';
import {
  asCondition,
  bitwiseAnd,
  compare,
  contains,
  fieldNode,
  literal,
  logicalChain,
  negation,
  range,
  requireNumbers,
  type Node,
} from './evaluator';

/**
 * Recursive descent over the filter grammar (see filter.ts). Chains are collected in loops, so only
 * parentheses and `!` nest; their depth is bounded, and going deeper is a syntax error at the token that
 * went too deep, never a stack overflow in the extension host or a breakpoint condition.
 */

/** Deeper than any expression a person writes; far below what the stack holds (each level is a few frames). */
export const MAX_FILTER_DEPTH = 256;

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'contains', 'true', 'false']);

export class Parser {
  private pos = 0;
  private depth = 0;
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
    if (t.kind !== 'eof')
      throw new FilterSyntaxError(
        t.kind === 'op' && t.text === ')' ? 'unbalanced ")"' : `unexpected "${t.text}": expected "&&", "||" or the end`,
        t.start,
        t.end,
      );
    return asCondition(n);
  }

  private or(): Node {
    return this.chain(() => this.and(), '||', 'or', true);
  }

  private and(): Node {
    return this.chain(() => this.not(), '&&', 'and', false);
  }

  private chain(operand: () => Node, op: string, word: string, decisive: boolean): Node {
    const operands = [operand()];
    while (this.isOp(this.peek(), op) || this.isWord(this.peek(), word)) {
      this.next();
      operands.push(operand());
    }
    return logicalChain(operands, decisive);
  }

  /** Runs `inner` one nesting level deeper (inside "(" or after "!"), refusing to go past the limit. */
  private nested<T>(at: Token, inner: () => T): T {
    if (this.depth >= MAX_FILTER_DEPTH)
      throw new FilterSyntaxError(
        `nested too deeply (more than ${MAX_FILTER_DEPTH} levels of "(" and "!")`,
        at.start,
        at.end,
      );
    this.depth++;
    try {
      return inner();
    } finally {
      this.depth--;
    }
  }

  private not(): Node {
    const t = this.peek();
    if (this.isOp(t, '!') || this.isWord(t, 'not')) {
      this.next();
      return negation(
        t,
        this.nested(t, () => this.not()),
      );
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
      if (!this.isOp(dots, '..'))
        throw new FilterSyntaxError('expected ".." in a range: offset in 0x1000..0x1fff', dots.start, dots.end);
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
    const operands = [this.atom()];
    while (this.isOp(this.peek(), '&')) {
      this.next();
      operands.push(this.atom());
      requireNumbers([operands[0], operands[operands.length - 1]]);
    }
    return bitwiseAnd(operands);
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
          const inner = this.nested(t, () => this.or());
          const close = this.next();
          if (!this.isOp(close, ')'))
            throw new FilterSyntaxError(
              close.kind === 'eof' ? 'missing ")"' : `expected ")" but found "${close.text}"`,
              close.kind === 'eof' ? t.start : close.start,
              close.end,
            );
          return { ...inner, start: t.start, end: close.end };
        }
        throw new FilterSyntaxError(
          t.text === ')' ? 'unbalanced ")"' : `expected a field, number or string before "${t.text}"`,
          t.start,
          t.end,
        );
      case 'eof':
        throw new FilterSyntaxError(
          'the expression ends too early: expected a field, number or string',
          t.start,
          t.end,
        );
      case 'ident': {
        const word = t.text.toLowerCase();
        if (word === 'true' || word === 'false') return literal('boolean', word === 'true', t);
        if (KEYWORDS.has(word)) throw new FilterSyntaxError(`"${t.text}" cannot start a value`, t.start, t.end);
        const f = FILTER_FIELD_MAP.get(t.text) ?? FILTER_FIELD_MAP.get(word);
        if (!f) throw new FilterSyntaxError(`unknown field "${t.text}"${suggest(t.text)}`, t.start, t.end);
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
