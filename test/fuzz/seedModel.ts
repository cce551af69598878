import { MemoryByteSource } from '../../extension/core/capture/fileAccessor';
import { openCaptureFromSource } from '../../extension/core/capture/openCapture';
import { MfdBuilder } from '../../extension/core/capture/mfdWriter';
import { analyzeCapture } from '../../extension/core/analysis';

/** Where one multifd packet lies in its stream, from the seed's own (valid) decoding. */
export interface PacketSpan {
  header: number;
  headerLength: number;
  payloadLength: number;
  kind: 'ram' | 'device-state';
  normalPages: number;
}

export interface SeedStream {
  id: number;
  kind: 'main' | 'multifd' | 'other';
  open?: Record<string, unknown>;
  closeReason?: string;
  bytes: Uint8Array;
  returnPath: Uint8Array;
  /** multifd only. */
  packets: PacketSpan[];
  method?: string;
}

/** A seed capture taken apart into what the mutators work on: META, streams, and packet boundaries. */
export interface SeedModel {
  name: string;
  meta: Record<string, unknown>;
  notes: string[];
  pageSize: number;
  ramblocks: { name: string; usedLength: number }[];
  streams: SeedStream[];
}

export async function modelSeed(name: string, file: Uint8Array): Promise<SeedModel> {
  const a = await analyzeCapture(await openCaptureFromSource(new MemoryByteSource(file)));
  const streams: SeedStream[] = [];
  for (const s of a.streams) {
    const bytes = await s.stream.toDestination.read(0, s.stream.toDestination.length);
    const returnPath = await s.stream.toSource.read(0, s.stream.toSource.length);
    const packets: PacketSpan[] = [];
    if (s.multifd) {
      const t = s.multifd.packets;
      for (let i = 0; i < t.length; i++) {
        packets.push({
          header: t.headerOffset.get(i),
          headerLength: t.headerLength.get(i),
          payloadLength: t.payloadLength.get(i),
          kind: t.isDeviceState(i) ? 'device-state' : 'ram',
          normalPages: t.normalPages.get(i),
        });
      }
    }
    streams.push({
      id: s.id,
      kind: s.kind === 'main' ? 'main' : s.kind === 'multifd' ? 'multifd' : 'other',
      open: s.stream.open,
      closeReason: s.stream.closeReason,
      bytes,
      returnPath,
      packets,
      method: s.multifd?.method,
    });
  }
  return {
    name,
    meta: a.capture.meta,
    notes: a.capture.notes.map((n) => n.text),
    pageSize: a.pageSize,
    ramblocks: a.ramblocks.map((b) => ({ name: b.name, usedLength: b.usedLength })),
    streams,
  };
}

/** Encodes a (mutated) model back into a `.mfd`: META, then per stream OPEN, DATA (optionally split), CLOSE. */
export function encodeModel(
  m: Pick<SeedModel, 'meta' | 'notes' | 'streams'>,
  split?: (len: number) => number[],
): Uint8Array {
  const b = new MfdBuilder().meta(m.meta);
  for (const s of m.streams) if (s.open) b.open(s.id, s.open);
  for (const s of m.streams) {
    let pos = 0;
    for (const len of split ? split(s.bytes.length) : [s.bytes.length]) {
      if (len > 0) b.data(s.id, s.bytes.subarray(pos, pos + len));
      pos += len;
    }
    if (pos < s.bytes.length) b.data(s.id, s.bytes.subarray(pos));
    if (s.returnPath.length) b.data(s.id, s.returnPath, 'toSource');
  }
  for (const t of m.notes) b.note(t);
  for (const s of m.streams) if (s.closeReason) b.close(s.id, s.closeReason);
  return b.build();
}
