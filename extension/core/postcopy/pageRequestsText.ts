import type { LatencyFigures, PageRequestsReport } from './pageRequests';

/** One line for `mfd inspect`: how many pages the destination asked for, what answered them, and how fast. */
export function pageRequestsLine(r: PageRequestsReport): string {
  const s = r.summary;
  const parts = [
    `postcopy: ${s.requests} page request(s) for ${s.pagesRequested} page(s)`,
    `${s.answered} answered (${s.answeredVia.main} on the main channel, ${s.answeredVia.preempt} on the preempt channel)`,
  ];
  if (s.beforeRequest) parts.push(`${s.beforeRequest} already on their way when requested`);
  parts.push(`${s.unanswered} never answered`);
  const latency = s.latency
    ? `latency ${latencyText(s.latency)}`
    : r.timed
      ? 'no latency (no page answered)'
      : 'no latency (the capture has no times)';
  return `${parts.join(', ')}; ${latency}`;
}

export function latencyText(l: LatencyFigures): string {
  return `min ${ms(l.minMs)}, median ${ms(l.medianMs)}, p95 ${ms(l.p95Ms)}, max ${ms(l.maxMs)}`;
}

function ms(v: number): string {
  return `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
}
