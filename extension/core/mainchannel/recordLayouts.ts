import { decodeFields, type DecodedField, type FieldSpec, type StructLayout } from '../layout/fieldLayout';
import { be64 } from '../util/bytes';
import {
  MIG_CMD_NAMES,
  RAM_FLAG_MASK,
  RAM_SAVE_FLAG_CONTINUE,
  ramFlagNames,
  SECTION_TYPE_NAMES,
  QEMU_VM_COMMAND,
  QEMU_VM_CONFIGURATION,
  QEMU_VM_EOF,
  QEMU_VM_SECTION_END,
  QEMU_VM_SECTION_FULL,
  QEMU_VM_SECTION_PART,
  QEMU_VM_SECTION_START,
  QEMU_VM_VMDESCRIPTION,
} from './constants';
import { MainRecordKind } from './recordTable';

/**
 * The main channel's records as declarations (migration/savevm.c, migration/ram.c): the top-level record
 * headers and the RAM record header. Names carry a u8 length, so a layout is declared for the length a record
 * has; the fixed fields sit at fixed offsets around it. The details pane and the byte highlighting read a
 * record through these.
 */

const typeByte = (meaning: string): FieldSpec => ({
  name: 'section_type',
  offset: 0,
  width: 1,
  type: 'u8',
  meaning,
  explain: (v) => SECTION_TYPE_NAMES[Number(v)] ?? 'unknown',
});

/** A u8-length-prefixed name at `at` (QEMU's qemu_put_counted_string). */
function name8(field: string, at: number, length: number, meaning: string): FieldSpec[] {
  return [
    { name: `${field}_len`, offset: at, width: 1, type: 'u8', meaning: `length of ${field}` },
    ...(length ? [{ name: field, offset: at + 1, width: length, type: 'cstring' as const, meaning }] : []),
  ];
}

/** QEMU_VM_SECTION_START / FULL (save_section_header): type, be32 section_id, idstr, be32 instance_id, be32 version_id. */
export function sectionStartLayout(type: number, idstrLength: number): StructLayout {
  const after = 5 + 1 + idstrLength;
  return {
    cStruct: `QEMU_VM_SECTION_${SECTION_TYPE_NAMES[type] ?? 'START'} (save_section_header)`,
    fixedSize: after + 8,
    fields: [
      typeByte('QEMU_VM_SECTION_START: first part of an iterative section; FULL: a whole device section'),
      { name: 'section_id', offset: 1, width: 4, type: 'u32be', meaning: 'SaveStateEntry section_id' },
      ...name8('idstr', 5, idstrLength, 'SaveStateEntry idstr: the device (or "ram")'),
      { name: 'instance_id', offset: after, width: 4, type: 'u32be', meaning: 'SaveStateEntry instance_id' },
      { name: 'version_id', offset: after + 4, width: 4, type: 'u32be', meaning: 'SaveStateEntry version_id' },
    ],
  };
}

/** QEMU_VM_SECTION_PART / END: type, be32 section_id (the idstr was given by the START). */
export const SECTION_PART_LAYOUT: StructLayout = {
  cStruct: 'QEMU_VM_SECTION_PART/END (save_section_header)',
  fixedSize: 5,
  fields: [
    typeByte('QEMU_VM_SECTION_PART: one more part of an iterative section; END: its last part'),
    { name: 'section_id', offset: 1, width: 4, type: 'u32be', meaning: 'section_id of the START it continues' },
  ],
};

/** QEMU_VM_COMMAND (qemu_savevm_command_send): type, be16 command, be16 length, then the command's bytes. */
export function commandLayout(command: number, body: Uint8Array): StructLayout {
  const fields: FieldSpec[] = [
    typeByte('QEMU_VM_COMMAND'),
    {
      name: 'cmd',
      offset: 1,
      width: 2,
      type: 'u16be',
      meaning: 'enum qemu_vm_cmd',
      explain: (v) => MIG_CMD_NAMES[Number(v)] ?? 'unknown command',
    },
    { name: 'len', offset: 3, width: 2, type: 'u16be', meaning: 'bytes of the command that follow' },
  ];
  const n = body.length;
  switch (MIG_CMD_NAMES[command]) {
    case 'PING':
      if (n >= 4) fields.push({ name: 'value', offset: 5, width: 4, type: 'u32be', meaning: 'echoed by PONG' });
      break;
    case 'PACKAGED':
      if (n >= 4)
        fields.push({
          name: 'length',
          offset: 5,
          width: 4,
          type: 'u32be',
          meaning: 'bytes of the packaged stream that follows',
        });
      break;
    case 'POSTCOPY_ADVISE':
      if (n >= 16)
        fields.push(
          {
            name: 'host_page_sizes',
            offset: 5,
            width: 8,
            type: 'u64be',
            meaning: "the source's RAM page-size summary",
          },
          { name: 'target_page_size', offset: 13, width: 8, type: 'u64be', meaning: "the source's target page size" },
        );
      break;
    case 'RECV_BITMAP':
      if (n >= 1) fields.push(...name8('ramblock', 5, Math.min(body[0], n - 1), 'ramblock whose bitmap is wanted'));
      break;
    case 'POSTCOPY_RAM_DISCARD':
      if (n >= 2) {
        const len = Math.min(body[1], n - 2);
        fields.push({ name: 'version', offset: 5, width: 1, type: 'u8', meaning: 'postcopy discard version (0)' });
        fields.push(...name8('ramblock', 6, len, 'ramblock the ranges are in'));
        if (n >= 3 + len)
          fields.push({ name: 'nil', offset: 7 + len, width: 1, type: 'u8', meaning: 'nil after the name (0)' });
        const pairs = Math.max(0, Math.floor((n - 3 - len) / 16));
        const at = 5 + 3 + len;
        for (let i = 0; i < Math.min(pairs, 64); i++)
          fields.push(
            { name: `start[${i}]`, offset: at + 16 * i, width: 8, type: 'u64be', meaning: 'discarded range start' },
            { name: `length[${i}]`, offset: at + 16 * i + 8, width: 8, type: 'u64be', meaning: 'its length' },
          );
      }
      break;
  }
  return { cStruct: `QEMU_VM_COMMAND ${MIG_CMD_NAMES[command] ?? command}`, fixedSize: 5 + n, fields };
}

export const EOF_LAYOUT: StructLayout = {
  cStruct: 'QEMU_VM_EOF',
  fixedSize: 1,
  fields: [typeByte('QEMU_VM_EOF: the end of the device state')],
};

/** QEMU_VM_VMDESCRIPTION: type, be32 length, then the JSON. */
export const VMDESCRIPTION_LAYOUT: StructLayout = {
  cStruct: 'QEMU_VM_VMDESCRIPTION',
  fixedSize: 5,
  fields: [
    typeByte('QEMU_VM_VMDESCRIPTION: the JSON description of the device state'),
    { name: 'length', offset: 1, width: 4, type: 'u32be', meaning: 'bytes of JSON that follow' },
  ],
};

/** QEMU_VM_CONFIGURATION: type, be32 length, the machine type (then the configuration's VMState). */
export function configurationLayout(nameLength: number): StructLayout {
  return {
    cStruct: 'QEMU_VM_CONFIGURATION (vmstate_configuration)',
    fixedSize: 5 + nameLength,
    fields: [
      typeByte('QEMU_VM_CONFIGURATION'),
      { name: 'len', offset: 1, width: 4, type: 'u32be', meaning: 'length of the machine type name' },
      ...(nameLength
        ? [{ name: 'name', offset: 5, width: nameLength, type: 'cstring' as const, meaning: 'machine type' }]
        : []),
    ],
  };
}

/** A RAM record (save_page_header): be64 (page offset | RAM_SAVE_FLAG_*), the block's idstr unless CONTINUE, then the kind's own bytes. */
export function ramRecordLayout(kind: MainRecordKind, head: Uint8Array): StructLayout {
  const fields: FieldSpec[] = [
    {
      name: 'addr',
      offset: 0,
      width: 8,
      type: 'u64be',
      meaning: 'page offset in the block, RAM_SAVE_FLAG_* in the low bits',
      explain: (v) =>
        `offset 0x${(Number(v) - (Number(v) % (RAM_FLAG_MASK + 1))).toString(16)}, ${ramFlagNames(Number(v) % (RAM_FLAG_MASK + 1))}`,
    },
  ];
  let at = 8;
  const word = head.length >= 8 ? be64(head, 0) : 0;
  const flags = word % (RAM_FLAG_MASK + 1);
  const named =
    kind === MainRecordKind.Zero ||
    kind === MainRecordKind.Page ||
    kind === MainRecordKind.Xbzrle ||
    kind === MainRecordKind.CompressPage;
  if (named && !(flags & RAM_SAVE_FLAG_CONTINUE) && head.length > at) {
    const len = head[at];
    fields.push(...name8('idstr', at, len, 'RAMBlock idstr (absent with RAM_SAVE_FLAG_CONTINUE)'));
    at += 1 + len;
  }
  if (kind === MainRecordKind.Zero) {
    fields.push({ name: 'fill', offset: at, width: 1, type: 'u8', meaning: 'fill byte (QEMU sends 0)' });
    at += 1;
  } else if (kind === MainRecordKind.Xbzrle) {
    fields.push(
      { name: 'xh_flags', offset: at, width: 1, type: 'u8', meaning: 'ENCODING_FLAG_XBZRLE' },
      { name: 'xh_len', offset: at + 1, width: 2, type: 'u16be', meaning: 'encoded bytes that follow' },
    );
    at += 3;
  } else if (kind === MainRecordKind.MemSize) {
    fields[0] = { ...fields[0], meaning: 'total RAM in bytes, RAM_SAVE_FLAG_MEM_SIZE in the low bits' };
  }
  return { cStruct: `RAM record (save_page_header)`, fixedSize: at, fields };
}

/** Bytes a record's layout needs at most before its data: the word, a 255-byte idstr, the XBZRLE header. */
export const RAM_RECORD_HEAD_MAX = 8 + 1 + 255 + 3;

/** The top-level record layout for a header read at its start (`head` holds its first bytes). */
export function topLevelLayout(type: number, head: Uint8Array): StructLayout | undefined {
  switch (type) {
    case QEMU_VM_SECTION_START:
    case QEMU_VM_SECTION_FULL:
      return head.length > 5 ? sectionStartLayout(type, head[5]) : undefined;
    case QEMU_VM_SECTION_PART:
    case QEMU_VM_SECTION_END:
      return SECTION_PART_LAYOUT;
    case QEMU_VM_COMMAND: {
      if (head.length < 5) return undefined;
      const len = (head[3] << 8) | head[4];
      return commandLayout((head[1] << 8) | head[2], head.subarray(5, 5 + len));
    }
    case QEMU_VM_EOF:
      return EOF_LAYOUT;
    case QEMU_VM_VMDESCRIPTION:
      return VMDESCRIPTION_LAYOUT;
    case QEMU_VM_CONFIGURATION: {
      if (head.length < 5) return undefined;
      const len = ((head[1] << 24) >>> 0) + (head[2] << 16) + (head[3] << 8) + head[4];
      return configurationLayout(Math.min(len, 255));
    }
  }
  return undefined;
}

/** Fields of a record through its layout; only those whose bytes are present. */
export function recordFields(layout: StructLayout, head: Uint8Array): DecodedField[] {
  return decodeFields(layout, head);
}

/** A return-path message (migrate_send_rp_message): be16 type, be16 length, then its body, per enum mig_rp_message_type. */
export function returnPathLayout(name: string, body: Uint8Array): StructLayout {
  const fields: FieldSpec[] = [
    { name: 'type', offset: 0, width: 2, type: 'u16be', meaning: 'enum mig_rp_message_type', explain: () => name },
    { name: 'len', offset: 2, width: 2, type: 'u16be', meaning: 'bytes of the body that follow' },
  ];
  const u32 = (field: string, meaning: string) =>
    body.length >= 4 && fields.push({ name: field, offset: 4, width: 4, type: 'u32be', meaning });
  switch (name) {
    case 'SHUT':
      u32('error', 'non-zero when the destination failed');
      break;
    case 'PONG':
      u32('value', "the PING command's value, echoed");
      break;
    case 'RESUME_ACK':
      u32('value', 'MIGRATION_RESUME_ACK_VALUE');
      break;
    case 'REQ_PAGES':
    case 'REQ_PAGES_ID':
      if (body.length >= 12)
        fields.push(
          { name: 'start', offset: 4, width: 8, type: 'u64be', meaning: 'offset of the faulting page in the block' },
          { name: 'length', offset: 12, width: 4, type: 'u32be', meaning: 'bytes wanted' },
        );
      if (name === 'REQ_PAGES_ID' && body.length > 12)
        fields.push(...name8('ramblock', 16, Math.min(body[12], body.length - 13), 'ramblock of the request'));
      break;
    case 'RECV_BITMAP':
      if (body.length >= 1)
        fields.push(...name8('ramblock', 4, Math.min(body[0], body.length - 1), 'ramblock whose bitmap follows'));
      break;
  }
  return { cStruct: `return path ${name} (mig_rp_message_type)`, fixedSize: 4 + body.length, fields };
}
