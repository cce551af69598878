import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCaptureFile, type CaptureAnalysis } from '../analysis';
import { buildCaptureReport } from '../captureReport';
import { replayCapture } from '../replay/replay';
import { classifyNoMagicStreams } from './preemptChannel';
import { readPageRequests } from './pageRequestsOfCapture';
import {
  PREEMPT_PS as PS,
  preemptCapture,
  ramWord,
  type PreemptCaptureOptions,
} from '../../../test/support/preemptCapture';
import { filledPage } from '../../../test/support/mainchannel/testStreams';

async function withAnalysis<T>(
  o: PreemptCaptureOptions,
  f: (a: CaptureAnalysis, dir: string) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'mfd-preempt-'));
  const path = join(dir, 'c.mfd');
  writeFileSync(path, preemptCapture(o));
  const a = await analyzeCaptureFile(path);
  try {
    return await f(a, dir);
  } finally {
    await a.capture.source.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const codes = (a: { diagnostics: { code: string }[] }) => a.diagnostics.map((d) => d.code);

describe('which stream without magic is the preempt channel', () => {
  it('the first after the main and every multifd channel, once the main channel advised postcopy', () => {
    const v = classifyNoMagicStreams(['main', 'multifd', 'multifd', 'unknown', 'unknown'], true);
    assert.deepEqual(v.get(3), { preempt: true });
    assert.equal(v.get(4)?.preempt, false);
    assert.match((v.get(4) as { why: string }).why, /stream 3's connection is already the preempt channel/);
  });
  it('not one before a multifd channel (the destination needs a magic there), nor any without POSTCOPY_ADVISE', () => {
    assert.match(
      (classifyNoMagicStreams(['main', 'unknown', 'multifd'], true).get(1) as { why: string }).why,
      /before the main channel or a multifd channel/,
    );
    assert.match(
      (classifyNoMagicStreams(['main', 'unknown'], false).get(1) as { why: string }).why,
      /no POSTCOPY_ADVISE/,
    );
  });
});

describe('the preempt channel of a synthetic capture', () => {
  it('is decoded with the RAM-record reader: counts in mfd inspect, its pages in replay', async () => {
    await withAnalysis({}, async (a, dir) => {
      assert.deepEqual(
        a.streams.map((s) => s.kind),
        ['main', 'preempt'],
      );
      assert.deepEqual(
        a.diagnostics.filter((d) => d.severity !== 'info'),
        [],
      );
      const p = a.postcopy?.preempt;
      assert.ok(p);
      assert.deepEqual([p.records.length, p.pageRecords, p.zeroRecords, p.eos, p.complete], [2, 1, 1, false, true]);
      // CONTINUE on the preempt channel refers to the block its own previous record named.
      assert.equal(a.ramblocks[p.records.block.get(1)]?.name, 'pc.ram');
      const s = buildCaptureReport(a).streams[1];
      assert.deepEqual(
        [s.kind, s.normalPages, s.zeroPages, s.ramblocks, s.preempt?.records],
        ['preempt', 1, 1, ['pc.ram'], 2],
      );
      const r = await replayCapture(a, { outDir: join(dir, 'out'), workers: false });
      const img = readFileSync(r.blocks.find((b) => b.name === 'pc.ram')!.file);
      assert.deepEqual(img.subarray(0, PS), Buffer.from(filledPage(PS, 1)));
      assert.ok(
        img.subarray(PS, 2 * PS).every((x) => x === 0),
        'page 1: the preempt ZERO record after precopy',
      );
      assert.deepEqual(img.subarray(2 * PS, 3 * PS), Buffer.from(filledPage(PS, 2)));
      assert.deepEqual(img.subarray(3 * PS, 4 * PS), Buffer.from(filledPage(PS, 3)));
    });
  });

  it('a page placed from the preempt channel first is not replaced by the main channel copy, and says so', async () => {
    await withAnalysis({ copyOfMainPage: 8 }, async (a, dir) => {
      const r = await replayCapture(a, { outDir: join(dir, 'out'), workers: false });
      const img = readFileSync(r.blocks.find((b) => b.name === 'pc.ram')!.file);
      assert.deepEqual(img.subarray(2 * PS, 3 * PS), Buffer.from(filledPage(PS, 9)));
      const d = r.diagnostics.find((x) => x.code === 'postcopy.page-twice');
      assert.ok(d, codes(r).join());
      assert.equal(d.severity, 'warning');
      assert.deepEqual(d.location, { stream: 0, record: a.main!.records.length - 3 });
      assert.deepEqual(d.related, { stream: 1, record: 2 });
      assert.match(d.message, /preempt-channel record 2 \(stream 1\).*EEXIST/);
    });
  });

  it('the same page at the same capture time on both streams: the order is unknown, both records named', async () => {
    await withAnalysis({ copyOfMainPage: 10 }, async (a) => {
      const d = a.diagnostics.find((x) => x.code === 'postcopy.order-unknown');
      assert.ok(d, codes(a).join());
      assert.equal(d.severity, 'warning');
      assert.deepEqual(d.location, { stream: 1, record: 2 });
      assert.equal(d.related?.stream, 0);
      assert.match(d.message, /main-channel record \d+ \(stream 0\) and preempt-channel record 2 \(stream 1\)/);
    });
  });

  it('page requests answered on the preempt channel are counted via preempt', async () => {
    await withAnalysis({}, async (a) => {
      // No return path in this capture: no requests, so no report.
      assert.equal(await readPageRequests(a), undefined);
    });
  });
});

describe('bad bytes on the preempt channel', () => {
  it('a record cut by the end of the stream: a warning naming the stream, record and its offset', async () => {
    await withAnalysis({ tail: ramWord(4 * PS, 0x08).slice(0, 5) }, async (a) => {
      const d = a.diagnostics.find((x) => x.code === 'postcopy.preempt-truncated');
      assert.ok(d, codes(a).join());
      const recordsBytes = 8 + 1 + 6 + PS + 8 + 1;
      assert.deepEqual([d.location.stream, d.location.record, d.location.streamOffset], [1, 2, recordsBytes]);
      assert.equal(a.postcopy?.preempt?.complete, false);
    });
  });

  it('flags ram_load_postcopy rejects (MEM_SIZE, XBZRLE): an error, decoding stops there', async () => {
    for (const flags of [0x04, 0x40 | 0x20]) {
      await withAnalysis({ tail: ramWord(0, flags) }, async (a) => {
        const d = a.diagnostics.find((x) => x.code === 'main.unknown-ram-flags');
        assert.ok(d, codes(a).join());
        assert.equal(d.severity, 'error');
        assert.deepEqual([d.location.stream, d.location.record], [1, 2]);
        assert.match(d.message, /ram_load_postcopy accepts only ZERO, PAGE and EOS/);
        assert.equal(a.postcopy?.preempt?.stoppedAt?.streamOffset, d.location.streamOffset);
      });
    }
  });

  it('bytes after EOS are not read by the destination: a warning', async () => {
    await withAnalysis({ tail: Uint8Array.from([...ramWord(0, 0x10), 1, 2, 3]) }, async (a) => {
      assert.equal(a.postcopy?.preempt?.eos, true);
      const d = a.diagnostics.find((x) => x.code === 'postcopy.preempt-after-eos');
      assert.ok(d, codes(a).join());
      assert.match(d.message, /^3 byte\(s\) follow/);
    });
  });

  it('without POSTCOPY_ADVISE a stream without magic stays undecoded: an error', async () => {
    await withAnalysis({ advise: false }, async (a) => {
      assert.equal(a.streams[1].kind, 'unknown');
      assert.equal(a.postcopy, undefined);
      const d = a.diagnostics.find((x) => x.code === 'stream.unknown-kind');
      assert.ok(d);
      assert.equal(d.severity, 'error');
      assert.match(d.message, /no POSTCOPY_ADVISE/);
    });
  });
});
