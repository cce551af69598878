import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryByteSource } from '../capture/fileAccessor';
import { openCaptureFromSource } from '../capture/openCapture';
import { MfdBuilder } from '../capture/mfdWriter';
import { analyzeCapture } from '../analysis';
import { extractDeviceState } from '../replay/deviceState';
import { main } from '../../cli/mfd';
import type { CliIo } from '../../cli/cliCommand';
import { MultifdChannelEncoder } from '../../../test/support/multifdEncoder';
import { sampleStream } from '../../../test/support/mainchannel/testStreams';
import { sendVfio, vfioPackets, type VfioPacket } from '../../../test/support/vfioMultifdSender';

const GPU = '0000:00:02.0/vfio';
const NIC = '0000:00:03.0/vfio';

function deviceBytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

/** Two channels (and a main channel); each device's packets given to the channel `channelOf` picks. */
function capture(devices: { idstr: string; packets: VfioPacket[]; channelOf: (i: number) => number }[]): Uint8Array {
  const chans = [0, 1].map((id) => new MultifdChannelEncoder({ version: '10.0', pageSize: 4096, channelId: id }));
  for (const d of devices) sendVfio(chans, d.idstr, 0, d.packets, d.channelOf);
  return new MfdBuilder()
    .meta({ pageSize: 4096 })
    .data(0, sampleStream({ flush: true }))
    .data(1, chans[0].bytes())
    .data(2, chans[1].bytes())
    .build();
}

async function analyze(file: Uint8Array) {
  return analyzeCapture(await openCaptureFromSource(new MemoryByteSource(file)));
}

const vfioDiagnostics = (a: Awaited<ReturnType<typeof analyze>>) =>
  a.diagnostics.filter((d) => d.code === 'multifd.device-state.vfio');

describe('VFIO device state on multifd channels', () => {
  it("puts each device's buffers together by idx, whatever channel carried them, the CONFIG_STATE buffer apart", async () => {
    const gpuState = deviceBytes(10_000, 1);
    const nicState = deviceBytes(2500, 2);
    const gpu = vfioPackets(gpuState, 1024, Uint8Array.of(0xa0, 0xa1, 0xa2));
    const nic = vfioPackets(nicState, 1000, Uint8Array.of(0xb0));
    // Channel 1 gets the odd buffers, so in channel order idx 1, 3, 5 … come after all the even ones.
    const a = await analyze(
      capture([
        { idstr: GPU, packets: gpu, channelOf: (i) => i % 2 },
        { idstr: NIC, packets: [...nic].reverse(), channelOf: () => 1 },
      ]),
    );
    assert.deepEqual(vfioDiagnostics(a), []);
    const out = mkdtempSync(join(tmpdir(), 'mfd-vfio-'));
    const blobs = await extractDeviceState(a, out, false);
    const g = blobs.find((b) => b.idstr === GPU)!;
    assert.deepEqual(readFileSync(g.file), Buffer.from(gpuState), 'data buffers in idx order');
    assert.equal(g.vfio?.buffers, 10);
    assert.equal(g.vfio?.configIdx, 10);
    const config = readFileSync(g.vfio!.configFile!);
    assert.deepEqual([...config.subarray(0, 8)], [0xff, 0xff, 0xff, 0xff, 0xef, 0x10, 0, 2], 'DEV_CONFIG_STATE');
    assert.deepEqual([...config.subarray(8, 11)], [0xa0, 0xa1, 0xa2]);
    assert.equal(g.vfio?.configBytes, 8 + 3 + 8);
    const n = blobs.find((b) => b.idstr === NIC)!;
    assert.deepEqual(readFileSync(n.file), Buffer.from(nicState), 'reversed on the wire, in idx order on disk');
    assert.equal(n.packets, 4);
  });

  it('names a missing idx, a repeated idx, an unknown version, a short blob, a missing or bad CONFIG_STATE', async () => {
    const base = () => vfioPackets(deviceBytes(4096, 3), 1024, Uint8Array.of(1));
    const cases: [string, VfioPacket[], RegExp, string?][] = [
      [
        'missing',
        base().filter((p) => p.idx !== 2),
        /1 buffer\(s\) below the CONFIG_STATE buffer \(idx 4\) never arrived \(idx 2\)/,
      ],
      [
        'repeated',
        [...base(), { ...base()[1] }],
        /packet 5 of stream 2: idx 1 again \(packet 1 of stream 2 had it\).*already filled/,
      ],
      ['version', base().map((p) => (p.idx === 3 ? { ...p, version: 1 } : p)), /version 1.*unknown version 1/],
      ['no config', base().filter((p) => p.flags === 0), /no buffer is flagged CONFIG_STATE/],
      [
        'bad config',
        base().map((p) => (p.flags ? { ...p, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) } : p)),
        /does not start with DEV_CONFIG_STATE/,
      ],
      [
        'after config',
        [...base(), { version: 0, idx: 9, flags: 0, data: Uint8Array.of(1) }],
        /after the CONFIG_STATE buffer \(idx 9\)/,
        'warning',
      ],
    ];
    for (const [name, packets, message, severity = 'error'] of cases) {
      const a = await analyze(capture([{ idstr: GPU, packets, channelOf: () => 1 }]));
      const ds = vfioDiagnostics(a);
      // A refused packet leaves its idx missing too: the destination fails on the first, the second says what follows.
      assert.equal(ds.length, name === 'version' ? 2 : 1, `${name}: ${JSON.stringify(ds.map((d) => d.message))}`);
      assert.match(ds[0].message, message, name);
      assert.equal(ds[0].severity, severity, name);
      assert.equal(ds[0].location.stream, 2, name);
      assert.equal(typeof ds[0].location.packet, 'number', name);
      assert.equal(typeof ds[0].location.fileOffset, 'number', name);
    }
    // A blob shorter than the 12-byte VFIODeviceStatePacket.
    const chans = [0, 1].map((id) => new MultifdChannelEncoder({ version: '10.0', pageSize: 4096, channelId: id }));
    chans[0].deviceState(GPU, 0, Uint8Array.of(0, 0, 0, 0, 0, 0));
    const a = await analyze(new MfdBuilder().meta({ pageSize: 4096 }).data(1, chans[0].bytes()).build());
    assert.match(vfioDiagnostics(a)[0].message, /6-byte blob.*packet too short at 6 \(min is 12\)/);
  });

  it('mfd extract writes the buffers in idx order and exits 1 when an idx is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfd-vfio-cli-'));
    const state = deviceBytes(3000, 4);
    const packets = vfioPackets(state, 1000, Uint8Array.of(7));
    const run = async (file: Uint8Array, name: string) => {
      const path = join(dir, `${name}.mfd`);
      writeFileSync(path, file);
      let out = '';
      const io: CliIo = { out: (t) => (out += t), err: (t) => (out += t), interactive: false };
      const code = await main(['extract', path, '--out', join(dir, name), '--json'], io);
      return { code, json: JSON.parse(out) as { deviceState: { file: string; vfio?: { missing: number[] } }[] } };
    };
    let r = await run(capture([{ idstr: GPU, packets: [...packets].reverse(), channelOf: (i) => i % 2 }]), 'whole');
    assert.equal(r.code, 0);
    assert.deepEqual(readFileSync(r.json.deviceState[0].file), Buffer.from(state));
    r = await run(capture([{ idstr: GPU, packets: packets.filter((p) => p.idx !== 1), channelOf: () => 0 }]), 'holed');
    assert.equal(r.code, 1);
    assert.deepEqual(r.json.deviceState[0].vfio?.missing, [1]);
  });
});
