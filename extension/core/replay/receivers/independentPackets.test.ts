import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MemoryByteSource } from '../../capture/fileAccessor';
import { openCaptureFromSource } from '../../capture/openCapture';
import { analyzeCapture } from '../../analysis';
import { sourceBytes } from '../../analysisTypes';
import { ChannelDecoder } from '../channelDecoder';
import { liveMigration } from '../../../../test/support/hardwareCompression/liveScenario';

const PS = 4096;

for (const method of ['qpl', 'uadk', 'qatzip'] as const) {
  it(`${method}: random access decodes a packet alone, without the channel's earlier packets`, async () => {
    // Packet 0 of channel 0 is broken: a stream codec could decode nothing after it; these methods can.
    const s = liveMigration({
      method,
      version: '10.0',
      pageSize: PS,
      channels: 1,
      mutatePayload: (info, p) => (info.packet === 0 ? p.subarray(0, 10) : p),
    });
    const a = await analyzeCapture(await openCaptureFromSource(new MemoryByteSource(s.capture())));
    const m = a.multifd[0];
    const decoder = new ChannelDecoder(m, sourceBytes(a, m.streamId), { randomAccess: true });
    const later = s.sent.filter((p) => p.written && p.packet > 0 && p.normal.length > 0);
    assert.ok(later.length >= 2);
    let compared = 0;
    for (const p of [later[1], later[0]]) {
      const out = await decoder.decode(p.packet);
      assert.equal(out.length, p.normal.length * PS);
      // Every page of a later packet holds what the source sent then; compare with the source's RAM where the
      // page was not rewritten afterwards.
      const lastWriter = (o: number) =>
        s.sent.filter((q) => q.written && (q.normal.includes(o) || q.zero.includes(o))).at(-1);
      p.normal.forEach((o, k) => {
        if (lastWriter(o) !== p) return;
        compared++;
        assert.ok(Buffer.from(out.subarray(k * PS, (k + 1) * PS)).equals(Buffer.from(s.sourceRam.subarray(o, o + PS))));
      });
    }
    assert.ok(compared > 0, 'some pages were compared');
    await assert.rejects(decoder.decode(0), /./, 'the broken packet still fails');
    decoder.close();
  });
}
