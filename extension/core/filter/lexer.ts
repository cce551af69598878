/** The filter language's tokens: numbers, strings, identifiers and operators, each with its source span. */

export type TokKind = 'num' | 'str' | 'ident' | 'op' | 'eof';

export interface Token {
  kind: TokKind;
  text: string;
  value?: number | string;
  start: number;
  end: number;
}

/** A syntax or type error at [start, end) of the expression; parseFilter turns it into a FilterError. */
export class FilterSyntaxError extends Error {
  constructor(
    message: string,
    readonly start: number,
    readonly end: number,
  ) {
    super(message);
  }
}

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '..', '<', '>', '!', '&', '(', ')', '='];

export function tokenize(src: string): Token[] {
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
      if (i >= src.length) throw new FilterSyntaxError('unterminated string', start, src.length);
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
        throw new FilterSyntaxError(`malformed number "${src.slice(start, j)}"`, start, j);
      }
      const clean = text.replace(/_/g, '');
      const value = clean.startsWith('0x')
        ? parseInt(clean.slice(2), 16)
        : clean.startsWith('0b')
          ? parseInt(clean.slice(2), 2)
          : Number(clean);
      if (!Number.isFinite(value) || clean === '0x' || clean === '0b')
        throw new FilterSyntaxError(`malformed number "${text}"`, start, i);
      if (value > Number.MAX_SAFE_INTEGER)
        throw new FilterSyntaxError(`number ${text} is too large (above 2^53)`, start, i);
      out.push({ kind: 'num', text, value, start, end: i });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_.]/.test(src[i]) && !(src[i] === '.' && src[i + 1] === '.')) i++;
      out.push({ kind: 'ident', text: src.slice(start, i), start, end: i });
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new FilterSyntaxError(`unexpected character "${c}"`, i, i + 1);
    if (op === '=') throw new FilterSyntaxError('"=" is not an operator: use "==" to compare', i, i + 1);
    i += op.length;
    out.push({ kind: 'op', text: op, start, end: i });
  }
  out.push({ kind: 'eof', text: '', start: src.length, end: src.length });
  return out;
}
