import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDeviceDescriptions, DescriptionError } from './deviceDescriptions';
import { readDeviceState } from './readDeviceState';
import { fieldsAsStateJson, intText } from './stateJson';
import { memoryStream } from '../../../test/support/mainchannel/testStreams';

const device = (fields: unknown[], subsections: unknown[] = []) => ({
  devices: [{ name: 'dev', instance_id: 0, vmsd_name: 'dev', version: 1, fields, subsections }],
});

async function decode(desc: unknown, bytes: number[], start = 0) {
  const d = parseDeviceDescriptions(desc);
  const dev = d.byKey.get('dev\u00000');
  assert.ok(dev);
  return readDeviceState(memoryStream(Uint8Array.from(bytes), 7), start, dev);
}

describe('VMState through the VM description', () => {
  it('reads integers big-endian with their signedness ("int32 le" is "less or equal", big-endian too), "uint8/16 equal" unsigned', async () => {
    const r = await decode(
      device([
        { name: 'a', type: 'int32', size: 4 },
        { name: 'b', type: 'uint16', size: 2 },
        { name: 'c', type: 'int32 le', size: 4 },
        { name: 'd', type: 'uint8 equal', size: 1 },
        { name: 'e', type: 'uint16 equal', size: 2 },
        { name: 'f', type: 'int8', size: 1 },
        { name: 'g', type: 'uint64', size: 8 },
      ]),
      [
        0xff, 0xff, 0xff, 0xfe, 0x80, 0x01, 0x00, 0x00, 0x00, 0x02, 0xc8, 0xff, 0xfe, 0x80, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff,
      ],
    );
    assert.equal(r.problem, undefined);
    assert.deepEqual(
      r.fields.map((f) => f.value),
      [-2, 0x8001, 2, 200, 0xfffe, -128, 0xffffffffffffffffn],
    );
    assert.equal(r.end, 22);
    assert.deepEqual(fieldsAsStateJson(r.fields), {
      a: '0xfffffffe (-2)',
      b: '0x8001',
      c: '0x00000002',
      d: '0xc8',
      e: '0xfffe',
      f: '0x80 (-128)',
      g: '0xffffffffffffffff',
    });
  });

  it('unfolds array_len into one list, reads structs recursively, bool, nullptr and raw bytes of other types', async () => {
    const r = await decode(
      device([
        { name: 'regs', type: 'uint8', size: 1, array_len: 3 },
        {
          name: 's',
          type: 'struct',
          size: 3,
          struct: {
            vmsd_name: 'inner',
            version: 1,
            fields: [
              { name: 'x', type: 'bool', size: 1 },
              { name: 'y', type: 'buffer', size: 2 },
            ],
          },
        },
        { name: 'p', type: 'nullptr', size: 1 },
        { name: 't', type: 'timer', size: 0 },
      ]),
      [1, 2, 3, 1, 0xab, 0xcd, 0x30],
    );
    assert.equal(r.problem, undefined);
    assert.deepEqual(fieldsAsStateJson(r.fields), {
      regs: ['0x01', '0x02', '0x03'],
      s: { x: true, y: 'ab cd' },
      p: 'nullptr',
      t: '',
    });
    assert.deepEqual(r.fields[3], { name: 's', type: 'struct', offset: 3, length: 3, children: r.fields[3].children });
  });

  it('reads subsections after the fields, by name and version; a missing marker is a problem at its offset', async () => {
    const desc = device(
      [{ name: 'a', type: 'uint8', size: 1 }],
      [{ vmsd_name: 'dev/sub', version: 2, fields: [{ name: 'z', type: 'uint16', size: 2 }] }],
    );
    const name = [...Buffer.from('dev/sub')];
    const ok = await decode(desc, [9, 0x05, name.length, ...name, 0, 0, 0, 2, 0x12, 0x34]);
    assert.equal(ok.problem, undefined);
    assert.deepEqual(fieldsAsStateJson(ok.fields), { a: '0x09', 'dev/sub': { z: '0x1234' } });
    assert.equal(ok.fields[1].version, 2);
    const bad = await decode(desc, [9, 0x7e, 0, 0, 0, 1]);
    assert.deepEqual(bad.problem, {
      offset: 1,
      message: 'subsection "dev/sub" of "dev" expected at 1 (0x05), found 0x7e',
    });
  });

  it('a description that runs past the stream ends with a problem, not a guess', async () => {
    const r = await decode(
      device([
        { name: 'a', type: 'uint32', size: 4 },
        { name: 'b', type: 'buffer', size: 100 },
      ]),
      [0, 0, 0, 1, 5],
    );
    assert.equal(r.fields.length, 1);
    assert.match(r.problem?.message ?? '', /runs past the end of the stream/);
    assert.equal(r.problem?.offset, 4);
  });

  it('a capability field is a u8 length and its name; length bytes of 128 and more are unsigned', async () => {
    const long = 'x'.repeat(200);
    const r = await decode(device([{ name: 'capabilities', type: 'capability', size: 0 }]), [
      200,
      ...Buffer.from(long),
    ]);
    assert.equal(r.fields[0].value, long);
  });

  it('refuses descriptions that lie: not JSON objects, negative sizes, huge arrays, deep nesting', () => {
    assert.throws(() => parseDeviceDescriptions([]), DescriptionError);
    assert.throws(
      () => parseDeviceDescriptions(device([{ name: 'a', type: 'uint8', size: -1 }])),
      /size is not a non-negative integer/,
    );
    assert.throws(
      () => parseDeviceDescriptions(device([{ name: 'a', type: 'uint8', size: 1, array_len: 2 ** 30 }])),
      /array_len/,
    );
    let s: unknown = { vmsd_name: 'leaf', version: 1, fields: [] };
    for (let i = 0; i < 100; i++)
      s = { vmsd_name: `n${i}`, version: 1, fields: [{ name: 'f', type: 'struct', size: 0, struct: s }] };
    assert.throws(
      () => parseDeviceDescriptions({ devices: [{ name: 'dev', instance_id: 0, ...(s as object) }] }),
      /nested deeper/,
    );
    const many = Array.from({ length: 3000 }, (_, i) => ({ name: `f${i}`, type: 'uint8', size: 1, array_len: 1000 }));
    assert.throws(() => parseDeviceDescriptions(device(many)), /more than 2000000 fields/);
  });

  it('formats integers as analyze-migration.py does: zero-padded to their size, negatives with the signed value', () => {
    assert.equal(intText(5, 4), '0x00000005');
    assert.equal(intText(-1, 1), '0xff (-1)');
    assert.equal(intText(-(2n ** 63n), 8), '0x8000000000000000 (-9223372036854775808)');
  });
});
