import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MfdBuilder } from './mfdWriter';
import { analyzeCaptureFile } from '../analysis';
import { replayCapture } from '../replay/replay';
import { MultifdChannelEncoder, page } from '../../../test/support/multifdEncoder';

const PS = 4096;

/** One channel, one packet of 32 data pages; `split` cuts its payload over two DATA records. */
async function capture(split: boolean): Promise<{ path: string; payloadFileOffset: number }> {
  const ch = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 0 });
  ch.sync(0);
  const head = ch.bytes().length;
  const normal = Array.from({ length: 32 }, (_, k) => ({ offset: k * PS, data: page(PS, k + 1) }));
  await ch.packet({ ramblock: 'pc.ram', normal, packetNum: 1 });
  ch.sync(2);
  const bytes = ch.bytes();
  const b = new MfdBuilder().meta({ pageSize: PS });
  const cut = split ? bytes.length - 8 * PS : bytes.length;
  b.data(1, bytes.subarray(0, cut));
  if (split) b.data(1, bytes.subarray(cut));
  const path = join(mkdtempSync(join(tmpdir(), 'mfd-shrink-')), 'c.mfd');
  writeFileSync(path, b.build());
  return { path, payloadFileOffset: head };
}

for (const split of [false, true]) {
  test(`a capture that shrinks during a replay (${split ? 'packet spanning two DATA records' : 'inside one DATA record'}): an error naming the stream offset, never half the pages`, async () => {
    const c = await capture(split);
    const a = await analyzeCaptureFile(c.path);
    const t = a.multifd[0].packets;
    const row = [...Array(t.length).keys()].find((r) => t.normalPages.get(r) > 0)!;
    const payloadAt = t.headerOffset.get(row) + t.headerLength.get(row);
    const stream = a.capture.streams[0].toDestination;
    // Cut the file 12 pages into the packet's 32-page payload, after the index was built.
    const cutStream = payloadAt + 12 * PS;
    truncateSync(c.path, stream.fileOffsetOf(cutStream));
    const r = await replayCapture(a, { outDir: join(c.path, '..', 'out'), workers: false });
    await a.capture.source.close();
    const d = r.diagnostics.find((x) => x.code === 'replay.capture-ended');
    assert.ok(d, `diagnostics: ${r.diagnostics.map((x) => `${x.code} ${x.message}`).join('; ')}`);
    assert.equal(d.severity, 'error');
    assert.equal(d.location.stream, 1);
    assert.equal(d.location.streamOffset, cutStream);
    assert.match(d.message, new RegExp(`stream offset ${cutStream}\\b`));
    assert.equal(r.complete, false);
    assert.match(r.incomplete!.reason, /capture ended/);
  });
}

test('a capture that shrinks during a replay of main-channel PAGE records: an error, not an image with half the pages', async () => {
  const { MainStreamEncoder } = await import('../../../test/support/mainchannel/mainStreamEncoder');
  const m = new MainStreamEncoder().header().configuration({ machineType: 'pc' });
  m.sectionStart(2, 'ram')
    .memSize([{ name: 'pc.ram', usedLength: 16 * PS }])
    .eos()
    .footer(2)
    .sectionPart(2);
  m.page(0, 'pc.ram', page(PS, 1));
  for (let k = 1; k < 16; k++) m.page(k * PS, undefined, page(PS, k + 1));
  m.eos().footer(2).sectionEnd(2).eos().footer(2).eof();
  const path = join(mkdtempSync(join(tmpdir(), 'mfd-shrink-')), 'm.mfd');
  writeFileSync(path, new MfdBuilder().meta({ pageSize: PS }).data(0, m.bytes()).build());
  const a = await analyzeCaptureFile(path);
  const rec = a.main!.records;
  const tenth = [...Array(rec.length).keys()].filter((i) => rec.row(i).dataPos >= 0)[10];
  const cutStream = rec.row(tenth).dataPos + 100;
  truncateSync(path, a.capture.streams[0].toDestination.fileOffsetOf(cutStream));
  const r = await replayCapture(a, { outDir: join(path, '..', 'out'), workers: false });
  await a.capture.source.close();
  const d = r.diagnostics.find((x) => x.code === 'replay.capture-ended');
  assert.ok(d, `diagnostics: ${r.diagnostics.map((x) => `${x.code} ${x.message}`).join('; ')}`);
  assert.equal(d.location.streamOffset, cutStream);
  assert.equal(r.complete, false);
});
