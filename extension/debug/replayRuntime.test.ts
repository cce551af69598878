// The replay runtime on its own, without the debug protocol: the stops a move ends with, breakpoint hits and
// their hit counts, stepping back, the end of the replay and the reference comparison there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openReplay, type ReplayLaunchOptions } from './replayLaunch';
import { pageCountOf, pageOf } from './replayCursor';
import type { ReplayRuntime } from './replayRuntime';
import type { ReplayEvents, ReplayStop } from './replayStop';

const NONE_10 = resolve(__dirname, '../../test/debug/fixtures/qemu10-none-2ch.mfd');
/** QEMU 7.2 sends pages in SYNC packets: the analysis warns about it on packet 1 of stream 1 and packet 2 of stream 2. */
const ZLIB_72_LIVE = resolve(__dirname, '../../test/debug/fixtures/qemu7.2-zlib-2ch-live.mfd');

class Recorder implements ReplayEvents {
  readonly stops: ReplayStop[] = [];
  readonly outputs: { text: string; category: string }[] = [];
  finishedCount = 0;
  stopped(stop: ReplayStop): void {
    this.stops.push(stop);
  }
  output(text: string, category: string): void {
    this.outputs.push({ text, category });
  }
  finished(): void {
    this.finishedCount++;
  }
  /** The stop the last move ended with (exactly one per move). */
  last(): ReplayStop {
    const s = this.stops.at(-1);
    assert.ok(s, 'no stop reported');
    return s;
  }
}

async function withRuntime(
  options: Partial<ReplayLaunchOptions>,
  body: (rt: ReplayRuntime, events: Recorder) => Promise<void>,
): Promise<void> {
  const events = new Recorder();
  const rt = await openReplay({ capture: NONE_10, workers: false, ...options }, events);
  try {
    await body(rt, events);
  } finally {
    await rt.close();
  }
}

/** Runs one move and returns the one stop it reported. */
async function move(
  rt: ReplayRuntime,
  events: Recorder,
  go: (rt: ReplayRuntime) => Promise<void>,
): Promise<ReplayStop> {
  const before = events.stops.length;
  await go(rt);
  assert.equal(events.stops.length, before + 1, 'a move reports exactly one stop');
  return events.last();
}

test('runtime: launch summary, stop on entry, and a step stop after each move', async () => {
  await withRuntime({}, async (rt, events) => {
    assert.match(
      events.outputs[0].text,
      /^capture .*qemu10-none-2ch\.mfd: page size 4096 \(meta\), 2 multifd channels, none compression, 13 page writes in 2 epochs\n$/,
    );
    rt.stopOnEntry();
    assert.equal(events.last().kind, 'entry');
    assert.equal(rt.lastStop.kind, 'entry');
    assert.equal(rt.currentPacket(), undefined, 'nothing applied yet');

    let s = await move(rt, events, (r) => r.forward('entry'));
    assert.deepEqual(s, { kind: 'step' });
    const first = rt.cursor.current;
    assert.ok(first);
    assert.deepEqual(
      rt.cursor.position,
      { entry: 0, pages: pageCountOf(first) },
      'a step by entry writes the whole packet',
    );
    assert.deepEqual(rt.currentPacket(), { stream: 1, packetIndex: 1 });

    await move(rt, events, (r) => r.forward('entry'));
    s = await move(rt, events, (r) => r.forward('page'));
    assert.equal(s.kind, 'step');
    assert.equal(s.atPage, true);
    assert.equal(s.description, 'Entered packet 2 of stream 2 (channel 1), packet_num 4');
    assert.deepEqual(rt.cursor.position, { entry: 2, pages: 1 });

    s = await move(rt, events, (r) => r.forward('page'));
    assert.deepEqual(s, { kind: 'step', atPage: true, description: undefined });
    assert.deepEqual(rt.cursor.position, { entry: 2, pages: 2 });
  });
});

test('runtime: step back by page and by entry restores the RAM the forward move changed', async () => {
  await withRuntime({}, async (rt, events) => {
    rt.stopOnEntry();
    await move(rt, events, (r) => r.forward('entry'));
    await move(rt, events, (r) => r.forward('entry'));
    const e = rt.cursor.entry(1);
    assert.ok(e);
    // The first two pages of entry 2, as RAM stands before it.
    await move(rt, events, (r) => r.forward('page'));
    const third = rt.cursor.current;
    assert.ok(third);
    const p1 = pageOf(third, 1);
    const before = await rt.readMemory(p1.block, p1.offset, 4096);
    await move(rt, events, (r) => r.forward('page'));
    const written = await rt.readMemory(p1.block, p1.offset, 4096);
    assert.ok(before.data && written.data);
    assert.notDeepEqual(
      Buffer.from(written.data),
      Buffer.from(before.data),
      'the second page of the packet changes RAM',
    );

    let s = await move(rt, events, (r) => r.backward('page'));
    assert.deepEqual(s, { kind: 'step', atPage: true });
    assert.deepEqual(rt.cursor.position, { entry: 2, pages: 1 });
    assert.deepEqual(
      Buffer.from((await rt.readMemory(p1.block, p1.offset, 4096)).data ?? []),
      Buffer.from(before.data),
    );

    s = await move(rt, events, (r) => r.backward('entry'));
    assert.deepEqual(s, { kind: 'step' });
    assert.deepEqual(
      rt.cursor.position,
      { entry: 1, pages: pageCountOf(e) },
      'step back undoes the part-written packet',
    );

    await move(rt, events, (r) => r.backward('entry'));
    s = await move(rt, events, (r) => r.backward('entry'));
    assert.deepEqual(s, { kind: 'step' });
    assert.equal(rt.cursor.position.entry, -1);
    s = await move(rt, events, (r) => r.backward('entry'));
    assert.deepEqual(s, { kind: 'entry', description: 'Start of the replay: nothing written yet' });
  });
});

test('runtime: page, ramblock, hit-count and data breakpoints stop where they match; reverse continue finds the previous hit', async () => {
  await withRuntime({}, async (rt, events) => {
    const fn = rt.breakpoints.setFunctionBreakpoints([
      { name: 'mem:0x3e1000' },
      { name: 'mem', hitCondition: '3' },
      { name: 'no.such.block:0x1000' },
      { name: 'mem', condition: 'normal >' },
    ]);
    assert.deepEqual(
      fn.map((b) => [b.id, b.verified]),
      [
        [1, true],
        [2, true],
        [3, false],
        [4, false],
      ],
    );
    assert.equal(fn[0].message, 'page mem:0x3e1000');
    assert.equal(fn[1].message, 'any write to mem');
    assert.match(fn[2].message ?? '', /no ramblock named "no\.such\.block"/);
    assert.match(fn[3].message ?? '', /^condition: /);
    const data = rt.breakpoints.setDataBreakpoints([
      { dataId: 'zero:0xf000:pc.bios', accessType: 'write' },
      { dataId: 'write:0x0:mem', accessType: 'read' },
      { dataId: 'bogus' },
    ]);
    assert.deepEqual(data, [
      { id: 5, verified: true },
      { id: 6, verified: false, message: 'pages of a replay are only written' },
      { id: 7, verified: false, message: 'unknown data id bogus' },
    ]);
    rt.stopOnEntry();

    const hits: { kind: string; ids: number[]; description?: string; entry: number; page?: unknown }[] = [];
    for (;;) {
      const s = await move(rt, events, (r) => r.forward('continue'));
      if (s.kind === 'end') break;
      const e = rt.cursor.current;
      assert.ok(e);
      const pos = rt.cursor.position;
      // Page-level stops come right after the page is written: it is the last page applied.
      hits.push({
        kind: s.kind,
        ids: 'breakpointIds' in s ? s.breakpointIds : [],
        description: s.description,
        entry: pos.entry,
        page: s.atPage ? pageOf(e, pos.pages - 1) : undefined,
      });
    }
    assert.deepEqual(hits, [
      {
        kind: 'breakpoint',
        ids: [2],
        description: 'Breakpoint at packet 2 of stream 2 (channel 1), packet_num 4',
        entry: 2,
        page: undefined,
      },
      {
        kind: 'breakpoint',
        ids: [1],
        description: 'Breakpoint: page mem:0x3e1000 written (data)',
        entry: 7,
        page: { block: 'mem', offset: 0x3e1000, zero: false },
      },
      {
        kind: 'data breakpoint',
        ids: [5],
        description: 'Page pc.bios:0xf000 written as a zero page',
        entry: 10,
        page: { block: 'pc.bios', offset: 0xf000, zero: true },
      },
    ]);
    assert.equal(rt.cursor.atEnd, true);

    let s = await move(rt, events, (r) => r.backward('continue'));
    assert.equal(s.kind, 'data breakpoint');
    assert.equal(rt.cursor.position.entry, 10);
    // Backwards, hit counts are not consulted: every write to mem matches the ramblock breakpoint, and it is
    // checked before the pages of the entry.
    s = await move(rt, events, (r) => r.backward('continue'));
    assert.deepEqual(
      [s.kind, 'breakpointIds' in s && s.breakpointIds, rt.cursor.position.entry],
      ['breakpoint', [2], 7],
    );
    s = await move(rt, events, (r) => r.backward('continue'));
    assert.deepEqual(
      [s.kind, 'breakpointIds' in s && s.breakpointIds, rt.cursor.position.entry],
      ['breakpoint', [2], 6],
    );
  });
});

test('runtime: the filter exception and diagnostics of the severities broken on stop after the whole entry; an unknown filter is refused', async () => {
  await withRuntime({}, async (rt, events) => {
    const st = rt.breakpoints.setExceptionFilters([
      { filterId: 'error' },
      { filterId: 'filter', condition: 'ramblock == "pc.rom"' },
      { filterId: 'bogus' },
      { filterId: 'filter' },
    ]);
    assert.deepEqual(st, [
      { verified: true },
      { verified: true },
      { verified: false, message: 'unknown filter bogus' },
      { verified: false, message: 'give the filter expression as the condition' },
    ]);
    // The last `filter` option had no expression: the earlier one stays in force.
    rt.stopOnEntry();
    const s = await move(rt, events, (r) => r.forward('continue'));
    assert.deepEqual(s, { kind: 'filter match', description: 'Packet matches filter: ramblock == "pc.rom"' });
    const e = rt.cursor.current;
    assert.ok(e);
    assert.equal(e.block, 'pc.rom');
    assert.equal(rt.cursor.currentComplete, true, 'entry-level stops come after every page of the entry');
  });
  await withRuntime({ capture: ZLIB_72_LIVE }, async (rt, events) => {
    rt.breakpoints.setExceptionFilters([{ filterId: 'warning' }]);
    rt.stopOnEntry();
    const seen: string[] = [];
    for (
      let s = await move(rt, events, (r) => r.forward('continue'));
      s.kind !== 'end';
      s = await move(rt, events, (r) => r.forward('continue'))
    ) {
      assert.ok(s.kind === 'diagnostic', `expected a diagnostic stop, got ${s.kind}`);
      const [d] = s.diagnostics;
      assert.equal(d.code, 'multifd.release-bug.sync-with-pages');
      assert.equal(s.description, `warning[${d.code}]: ${d.message}`);
      assert.deepEqual(rt.currentPacket(), { stream: d.location.stream, packetIndex: d.location.packet });
      seen.push(`${d.location.stream}:${d.location.packet}`);
    }
    assert.deepEqual(seen, ['1:1', '2:2']);
  });
});

test('runtime: step out stops at the end of the epoch; past the end the replay finishes and compares with references', async () => {
  const out = mkdtempSync(join(tmpdir(), 'mfd-runtime-'));
  try {
    let memFile = '';
    await withRuntime({ outDir: join(out, 'first') }, async (rt, events) => {
      rt.stopOnEntry();
      const s = await move(rt, events, (r) => r.forward('epoch'));
      assert.deepEqual(
        s,
        { kind: 'end', description: 'End of replay: every page write applied; RAM is what the destination holds' },
        'every write is in the first epoch: stepping out of it is the end',
      );
      await rt.forward('continue');
      assert.equal(events.finishedCount, 1, 'moving on from the end finishes the replay');
      assert.equal(events.stops.length, 2);
      memFile = rt.engine.images.get('mem')?.file ?? '';
      assert.ok(memFile);
    });
    await withRuntime(
      { outDir: join(out, 'second'), reference: { mem: memFile, 'pc.bios': memFile, 'no.such': memFile } },
      async (rt, events) => {
        rt.stopOnEntry();
        await move(rt, events, (r) => r.forward('continue'));
        const lines = events.outputs.slice(1).map((o) => [o.category, o.text.replace(memFile, '<mem>')]);
        assert.equal(lines.length, 3);
        assert.deepEqual(lines[0], ['console', 'reference mem: rebuilt RAM matches <mem>\n']);
        assert.equal(lines[1][0], 'stderr');
        assert.match(lines[1][1], /^reference pc\.bios: \d+ pages? differs? from <mem>/);
        assert.deepEqual(lines[2], ['stderr', 'reference no.such: the capture has no ramblock of that name\n']);
        await rt.forward('continue');
        assert.equal(events.outputs.length, 4, 'compared once');
      },
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('runtime: a move that throws ends with a failure stop naming the error, and later moves still report', async () => {
  await withRuntime({}, async (rt, events) => {
    rt.stopOnEntry();
    await rt.engine.close(); // the RAM images can no longer be read: the next move throws inside the engine
    const s = await move(rt, events, (r) => r.forward('entry'));
    assert.equal(s.kind, 'failure');
    assert.ok(s.description, 'the stop says what failed');
    const err = events.outputs.at(-1);
    assert.equal(err?.category, 'stderr');
    assert.ok(err?.text.startsWith('multifd-replay: ') && err.text.includes(s.description), err?.text);
    assert.match(err?.text ?? '', /\n\s+at /, 'the log gets the stack');
    assert.equal(rt.lastStop.kind, 'failure');
    const again = await move(rt, events, (r) => r.forward('entry'));
    assert.equal(again.kind, 'failure', 'the queue goes on after a failed move');
  });
});
