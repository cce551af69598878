// DAP scenarios of the multifd-replay adapter on a real QEMU 10.0 capture (2 channels, nocomp, zero pages
// on multifd), each kept as a golden transcript in test/debug/golden/ (MFD_UPDATE_GOLDEN=1 rewrites them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCaptureFile } from '../../extension/core/analysis';
import { DiagnosticSink } from '../../extension/core/diagnostics/diagnostic';
import { ReplayEngine } from '../../extension/core/replay/replayEngine';
import { assertGolden, DapHarness, FIXTURES, NONE_10 } from './dapHarness';

/** The scope or variable of that name; the test fails when there is none. */
function named<T extends { name: string }>(list: readonly T[], name: string): T {
  const found = list.find((x) => x.name === name);
  assert.ok(found, `no "${name}" among ${list.map((x) => x.name).join(', ')}`);
  return found;
}

async function scenario(name: string, body: (h: DapHarness) => Promise<void>): Promise<void> {
  const h = new DapHarness();
  await h.start();
  try {
    await body(h);
  } finally {
    await h.stop();
  }
  assertGolden(name, h.stableTranscript({ fixtures: FIXTURES, tmp: tmpdir() }));
}

test('launch: stop on entry, threads = streams, stack and variables at the start', async () => {
  await scenario('launch', async (h) => {
    const s = await h.launch({ capture: NONE_10, stopOnEntry: true });
    assert.equal(s.body.reason, 'entry');
    const threads = await h.dc.threadsRequest();
    assert.deepEqual(
      threads.body.threads.map((t) => t.name),
      ['main channel (stream 0)', 'multifd channel 0 (stream 1)', 'multifd channel 1 (stream 2)'],
    );
    const v = await h.inspect(s.body.threadId);
    assert.equal(v.scopes.Epoch['page writes applied'], '0 of 13');
  });
});

test('step: next (packet), step in (page), step out (epoch), step back', async () => {
  await scenario('step', async (h) => {
    await h.launch({ capture: NONE_10, stopOnEntry: true });
    let s = await h.move('next');
    assert.equal(s.body.reason, 'step');
    let v = await h.inspect(s.body.threadId);
    assert.equal(v.frames[0], 'packet 1 · packet_num 2 · mem · 5 normal, 123 zero');
    assert.equal(v.scopes.Packet.packet_num, '2');
    s = await h.move('next');
    v = await h.inspect(s.body.threadId);
    assert.equal(v.scopes.Packet.packet_num, '3');
    s = await h.move('stepIn');
    v = await h.inspect(s.body.threadId);
    assert.match(v.frames[0], /^page mem:0x1f0000 \(normal 1 of 6\)$/);
    s = await h.move('stepIn');
    v = await h.inspect(s.body.threadId);
    assert.match(v.frames[1], /2 of 128 pages written/);
    s = await h.move('stepBack');
    v = await h.inspect(s.body.threadId);
    assert.equal(v.scopes.Packet.packet_num, '3', 'step back undoes the part-written packet');
    s = await h.move('stepOut');
    assert.equal(s.body.reason, 'end');
    v = await h.inspect(s.body.threadId);
    assert.equal(v.scopes.Epoch['page writes applied'], '13 of 13');
  });
});

test('breakpoints: a page, packet_num == N, a ramblock with a condition, an invalid one, a filter exception', async () => {
  await scenario('breakpoints', async (h) => {
    await h.launch({ capture: NONE_10, stopOnEntry: true }, async () => {
      const r = await h.dc.setFunctionBreakpointsRequest({
        breakpoints: [
          { name: 'mem:0x3e1000' },
          { name: 'packet_num == 4' },
          { name: 'pc.bios', condition: 'normal > 40' },
          { name: 'no.such.block:0x1000' },
        ],
      });
      assert.deepEqual(
        r.body.breakpoints.map((b) => b.verified),
        [true, true, true, false],
      );
      await h.dc.setExceptionBreakpointsRequest({
        filters: [],
        filterOptions: [{ filterId: 'error' }, { filterId: 'filter', condition: 'ramblock == "pc.rom"' }],
      });
    });
    let s = await h.move('continue');
    assert.equal(s.body.reason, 'function breakpoint');
    assert.match(s.body.description ?? '', /packet 2 of stream 2/);
    s = await h.move('continue');
    assert.equal(s.body.reason, 'function breakpoint');
    let v = await h.inspect(s.body.threadId);
    assert.equal(v.frames[0], 'page mem:0x3e1000 (normal 2 of 6)');
    s = await h.move('continue');
    assert.equal(s.body.reason, 'exception');
    const info = await h.dc.exceptionInfoRequest({ threadId: s.body.threadId });
    assert.equal(info.body.exceptionId, 'filter');
    v = await h.inspect(s.body.threadId);
    assert.equal(v.scopes.Packet.ramblock, 'pc.rom');
    s = await h.move('continue');
    assert.equal(s.body.reason, 'function breakpoint');
    v = await h.inspect(s.body.threadId);
    assert.equal(v.scopes.Packet.ramblock, 'pc.bios');
    s = await h.move('reverseContinue');
    v = await h.inspect(s.body.threadId);
    assert.equal(v.scopes.Packet.ramblock, 'pc.rom', 'reverse continue stops at the previous hit');
    s = await h.move('continue');
    s = await h.move('continue');
    assert.equal(s.body.reason, 'end');
  });
});

test('data breakpoint: stop when a page is written as a zero page', async () => {
  await scenario('data-breakpoint-zero', async (h) => {
    await h.launch({ capture: NONE_10, stopOnEntry: true }, async () => {
      const zero = await h.dc.customRequest('dataBreakpointInfo', { name: 'zero pc.bios:0xf000' });
      assert.equal(zero.body.dataId, 'zero:0xf000:pc.bios');
      const data = await h.dc.customRequest('dataBreakpointInfo', { name: 'mem:0x59000' });
      const r = await h.dc.customRequest('setDataBreakpoints', {
        breakpoints: [
          { dataId: zero.body.dataId, accessType: 'write' },
          { dataId: data.body.dataId, accessType: 'write' },
        ],
      });
      assert.deepEqual(
        r.body.breakpoints.map((b: { verified: boolean }) => b.verified),
        [true, true],
      );
    });
    let s = await h.move('continue');
    assert.equal(s.body.reason, 'data breakpoint');
    assert.equal(s.body.description, 'Page mem:0x59000 written');
    s = await h.move('continue');
    assert.equal(s.body.reason, 'data breakpoint');
    assert.equal(s.body.description, 'Page pc.bios:0xf000 written as a zero page');
    const v = await h.inspect(s.body.threadId);
    assert.equal(v.frames[0], 'zero page pc.bios:0xf000 (zero 2 of 17)');
    // A data breakpoint can also be set from an offset[] entry in the Variables view.
    const st = await h.dc.stackTraceRequest({ threadId: s.body.threadId });
    const sc = await h.dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
    const pkt = await h.dc.variablesRequest({ variablesReference: sc.body.scopes[0].variablesReference });
    const zeros = named(pkt.body.variables, 'zero offsets');
    const info = await h.dc.customRequest('dataBreakpointInfo', {
      variablesReference: zeros.variablesReference,
      name: '[0]',
    });
    assert.equal(info.body.dataId, 'zero:0x10000:pc.bios');
  });
});

test('readMemory returns the rebuilt RAM as it stands at the step (compared with the engine stepped alone)', async () => {
  const out = mkdtempSync(join(tmpdir(), 'mfd-dap-mem-'));
  try {
    await scenario('read-memory', async (h) => {
      await h.launch({ capture: NONE_10, stopOnEntry: true });
      await h.move('next');
      await h.move('next');
      const s = await h.move('stepIn');
      const st = await h.dc.stackTraceRequest({ threadId: s.body.threadId });
      const sc = await h.dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
      const ram = await h.dc.variablesRequest({
        variablesReference: named(sc.body.scopes, 'RAM').variablesReference,
      });
      const mem = named(ram.body.variables, 'mem');
      assert.equal(mem.memoryReference, 'ramblock:mem+0x0');
      // Two packets and the first page of the third: 0x1f0000 is written, 0x1e1000 (its second page) not yet.
      const a = await h.dc.customRequest('readMemory', {
        memoryReference: mem.memoryReference,
        offset: 0x1f0000,
        count: 32,
      });
      const b = await h.dc.customRequest('readMemory', {
        memoryReference: mem.memoryReference,
        offset: 0x1e1000,
        count: 32,
      });
      const analysis = await analyzeCaptureFile(NONE_10);
      const engine = await ReplayEngine.create(analysis, new DiagnosticSink(), {
        outDir: out,
        force: true,
        workers: false,
      });
      try {
        await engine.step();
        await engine.step();
        assert.deepEqual(
          Buffer.from(b.body.data ?? '', 'base64'),
          Buffer.from(await engine.read('mem', 0x1e1000, 32)),
          'page not yet written by the part-applied packet',
        );
        await engine.step();
        assert.deepEqual(Buffer.from(a.body.data, 'base64'), Buffer.from(await engine.read('mem', 0x1f0000, 32)));
        const whole = await h.dc.customRequest('readMemory', {
          memoryReference: mem.memoryReference,
          offset: 0,
          count: 4 << 20,
        });
        const fresh = await ReplayEngine.create(analysis, new DiagnosticSink(), {
          outDir: mkdtempSync(join(tmpdir(), 'mfd-dap-mem2-')),
          force: true,
          workers: false,
        });
        await fresh.step();
        await fresh.step();
        const before = await fresh.read('mem', 0, 4 << 20);
        await fresh.close();
        const expected = Buffer.from(before);
        expected.set(await engine.read('mem', 0x1f0000, 4096), 0x1f0000);
        assert.ok(
          Buffer.from(whole.body.data, 'base64').equals(expected),
          'readMemory of the whole block equals two packets + one page',
        );
      } finally {
        await engine.close();
      }
      const beyond = await h.dc.customRequest('readMemory', { memoryReference: 'ramblock:pc.rom+0x1fff0', count: 32 });
      assert.equal(beyond.body.unreadableBytes, 16);
      // Only the small reads go into the golden transcript.
      const big = h.transcript.findIndex(
        (t) => (t.msg as { arguments?: { count?: number } }).arguments?.count === 4 << 20,
      );
      h.transcript.splice(big, 2);
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
