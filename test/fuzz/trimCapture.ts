import { MemoryByteSource } from '../../extension/core/capture/fileAccessor';
import { openCaptureFromSource } from '../../extension/core/capture/openCapture';
import { MfdBuilder } from '../../extension/core/capture/mfdWriter';
import { indexMultifdStream } from '../../extension/core/multifd/indexMultifdStream';
import { DiagnosticSink } from '../../extension/core/diagnostics/diagnostic';
import { StringTable } from '../../extension/core/util/growableArrays';

export interface TrimOptions {
  /** Packets kept per multifd stream (whole packets: header and payload). */
  packets: number;
  /** And no packet that would take a multifd stream past this many bytes (the first packet is always kept). */
  multifdBytes?: number;
  /** Bytes kept of the main channel (it carries device state and the vmdesc JSON, most of a small capture). */
  mainBytes: number;
  pageSize?: number;
}

/**
 * Makes a small fuzzing seed from a real capture: META and OPEN/CLOSE records as recorded, the first
 * `packets` packets of each multifd channel and the first `mainBytes` of the main channel, each stream
 * as one DATA record. Small seeds keep a mutation fast; the bytes are still the ones real QEMU sent.
 */
export async function trimCapture(file: Uint8Array, o: TrimOptions): Promise<Uint8Array> {
  const cap = await openCaptureFromSource(new MemoryByteSource(file));
  const b = new MfdBuilder().meta(cap.meta);
  const ps = o.pageSize ?? (Number(cap.meta.pageSize) || 4096);
  for (const s of cap.streams) {
    if (s.open) b.open(s.id, s.open);
    const head = await s.toDestination.read(0, 4);
    let keep = Math.min(s.toDestination.length, o.mainBytes);
    if (head[0] === 0x11 && head[1] === 0x22) {
      const idx = await indexMultifdStream(s.toDestination, s.id, {
        pageSize: ps,
        names: new StringTable(),
        sink: new DiagnosticSink(),
      });
      let n = Math.min(o.packets, idx.packets.length);
      const end = (i: number) => (i < idx.packets.length ? idx.packets.headerOffset.get(i) : s.toDestination.length);
      while (n > 1 && o.multifdBytes !== undefined && end(n) > o.multifdBytes) n--;
      keep = end(n);
    }
    if (keep > 0) b.data(s.id, await s.toDestination.read(0, keep));
    const back = await s.toSource.read(0, 64);
    if (back.length) b.data(s.id, back, 'toSource');
    if (s.closeReason) b.close(s.id, s.closeReason);
  }
  for (const n of cap.notes.slice(0, 4)) b.note(n.text);
  return b.build();
}
