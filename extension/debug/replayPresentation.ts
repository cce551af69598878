import { basename } from 'node:path';
import { Handles } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { sourceBytes } from '../core/analysisTypes';
import { readPacket } from '../core/multifd/readPacket';
import { formatProvenance } from '../core/replay/provenance';
import { MAIN_RECORD_KIND_NAMES } from '../core/mainchannel/mainChannelIndex';
import { hex } from '../core/util/bytes';
import { dataIdOf, formatPage, parseCondition, parsePageRef } from './breakpoints';
import { memoryReferenceOf } from './memoryReference';
import { pageCountOf, pageOf, type CursorEntry } from './replayCursor';
import type { ReplayRuntime } from './replayRuntime';
import { plural } from '../shared/plural';

type FrameInfo =
  { kind: 'page' | 'packet'; entry: number; page?: number } | { kind: 'epoch'; epoch: number } | { kind: 'start' };

type VarContainer =
  | { kind: 'packet'; entry: number }
  | { kind: 'offsets'; entry: number; zero: boolean }
  | { kind: 'epoch' }
  | { kind: 'ram' }
  | { kind: 'block'; block: string }
  | { kind: 'diagnostics'; entry: number };

type Variable = DebugProtocol.Variable;

function leaf(name: string, value: string, extra: Partial<Variable> = {}): Variable {
  return { name, value, variablesReference: 0, ...extra };
}

/** Thread ids are stream ids + 1 (DAP thread ids must not be 0). */
export function threadIdOf(stream: number): number {
  return stream + 1;
}

/**
 * How a replay looks in the debugger: a thread per stream; per stopped thread a stack of the page last written,
 * its packet or record, and its epoch; scopes and variables for the packet's fields and offsets, the epoch's
 * progress and the rebuilt RAM; evaluation of ramblocks, pages and filter expressions. Built from the runtime's
 * state on request; frame and variable handles live until the next stop (`reset`).
 */
export class ReplayPresentation {
  private readonly frames = new Handles<FrameInfo>();
  private readonly vars = new Handles<VarContainer>();

  constructor(private readonly runtime: ReplayRuntime) {}

  /** Forgets every frame and variable handle: called at each stop. */
  reset(): void {
    this.frames.reset();
    this.vars.reset();
  }

  private get cursor() {
    return this.runtime.cursor;
  }

  private get facts() {
    return this.runtime.facts;
  }

  /** The thread a stop at the current position belongs to. */
  currentThreadId(): number {
    return threadIdOf(this.facts.streamOf(this.cursor.current));
  }

  private threadOf(e: CursorEntry | undefined): number {
    return threadIdOf(this.facts.streamOf(e));
  }

  threads(): DebugProtocol.Thread[] {
    const threads: DebugProtocol.Thread[] = [];
    for (const s of this.runtime.analysis.streams) {
      if (s.kind === 'main') threads.push({ id: threadIdOf(s.id), name: `main channel (stream ${s.id})` });
      else if (s.kind === 'multifd')
        threads.push({
          id: threadIdOf(s.id),
          name: `multifd channel ${s.multifd?.handshake?.channelId ?? '?'} (stream ${s.id})`,
        });
      else if (s.kind === 'preempt')
        threads.push({ id: threadIdOf(s.id), name: `postcopy preempt channel (stream ${s.id})` });
    }
    return threads;
  }

  /** The last entry of a thread applied at the current position (for the other threads' stacks). */
  private lastEntryOfThread(threadId: number): CursorEntry | undefined {
    const c = this.cursor;
    for (let i = c.position.entry; i >= 0; i--) {
      const e = c.entry(i);
      if (e && this.threadOf(e) === threadId && (i < c.position.entry || c.position.pages > 0)) return e;
    }
    return undefined;
  }

  /**
   * Every frame points at the capture itself: VS Code only focuses (and expands, and shows variables for) frames
   * with an available source, and opening the .mfd there brings up the capture editor, which follows the session.
   */
  private frameSource(): { source: DebugProtocol.Source; line: number; column: number } {
    const path = this.runtime.capturePath;
    return { source: { name: basename(path), path }, line: 1, column: 1 };
  }

  stackTrace(threadId: number): DebugProtocol.StackFrame[] {
    const c = this.cursor;
    const frames: DebugProtocol.StackFrame[] = [];
    const cur = c.current;
    const own = this.threadOf(cur) === threadId;
    const e = own ? cur : this.lastEntryOfThread(threadId);
    if (!e) {
      const epoch = this.facts.firstEpoch;
      frames.push({
        id: this.frames.create({ kind: 'start' }),
        name: own ? 'start of replay (nothing written yet)' : 'no page written on this stream yet',
        ...this.frameSource(),
      });
      frames.push({ id: this.frames.create({ kind: 'epoch', epoch }), name: `epoch ${epoch}`, ...this.frameSource() });
      return frames;
    }
    const pages = own ? c.position.pages : pageCountOf(e);
    if (own && (this.runtime.lastStop.atPage || pages < pageCountOf(e)) && pages > 0) {
      const p = pages - 1;
      const pg = pageOf(e, p);
      const n = pg.zero ? p - e.normalOffsets.length : p;
      const of = pg.zero ? e.zeroOffsets.length : e.normalOffsets.length;
      const name = `${pg.zero ? 'zero page' : 'page'} ${formatPage(pg.block, pg.offset)} (${pg.zero ? 'zero' : 'normal'} ${n + 1} of ${of})`;
      frames.push({
        id: this.frames.create({ kind: 'page', entry: e.step, page: p }),
        name,
        ...this.frameSource(),
        instructionPointerReference: memoryReferenceOf(pg.block, pg.offset),
      });
    }
    frames.push({
      id: this.frames.create({ kind: 'packet', entry: e.step }),
      name: this.packetFrameName(e, pages),
      ...this.frameSource(),
    });
    frames.push({
      id: this.frames.create({ kind: 'epoch', epoch: e.epoch }),
      name: `epoch ${e.epoch}`,
      ...this.frameSource(),
    });
    return frames;
  }

  private packetFrameName(e: CursorEntry, pagesApplied: number): string {
    const n = pageCountOf(e);
    const progress = pagesApplied < n ? `, ${pagesApplied} of ${n} pages written` : '';
    const o = this.facts.originOf(e.step);
    if (o.kind === 'packet')
      return `packet ${o.row} · packet_num ${o.channel.packets.packetNum.get(o.row)} · ${e.block} · ${e.normalOffsets.length} normal, ${e.zeroOffsets.length} zero${progress}`;
    if (o.kind === 'mapped-ram')
      return `mapped-ram window ${o.row} · ${formatPage(e.block, o.firstOffset)} · ${e.normalOffsets.length} pages${progress}`;
    return `${MAIN_RECORD_KIND_NAMES[o.record.kind] ?? 'record'} record ${o.row} · ${formatPage(e.block, o.record.offset)}${progress}`;
  }

  scopes(frameId: number): DebugProtocol.Scope[] {
    const f = this.frames.get(frameId);
    const scopes: DebugProtocol.Scope[] = [];
    const e = f && (f.kind === 'page' || f.kind === 'packet') ? this.cursor.entry(f.entry) : undefined;
    if (e) {
      scopes.push({
        name: this.facts.originOf(e.step).kind === 'packet' ? 'Packet' : 'Record',
        presentationHint: 'locals',
        variablesReference: this.vars.create({ kind: 'packet', entry: e.step }),
        expensive: false,
      });
      if (this.facts.diagnosticsOf(e).length)
        scopes.push({
          name: 'Diagnostics',
          variablesReference: this.vars.create({ kind: 'diagnostics', entry: e.step }),
          expensive: false,
        });
    }
    scopes.push({ name: 'Epoch', variablesReference: this.vars.create({ kind: 'epoch' }), expensive: false });
    scopes.push({
      name: 'RAM',
      presentationHint: 'registers',
      variablesReference: this.vars.create({ kind: 'ram' }),
      expensive: false,
    });
    return scopes;
  }

  async variables(ref: number): Promise<Variable[]> {
    const v = this.vars.get(ref);
    if (!v) return [];
    switch (v.kind) {
      case 'packet': {
        const e = this.cursor.entry(v.entry);
        return e ? this.entryVariables(e) : [];
      }
      case 'offsets': {
        const e = this.cursor.entry(v.entry);
        return e ? this.offsetVariables(e, v.zero) : [];
      }
      case 'diagnostics': {
        const e = this.cursor.entry(v.entry);
        return e ? this.facts.diagnosticsOf(e).map((d, i) => leaf(`[${i}] ${d.severity}[${d.code}]`, d.message)) : [];
      }
      case 'epoch':
        return this.epochVariables();
      case 'ram':
        return this.ramVariables();
      case 'block':
        return this.blockVariables(v.block);
    }
  }

  /** The packet's header fields (MultiFDPacket_t, as read from the capture) or the record's, and its offsets. */
  private async entryVariables(e: CursorEntry): Promise<Variable[]> {
    const a = this.runtime.analysis;
    const o = this.facts.originOf(e.step);
    const out: Variable[] = [];
    if (o.kind === 'packet') {
      const m = o.channel;
      const d = await readPacket(sourceBytes(a, m.streamId), m.packets, o.row, a.pageSize);
      for (const f of d.fields) {
        if (f.name.startsWith('unused')) continue;
        out.push(leaf(f.name, f.display, { type: `MultiFDPacket_t.${f.name}` }));
      }
      out.push(
        leaf('stream', String(m.streamId)),
        leaf('channel', String(m.handshake?.channelId ?? '?')),
        leaf('packet index', String(o.row)),
      );
    } else if (o.kind === 'mapped-ram') {
      out.push(
        leaf('source', 'mapped-ram image: pages whose bitmap bit is set, read in place'),
        leaf('window', String(o.row)),
        leaf('ramblock', e.block),
      );
    } else {
      const r = o.record;
      out.push(
        leaf('record', MAIN_RECORD_KIND_NAMES[r.kind] ?? String(r.kind)),
        leaf('record index', String(o.row)),
        leaf('ramblock', e.block),
        leaf('offset', `0x${r.offset.toString(16)}`, { memoryReference: memoryReferenceOf(e.block, r.offset) }),
      );
    }
    out.push(leaf('epoch', String(e.epoch)), leaf('replay step', `${e.step + 1} of ${this.cursor.length}`));
    const offsets = (zero: boolean, list: readonly number[]): Variable => ({
      name: zero ? 'zero offsets' : 'normal offsets',
      value: `[${list.length}]`,
      variablesReference: list.length ? this.vars.create({ kind: 'offsets', entry: e.step, zero }) : 0,
      indexedVariables: list.length,
    });
    out.push(offsets(false, e.normalOffsets), offsets(true, e.zeroOffsets));
    return out;
  }

  private offsetVariables(e: CursorEntry, zero: boolean): Variable[] {
    const pos = this.cursor.position;
    const list = zero ? e.zeroOffsets : e.normalOffsets;
    const applied = e.step < pos.entry ? Infinity : e.step > pos.entry ? 0 : pos.pages;
    const base = zero ? e.normalOffsets.length : 0;
    return list.map((o, i) =>
      leaf(`[${i}]`, `0x${o.toString(16)}${base + i >= applied ? ' (not written yet)' : ''}`, {
        memoryReference: memoryReferenceOf(e.block, o),
        evaluateName: `${zero ? 'zero ' : ''}${formatPage(e.block, o)}`,
      }),
    );
  }

  private epochVariables(): Variable[] {
    const c = this.cursor;
    const cur = c.current;
    const epoch = cur?.epoch ?? this.facts.firstEpoch;
    const done = cur ? (c.currentComplete ? cur.step : cur.step - 1) : -1;
    const partial = cur && !c.currentComplete ? ` (+${plural(c.position.pages, 'page')} of step ${cur.step + 1})` : '';
    const out = [leaf('epoch', String(epoch)), leaf('page writes applied', `${done + 1} of ${c.length}${partial}`)];
    this.runtime.analysis.multifd.forEach((m, source) => {
      out.push(
        leaf(
          `channel ${m.handshake?.channelId ?? '?'} (stream ${m.streamId})`,
          `${this.facts.syncsSeen(source, epoch, done)} of ${this.facts.syncs[source].length} SYNC seen`,
        ),
      );
    });
    return out;
  }

  private ramVariables(): Variable[] {
    return [...this.runtime.engine.images.values()].map((b) => ({
      name: b.name,
      value: `${b.image.size} bytes (${b.sizeSource === 'mem-size' ? 'MEM_SIZE' : 'highest offset seen'})`,
      variablesReference: this.vars.create({ kind: 'block', block: b.name }),
      memoryReference: memoryReferenceOf(b.name, 0),
      evaluateName: b.name,
    }));
  }

  private blockVariables(block: string): Variable[] {
    const b = this.runtime.engine.images.get(block);
    if (!b) return [];
    const out = [
      leaf('used_length', `0x${b.image.size.toString(16)}`),
      leaf('pages', String(Math.ceil(b.image.size / this.runtime.analysis.pageSize))),
    ];
    const ref = this.runtime.referenceOf(block);
    if (ref) out.push(leaf('reference', ref));
    return out;
  }

  /** A ramblock (its size), a page (its first bytes, and its writer at the frontier) or a filter expression (on the current packet). */
  async evaluate(expression: string): Promise<DebugProtocol.EvaluateResponse['body']> {
    const rt = this.runtime;
    const text = expression.trim().replace(/^zero\s+/, '');
    const blocks = rt.blocks;
    const b = rt.engine.images.get(text);
    if (b)
      return {
        result: `ramblock ${text}, ${b.image.size} bytes`,
        variablesReference: this.vars.create({ kind: 'block', block: text }),
        memoryReference: memoryReferenceOf(text, 0),
      };
    const page = parsePageRef(text, blocks, rt.analysis.pageSize);
    if (page) {
      const bytes = await this.cursor.read(page.block, page.offset, 16);
      const writer = rt.provenanceAt(page.block, page.offset);
      const who = writer ? `; ${formatProvenance(writer)}` : '';
      return {
        result: `${hex(bytes, 16)}…${who}`,
        variablesReference: 0,
        memoryReference: memoryReferenceOf(page.block, page.offset),
      };
    }
    const cond = parseCondition(expression);
    if (!cond.ok)
      throw new Error(
        `"${expression}": not a ramblock, a page (ramblock:0xOFFSET) or a filter expression (${cond.message})`,
      );
    const e = this.cursor.current;
    const row = e && this.facts.filterRow(e);
    if (!row) return { result: 'no multifd packet at this step', variablesReference: 0 };
    const r = cond.value?.test(row);
    return { result: r === undefined ? 'unknown' : String(r), variablesReference: 0 };
  }

  /** The page a data breakpoint would watch: an entry of an offsets list, or `ramblock:0xOFFSET` (`zero ` for zero-page writes). */
  dataBreakpointInfo(
    name: string,
    variablesReference: number | undefined,
  ): DebugProtocol.DataBreakpointInfoResponse['body'] {
    const ps = this.runtime.analysis.pageSize;
    let target: { block: string; offset: number; zeroOnly: boolean } | undefined;
    const v = variablesReference ? this.vars.get(variablesReference) : undefined;
    if (v?.kind === 'offsets') {
      const e = this.cursor.entry(v.entry);
      const i = Number(/^\[(\d+)\]$/.exec(name)?.[1] ?? NaN);
      const list = e ? (v.zero ? e.zeroOffsets : e.normalOffsets) : [];
      if (e && Number.isInteger(i) && i < list.length)
        target = { block: e.block, offset: list[i] - (list[i] % ps), zeroOnly: v.zero };
    } else if (!variablesReference) {
      const zeroOnly = /^zero\s+/.test(name.trim());
      const page = parsePageRef(name.trim().replace(/^zero\s+/, ''), this.runtime.blocks, ps);
      if (page) target = { ...page, zeroOnly };
    }
    if (!target)
      return {
        dataId: null,
        description:
          'Data breakpoints watch one page: an entry of "normal offsets" or "zero offsets", or ramblock:0xOFFSET (prefix "zero " for zero-page writes only)',
      };
    const page = formatPage(target.block, target.offset);
    return {
      dataId: dataIdOf(target.block, target.offset, target.zeroOnly),
      description: target.zeroOnly ? `page ${page} written as a zero page` : `page ${page} written`,
      accessTypes: ['write'],
      canPersist: true,
    };
  }
}
