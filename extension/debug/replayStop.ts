import type { Diagnostic } from '../core/diagnostics/diagnostic';

/** Common to every stop: a sentence for the user, and whether the stop is at one page rather than a whole entry. */
interface StopCommon {
  description?: string;
  /** The stop is at a page: the view shows the page last written as its own frame. */
  atPage?: boolean;
}

/**
 * Why a replay stopped, as the runtime sees it (the debug adapter turns it into a DAP `stopped` event).
 * - `entry`: at the start, nothing written; `step`: a movement finished (or hit the undo log's bound);
 * - `breakpoint` / `data breakpoint`: the ids of the breakpoints that matched;
 * - `diagnostic`: the entry has (or raised) an error or warning of a severity the user breaks on;
 * - `filter match`: the packet matches the "Packet matches filter" expression;
 * - `pause`, `end` (every page write applied), `failure` (the replay threw; the description says why).
 */
export type ReplayStop = StopCommon &
  (
    | { kind: 'entry' | 'step' | 'pause' | 'end' | 'failure' }
    | { kind: 'filter match' }
    | { kind: 'breakpoint' | 'data breakpoint'; breakpointIds: number[] }
    | { kind: 'diagnostic'; diagnostics: [Diagnostic, ...Diagnostic[]] }
  );

/** What a running replay reports, in order; the runtime never waits on a listener. */
export interface ReplayEvents {
  stopped(stop: ReplayStop): void;
  output(text: string, category: 'console' | 'stderr'): void;
  /** A forward move from the end: nothing is left to replay. */
  finished(): void;
}
