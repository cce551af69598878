import type { MappedRamIndex } from '../capture/mappedRam/mappedRamIndex';
import { WriterKind, type ReplaySchedule } from './schedule';

/**
 * A mapped-ram image has no packets and no PAGE records: the destination reads each block's present pages once,
 * after its MEM_SIZE entry. They come after whatever else the schedule holds (nothing, in a real image), in
 * block and page order, all in one epoch.
 */
export function withMappedRam(s: ReplaySchedule, index: MappedRamIndex): ReplaySchedule {
  const n = s.length + index.windows;
  const RowArray = s.row.constructor as new (length: number) => ReplaySchedule['row'];
  const out: ReplaySchedule = {
    length: n,
    kind: new Uint8Array(n),
    source: new Int32Array(n),
    row: new RowArray(n),
    epoch: new Uint32Array(n),
  };
  out.kind.set(s.kind);
  out.source.set(s.source);
  out.row.set(s.row);
  out.epoch.set(s.epoch);
  const epoch = s.length ? s.epoch[s.length - 1] : 0;
  for (let w = 0; w < index.windows; w++) {
    out.kind[s.length + w] = WriterKind.MappedRam;
    out.source[s.length + w] = -1;
    out.row[s.length + w] = w;
    out.epoch[s.length + w] = epoch;
  }
  return out;
}
