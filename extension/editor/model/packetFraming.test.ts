import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCaptureFile } from '../../core/analysis';
import { liveMigration } from '../../../test/support/hardwareCompression/liveScenario';
import type { HardwareMethod } from '../../../test/support/hardwareCompression/migrationSender';
import { CaptureModel } from './captureModel';

const PS = 4096;
const dir = mkdtempSync(join(tmpdir(), 'mfd-framing-'));
const models: CaptureModel[] = [];
after(async () => {
  for (const m of models) await m.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function open(method: HardwareMethod) {
  const s = liveMigration({ method, version: '10.0', pageSize: PS, channels: 2 });
  const path = join(dir, `${method}.mfd`);
  writeFileSync(path, s.capture());
  const m = new CaptureModel(await analyzeCaptureFile(path));
  models.push(m);
  // Packets with data pages, in the order the sender wrote them per channel (stream c + 1 is channel c).
  const sent = s.sent.filter((p) => p.written && p.normal.length > 0);
  const rows = m.rows(0, m.total).rows.filter((r) => r.kind === 'ram' && !r.sync && r.normalPages > 0);
  return { s, m, sent, rows };
}

for (const method of ['qpl', 'uadk'] as const) {
  test(`${method}: the details give each page's compressed size from the be32 size array, raw pages marked`, async () => {
    const { m, sent, rows } = await open(method);
    assert.equal(rows.length, sent.length, 'one row per packet with data pages');
    let raw = 0;
    let compressed = 0;
    for (const r of rows) {
      const p = sent.find((x) => x.channel === r.channel && x.packetNum === r.packetNum);
      assert.ok(p?.sizes, `sent packet ${r.packetNum} of channel ${r.channel}`);
      const d = await m.packet(r);
      assert.ok(d.framing, `packet ${r.index} of stream ${r.stream} is described`);
      assert.equal(d.framing.method, method);
      assert.equal(d.framing.problem, undefined);
      assert.equal(d.framing.sizeArrayLength, 4 * r.normalPages);
      assert.deepEqual(
        d.framing.pages?.map((x) => x.size),
        p.sizes,
      );
      for (const x of d.framing.pages!) {
        assert.equal(x.raw, x.size === PS);
        if (x.raw) raw++;
        else compressed++;
      }
    }
    assert.ok(raw > 0 && compressed > 0, `both kinds shown (raw ${raw}, compressed ${compressed})`);
  });

  test(`${method}: the bytes pane decodes a compressed page and a raw one (the raw one is its payload bytes)`, async () => {
    const { m, rows } = await open(method);
    for (const r of rows) {
      const d = await m.packet(r);
      const rawPage = d.framing!.pages!.find((x) => x.raw);
      const zipped = d.framing!.pages!.find((x) => !x.raw);
      if (!rawPage || !zipped) continue;
      const page = await m.page(r, rawPage.slot);
      assert.equal(page.source, 'decoded', page.note);
      assert.match(page.note ?? '', /sent raw/);
      const payload = await m.payload(r, rawPage.start, PS);
      assert.deepEqual(page.bytes, payload.bytes);
      const z = await m.page(r, zipped.slot);
      assert.equal(z.source, 'decoded', z.note);
      assert.equal(z.bytes?.length, PS);
      assert.match(z.note ?? '', new RegExp(`${zipped.size} compressed bytes at payload byte ${zipped.start}`));
      return;
    }
    assert.fail('no packet with both a raw and a compressed page');
  });
}

test('qatzip: the details list the gzip members of the packet and the pages each covers', async () => {
  const { m, rows } = await open('qatzip');
  assert.ok(rows.length > 0);
  for (const r of rows) {
    const d = await m.packet(r);
    const f = d.framing;
    assert.ok(f?.members?.length, `packet ${r.index} of stream ${r.stream} lists its members`);
    assert.equal(f.problem, undefined);
    assert.equal(
      f.members.reduce((n, x) => n + x.srcSize, 0),
      r.normalPages * PS,
      'the members hold every page',
    );
    assert.equal(
      f.members.reduce((n, x) => n + x.length, 0),
      d.payloadLength,
      'and every payload byte',
    );
    assert.equal(f.members[f.members.length - 1].lastSlot, r.normalPages - 1);
    const page = await m.page(r, r.normalPages - 1);
    assert.equal(page.source, 'decoded', page.note);
  }
});

test('a packet without data pages (a SYNC) has no framing node', async () => {
  const { m } = await open('qpl');
  const sync = m.rows(0, m.total).rows.find((r) => r.sync);
  assert.ok(sync);
  assert.equal((await m.packet(sync)).framing, undefined);
});
