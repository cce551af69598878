import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { analyzeCapture, analyzeCaptureFile } from '../analysis';
import { openCaptureFromSource } from '../capture/openCapture';
import { MemoryByteSource } from '../capture/fileAccessor';
import { MfdBuilder } from '../capture/mfdWriter';
import { explainDestinationError } from './explainError';
import { matchDestinationError } from './destinationErrors';
import { MainStreamEncoder } from '../../../test/support/mainchannel/mainStreamEncoder';
import { MultifdChannelEncoder, page } from '../../../test/support/multifdEncoder';

const SAMPLE = resolve(__dirname, '..', '..', '..', 'samples', 'qemu72-nocomp.mfd');

async function badMagicCapture() {
  const m = new MainStreamEncoder().header().configuration({ machineType: 'pc' });
  m.sectionStart(2, 'ram')
    .memSize([{ name: 'pc.ram', usedLength: 64 * 4096 }])
    .flush()
    .eos()
    .footer(2)
    .eof();
  const ch = new MultifdChannelEncoder({ version: '10.0', pageSize: 4096, channelId: 0 });
  ch.sync(0);
  await ch.packet({ ramblock: 'pc.ram', normal: [{ offset: 0, data: page(4096, 1) }], packetNum: 1 });
  const bytes = ch.bytes();
  // The data packet (the last one: 320-byte header, offset[128], one page) loses its magic.
  const dataPacket = bytes.length - (320 + 8 * 128 + 4096);
  bytes[dataPacket] ^= 0xff;
  const file = new MfdBuilder().meta({ tool: 'test', pageSize: 4096 }).data(0, m.bytes()).data(1, bytes).build();
  return analyzeCapture(await openCaptureFromSource(new MemoryByteSource(file)));
}

describe('mfd explain', () => {
  it('recognises the destination messages QEMU prints, whatever precedes them', () => {
    assert.equal(
      matchDestinationError('qemu-system-x86_64: Unknown ramblock "pc.ram", cannot accept migration')?.entry.id,
      'unknown-ramblock',
    );
    assert.equal(
      matchDestinationError(
        'failed to receive packet via multifd channel 0: multifd: received packet magic 5145564d expected 11223344',
      )?.entry.id,
      'multifd-magic',
    );
    assert.equal(
      matchDestinationError("multifd: received uuid '1' and expected uuid '2' for channel 0")?.entry.id,
      'multifd-uuid',
    );
    assert.deepEqual(matchDestinationError("error while loading state for instance 0x0 of device 'apic'")?.groups, [
      '0',
      'apic',
    ]);
    assert.equal(matchDestinationError('something else entirely'), undefined);
  });

  it('on a clean real capture: a block the capture announces is the destination lacking it; a postcopy-only check cannot fire', async () => {
    const a = await analyzeCaptureFile(SAMPLE);
    try {
      const unknown = explainDestinationError('Unknown ramblock "mem", cannot accept migration', a);
      assert.equal(unknown.verdict, 'not-found');
      assert.match(unknown.summary, /announces ramblock "mem" in MEM_SIZE/);
      const ps = explainDestinationError('Mismatched RAM page size mem (local) 4096 != 2097152', a);
      assert.equal(ps.verdict, 'cannot-fire');
      const magic = explainDestinationError('multifd: received packet magic 5145564d expected 11223344', a);
      assert.equal(magic.verdict, 'not-found');
      assert.equal(explainDestinationError('no idea', a).verdict, 'unrecognised');
    } finally {
      await a.capture.source.close();
    }
  });

  it("points at the packet where the destination's check fires", async () => {
    const a = await badMagicCapture();
    const e = explainDestinationError('multifd: received packet magic 11223344 expected 11223344', a);
    assert.equal(e.verdict, 'fires', e.summary);
    assert.equal(e.at[0].code, 'multifd.bad-magic');
    assert.equal(e.at[0].location.stream, 1);
    assert.ok((e.at[0].location.streamOffset ?? -1) > 64);
  });
});
