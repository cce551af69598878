import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readCommandAt } from './commandArguments';
import { memoryStream } from '../../../test/support/mainchannel/testStreams';
import { MainStreamEncoder } from '../../../test/support/mainchannel/mainStreamEncoder';
import { pythonJson } from '../vmstate/pythonJson';

const at0 = (cmd: number, data: number[] = []) =>
  readCommandAt(memoryStream(new MainStreamEncoder().command(cmd, data).bytes(), 5), 0);

describe('command arguments', () => {
  it('decodes PING, POSTCOPY_ADVISE, PACKAGED, RECV_BITMAP and POSTCOPY_RAM_DISCARD as QEMU sends them', async () => {
    assert.deepEqual((await at0(2, [0, 0, 1, 0])).arguments, { value: 256 });
    assert.deepEqual((await at0(3, [0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x10, 0])).arguments, {
      hostPageSizes: 4096n,
      targetPageSize: 4096n,
    });
    assert.deepEqual((await at0(3)).arguments, {});
    const p = await at0(7, [0xff, 0xff, 0xff, 0xff]);
    assert.deepEqual([p.arguments, p.end], [{ packageLength: 0xffffffff }, 9]);
    assert.deepEqual((await at0(10, [2, 0x61, 0x62])).arguments, { ramblock: 'ab' });
    const d = await at0(6, [0, 1, 0x6d, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x30, 0]);
    assert.deepEqual(d.arguments, { version: 0, ramblock: 'm', ranges: [{ start: 4096n, length: 12288n }] });
    assert.equal(d.problem, undefined);
  });

  it('a length that does not fit the command is a problem at the command, never a throw', async () => {
    assert.match((await at0(2, [1, 2])).problem?.message ?? '', /PING: length 2; QEMU sends a be32 value/);
    assert.match(
      (await at0(10, [9, 0x61])).problem?.message ?? '',
      /RECV_BITMAP: length 2 does not fit its ramblock name of 9/,
    );
    assert.match(
      (await at0(6, [0, 200, 1])).problem?.message ?? '',
      /POSTCOPY_RAM_DISCARD: length 3 is not 3 \+ a 200-byte ramblock name/,
    );
    // The layout of a 70-byte command QEMU 10.0 sent ("pc.ram" would not fit; a 19-byte name and three ranges do).
    const seventy = await at0(6, [0, 19, ...Array<number>(19).fill(0x61), 0, ...Array<number>(48).fill(0)]);
    assert.deepEqual(
      [seventy.length, seventy.problem, (seventy.arguments.ranges as unknown[]).length],
      [70, undefined, 3],
    );
    assert.match(
      (await at0(6, [0, 1, 0x6d, 7, ...Array<number>(16).fill(0)])).problem?.message ?? '',
      /byte 3 after the ramblock name is 7; QEMU wants a nil/,
    );
    assert.match((await at0(5, [1])).problem?.message ?? '', /POSTCOPY_RUN: length 1; QEMU sends no bytes/);
    const cut = await readCommandAt(memoryStream(Uint8Array.from([8, 0, 2, 0, 4, 0]), 5), 0);
    assert.deepEqual(cut.problem, { offset: 0, message: 'PING declares 4 byte(s); the stream ends after 1' });
    const none = await readCommandAt(memoryStream(Uint8Array.from([1, 2]), 5), 0);
    assert.match(none.problem?.message ?? '', /no QEMU_VM_COMMAND record at stream offset 0/);
  });

  it("writes JSON as Python's json.dumps(indent=4) with ensure_ascii does", () => {
    assert.equal(
      pythonJson({ a: [1, 'é'], b: {}, c: [] }),
      '{\n    "a": [\n        1,\n        "\\u00e9"\n    ],\n    "b": {},\n    "c": []\n}',
    );
  });
});
