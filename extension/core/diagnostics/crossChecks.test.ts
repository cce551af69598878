import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryByteSource } from '../capture/fileAccessor';
import { openCaptureFromSource } from '../capture/openCapture';
import { MfdBuilder } from '../capture/mfdWriter';
import { analyzeCapture } from '../analysis';
import { MultifdChannelEncoder, page } from '../../../test/support/multifdEncoder';

const PS = 4096;

async function analyze(chans: MultifdChannelEncoder[], meta: Record<string, unknown> = {}) {
  const b = new MfdBuilder().meta(meta);
  chans.forEach((c, i) => b.data(i, c.bytes()));
  return analyzeCapture(await openCaptureFromSource(new MemoryByteSource(b.build())));
}

test('channels with different uuids, a repeated channel id and different SYNC counts are reported', async () => {
  const a = new MultifdChannelEncoder({
    version: '10.0',
    pageSize: PS,
    channelId: 0,
    uuid: new Uint8Array(16).fill(1),
  });
  const b = new MultifdChannelEncoder({
    version: '10.0',
    pageSize: PS,
    channelId: 0,
    uuid: new Uint8Array(16).fill(2),
  });
  a.sync(0).sync(2);
  b.sync(1);
  const r = await analyze([a, b]);
  const codes = r.diagnostics.map((d) => d.code);
  assert.ok(codes.includes('multifd.uuid-mismatch'));
  assert.ok(codes.includes('multifd.init.channel-id'));
  assert.ok(codes.includes('multifd.sync-count-mismatch'));
  assert.ok(codes.includes('multifd.no-main-channel'));
});

test('a page sent twice in one epoch names both writers; in 10.0 it is a warning', async () => {
  const a = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 0 });
  const b = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 1 });
  a.sync(0);
  b.sync(1);
  await a.packet({ ramblock: 'pc.ram', normal: [{ offset: 5 * PS, data: page(PS, 1) }], packetNum: 2 });
  await b.packet({ ramblock: 'pc.ram', normal: [{ offset: 5 * PS, data: page(PS, 2) }], packetNum: 3 });
  a.sync(4);
  b.sync(5);
  // The same page again in the next epoch is normal: a later epoch wins.
  await a.packet({ ramblock: 'pc.ram', zero: [5 * PS], packetNum: 6 });
  a.sync(7);
  b.sync(8);
  const r = await analyze([a, b]);
  const twice = r.diagnostics.filter((d) => d.code === 'multifd.page-twice-in-epoch');
  assert.equal(twice.length, 1);
  assert.equal(twice[0].severity, 'warning');
  assert.deepEqual(
    [twice[0].location.stream, twice[0].location.packet, twice[0].related?.stream, twice[0].related?.packet],
    [1, 1, 0, 1],
  );
  assert.match(twice[0].message, /pc\.ram:0x5000.*epoch 1/);
});

test('packet_num gaps from a 10.0 sender are warnings; the same from 7.2 are expected quirks (info)', async () => {
  const a = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 0 });
  a.sync(0);
  await a.packet({ ramblock: 'pc.ram', normal: [{ offset: 0, data: page(PS, 1) }], packetNum: 5 });
  a.sync(6);
  const r = await analyze([a]);
  const gap = r.diagnostics.find((d) => d.code === 'multifd.packet-num-gap');
  assert.equal(gap?.severity, 'warning');
  const o = new MultifdChannelEncoder({ version: '7.2', pageSize: PS, channelId: 0 });
  o.sync(0);
  await o.packet({ ramblock: 'pc.ram', normal: [{ offset: 0, data: page(PS, 1) }], sync: true, packetNum: 3 });
  const r2 = await analyze([o]);
  assert.equal(r2.diagnostics.find((d) => d.code === 'multifd.packet-num-gap')?.severity, 'info');
  assert.equal(r2.diagnostics.find((d) => d.code === 'multifd.packet-num-repeat')?.severity, 'info');
});
