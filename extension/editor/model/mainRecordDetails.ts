import { decodeFields, type StructLayout } from '../../core/layout/fieldLayout';
import { QEMU_VM_COMMAND, QEMU_VM_CONFIGURATION, QEMU_VM_VMDESCRIPTION } from '../../core/mainchannel/constants';
import {
  RAM_RECORD_HEAD_MAX,
  ramRecordLayout,
  returnPathLayout,
  topLevelLayout,
} from '../../core/mainchannel/recordLayouts';
import { MainRecordKind } from '../../core/mainchannel/recordTable';
import type { OffsetEntry, PacketDetails, PacketRef, PageContent } from '../../shared/protocol';
import { MainRowKind, type MainChannelRows } from './mainChannelRows';

/** A top-level record's header fits in this (a command's bytes are at most 0xffff). */
const TOP_HEAD_MAX = 5 + 0xffff;

/** One main-channel row read through its layout: the header's bytes and fields, and the payload after them. */
export interface MainRecordView {
  layout: StructLayout;
  headerOffset: number;
  header: Uint8Array;
  payloadOffset: number;
  payloadLength: number;
  /** PAGE, XBZRLE, ZERO records: the page the record writes. */
  offsets: OffsetEntry[];
}

export async function readMainRecord(m: MainChannelRows, i: number, pageSize: number): Promise<MainRecordView> {
  const bytes = m.bytesOf(i);
  const start = m.streamOffset(i);
  const end = Math.max(start, m.streamEnd(i));
  const kind = m.kindOf(i);
  let layout: StructLayout;
  let head: Uint8Array;
  let payloadOffset: number;
  let payloadLength = 0;
  const offsets: OffsetEntry[] = [];
  if (kind === MainRowKind.RamRecord) {
    head = await bytes.read(start, Math.min(end, start + RAM_RECORD_HEAD_MAX));
    const rk = m.ramKind(i)!;
    layout = ramRecordLayout(rk, head);
    payloadOffset = start + layout.fixedSize;
    if (rk === MainRecordKind.Page) payloadLength = Math.min(pageSize, end - payloadOffset);
    // MEM_SIZE: the block list follows; XBZRLE and COMPRESS_PAGE: the encoded page. EOS and FLUSH are the word alone.
    else if (rk === MainRecordKind.MemSize || rk === MainRecordKind.Xbzrle || rk === MainRecordKind.CompressPage)
      payloadLength = Math.max(0, end - payloadOffset);
    const offset = m.offset(i);
    if (
      offset !== undefined &&
      (rk === MainRecordKind.Page || rk === MainRecordKind.Zero || rk === MainRecordKind.Xbzrle)
    )
      offsets.push({ slot: 0, value: offset, kind: rk === MainRecordKind.Zero ? 'zero' : 'normal', headerOffset: 0 });
  } else if (kind === MainRowKind.ReturnPath) {
    const msg = m.list.returnPath.messages[m.slotOf(i)];
    head = await bytes.read(start, start + 4 + msg.length);
    layout = returnPathLayout(msg.name, head.subarray(4));
    payloadOffset = start + head.length;
  } else {
    const r = m.topRow(i);
    head = await bytes.read(start, Math.min(end, start + TOP_HEAD_MAX));
    const type = head[0];
    layout = topLevelLayout(type, head) ?? { cStruct: r.kind, fixedSize: Math.min(head.length, 1), fields: [] };
    payloadOffset = start + layout.fixedSize;
    if (type === QEMU_VM_VMDESCRIPTION && head.length >= 5) {
      const len = ((head[1] << 24) >>> 0) + (head[2] << 16) + (head[3] << 8) + head[4];
      payloadLength = Math.min(len, bytes.length - payloadOffset);
    } else if (type !== QEMU_VM_COMMAND) {
      // A section's body (device state, or the RAM records that follow as rows of their own), the configuration's VMState.
      payloadLength = Math.max(0, (r.body?.end ?? end) - payloadOffset);
      if (type === QEMU_VM_CONFIGURATION) payloadLength = Math.max(0, end - payloadOffset);
    }
  }
  return {
    layout,
    headerOffset: start,
    header: head.subarray(0, Math.min(head.length, layout.fixedSize)),
    payloadOffset,
    payloadLength: Math.max(0, payloadLength),
    offsets,
  };
}

/** The details pane's content for a main-channel row. */
export function mainRecordDetails(
  m: MainChannelRows,
  ref: PacketRef,
  v: MainRecordView,
  row: PacketDetails['row'],
  diagnostics: PacketDetails['diagnostics'],
): PacketDetails {
  const i = ref.index;
  return {
    ref,
    row,
    cStruct: v.layout.cStruct,
    headerOffset: v.headerOffset,
    headerLength: v.header.length,
    payloadOffset: v.payloadOffset,
    payloadLength: v.payloadLength,
    header: v.header,
    fields: decodeFields(v.layout, v.header).map((f) => ({
      name: f.name,
      offset: f.offset,
      width: f.width,
      display: f.display,
      meaning: f.meaning,
    })),
    offsetsFieldOffset: 0,
    offsetEntryWidth: 8,
    offsets: v.offsets,
    unusedSlots: 0,
    diagnostics,
    channelPrev: i > 0 ? { stream: ref.stream, index: i - 1 } : undefined,
    channelNext: i + 1 < m.count ? { stream: ref.stream, index: i + 1 } : undefined,
  };
}

/** The page a PAGE or ZERO record writes (slot 0). */
export async function mainRecordPage(
  m: MainChannelRows,
  ref: PacketRef,
  v: MainRecordView,
  slot: number,
  pageSize: number,
): Promise<PageContent> {
  const o = v.offsets[slot];
  if (!o) throw new Error(`row ${ref.index} of the main channel (stream ${ref.stream}) writes no page ${slot}`);
  const base = { ref, slot, offset: o.value, ramblock: m.ramblock(ref.index), kind: o.kind };
  if (o.kind === 'zero')
    return {
      ...base,
      source: 'zero',
      bytes: new Uint8Array(pageSize),
      note: 'ZERO record: the destination fills the page with its fill byte (0)',
    };
  if (m.ramKind(ref.index) !== MainRecordKind.Page)
    return { ...base, source: 'unavailable', note: 'an XBZRLE record encodes the page against the previous one' };
  const bytes = await m.bytesOf(ref.index).read(v.payloadOffset, v.payloadOffset + pageSize);
  return {
    ...base,
    source: 'payload',
    bytes,
    streamOffset: v.payloadOffset,
    note: bytes.length < pageSize ? `the capture ends ${bytes.length} bytes into this page` : undefined,
  };
}
