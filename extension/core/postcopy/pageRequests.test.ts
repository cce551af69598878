import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { latencyFigures, matchPageRequests, type PageArrival, type PageRequestInput } from './pageRequests';
import { pageRequestsLine } from './pageRequestsText';

const PAGE = 4096;
const ms = 1e6;

function arrival(offset: number, timeMs: number, via: PageArrival['via'] = 'main', ramblock = 'mem'): PageArrival {
  return { ramblock, offset, timeNs: timeMs * ms, streamId: via === 'main' ? 0 : 3, via, record: offset / PAGE };
}
function request(start: number, timeMs: number, length = PAGE, ramblock = 'mem'): PageRequestInput {
  return { offset: 0, timeNs: timeMs * ms, ramblock, start: BigInt(start), length };
}

describe('postcopy page requests', () => {
  it('takes the first arrival after the request, on whichever stream brought it, and its latency', () => {
    const r = matchPageRequests(
      [request(0x5000, 10), request(0x9000, 12)],
      [arrival(0x5000, 15, 'main'), arrival(0x9000, 13.5, 'preempt'), arrival(0x9000, 20, 'main')],
      PAGE,
      true,
    );
    assert.deepEqual(
      r.requests.map((q) => q.pages.map((p) => [p.status, p.via, p.streamId, p.latencyMs])),
      [[['answered', 'main', 0, 5]], [['answered', 'preempt', 3, 1.5]]],
    );
    assert.equal(r.summary.answered, 2);
    assert.deepEqual(r.summary.answeredVia, { main: 1, preempt: 1 });
    assert.deepEqual(r.summary.latency, { minMs: 1.5, medianMs: 3.25, p95Ms: 5, maxMs: 5 });
  });

  it('names a page that came only before its request, and one that never came', () => {
    const r = matchPageRequests(
      [request(0x1000, 50), request(0x2000, 50)],
      [arrival(0x1000, 49), arrival(0x3000, 60)],
      PAGE,
      true,
    );
    assert.deepEqual(
      r.requests.map((q) => q.pages[0].status),
      ['before-request', 'unanswered'],
    );
    assert.equal(r.requests[0].pages[0].arrivalNs, 49 * ms);
    assert.equal(r.requests[0].pages[0].latencyMs, undefined);
    assert.deepEqual(
      [r.summary.answered, r.summary.beforeRequest, r.summary.unanswered, r.summary.latency],
      [0, 1, 1, undefined],
    );
    assert.match(
      pageRequestsLine(r),
      /0 answered .* 1 already on their way when requested, 1 never answered; no latency \(no page answered\)/,
    );
  });

  it('splits a request over its pages and matches each page in its own ramblock', () => {
    const r = matchPageRequests(
      [request(0x10000, 1, 3 * PAGE, 'pc.ram')],
      [
        arrival(0x10000, 2, 'main', 'pc.ram'),
        arrival(0x11000, 3, 'main', 'other'),
        arrival(0x12000, 4, 'preempt', 'pc.ram'),
      ],
      PAGE,
      true,
    );
    assert.deepEqual(
      r.requests[0].pages.map((p) => [p.offset, p.status, p.latencyMs]),
      [
        [0x10000, 'answered', 1],
        [0x11000, 'unanswered', undefined],
        [0x12000, 'answered', 3],
      ],
    );
    assert.equal(r.summary.pagesRequested, 3);
    assert.equal(r.summary.requests, 1);
  });

  it('a capture without times orders nothing: pages that came are untimed, without latency', () => {
    const r = matchPageRequests([request(0x1000, 0), request(0x2000, 0)], [arrival(0x1000, 0)], PAGE, false);
    assert.deepEqual(
      r.requests.map((q) => [q.timeNs, q.pages[0].status]),
      [
        [undefined, 'untimed'],
        [undefined, 'unanswered'],
      ],
    );
    assert.equal(r.summary.latency, undefined);
    assert.match(pageRequestsLine(r), /no latency \(the capture has no times\)/);
  });

  it('latency figures: median of an even and an odd count, p95 by nearest rank', () => {
    const twenty = Array.from({ length: 20 }, (_, i) => 20 - i);
    assert.deepEqual(latencyFigures(twenty), { minMs: 1, medianMs: 10.5, p95Ms: 19, maxMs: 20 });
    assert.deepEqual(latencyFigures([3, 1, 2]), { minMs: 1, medianMs: 2, p95Ms: 3, maxMs: 3 });
    assert.deepEqual(latencyFigures([7]), { minMs: 7, medianMs: 7, p95Ms: 7, maxMs: 7 });
  });
});
