import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePacketQuery, parsePageQuery } from './queryParsers';

test('query parsers', () => {
  assert.deepEqual(parsePageQuery('0x1f000'), { offset: 0x1f000 });
  assert.deepEqual(parsePageQuery('126976'), { offset: 126976 });
  assert.deepEqual(parsePageQuery('pc.ram:0x1f000'), { offset: 0x1f000, block: 'pc.ram' });
  assert.deepEqual(parsePageQuery('0x1f000 pc.ram'), { offset: 0x1f000, block: 'pc.ram' });
  assert.ok('error' in parsePageQuery('zzz'));
  assert.deepEqual(parsePacketQuery('3:12'), { ref: { stream: 3, index: 12 } });
  assert.deepEqual(parsePacketQuery('stream 3 packet 12'), { ref: { stream: 3, index: 12 } });
  assert.deepEqual(parsePacketQuery('#45'), { packetNum: 45 });
  assert.deepEqual(parsePacketQuery('12'), { viewIndex: 12 });
  assert.ok('error' in parsePacketQuery('foo'));
});
