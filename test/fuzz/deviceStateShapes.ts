import { MfdBuilder } from '../../extension/core/capture/mfdWriter';
import { MainStreamEncoder } from '../support/mainchannel/mainStreamEncoder';

/**
 * Hostile main channels for the device-state decoders (VM description, device sections, PACKAGED, commands),
 * each a small .mfd capture. Written into the fuzz corpus by writeDeviceStateRegressions.ts and checked
 * one by one in deviceStateHostile.test.ts.
 */

const PS = 4096;
const MIG_CMD_PACKAGED = 7;

function device(name: string, fields: unknown[], extra: Record<string, unknown> = {}) {
  return { name, instance_id: 0, vmsd_name: name, version: 1, fields, ...extra };
}

/** Header, configuration, a one-page RAM section; the device part is the caller's. */
function start(): MainStreamEncoder {
  const m = new MainStreamEncoder().header().configuration({ machineType: 'pc' });
  m.sectionStart(1, 'ram')
    .memSize([{ name: 'pc.ram', usedLength: PS }])
    .page(0, 'pc.ram', new Uint8Array(PS).fill(1))
    .eos()
    .footer(1);
  return m;
}

function capture(m: MainStreamEncoder): Uint8Array {
  return new MfdBuilder()
    .meta({ tool: 'hostile', pageSize: PS })
    .open(0, { client: 'a', server: 'b' })
    .data(0, m.bytes())
    .build();
}

/** Device "short" is described 2 bytes shorter than sent (the footer is found further on), "long" 1 MiB longer (no footer: the walk stops). */
export function lyingSizesCapture(): Uint8Array {
  const m = start();
  m.sectionFull(2, 'short').raw([1, 2, 3, 4]).footer(2);
  m.sectionFull(3, 'long').raw([5, 6, 7, 8]).footer(3);
  m.eof().vmDescription({
    page_size: PS,
    devices: [
      device('short', [{ name: 'a', type: 'buffer', size: 2 }]),
      device('long', [{ name: 'a', type: 'buffer', size: 1 << 20 }]),
    ],
  });
  return capture(m);
}

/** PACKAGED inside PACKAGED (QEMU sends one level), each holding a device section. */
export function nestedPackagedCapture(): Uint8Array {
  const inner = new MainStreamEncoder().sectionFull(3, 'dev').raw([9]).footer(3).bytes();
  const outer = new MainStreamEncoder()
    .command(MIG_CMD_PACKAGED, be32(inner.length + 9))
    .command(MIG_CMD_PACKAGED, be32(inner.length))
    .raw(inner)
    .bytes();
  const m = start().raw(outer);
  m.eof().vmDescription({ page_size: PS, devices: [device('dev', [{ name: 'a', type: 'uint8', size: 1 }])] });
  return capture(m);
}

/** PACKAGED declaring 4 GiB - 1 bytes, of which a few are present. */
export function packaged4GiBCapture(): Uint8Array {
  const m = start().command(MIG_CMD_PACKAGED, be32(0xffffffff));
  m.sectionFull(3, 'dev').raw([9]).footer(3);
  return capture(m);
}

/** Structs nested 200 deep in the description, and 100,000 levels of JSON arrays beside it. */
export function deepNestingCapture(): Uint8Array {
  let s: unknown = { vmsd_name: 'leaf', version: 1, fields: [{ name: 'x', type: 'uint8', size: 1 }] };
  for (let i = 0; i < 200; i++)
    s = { vmsd_name: `n${i}`, version: 1, fields: [{ name: 'f', type: 'struct', size: 1, struct: s }] };
  const json = JSON.stringify({ page_size: PS, devices: [{ name: 'dev', instance_id: 0, ...(s as object) }] });
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  const m = start();
  m.sectionFull(2, 'dev').raw([7]).footer(2);
  m.eof().vmDescription(json.slice(0, -1) + `,"deep":${deep}}`);
  return capture(m);
}

/** A VM description record whose bytes are not JSON (it still starts with '{' and ends with '}'). */
export function notJsonCapture(): Uint8Array {
  const m = start();
  m.sectionFull(2, 'dev').raw([7]).footer(2);
  m.eof().vmDescription('{"page_size": 4096, "devices": [ this is not json }');
  return capture(m);
}

/** One device whose description unfolds to 1,000,000 fields (array_len), and a body of as many bytes. */
export function millionFieldsCapture(): Uint8Array {
  const n = 1_000_000;
  const m = start();
  m.sectionFull(2, 'dev').raw(new Uint8Array(n).fill(0x81)).footer(2);
  m.eof().vmDescription({
    page_size: PS,
    devices: [device('dev', [{ name: 'r', type: 'uint8 equal', size: 1, array_len: n }])],
  });
  return capture(m);
}

function be32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

export const DEVICE_STATE_SHAPES: [string, () => Uint8Array, string][] = [
  [
    'vmstate-description-lies-about-sizes',
    lyingSizesCapture,
    'A VM description 2 bytes short of one device section and 1 MiB beyond another (the stream ends first): each is main.device-mismatch naming where the description ends and where the footer really is, and the walk goes on after that footer to EOF.',
  ],
  [
    'vmstate-nested-packaged',
    nestedPackagedCapture,
    'PACKAGED inside PACKAGED: QEMU sends one level; walked as part of the outer one, with a warning at the inner command.',
  ],
  [
    'vmstate-packaged-4gib',
    packaged4GiBCapture,
    'PACKAGED declaring 0xffffffff bytes of which 20 are present: main.package-truncated at the command; nothing is allocated for the declared length.',
  ],
  [
    'vmstate-deep-nesting',
    deepNestingCapture,
    'Structs nested 200 deep (refused past 64 levels: main.vmdesc-invalid at the description) and 100,000 levels of JSON arrays: re-encoding desc.json overflowed the stack; mfd extract now reports it and writes no desc.json.',
  ],
  [
    'vmstate-description-not-json',
    notJsonCapture,
    'A VM description that is not JSON: main.vmdesc names its offset; the device section cannot be delimited and the walk stops there.',
  ],
  [
    'vmstate-million-fields',
    millionFieldsCapture,
    'A description that unfolds to 10^6 fields over a 1 MB section body: the index delimits it without keeping a field (it once unfolded 10^6 copies and overflowed the stack spreading them; state.json took quadratic time appending array elements); decoding for display stops at 100,000 fields with a problem at that offset.',
  ],
];
