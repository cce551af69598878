/**
 * Postcopy page requests and their latency. After the switch the destination's guest runs; each page it touches
 * before the source's background push brought it is a fault, and the destination asks for it on the return path
 * (REQ_PAGES, or REQ_PAGES_ID naming the ramblock). The source queues the request ahead of the background push
 * and sends the page on the main channel, or on the preempt channel when postcopy-preempt is on.
 *
 * A requested page's latency is measured between two capture times: when the request's bytes were read from the
 * destination and when the last byte of the first postcopy record carrying the page, sent after the request, was
 * read from the source. Both come from the same clock (the recorder's, or the pcap's), so the figure is the round
 * trip the source took to answer, as seen from between the two QEMUs.
 */

/** Which stream brought a page after the switch. */
export type ArrivalVia = 'main' | 'preempt';

/** One postcopy page arriving at the destination: a RAM record sent after the switch. */
export interface PageArrival {
  ramblock: string;
  /** Byte offset of the page in its ramblock. */
  offset: number;
  /** Capture time (ns from the capture's start) of the record's last byte. */
  timeNs: number;
  streamId: number;
  via: ArrivalVia;
  /** Index of the record in its stream's record list. */
  record: number;
}

/** A page request as the return path gives it (REQ_PAGES uses the ramblock the last REQ_PAGES_ID named). */
export interface PageRequestInput {
  /** Stream offset of the message in the destination → source direction. */
  offset: number;
  timeNs?: number;
  ramblock: string;
  start: bigint | number;
  length: number;
}

/**
 * What became of one requested page:
 * - `answered`: a postcopy record carried it after the request (latency measured);
 * - `before-request`: it came only before the request, so it was on its way when the destination asked (QEMU's
 *   source skips a request for a page it already sent);
 * - `unanswered`: no postcopy record carried it;
 * - `untimed`: the capture has no times (a raw dump), so arrival and request cannot be ordered.
 */
export type RequestedPageStatus = 'answered' | 'before-request' | 'unanswered' | 'untimed';

export interface RequestedPage {
  /** Byte offset in the ramblock. */
  offset: number;
  status: RequestedPageStatus;
  arrivalNs?: number;
  latencyMs?: number;
  streamId?: number;
  via?: ArrivalVia;
  record?: number;
}

export interface PageRequest {
  /** Stream offset of the REQ_PAGES / REQ_PAGES_ID message on the return path. */
  returnPathOffset: number;
  timeNs?: number;
  ramblock: string;
  /** Byte offset and length the message asks for. */
  start: number;
  length: number;
  pages: RequestedPage[];
}

export interface LatencyFigures {
  minMs: number;
  medianMs: number;
  /** Nearest-rank 95th percentile. */
  p95Ms: number;
  maxMs: number;
}

export interface PageRequestSummary {
  requests: number;
  pagesRequested: number;
  answered: number;
  /** Pages that arrived only before they were requested (in flight when asked). */
  beforeRequest: number;
  unanswered: number;
  /** Over answered pages; absent when none was answered or the capture has no times. */
  latency?: LatencyFigures;
  /** Answered pages by the stream that brought them. */
  answeredVia: Record<ArrivalVia, number>;
}

export interface PageRequestsReport {
  summary: PageRequestSummary;
  requests: PageRequest[];
  /** False for a capture without times: statuses are then `untimed` and there are no latencies. */
  timed: boolean;
}

/** Matches every requested page to its arrival. Arrivals may come in any order and from several streams. */
export function matchPageRequests(
  requests: readonly PageRequestInput[],
  arrivals: readonly PageArrival[],
  pageSize: number,
  timed: boolean,
): PageRequestsReport {
  const byPage = new Map<string, PageArrival[]>();
  for (const a of arrivals) {
    const key = pageKey(a.ramblock, a.offset);
    const list = byPage.get(key);
    if (list) list.push(a);
    else byPage.set(key, [a]);
  }
  // Time order; on a tie the main channel first, then stream and record order, so the choice is stable.
  for (const list of byPage.values())
    list.sort((x, y) => x.timeNs - y.timeNs || x.streamId - y.streamId || x.record - y.record);

  const out: PageRequest[] = [];
  for (const r of requests) {
    const start = Number(r.start);
    const first = Math.floor(start / pageSize) * pageSize;
    const pages: RequestedPage[] = [];
    for (let p = first; p < start + Math.max(r.length, 1); p += pageSize) {
      const list = byPage.get(pageKey(r.ramblock, p));
      pages.push(pageOutcome(p, list, timed ? r.timeNs : undefined, timed));
    }
    out.push({
      returnPathOffset: r.offset,
      timeNs: timed ? r.timeNs : undefined,
      ramblock: r.ramblock,
      start,
      length: r.length,
      pages,
    });
  }
  return { summary: summarize(out), requests: out, timed };
}

function pageOutcome(
  offset: number,
  list: PageArrival[] | undefined,
  requestNs: number | undefined,
  timed: boolean,
): RequestedPage {
  if (!list || list.length === 0) return { offset, status: 'unanswered' };
  if (!timed || requestNs === undefined) return { offset, status: 'untimed' };
  const i = firstAtOrAfter(list, requestNs);
  if (i >= list.length) {
    const last = list[list.length - 1];
    return {
      offset,
      status: 'before-request',
      arrivalNs: last.timeNs,
      streamId: last.streamId,
      via: last.via,
      record: last.record,
    };
  }
  const a = list[i];
  return {
    offset,
    status: 'answered',
    arrivalNs: a.timeNs,
    latencyMs: (a.timeNs - requestNs) / 1e6,
    streamId: a.streamId,
    via: a.via,
    record: a.record,
  };
}

/** First index whose time is at or after t (the list is in time order). */
function firstAtOrAfter(list: PageArrival[], t: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].timeNs < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function summarize(requests: PageRequest[]): PageRequestSummary {
  const latencies: number[] = [];
  const s: PageRequestSummary = {
    requests: requests.length,
    pagesRequested: 0,
    answered: 0,
    beforeRequest: 0,
    unanswered: 0,
    answeredVia: { main: 0, preempt: 0 },
  };
  for (const r of requests)
    for (const p of r.pages) {
      s.pagesRequested++;
      if (p.status === 'answered') {
        s.answered++;
        s.answeredVia[p.via!]++;
        latencies.push(p.latencyMs!);
      } else if (p.status === 'before-request') s.beforeRequest++;
      else if (p.status === 'unanswered') s.unanswered++;
    }
  if (latencies.length) s.latency = latencyFigures(latencies);
  return s;
}

/** min, median, nearest-rank p95 and max of a non-empty list. */
export function latencyFigures(values: number[]): LatencyFigures {
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  const median = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return { minMs: v[0], medianMs: median, p95Ms: v[Math.ceil(0.95 * n) - 1], maxMs: v[n - 1] };
}

function pageKey(ramblock: string, offset: number): string {
  return `${ramblock}\u0000${offset}`;
}
