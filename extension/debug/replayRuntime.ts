import { promises as fsp } from 'node:fs';
import type { CaptureAnalysis } from '../core/analysisTypes';
import { compareWithReference } from '../core/replay/compareImages';
import { describeProvenance, type PageProvenance } from '../core/replay/provenance';
import type { ReplayEngine } from '../core/replay/replayEngine';
import { errorDetail, errorMessage } from '../core/util/errorMessage';
import { ReplayBreakpoints, type BreakpointStop } from './replayBreakpoints';
import { pageCountOf, type ReplayCursor } from './replayCursor';
import type { ReplayFacts } from './replayFacts';
import type { ReplayEvents, ReplayStop } from './replayStop';
import { plural } from '../shared/plural';

/** How far a forward move goes: the rest of the replay, one entry (packet or record), one page, one epoch. */
export type ForwardMode = 'continue' | 'entry' | 'page' | 'epoch';
/** How far a backward move goes: to the previous hit, one entry, one page. */
export type BackwardMode = 'continue' | 'entry' | 'page';

/** What a launched replay is made of (see `openReplay`). */
export interface ReplayParts {
  facts: ReplayFacts;
  engine: ReplayEngine;
  cursor: ReplayCursor;
  /** The .mfd being replayed, absolute. */
  capturePath: string;
  outDir: string;
  /** The output folder is temporary: removed on close. */
  ownOutDir: boolean;
  /** ramblock → reference RAM image, compared once the replay reaches the end. */
  references: ReadonlyMap<string, string>;
}

export interface MemoryRead {
  /** Offset inside the ramblock of the first byte asked for (0 when the request started before the block). */
  address: number;
  data?: Uint8Array;
  unreadableBytes: number;
}

/** readMemory answers at most this much at once. */
const MAX_READ = 16 << 20;

/**
 * A replay being debugged, with no notion of the debug protocol: the cursor over the engine, the breakpoints,
 * and the run loops that move forward or back until a breakpoint, a step boundary, a pause or an end. Moves
 * run one after another (a move asked for while one runs waits for it); each ends with exactly one
 * `stopped` event, or `finished` when moving forward from the end.
 */
export class ReplayRuntime {
  readonly breakpoints: ReplayBreakpoints;
  readonly facts: ReplayFacts;
  readonly engine: ReplayEngine;
  readonly cursor: ReplayCursor;
  readonly capturePath: string;
  private last: ReplayStop = { kind: 'entry' };
  private pauseRequested = false;
  private queue: Promise<void> = Promise.resolve();
  /** The last move reached the end: moving forward again finishes the replay. */
  private ended = false;
  private compared = false;

  constructor(
    private readonly parts: ReplayParts,
    private readonly events: ReplayEvents,
  ) {
    this.facts = parts.facts;
    this.engine = parts.engine;
    this.cursor = parts.cursor;
    this.capturePath = parts.capturePath;
    this.breakpoints = new ReplayBreakpoints(this.facts, () => this.blocks);
  }

  get analysis(): CaptureAnalysis {
    return this.facts.analysis;
  }

  get lastStop(): ReplayStop {
    return this.last;
  }

  /** The ramblocks of the replay, in the order the engine opened them. */
  get blocks(): string[] {
    return [...this.engine.images.keys()];
  }

  referenceOf(block: string): string | undefined {
    return this.parts.references.get(block);
  }

  /** The multifd packet the view stands in, if it stands in one. */
  currentPacket(): { stream: number; packetIndex: number } | undefined {
    const e = this.cursor.current;
    if (!e) return undefined;
    const o = this.facts.originOf(e.step);
    return o.kind === 'packet' ? { stream: o.stream, packetIndex: o.row } : undefined;
  }

  /** The first stop of a replay launched with stopOnEntry. */
  stopOnEntry(): void {
    this.stop({
      kind: 'entry',
      description: 'Replay not started: RAM is all zero, as on the destination before migration',
    });
  }

  forward(mode: ForwardMode): Promise<void> {
    return this.enqueue(() => this.runForward(mode));
  }

  backward(mode: BackwardMode): Promise<void> {
    return this.enqueue(() => this.runBackward(mode));
  }

  /** Asks the running move to stop at the next entry boundary. */
  pause(): void {
    this.pauseRequested = true;
  }

  /** Bytes of a ramblock as they stand at the current position; past the block's end they are unreadable. */
  async readMemory(block: string, start: number, count: number): Promise<MemoryRead> {
    const b = this.engine.images.get(block);
    if (!b) throw new Error(`no ramblock "${block}" in this replay`);
    const n = Math.max(0, Math.min(count, MAX_READ));
    const address = Math.max(0, start);
    if (start < 0 || start >= b.image.size) return { address, unreadableBytes: n };
    const data = await this.cursor.read(block, start, n);
    return { address, data, unreadableBytes: n - data.length };
  }

  /** Who last wrote a page; known only at the engine's frontier (stepping back does not rewind provenance). */
  provenanceAt(block: string, offset: number): PageProvenance | undefined {
    const c = this.cursor;
    if (!(c.position.entry === c.frontier - 1 && c.currentComplete)) return undefined;
    return describeProvenance(this.analysis, this.engine.provenance.packed(block, offset));
  }

  /** Stops the running move, closes the engine and removes a temporary output folder. */
  async close(): Promise<void> {
    this.pauseRequested = true;
    await this.queue.catch(() => undefined);
    await this.engine.close().catch(() => undefined);
    if (this.parts.ownOutDir) await fsp.rm(this.parts.outDir, { recursive: true, force: true }).catch(() => undefined);
  }

  private enqueue(move: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(move).catch((e: unknown) => {
      this.events.output(`multifd-replay: ${errorDetail(e)}\n`, 'stderr');
      this.stop({ kind: 'failure', description: errorMessage(e) });
    });
    return this.queue;
  }

  private stop(stop: ReplayStop): void {
    this.last = stop;
    this.events.stopped(stop);
  }

  private async runForward(mode: ForwardMode): Promise<void> {
    const c = this.cursor;
    const bps = this.breakpoints;
    this.pauseRequested = false;
    if (c.atEnd || this.ended) {
      this.ended = true;
      await this.compareAtEnd();
      this.events.finished();
      return;
    }
    if (mode === 'page') {
      const before = c.position;
      const e = await c.forwardPage();
      if (!e) return this.stopAtEnd();
      const p = c.position.pages - 1;
      const newEntry = c.position.entry !== before.entry;
      const hit = bps.pageHit(e, p, true) ?? (c.currentComplete ? bps.entryHit(e, true) : undefined);
      return this.stop(
        hit ?? {
          kind: 'step',
          atPage: true,
          description: newEntry ? `Entered ${this.facts.entryLabel(e)}` : undefined,
        },
      );
    }
    const startEpoch = c.current?.epoch ?? this.facts.firstEpoch;
    // Part of the current entry is still to write: its remaining pages come first.
    const cur = c.current;
    if (cur && !c.currentComplete) {
      const ph = bps.firstPageHit(cur, c.position.pages, true);
      if (ph) return this.stopAtPage(ph);
      await c.setPagesApplied(pageCountOf(cur));
      const eh = bps.entryHit(cur, true);
      if (eh) return this.stop(eh);
      if (mode === 'entry') return this.stop({ kind: 'step' });
    }
    let steps = 0;
    for (;;) {
      if (this.pauseRequested) return this.stop({ kind: 'pause' });
      const e = await c.forwardEntry();
      if (!e) return this.stopAtEnd();
      steps++;
      const ph = bps.firstPageHit(e, 0, true);
      if (ph) return this.stopAtPage(ph);
      const eh = bps.entryHit(e, true);
      if (eh) return this.stop(eh);
      if (mode === 'entry') return this.stop({ kind: 'step' });
      if (mode === 'epoch') {
        const next = this.facts.epochAfter(e.step);
        // At the end of the epoch already when stepping out: go on to the end of the next one.
        if ((next === undefined || next !== e.epoch) && (e.epoch !== startEpoch || steps > 0)) {
          if (next === undefined) return this.stopAtEnd();
          return this.stop({
            kind: 'step',
            description: `End of epoch ${e.epoch}: the next page write belongs to epoch ${next}`,
          });
        }
      }
      if (steps % 256 === 0) await yieldToEvents();
    }
  }

  private async runBackward(mode: BackwardMode): Promise<void> {
    const c = this.cursor;
    const bps = this.breakpoints;
    this.pauseRequested = false;
    this.ended = false;
    const limit = () =>
      this.stop(
        c.position.entry < 0
          ? { kind: 'entry', description: 'Start of the replay: nothing written yet' }
          : {
              kind: 'step',
              description: `Oldest checkpoint reached: page images before step ${c.oldestReachable.entry + 1} were dropped (maxUndoMiB)`,
            },
      );
    if (mode === 'page') {
      if (!(await c.backwardPage())) return limit();
      return this.stop({ kind: 'step', atPage: c.current !== undefined && !c.currentComplete });
    }
    if (mode === 'entry') {
      if (!(await c.backwardEntry())) return limit();
      return this.stop({ kind: 'step' });
    }
    // Reverse continue: the latest hit strictly before the current position.
    const cur = c.current;
    if (cur && !c.currentComplete) {
      const ph = bps.lastPageHit(cur, c.position.pages - 1);
      if (ph) return this.stopAtPage(ph);
    }
    let steps = 0;
    for (;;) {
      if (this.pauseRequested) return this.stop({ kind: 'pause' });
      if (!(await c.backwardEntry())) return limit();
      const e = c.current;
      if (!e) return limit();
      const eh = bps.entryHit(e, false);
      if (eh) return this.stop(eh);
      const ph = bps.lastPageHit(e, pageCountOf(e));
      if (ph) return this.stopAtPage(ph);
      if (++steps % 256 === 0) await yieldToEvents();
    }
  }

  /** Shows the current entry written up to and including the page a breakpoint matched, and stops there. */
  private async stopAtPage(hit: { page: number; stop: BreakpointStop }): Promise<void> {
    await this.cursor.setPagesApplied(hit.page + 1);
    this.stop(hit.stop);
  }

  private async stopAtEnd(): Promise<void> {
    this.ended = true;
    await this.compareAtEnd();
    this.stop({
      kind: 'end',
      description: 'End of replay: every page write applied; RAM is what the destination holds',
    });
  }

  /** Compares the rebuilt ramblocks with the launch's reference images, once, when the end is first reached. */
  private async compareAtEnd(): Promise<void> {
    if (this.compared || !this.parts.references.size) return;
    this.compared = true;
    for (const [block, ref] of this.parts.references) {
      const b = this.engine.images.get(block);
      if (!b) {
        this.events.output(`reference ${block}: the capture has no ramblock of that name\n`, 'stderr');
        continue;
      }
      const r = await compareWithReference(this.analysis, this.engine.provenance, block, b.file, ref);
      if (!r.mismatchedPages && r.imageSize === r.referenceSize)
        this.events.output(`reference ${block}: rebuilt RAM matches ${ref}\n`, 'console');
      else {
        const first = r.ranges[0] ? `, first at 0x${r.ranges[0].start.toString(16)}: ${r.ranges[0].writers[0]}` : '';
        this.events.output(
          `reference ${block}: ${plural(r.mismatchedPages, 'page differs', 'pages differ')} from ${ref}${first}\n`,
          'stderr',
        );
      }
    }
  }
}

/** Lets requests (pause, disconnect) in between the entries of a long run. */
function yieldToEvents(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
