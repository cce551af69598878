import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryByteSource } from '../../core/capture/fileAccessor';
import { openCaptureFromSource } from '../../core/capture/openCapture';
import { analyzeCapture } from '../../core/analysis';
import { dataSegments, holedMigration, tinyMigrationFrames, HOLED_MSS } from '../../../test/support/holedPcap';
import { CaptureModel } from './captureModel';

/** The editor on a pcap whose multifd channel lost a segment in a page's data: the page says so, never other bytes. */
const models: CaptureModel[] = [];
after(async () => {
  for (const m of models) await m.dispose();
});

test('a page in a hole is unavailable with the hole named; the payload stops where the hole starts', async () => {
  const { multifd } = await tinyMigrationFrames('none');
  const segments = dataSegments(multifd);
  // Packet 2 (packet_num 2) starts at 64 + 1344 (setup SYNC) + 1344 + 4096 (packet 1); its data follows its header.
  const payload2 = 64 + 1344 + 1344 + 4096 + 1344;
  const k = Math.ceil((payload2 + 100) / HOLED_MSS);
  const pcap = await holedMigration({ dropMultifd: [segments[k]] });
  const a = await analyzeCapture(await openCaptureFromSource(new MemoryByteSource(new Uint8Array(pcap)), 'x.pcap'));
  const m = await CaptureModel.load(a);
  models.push(m);
  const s = a.multifd[0];
  const row = Array.from({ length: s.packets.length }, (_, r) => r).find((r) => s.packets.packetNum.get(r) === 2)!;
  const ref = { stream: s.streamId, index: row };
  const page0 = await m.page(ref, 0);
  assert.equal(page0.source, 'unavailable');
  assert.match(page0.note ?? '', new RegExp(`${HOLED_MSS} bytes at stream offset ${k * HOLED_MSS} are a hole`));
  const chunk = await m.payload(ref, 0, 65536);
  assert.equal(chunk.bytes.length, k * HOLED_MSS - payload2);
  const page1 = await m.page(ref, 1);
  assert.equal(page1.source, 'payload', 'the page after the hole is read as it is');
});
