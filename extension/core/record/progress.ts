import type { RecorderStats } from './recorder';

/** One status line for a terminal: bytes per stream in each direction, and the capture size. */

export function formatSize(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)}G`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)}M`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)}K`;
  return `${n}B`;
}

export function progressLine(s: RecorderStats, width = 120): string {
  const streams = s.streams.map((t) => {
    const mark = t.state === 'closed' ? (t.closeReason === 'eof' ? ' ✓' : ' ✗') : t.state === 'connecting' ? ' …' : '';
    return `#${t.id} ${formatSize(t.toDestination)}→${t.toSource ? ` ${formatSize(t.toSource)}←` : ''}${mark}`;
  });
  const head = `capture ${formatSize(s.fileBytes)}${s.pendingBytes > 1 << 20 ? ` (+${formatSize(s.pendingBytes)} queued)` : ''}`;
  const line = [head, ...(streams.length ? streams : ['waiting for connections'])].join('  ');
  return line.length > width ? line.slice(0, width - 1) + '…' : line;
}
