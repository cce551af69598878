import { MfdBuilder } from '../../extension/core/capture/mfdWriter';
import { MainStreamEncoder } from '../support/mainchannel/mainStreamEncoder';
import { DirtyBitmapSender, VfioSender } from '../support/mainchannel/iterativeSenders';
import { MultifdChannelEncoder } from '../support/multifdEncoder';
import { vfioPacketBlob, vfioPackets } from '../support/vfioMultifdSender';
import { HOSTILE_TEXT } from './hostileCapture';

/**
 * Hostile inputs for the readers of iterative sections other than RAM (dirty-bitmap, VFIO on the main channel)
 * and of VFIO state on multifd, each a small .mfd capture. Written into the fuzz corpus by
 * writeIterativeRegressions.ts and checked one by one in iterativeHostile.test.ts.
 */

const PS = 4096;
const VFIO = '0000:00:02.0/vfio';

/** Header, configuration, a one-page RAM section; the rest is the caller's. */
function start(): MainStreamEncoder {
  const m = new MainStreamEncoder().header().configuration({ machineType: 'pc' });
  m.sectionStart(1, 'ram')
    .memSize([{ name: 'pc.ram', usedLength: PS }])
    .page(0, 'pc.ram', new Uint8Array(PS).fill(1))
    .eos()
    .footer(1);
  return m;
}

function capture(m: MainStreamEncoder, ...multifd: Uint8Array[]): Uint8Array {
  const b = new MfdBuilder().meta({ tool: 'hostile', pageSize: PS }).data(0, m.bytes());
  multifd.forEach((c, i) => b.data(i + 1, c));
  return b.build();
}

/** A BITS chunk declaring a 2^63-byte buffer after a normal START. */
export function bitmapHugeBufferCapture(): Uint8Array {
  const m = start().sectionStart(2, 'dirty-bitmap', 0, 1);
  new DirtyBitmapSender(m).start('disk0', 'bitmap0', 65536).eos();
  m.footer(2).sectionEnd(2);
  m.u8(0x40)
    .be64(0)
    .be32(8)
    .be64(2n ** 63n)
    .raw([1, 2, 3]);
  return capture(m);
}

/** 250,000 COMPLETE chunks (one byte each) in one section, then EOS, then EOF. */
export function bitmapManyChunksCapture(): Uint8Array {
  const m = start().sectionStart(2, 'dirty-bitmap', 0, 1);
  new DirtyBitmapSender(m).start('disk0', 'bitmap0', 65536);
  m.raw(new Uint8Array(250_000).fill(0x20)).u8(0x01).footer(2).eof();
  return capture(m);
}

/** 4-byte flags, a chunk before any name, reserved START flags, 255-byte names of control characters. */
export function bitmapOddHeadersCapture(): Uint8Array {
  const m = start().sectionStart(2, 'dirty-bitmap', 0, 1);
  m.raw([0xc0, 0x80, 0x00, 0x20]); // EXTRA_FLAGS twice; the destination keeps 0x20 (COMPLETE), with no name yet
  const name = HOSTILE_TEXT.padEnd(255, '\u001b').slice(0, 255);
  new DirtyBitmapSender(m).start(name, name, 512, 0xff).bits(name, name, 0, 1, new Uint8Array(16).fill(0xff)).eos();
  m.footer(2).eof();
  return capture(m);
}

/** A DEV_DATA_STATE of 2^64 - 1 bytes. */
export function vfioHugeDataCapture(): Uint8Array {
  const m = start().sectionStart(5, VFIO, 0, 1);
  new VfioSender(m).setup();
  m.footer(5).sectionPart(5);
  new VfioSender(m).marker(0xef100004);
  m.be64(0xffffffffffffffffn).raw([1, 2, 3, 4]);
  return capture(m);
}

/** A marker VFIO does not define, in a PART after a good START. */
export function vfioUnknownMarkerCapture(): Uint8Array {
  const m = start().sectionStart(5, VFIO, 0, 1);
  new VfioSender(m).setup();
  m.footer(5).sectionPart(5).be64(0xffffffffef1000ffn).footer(5).eof();
  return capture(m);
}

/** DEV_CONFIG_STATE followed by 2 MiB of config space with END_OF_STATE inside but never before this section's footer. */
export function vfioConfigUnendedCapture(): Uint8Array {
  const m = start().sectionFull(6, VFIO, 0, 1);
  const v = new VfioSender(m);
  v.marker(0xef100002);
  m.raw(new Uint8Array(2 << 20).fill(0x5a));
  v.marker(0xef100001);
  m.footer(7).eof();
  return capture(m);
}

/** START of an iterative device no reader knows (the block migration of old releases). */
export function unknownIterativeCapture(): Uint8Array {
  return capture(start().sectionStart(3, 'block', 0, 1).raw([0, 0, 0, 0, 0, 0, 0, 2]).footer(3).eof());
}

/**
 * VFIO buffers on multifd the destination refuses: a CONFIG_STATE buffer at idx 2^32 - 2 (billions missing
 * before it), idx 0 twice, an unknown version, a 3-byte blob, idx UINT32_MAX, and a device with no CONFIG_STATE.
 */
export function vfioMultifdHostileCapture(): Uint8Array {
  const ch = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 0 });
  const [data0, config] = vfioPackets(new Uint8Array(100).fill(1), 100, Uint8Array.of(1));
  for (const p of [data0, data0, { ...config, idx: 0xfffffffe }, { ...data0, idx: 5, version: 7 }])
    ch.deviceState(VFIO, 0, vfioPacketBlob(p));
  ch.deviceState(VFIO, 0, Uint8Array.of(0, 0, 0));
  ch.deviceState(VFIO, 0, vfioPacketBlob({ ...data0, idx: 0xffffffff }));
  ch.deviceState('0000:00:09.0/vfio', 1, vfioPacketBlob(data0));
  return capture(start().eof(), ch.bytes());
}

export const ITERATIVE_SHAPES: [string, () => Uint8Array, string][] = [
  [
    'iterative-dirty-bitmap-huge-buffer',
    bitmapHugeBufferCapture,
    'A dirty-bitmap BITS chunk declaring a 2^63-byte buffer: main.dirty-bitmap at its buf_size (the destination refuses more than 10 KiB), the walk stops there, nothing is allocated for it.',
  ],
  [
    'iterative-dirty-bitmap-many-chunks',
    bitmapManyChunksCapture,
    'One dirty-bitmap section of 250,000 one-byte COMPLETE chunks then EOS: walked to EOF in bounded time and memory (256 chunks kept for display, all counted; each chunk layout is built once, not once a chunk).',
  ],
  [
    'iterative-dirty-bitmap-odd-headers',
    bitmapOddHeadersCapture,
    'dirty-bitmap chunks with 4-byte flags (EXTRA_FLAGS twice), a COMPLETE before any node or bitmap is named, START flags with reserved bits, 255-byte names of control characters: warnings and an error, each at its offset, the walk reaches EOF, no control character reaches the terminal.',
  ],
  [
    'iterative-vfio-huge-data',
    vfioHugeDataCapture,
    'A VFIO DEV_DATA_STATE declaring 2^64 - 1 bytes: main.truncated at the marker, nothing allocated.',
  ],
  [
    'iterative-vfio-unknown-marker',
    vfioUnknownMarkerCapture,
    'A VFIO PART section holding 0xffffffffef1000ff: main.vfio (vfio_load_state\'s "Unknown tag") at the marker, the walk stops.',
  ],
  [
    'iterative-vfio-config-unended',
    vfioConfigUnendedCapture,
    "A VFIO FULL section with no VM description whose config space runs 2 MiB and whose END_OF_STATE is followed by another section's footer: not delimited, said with the offset (a warning), the walk stops.",
  ],
  [
    'iterative-unknown-section',
    unknownIterativeCapture,
    'START of "block", an iterative device no reader here knows: main.iterative-unknown, an error, the walk stops there.',
  ],
  [
    'iterative-vfio-multifd-hostile',
    vfioMultifdHostileCapture,
    'VFIO buffers on multifd: idx 0 twice, a CONFIG_STATE buffer at idx 2^32 - 2, an unknown version, a 3-byte blob, idx UINT32_MAX, a device with no CONFIG_STATE: each a multifd.device-state.vfio error at its packet; the missing idx are counted, not listed one by one.',
  ],
];
