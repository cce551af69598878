import type { ReadAhead } from '../capture/readAhead';
import { be32 } from '../util/bytes';
import { QEMU_VM_SECTION_FOOTER } from './constants';
import {
  addMarker,
  keepsMore,
  layoutValues,
  MAX_MARKERS_READ,
  newBody,
  type IterativeOutcome,
} from './iterativeSection';
import {
  VFIO_END_OF_STATE_BYTES,
  VFIO_MIG_FLAG_DEV_CONFIG_LOAD_READY,
  VFIO_MIG_FLAG_DEV_CONFIG_STATE,
  VFIO_MIG_FLAG_DEV_DATA_STATE,
  VFIO_MIG_FLAG_DEV_INIT_DATA_SENT,
  VFIO_MIG_FLAG_DEV_SETUP_STATE,
  VFIO_MIG_FLAG_END_OF_STATE,
  VFIO_MIG_FLAG_HIGH,
  VFIO_MIG_FLAG_NAMES,
  vfioMarkerLayout,
  vfioMarkerName,
} from './vfioLayouts';

/**
 * Reads a VFIO section body marker by marker, as vfio_load_state does: DEV_DATA_STATE blocks until
 * END_OF_STATE; DEV_SETUP_STATE must be followed by END_OF_STATE; DEV_INIT_DATA_SENT and DEV_CONFIG_LOAD_READY
 * end the body by themselves; DEV_CONFIG_STATE is followed by the device's config space, which has no length
 * on the wire, then END_OF_STATE. Its end is where the VM description ends the section (a FULL section is
 * described as one `buffer`), or else the first END_OF_STATE followed by this section's footer.
 */

/** How far the end of a config space is looked for (a PCI device's is a few KiB). */
export const VFIO_CONFIG_SEARCH = 1 << 20;

export interface VfioReadOptions {
  sectionId: number;
  /** Whether sections end with a footer (undetermined before the first one). */
  footers?: boolean;
  /** Where the VM description ends this section's body, when it describes it. */
  describedEnd?: number;
}

export async function readVfioBody(
  ahead: ReadAhead,
  at: number,
  length: number,
  opts: VfioReadOptions,
  label: string,
): Promise<IterativeOutcome> {
  const body = newBody('vfio');
  const problems: IterativeOutcome['problems'] = [];
  const stop = (offset: number, message: string, reason: string, truncated = false): IterativeOutcome => {
    problems.push({ code: truncated ? 'main.truncated' : 'main.vfio', message: `${label}: ${message}`, offset });
    return { body, problems, stopReason: reason, stopAt: offset };
  };
  const truncated = (offset: number, what: string) =>
    stop(offset, `the main channel ends (at ${length}) inside ${what}`, 'truncated', true);
  const done = (end: number): IterativeOutcome => ({ body, end, problems });
  let pos = at;
  for (let k = 0; ; k++) {
    if (k >= MAX_MARKERS_READ)
      return stop(
        pos,
        `more than ${MAX_MARKERS_READ} markers without END_OF_STATE; decoding stops`,
        'too many markers',
      );
    const head = await ahead.bytes(pos, 16);
    if (head.length < 8) return truncated(pos, `the marker at ${pos}`);
    const high = be32(head, 0);
    const low = be32(head, 4);
    if (high !== VFIO_MIG_FLAG_HIGH || VFIO_MIG_FLAG_NAMES[low] === undefined)
      return stop(
        pos,
        `marker ${k} is ${vfioMarkerName(high, low)}, no VFIO_MIG_FLAG_*: vfio_load_state fails ("Unknown tag"); decoding stops`,
        'unknown VFIO marker',
      );
    const layout = vfioMarkerLayout(low);
    if (head.length < layout.fixedSize) return truncated(pos, `the ${VFIO_MIG_FLAG_NAMES[low]} marker at ${pos}`);
    const fields = layoutValues(layout, head);
    const mark = (end: number) => {
      if (keepsMore(body)) addMarker(body, { name: VFIO_MIG_FLAG_NAMES[low], offset: pos, end, fields });
      else body.markerCount++;
    };
    switch (low) {
      case VFIO_MIG_FLAG_END_OF_STATE:
      case VFIO_MIG_FLAG_DEV_INIT_DATA_SENT:
      case VFIO_MIG_FLAG_DEV_CONFIG_LOAD_READY:
        mark(pos + 8);
        return done(pos + 8);
      case VFIO_MIG_FLAG_DEV_SETUP_STATE: {
        mark(pos + 8);
        pos += 8;
        const next = await ahead.bytes(pos, 8);
        if (next.length < 8) return truncated(pos, 'the END_OF_STATE after DEV_SETUP_STATE');
        if (be32(next, 0) !== VFIO_MIG_FLAG_HIGH || be32(next, 4) !== VFIO_MIG_FLAG_END_OF_STATE)
          return stop(
            pos,
            `DEV_SETUP_STATE is followed by ${vfioMarkerName(be32(next, 0), be32(next, 4))}, not END_OF_STATE: vfio_load_state fails ("SETUP STATE: EOS not found"); decoding stops`,
            'VFIO setup state without END_OF_STATE',
          );
        addMarker(body, { name: 'END_OF_STATE', offset: pos, end: pos + 8, fields: { marker: 'ffffffffef100001' } });
        return done(pos + 8);
      }
      case VFIO_MIG_FLAG_DEV_DATA_STATE: {
        const size = Number(fields.data_size);
        const end = pos + 16 + size;
        if (end > length) return truncated(pos, `the ${size} bytes of device state of the DEV_DATA_STATE at ${pos}`);
        mark(end);
        pos = end;
        break;
      }
      case VFIO_MIG_FLAG_DEV_CONFIG_STATE: {
        mark(pos + 8);
        const configAt = pos + 8;
        const configEnd = await findConfigEnd(ahead, configAt, length, opts);
        if (configEnd === undefined) {
          problems.push({
            code: 'main.vfio',
            message: `${label}: the config space after DEV_CONFIG_STATE has no length on the wire, and ${opts.describedEnd !== undefined ? `the VM description's end of the section (${opts.describedEnd}) is not after an END_OF_STATE` : `no END_OF_STATE followed by this section's footer is within ${VFIO_CONFIG_SEARCH} bytes`}; decoding stops`,
            offset: configAt,
            severity: 'warning',
          });
          return { body, problems, stopReason: 'VFIO config space not delimited', stopAt: configAt };
        }
        addMarker(body, {
          name: 'config space',
          offset: configAt,
          end: configEnd,
          fields: { bytes: configEnd - configAt },
        });
        addMarker(body, {
          name: 'END_OF_STATE',
          offset: configEnd,
          end: configEnd + 8,
          fields: { marker: 'ffffffffef100001' },
        });
        return done(configEnd + 8);
      }
    }
  }
}

/** Where the END_OF_STATE that closes a config space starting at `at` is. */
async function findConfigEnd(
  ahead: ReadAhead,
  at: number,
  length: number,
  opts: VfioReadOptions,
): Promise<number | undefined> {
  if (opts.describedEnd !== undefined) {
    const candidate = opts.describedEnd - 8;
    if (candidate < at) return undefined;
    const b = await ahead.bytes(candidate, 8);
    return sameBytes(b, VFIO_END_OF_STATE_BYTES, 0) ? candidate : undefined;
  }
  const id = opts.sectionId;
  const tail =
    opts.footers === false
      ? []
      : [QEMU_VM_SECTION_FOOTER, (id >>> 24) & 0xff, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff];
  const needle = Uint8Array.from([...VFIO_END_OF_STATE_BYTES, ...tail]);
  const hay = await ahead.bytes(at, Math.min(VFIO_CONFIG_SEARCH + needle.length, length - at));
  for (let i = 0; i + needle.length <= hay.length; i++) if (sameBytes(hay, needle, i)) return at + i;
  return undefined;
}

function sameBytes(hay: Uint8Array, needle: Uint8Array, at: number): boolean {
  if (at + needle.length > hay.length) return false;
  for (let j = 0; j < needle.length; j++) if (hay[at + j] !== needle[j]) return false;
  return true;
}
