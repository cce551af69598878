import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryByteSource } from '../capture/fileAccessor';
import { openCaptureFromSource } from '../capture/openCapture';
import { MfdBuilder } from '../capture/mfdWriter';
import { analyzeCapture } from '../analysis';
import { MultifdChannelEncoder } from '../../../test/support/multifdEncoder';
import { extractDeviceState } from './deviceState';

/** `pairs` distinct (idstr, instance) pairs, one 1-byte buffer each, over two channels; pair 0 sends twice. */
async function deviceStateCapture(pairs: number) {
  const chans = [0, 1].map((id) => new MultifdChannelEncoder({ version: '10.0', pageSize: 4096, channelId: id }));
  for (let p = 0; p < pairs; p++) chans[p % 2].deviceState(`dev${p >> 4}`, p & 15, Uint8Array.of(p & 0xff));
  chans[1].deviceState('dev0', 0, Uint8Array.of(0xee));
  const file = new MfdBuilder().meta({ pageSize: 4096 }).data(1, chans[0].bytes()).data(2, chans[1].bytes()).build();
  return analyzeCapture(await openCaptureFromSource(new MemoryByteSource(file)));
}

test('device-state extraction looks at each packet once, whatever the number of devices', async () => {
  const a = await deviceStateCapture(2000);
  let looks = 0;
  for (const m of a.multifd) {
    const t = m.packets;
    const own = t.isDeviceState.bind(t);
    t.isDeviceState = (i: number) => (looks++, own(i));
  }
  const packets = a.multifd.reduce((n, m) => n + m.packets.length, 0);
  const blobs = await extractDeviceState(a, mkdtempSync(join(tmpdir(), 'mfd-ds-')), false);
  assert.equal(blobs.length, 2000);
  assert.ok(looks <= 2 * packets, `${looks} packet look-ups for ${packets} packets`);
  const first = blobs.find((b) => b.idstr === 'dev0' && b.instanceId === 0)!;
  assert.deepEqual([...readFileSync(first.file)], [0, 0xee], 'buffers concatenated in channel order');
});

test('device-state extraction: 64,000 (idstr, instance) pairs in one pass', async () => {
  const a = await deviceStateCapture(64_000);
  const started = Date.now();
  const blobs = await extractDeviceState(a, mkdtempSync(join(tmpdir(), 'mfd-ds-')), false);
  assert.equal(blobs.length, 64_000);
  assert.equal(
    blobs.reduce((n, b) => n + b.bytes, 0),
    64_001,
  );
  assert.ok(Date.now() - started < 60_000, `${Date.now() - started} ms`);
});
