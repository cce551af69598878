import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readReturnPath } from './returnPath';
import { memoryStream } from '../../../test/support/mainchannel/testStreams';

function msg(type: number, body: number[]): number[] {
  return [type >> 8, type & 0xff, body.length >> 8, body.length & 0xff, ...body];
}
const be32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const be64 = (n: number) => [...be32(Math.floor(n / 2 ** 32)), ...be32(n >>> 0)];
const named = (s: string) => [s.length, ...Buffer.from(s)];

describe('return path', () => {
  it('decodes PONG, REQ_PAGES_ID, REQ_PAGES (with the block last named), SWITCHOVER_ACK and SHUT', async () => {
    const bytes = [
      ...msg(2, be32(3)),
      ...msg(3, [...be64(0x1f000), ...be32(4096), ...named('pc.ram')]),
      ...msg(4, [...be64(0x20000), ...be32(8192)]),
      ...msg(7, []),
      ...msg(1, be32(0)),
    ];
    const rp = await readReturnPath(memoryStream(Uint8Array.from(bytes), 3));
    assert.deepEqual(rp.problems, []);
    assert.deepEqual(
      rp.messages.map((m) => m.name),
      ['PONG', 'REQ_PAGES_ID', 'REQ_PAGES', 'SWITCHOVER_ACK', 'SHUT'],
    );
    assert.deepEqual(rp.messages[0].fields, { value: 3 });
    assert.deepEqual(
      rp.pageRequests.map((r) => [r.ramblock, r.start, r.length]),
      [
        ['pc.ram', 0x1f000n, 4096],
        ['pc.ram', 0x20000n, 8192],
      ],
    );
    assert.equal(rp.messages[2].offset, 8 + 4 + 12 + 7);
  });

  it('reads the received bitmap that follows RECV_BITMAP unframed, and checks its end mark', async () => {
    const bitmap = [0xff, 0, 0, 0, 0, 0, 0, 0];
    const good = [
      ...msg(5, named('pc.ram')),
      ...be64(8),
      ...bitmap,
      0x01,
      0x23,
      0x45,
      0x67,
      0x89,
      0xab,
      0xcd,
      0xef,
      ...msg(6, be32(1)),
    ];
    const rp = await readReturnPath(memoryStream(Uint8Array.from(good)));
    assert.deepEqual(rp.problems, []);
    assert.deepEqual(
      rp.messages.map((m) => m.name),
      ['RECV_BITMAP', 'RESUME_ACK'],
    );
    assert.equal(rp.messages[0].fields.bitmapBytes, 8);
    const bad = [...msg(5, named('pc.ram')), ...be64(8), ...bitmap, 0, 0, 0, 0, 0, 0, 0, 0];
    const r2 = await readReturnPath(memoryStream(Uint8Array.from(bad)));
    assert.equal(r2.problems.length, 1);
    assert.equal(r2.problems[0].offset, 4 + 7 + 8 + 8);
    assert.match(r2.problems[0].message, /does not end with the mark/);
  });

  it('stops at an unknown type, a wrong length, or a cut message, naming the offset', async () => {
    const unknown = await readReturnPath(memoryStream(Uint8Array.from([...msg(2, be32(1)), ...msg(99, [])])));
    assert.deepEqual(
      unknown.problems.map((p) => p.offset),
      [8],
    );
    assert.match(unknown.problems[0].message, /unknown return-path message type 99/);
    const wrongLength = await readReturnPath(memoryStream(Uint8Array.from(msg(2, [1, 2]))));
    assert.match(wrongLength.problems[0].message, /PONG with a 2-byte body; QEMU's source expects 4/);
    const cut = await readReturnPath(memoryStream(Uint8Array.from(msg(2, be32(1)).slice(0, 6))));
    assert.match(cut.problems[0].message, /ends inside PONG \(2 of 4 body bytes\)/);
  });
});
