import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { plural } from './plural';

describe('plural', () => {
  it('uses the singular for exactly one and the plural for zero and many, with thousands separators', () => {
    assert.equal(plural(1, 'page'), '1 page');
    assert.equal(plural(0, 'page'), '0 pages');
    assert.equal(plural(2, 'row'), '2 rows');
    assert.equal(plural(1234567, 'packet'), '1,234,567 packets');
  });
  it('takes an irregular plural', () => {
    assert.equal(plural(2, 'info message', 'info messages'), '2 info messages');
    assert.equal(plural(3, 'entry', 'entries'), '3 entries');
  });
});
