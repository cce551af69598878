import assert from 'node:assert/strict';
import { it } from 'node:test';
import { describePayloadFraming } from './payloadFraming';
import { page } from '../../../../test/support/multifdEncoder';
import { qatzipPayload, qplPayload, uadkPayload } from '../../../../test/support/hardwareCompression/pagePayloads';

const PS = 4096;
const pages = [page(PS, 1, 'pattern'), page(PS, 2), page(PS, 3, 'one-byte')];

it('qpl and uadk: each page with its size, its place in the payload and whether it travelled raw', () => {
  for (const [method, p] of [
    ['qpl', qplPayload(pages, PS)],
    ['uadk', uadkPayload(pages, PS, { hardware: true })],
  ] as const) {
    const f = describePayloadFraming(method, p.bytes, pages.length, PS)!;
    assert.equal(f.sizeArrayLength, 12);
    assert.deepEqual(
      f.pages!.map((x) => [x.size, x.raw]),
      p.sizes!.map((s) => [s, s === PS]),
    );
    assert.deepEqual(
      f.pages!.map((x) => x.start),
      [12, 12 + p.sizes![0], 12 + p.sizes![0] + p.sizes![1]],
    );
    assert.equal(f.problem, undefined);
  }
});

it('a size array that does not add up is described as far as it goes, with the problem named', () => {
  const p = qplPayload(pages, PS);
  const f = describePayloadFraming('qpl', p.bytes.subarray(0, p.bytes.length - 1), pages.length, PS)!;
  assert.equal(f.pages!.length, 3);
  assert.match(f.problem!, /the sizes add up to \d+ bytes but the payload \(next_packet_size\) is \d+/);
  assert.match(describePayloadFraming('uadk', new Uint8Array(5), 2, PS)!.problem!, /ends inside the 8-byte size array/);
});

it('qatzip: each member with the pages it holds; a cut member is named', () => {
  const many = Array.from({ length: 20 }, (_, i) => page(PS, i, 'pattern'));
  const p = qatzipPayload(many);
  const f = describePayloadFraming('qatzip', p.bytes, many.length, PS)!;
  assert.deepEqual(
    f.members!.map((m) => [m.firstSlot, m.lastSlot, m.srcSize]),
    [
      [0, 15, 65536],
      [16, 19, 16384],
    ],
  );
  assert.equal(f.members![1].start, f.members![0].length);
  assert.equal(f.problem, undefined);
  const cut = describePayloadFraming('qatzip', p.bytes.subarray(0, p.bytes.length - 3), many.length, PS)!;
  assert.match(cut.problem!, /^member 1 is cut short/);
  assert.equal(describePayloadFraming('zlib', p.bytes, 1, PS), undefined);
});
