import type { Capture } from './capture/capture';
import type { DiagnosticSink } from './diagnostics/diagnostic';

/**
 * The one check every page size given from outside passes, whether typed (`--page-size`) or read from a
 * capture's META: a power of two in the range of target pages any QEMU build can have, with room either
 * side. Anything else would size buffers and images from a number no migration carries.
 */
export const MIN_PAGE_SIZE = 512;
export const MAX_PAGE_SIZE = 1 << 20;

/** undefined when `n` is acceptable, else what was expected (to follow "pageSize N: "). */
export function pageSizeProblem(n: unknown): string | undefined {
  const ok =
    typeof n === 'number' && Number.isInteger(n) && n >= MIN_PAGE_SIZE && n <= MAX_PAGE_SIZE && (n & (n - 1)) === 0;
  return ok ? undefined : `a power of two between ${MIN_PAGE_SIZE} and ${MAX_PAGE_SIZE} expected`;
}

/** META's pageSize when it passes the check; otherwise an error naming the META record, and undefined. */
export function metaPageSize(capture: Capture, sink: DiagnosticSink): number | undefined {
  if (!('pageSize' in capture.meta)) return undefined;
  const v = capture.meta.pageSize;
  const problem = pageSizeProblem(v);
  if (!problem) return v as number;
  const fileOffset = capture.metaRecordOffsets?.pageSize;
  const where = fileOffset === undefined ? 'META' : `META record at file offset ${fileOffset}`;
  sink.report(
    'capture.bad-page-size',
    `${where}: pageSize ${JSON.stringify(v)} is not ${problem.replace(/ expected$/, '')}; ignored`,
    fileOffset === undefined ? {} : { fileOffset },
  );
  return undefined;
}
