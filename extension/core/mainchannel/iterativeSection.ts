import type { DiagnosticCode } from '../diagnostics/codes';
import { readField, type StructLayout } from '../layout/fieldLayout';
import type { Severity } from '../diagnostics/diagnostic';
import { DIRTY_BITMAP_SECTION_IDSTR } from './dirtyBitmapLayouts';
import { isVfioIdstr } from './vfioLayouts';

/**
 * What the readers of iterative sections other than RAM share: a section body read to its end as a list of
 * markers (a dirty-bitmap chunk, a VFIO marker), each with its byte range and its fields, and the problems met.
 */

export type IterativeReaderKind = 'dirty-bitmap' | 'vfio';

/** Which reader knows the body of a section of this idstr (undefined: none). */
export function iterativeReaderOf(idstr: string): IterativeReaderKind | undefined {
  if (idstr === DIRTY_BITMAP_SECTION_IDSTR) return 'dirty-bitmap';
  return isVfioIdstr(idstr) ? 'vfio' : undefined;
}

export interface IterativeMarker {
  /** QEMU's name for it: a chunk's flags (START, BITS|ZEROES, COMPLETE, EOS) or a VFIO_MIG_FLAG_* marker. */
  name: string;
  /** Stream offsets [offset, end): the marker with what it carries (a chunk's bitmap, a DEV_DATA_STATE's data). */
  offset: number;
  end: number;
  /** The decoded fields of its layout, by QEMU's names (node_alias, bitmap_alias, granularity, data_size, …). */
  fields: Record<string, number | string>;
}

/** How many markers a section keeps for display; the rest are counted. */
export const MAX_MARKERS_KEPT = 256;
/** More markers than any real section sends (a 512 TiB disk's bitmap, 4 TiB of VFIO state in 1 MiB buffers). */
export const MAX_MARKERS_READ = 4_000_000;

export interface IterativeBody {
  reader: IterativeReaderKind;
  markers: IterativeMarker[];
  markerCount: number;
}

export interface IterativeProblem {
  code: DiagnosticCode;
  message: string;
  offset: number;
  severity?: Severity;
}

export interface IterativeOutcome {
  body: IterativeBody;
  /** Where the body ends (the footer, when the stream has footers, follows); undefined: the walk stops. */
  end?: number;
  problems: IterativeProblem[];
  /** Why the walk stops, when it does, and where. */
  stopReason?: string;
  stopAt?: number;
}

export function newBody(reader: IterativeReaderKind): IterativeBody {
  return { reader, markers: [], markerCount: 0 };
}

export function addMarker(body: IterativeBody, m: IterativeMarker): void {
  body.markerCount++;
  if (body.markers.length < MAX_MARKERS_KEPT) body.markers.push(m);
}

/** The values of a layout's fields whose bytes `head` holds, by name (what decodeFields gives, without display text). */
export function layoutValues(layout: StructLayout, head: Uint8Array): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const f of layout.fields) if (f.offset + f.width <= head.length) out[f.name] = readField(f, head);
  return out;
}

/** Whether a marker is still kept for display (the rest are only counted, so their fields need not be built). */
export function keepsMore(body: IterativeBody): boolean {
  return body.markers.length < MAX_MARKERS_KEPT;
}
