import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkMappedRamBlock, type MappedRamBlockFields } from './mappedRamChecks';

const OK: MappedRamBlockFields = {
  name: 'pc.ram',
  usedLength: 64 << 20,
  pageSize: 4096,
  bitmapOffset: 200,
  pagesOffset: 1 << 20,
  pagesFileOffset: 1 << 20,
  streamLength: 80 << 20,
  replayPageSize: 4096,
};
const problem = (f: Partial<MappedRamBlockFields>) => checkMappedRamBlock({ ...OK, ...f })?.message;

describe('MappedRamHeader checks', () => {
  it('accepts what QEMU writes', () => assert.equal(problem({}), undefined));
  it('refuses a page_size of 0, 2^40, or one that is no power of two', () => {
    assert.match(problem({ pageSize: 0 })!, /page_size 0 is not a power of two/);
    assert.match(
      problem({ pageSize: 2 ** 40 })!,
      /page_size 1099511627776 is not a power of two between 512 and 1 GiB/,
    );
    assert.match(problem({ pageSize: 3000 })!, /page_size 3000/);
  });
  it('refuses a page size other than the one replay uses', () =>
    assert.match(problem({ pageSize: 65536 })!, /differs from the page size in use \(4096/));
  it('refuses a page region that is not page aligned (QEMU does too)', () =>
    assert.match(problem({ pagesFileOffset: (1 << 20) + 1 })!, /not aligned/));
  it('refuses a bitmap offset past the end, or a bitmap that runs into the pages', () => {
    assert.match(problem({ bitmapOffset: 2 ** 52 })!, /runs past the end of the stream/);
    assert.match(problem({ bitmapOffset: (1 << 20) - 8 })!, /overlaps the page region/);
  });
  it('refuses a used_length whose bitmap would be absurd', () =>
    assert.match(problem({ usedLength: 2 ** 52, streamLength: 2 ** 53 })!, /over the \d+-byte limit/));
});
