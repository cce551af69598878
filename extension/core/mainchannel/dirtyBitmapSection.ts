import type { ReadAhead } from '../capture/readAhead';
import {
  DIRTY_BITMAP_CHUNK_HEAD_MAX,
  DIRTY_BITMAP_MAX_BUFFER,
  DIRTY_BITMAP_MIG_FLAG_BITMAP_NAME,
  DIRTY_BITMAP_MIG_FLAG_DEVICE_NAME,
  DIRTY_BITMAP_MIG_FLAG_EOS,
  DIRTY_BITMAP_MIG_FLAG_ZEROES,
  DIRTY_BITMAP_MIG_START_FLAG_RESERVED_MASK,
  dirtyBitmapChunkKind,
  dirtyBitmapChunkLayout,
  dirtyBitmapEffectiveFlags,
  dirtyBitmapFlagsWidth,
} from './dirtyBitmapLayouts';
import {
  addMarker,
  keepsMore,
  layoutValues,
  MAX_MARKERS_READ,
  newBody,
  type IterativeOutcome,
} from './iterativeSection';

/**
 * Reads a `dirty-bitmap` section body chunk by chunk, as dirty_bitmap_load does, to the chunk with EOS. The
 * node and bitmap names a chunk leaves out are those of the chunk before, in this section or an earlier one
 * (the destination keeps them in its DBMLoadState), so the caller keeps `names` across the sections.
 */

export interface DirtyBitmapNames {
  node?: string;
  bitmap?: string;
}

export async function readDirtyBitmapBody(
  ahead: ReadAhead,
  at: number,
  length: number,
  names: DirtyBitmapNames,
  label: string,
): Promise<IterativeOutcome> {
  const body = newBody('dirty-bitmap');
  const problems: IterativeOutcome['problems'] = [];
  const stop = (offset: number, message: string, reason: string, truncated = false): IterativeOutcome => {
    problems.push({
      code: truncated ? 'main.truncated' : 'main.dirty-bitmap',
      message: `${label}: ${message}`,
      offset,
    });
    return { body, problems, stopReason: reason, stopAt: offset };
  };
  let pos = at;
  for (let k = 0; ; k++) {
    if (k >= MAX_MARKERS_READ)
      return stop(pos, `more than ${MAX_MARKERS_READ} chunks without EOS; decoding stops`, 'too many chunks');
    const head = await ahead.bytes(pos, DIRTY_BITMAP_CHUNK_HEAD_MAX);
    const layout = dirtyBitmapChunkLayout(head);
    if (head.length < layout.fixedSize)
      return stop(
        pos,
        `the main channel ends (at ${length}) inside chunk ${k}, whose header needs ${layout.fixedSize} bytes`,
        'truncated',
        true,
      );
    const fields = layoutValues(layout, head);
    const width = dirtyBitmapFlagsWidth(head);
    const flags = dirtyBitmapEffectiveFlags(head);
    if (width > 1)
      problems.push({
        code: 'main.dirty-bitmap',
        message: `${label}: chunk ${k} has ${width} flags bytes (EXTRA_FLAGS); QEMU's sender writes one, and qemu_get_bitmap_flags keeps only the last (0x${flags.toString(16)})`,
        offset: pos,
        severity: 'warning',
      });
    if (flags & DIRTY_BITMAP_MIG_FLAG_DEVICE_NAME) names.node = String(fields.node_alias ?? '');
    if (flags & DIRTY_BITMAP_MIG_FLAG_BITMAP_NAME) names.bitmap = String(fields.bitmap_alias ?? '');
    const kind = dirtyBitmapChunkKind(flags);
    if (kind !== 'EOS' && kind !== 'NONE' && (names.node === undefined || names.bitmap === undefined))
      problems.push({
        code: 'main.dirty-bitmap',
        message: `${label}: chunk ${k} (${kind}) names no ${names.node === undefined ? 'node' : 'bitmap'} and no chunk before it did: the destination reports "block device name is not set" and drops the bitmaps`,
        offset: pos,
        severity: 'warning',
      });
    let end = pos + layout.fixedSize;
    if (kind === 'START') {
      const startFlags = Number(fields.bitmap_flags);
      if (startFlags & DIRTY_BITMAP_MIG_START_FLAG_RESERVED_MASK)
        problems.push({
          code: 'main.dirty-bitmap',
          message: `${label}: chunk ${k} (START) has bitmap flags 0x${startFlags.toString(16)} with reserved bits (0xf8): the destination fails ("Unknown flags in migrated dirty bitmap header")`,
          offset: pos + layout.fixedSize - 1,
        });
    } else if (kind === 'BITS' && !(flags & DIRTY_BITMAP_MIG_FLAG_ZEROES)) {
      const size = Number(fields.buf_size);
      if (size > DIRTY_BITMAP_MAX_BUFFER)
        return stop(
          pos + layout.fixedSize - 8,
          `chunk ${k} (BITS) declares a ${size}-byte buffer; dirty_bitmap_load_bits refuses more than ${DIRTY_BITMAP_MAX_BUFFER} ("buffer allocation request is too large"); decoding stops`,
          'dirty-bitmap buffer too large',
        );
      end += size;
      if (end > length)
        return stop(
          pos,
          `the main channel ends (at ${length}) inside the ${size}-byte bitmap buffer of chunk ${k}`,
          'truncated',
          true,
        );
    }
    const name =
      kind === 'NONE'
        ? 'no flags'
        : kind +
          (kind === 'BITS' && flags & DIRTY_BITMAP_MIG_FLAG_ZEROES ? '|ZEROES' : '') +
          (kind !== 'EOS' && flags & DIRTY_BITMAP_MIG_FLAG_EOS ? '|EOS' : '');
    if (!keepsMore(body)) body.markerCount++;
    else
      addMarker(body, {
        name,
        offset: pos,
        end,
        fields: {
          ...fields,
          ...(kind !== 'EOS' && names.node !== undefined ? { node: names.node } : {}),
          ...(kind !== 'EOS' && names.bitmap !== undefined ? { bitmap: names.bitmap } : {}),
        },
      });
    pos = end;
    if (flags & DIRTY_BITMAP_MIG_FLAG_EOS) return { body, end: pos, problems };
  }
}
