import type { StreamBytes } from '../capture/streamBytes';
import { deviceKey, type DeviceDescriptions } from './deviceDescriptions';
import { readDeviceState, type DecodedField, type DecodeProblem } from './readDeviceState';

/**
 * One device section (SECTION_FULL, or START/PART/END of a device QEMU saves iteratively) decoded through the VM
 * description, then its footer checked: QEMU_VM_SECTION_FOOTER (0x7e) and the section id must follow the last byte
 * the description accounts for. When they do not, the description and the bytes disagree; the next section can
 * still be found safely if the footer turns up a little further on, and the gap is reported with both offsets.
 */

export const QEMU_VM_SECTION_FOOTER = 0x7e;
/** How far past the description's end a displaced footer is looked for. */
const FOOTER_SEARCH = 1 << 20;

export interface DeviceSectionHeader {
  idstr: string;
  instanceId: number;
  versionId: number;
  sectionId: number;
  /** Stream offset of the first body byte (after the section header). */
  bodyOffset: number;
}

export interface DecodedDeviceSection {
  fields: DecodedField[];
  /** Where the description says the body ends. */
  bodyEnd: number;
  /** Stream offset just after the footer, where the next record starts; undefined when it cannot be found. */
  next?: number;
  problems: (DecodeProblem & { kind: 'not-described' | 'version' | 'decode' | 'footer' })[];
}

/** `keepFields: false`: only delimit the section and check its footer (the index's walk keeps no fields). */
export async function decodeDeviceSection(
  stream: StreamBytes,
  h: DeviceSectionHeader,
  descriptions: DeviceDescriptions,
  options: { keepFields?: boolean } = {},
): Promise<DecodedDeviceSection> {
  const desc = descriptions.byKey.get(deviceKey(h.idstr, h.instanceId));
  if (!desc)
    return {
      fields: [],
      bodyEnd: h.bodyOffset,
      problems: [
        {
          kind: 'not-described',
          offset: h.bodyOffset,
          message: `the VM description has no device "${h.idstr}" instance ${h.instanceId}`,
        },
      ],
    };
  const problems: DecodedDeviceSection['problems'] = [];
  if (!desc.unversioned && desc.version !== h.versionId)
    problems.push({
      kind: 'version',
      offset: h.bodyOffset,
      message: `section "${h.idstr}" has version_id ${h.versionId}, its description version ${desc.version}`,
    });
  const state = await readDeviceState(stream, h.bodyOffset, desc, options);
  if (state.problem) problems.push({ kind: 'decode', ...state.problem });
  const footerAt = state.end;
  if (!state.problem && (await isFooter(stream, footerAt, h.sectionId)))
    return { fields: state.fields, bodyEnd: footerAt, next: footerAt + 5, problems };
  const found = await findFooter(stream, footerAt, h.sectionId);
  const what = state.problem
    ? 'the description does not fit the bytes'
    : `the footer of section ${h.sectionId} is not at ${footerAt}, where the description of "${h.idstr}" ends`;
  problems.push({
    kind: 'footer',
    offset: footerAt,
    message:
      found === undefined
        ? `${what}; no footer for section ${h.sectionId} within ${FOOTER_SEARCH} bytes after it, so decoding cannot go on safely`
        : `${what}; the footer is at ${found} (${found - footerAt} byte(s) further), decoding goes on after it`,
  });
  return { fields: state.fields, bodyEnd: footerAt, next: found === undefined ? undefined : found + 5, problems };
}

async function isFooter(stream: StreamBytes, at: number, sectionId: number): Promise<boolean> {
  const b = await stream.read(at, at + 5);
  return (
    b.length === 5 &&
    b[0] === QEMU_VM_SECTION_FOOTER &&
    new DataView(b.buffer, b.byteOffset, 5).getUint32(1) === sectionId
  );
}

async function findFooter(stream: StreamBytes, from: number, sectionId: number): Promise<number | undefined> {
  const end = Math.min(stream.length, from + FOOTER_SEARCH);
  const b = await stream.read(from, end);
  for (let i = 0; i + 5 <= b.length; i++) {
    if (b[i] !== QEMU_VM_SECTION_FOOTER) continue;
    if (((b[i + 1] << 24) | (b[i + 2] << 16) | (b[i + 3] << 8) | b[i + 4]) >>> 0 === sectionId) return from + i;
  }
  return undefined;
}
