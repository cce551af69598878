import { FILTER_FIELD_MAP, type FilterRow, type FilterType } from './fields';
import { FilterSyntaxError, tokenize } from './lexer';
import { Parser } from './parser';
import type { Tri } from './evaluator';

export type { Tri } from './evaluator';

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
 * is reported with its position. Nesting of "(" and "!" is bounded (parser.ts); chains are not.
 *
 * Evaluation is three-valued: when a row's offsets have not been read, a test on them is "unknown"
 * (undefined), so the host reads headers only for rows the other conditions do not already decide.
 * lexer.ts makes tokens, parser.ts the grammar, evaluator.ts the typed closures it compiles to.
 */

export interface FilterError {
  message: string;
  /** Character positions in the expression, [start, end). */
  start: number;
  end: number;
}

export interface CompiledFilter {
  readonly text: string;
  /** True when some test reads offset[] entries (the host must read packet headers). */
  readonly needsOffsets: boolean;
  /** Field names the expression uses. */
  readonly fields: readonly string[];
  test(row: FilterRow): Tri;
}

export type ParseResult = { ok: true; filter: CompiledFilter } | { ok: false; error: FilterError };

const MATCH_ALL: CompiledFilter = { text: '', needsOffsets: false, fields: [], test: () => true };

export function parseFilter(text: string): ParseResult {
  if (!text.trim()) return { ok: true, filter: MATCH_ALL };
  try {
    const p = new Parser(tokenize(text));
    const root = p.parse();
    const cond = root.cond!;
    return { ok: true, filter: { text, needsOffsets: root.needsOffsets, fields: [...p.fieldsUsed], test: cond } };
  } catch (e) {
    if (e instanceof FilterSyntaxError)
      return { ok: false, error: { message: e.message, start: e.start, end: Math.max(e.end, e.start + 1) } };
    throw e;
  }
}

/** Field names and descriptions, for completion and the filter box's help. */
export function filterFieldHelp(): { name: string; type: FilterType; description: string; cField?: string }[] {
  return [...FILTER_FIELD_MAP.values()].map((f) => ({
    name: f.name,
    type: f.type,
    description: f.description,
    cField: f.cField,
  }));
}
