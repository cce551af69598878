import type { CompiledFilter } from '../core/filter/filter';
import type { FilterRow } from '../core/filter/fields';
import {
  conditionHolds,
  formatPage,
  parseCondition,
  parseDataId,
  parseFunctionBreakpoint,
  parseHitCondition,
  type Breakpoint,
} from './breakpoints';
import type { ReplayFacts } from './replayFacts';
import { pageCountOf, pageOf, type CursorEntry } from './replayCursor';
import type { ReplayStop } from './replayStop';

/** A function breakpoint as the user typed it: a page, a ramblock or a filter expression. */
export interface FunctionBreakpointSpec {
  name: string;
  condition?: string;
  hitCondition?: string;
}

/** A data breakpoint on one page, by the id `dataIdOf` gave it. */
export interface DataBreakpointSpec {
  dataId: string;
  accessType?: string;
  condition?: string;
  hitCondition?: string;
}

/** `error` / `warning` (diagnostics of that severity) or `filter` (with the filter expression as condition). */
export interface ExceptionFilterSpec {
  filterId: string;
  condition?: string;
}

/** Whether a breakpoint was accepted, and what it watches or why not. */
export interface BreakpointStatus {
  id?: number;
  verified: boolean;
  message?: string;
}

/** A stop a breakpoint causes: always one of the runtime's stop kinds. */
export type BreakpointStop = Extract<
  ReplayStop,
  { kind: 'breakpoint' | 'data breakpoint' | 'diagnostic' | 'filter match' }
>;

/**
 * The replay's breakpoints and when they match: function and data breakpoints on pages (checked page by
 * page), function breakpoints on ramblocks and filter expressions, diagnostics of the severities broken on
 * and the "packet matches filter" expression (checked once the whole entry is written). `count` is false when
 * moving backwards, so reverse continue finds earlier hits without advancing hit counts.
 */
export class ReplayBreakpoints {
  private functionBps: Breakpoint[] = [];
  private dataBps: Breakpoint[] = [];
  private severities = new Set<'error' | 'warning'>();
  private filterBreak: CompiledFilter | undefined;
  private nextId = 1;

  constructor(
    private readonly facts: ReplayFacts,
    private readonly blocks: () => string[],
  ) {}

  private get pageSize(): number {
    return this.facts.analysis.pageSize;
  }

  /** Replaces the function breakpoints; each gets a new id, verified or with the reason it is not. */
  setFunctionBreakpoints(specs: readonly FunctionBreakpointSpec[]): BreakpointStatus[] {
    const blocks = this.blocks();
    this.functionBps = [];
    return specs.map((spec) => {
      const id = this.nextId++;
      const t = parseFunctionBreakpoint(spec.name, blocks, this.pageSize);
      const cond = parseCondition(spec.condition);
      const hit = parseHitCondition(spec.hitCondition);
      if (!t.ok) return { id, verified: false, message: t.message };
      if (!cond.ok) return { id, verified: false, message: cond.message };
      if (!hit.ok) return { id, verified: false, message: hit.message };
      this.functionBps.push({ id, target: t.value, condition: cond.value, hit: hit.value, hits: 0 });
      const what =
        t.value.kind === 'page'
          ? `page ${formatPage(t.value.block, t.value.offset)}`
          : t.value.kind === 'block'
            ? `any write to ${t.value.block}`
            : `packets matching ${t.value.filter.text}`;
      return { id, verified: true, message: what };
    });
  }

  /** Replaces the data breakpoints: writes to one page, or zero-page writes to it. */
  setDataBreakpoints(specs: readonly DataBreakpointSpec[]): BreakpointStatus[] {
    this.dataBps = [];
    return specs.map((spec) => {
      const id = this.nextId++;
      const t = parseDataId(spec.dataId);
      const cond = parseCondition(spec.condition);
      const hit = parseHitCondition(spec.hitCondition);
      if (!t) return { id, verified: false, message: `unknown data id ${spec.dataId}` };
      if (!cond.ok) return { id, verified: false, message: cond.message };
      if (!hit.ok) return { id, verified: false, message: hit.message };
      if (spec.accessType && spec.accessType !== 'write')
        return { id, verified: false, message: 'pages of a replay are only written' };
      this.dataBps.push({
        id,
        target: { kind: 'page', block: t.block, offset: t.offset },
        zeroOnly: t.zeroOnly,
        condition: cond.value,
        hit: hit.value,
        hits: 0,
      });
      return { id, verified: true };
    });
  }

  /** Replaces the exception filters: diagnostic severities to stop at, and the "packet matches filter" expression. */
  setExceptionFilters(specs: readonly ExceptionFilterSpec[]): BreakpointStatus[] {
    this.severities = new Set();
    this.filterBreak = undefined;
    return specs.map((spec): BreakpointStatus => {
      if (spec.filterId === 'error' || spec.filterId === 'warning') {
        this.severities.add(spec.filterId);
        return { verified: true };
      }
      if (spec.filterId !== 'filter') return { verified: false, message: `unknown filter ${spec.filterId}` };
      const cond = parseCondition(spec.condition);
      if (!cond.ok) return { verified: false, message: cond.message };
      if (!cond.value) return { verified: false, message: 'give the filter expression as the condition' };
      this.filterBreak = cond.value;
      return { verified: true };
    });
  }

  /** Breakpoints that stop after the whole entry: ramblocks, filter expressions, diagnostics. */
  entryHit(e: CursorEntry, count: boolean): BreakpointStop | undefined {
    const row = this.facts.filterRow(e);
    const ids: number[] = [];
    for (const bp of this.functionBps) {
      const t = bp.target;
      const match =
        t.kind === 'block' ? t.block === e.block : t.kind === 'filter' ? !!row && t.filter.test(row) === true : false;
      if (match && counts(bp, row, count)) ids.push(bp.id);
    }
    if (ids.length)
      return { kind: 'breakpoint', breakpointIds: ids, description: `Breakpoint at ${this.facts.entryLabel(e)}` };
    const [first, ...more] = this.facts
      .diagnosticsOf(e)
      .filter((d) => d.severity !== 'info' && this.severities.has(d.severity));
    if (first)
      return {
        kind: 'diagnostic',
        diagnostics: [first, ...more],
        description: `${first.severity}[${first.code}]: ${first.message}`,
      };
    if (this.filterBreak && row && this.filterBreak.test(row) === true)
      return { kind: 'filter match', description: `Packet matches filter: ${this.filterBreak.text}` };
    return undefined;
  }

  /** Page and data breakpoints on page p of entry e. */
  pageHit(e: CursorEntry, p: number, count: boolean): BreakpointStop | undefined {
    const pg = pageOf(e, p);
    const offset = pg.offset - (pg.offset % this.pageSize);
    let row: FilterRow | undefined | null = null;
    const rowOf = () => (row === null ? (row = this.facts.filterRow(e)) : row);
    const fn: number[] = [];
    for (const bp of this.functionBps) {
      if (
        bp.target.kind === 'page' &&
        bp.target.block === pg.block &&
        bp.target.offset === offset &&
        counts(bp, rowOf(), count)
      )
        fn.push(bp.id);
    }
    if (fn.length)
      return {
        kind: 'breakpoint',
        breakpointIds: fn,
        atPage: true,
        description: `Breakpoint: page ${formatPage(pg.block, offset)} written (${pg.zero ? 'zero page' : 'data'})`,
      };
    const data: number[] = [];
    for (const bp of this.dataBps) {
      const t = bp.target;
      if (t.kind !== 'page' || t.block !== pg.block || t.offset !== offset) continue;
      if (bp.zeroOnly && !pg.zero) continue;
      if (counts(bp, rowOf(), count)) data.push(bp.id);
    }
    if (data.length)
      return {
        kind: 'data breakpoint',
        breakpointIds: data,
        atPage: true,
        description: `Page ${formatPage(pg.block, offset)} written${pg.zero ? ' as a zero page' : ''}`,
      };
    return undefined;
  }

  /** The first page of e from page `from` on where a page or data breakpoint matches. */
  firstPageHit(e: CursorEntry, from: number, count: boolean): { page: number; stop: BreakpointStop } | undefined {
    if (!this.functionBps.some((b) => b.target.kind === 'page') && !this.dataBps.length) return undefined;
    for (let p = from; p < pageCountOf(e); p++) {
      const stop = this.pageHit(e, p, count);
      if (stop) return { page: p, stop };
    }
    return undefined;
  }

  /** The last page of e before page `before` where a page or data breakpoint matches (moving backwards). */
  lastPageHit(e: CursorEntry, before: number): { page: number; stop: BreakpointStop } | undefined {
    for (let p = before - 1; p >= 0; p--) {
      const stop = this.pageHit(e, p, false);
      if (stop) return { page: p, stop };
    }
    return undefined;
  }
}

/** Whether a matching breakpoint stops: its condition holds, and (moving forwards) its hit count says so. */
function counts(bp: Breakpoint, row: FilterRow | undefined, count: boolean): boolean {
  if (!conditionHolds(bp.condition, row)) return false;
  if (!bp.hit || !count) return true;
  bp.hits++;
  return bp.hit(bp.hits);
}
