import { streamCursor, type StreamBytes } from '../capture/streamBytes';
import type { DiagnosticCode } from '../diagnostics/codes';
import { fieldsOf, readU32 } from '../layout/fieldLayout';
import { MAIN_STREAM_MAGIC, startsWithMagic } from '../layout/streamMagic';
import { readConfiguration } from './configurationSection';
import { QEMU_VM_CONFIGURATION, QEMU_VM_FILE_VERSION, QEMU_VM_FILE_VERSION_COMPAT } from './constants';

export { MAIN_FILE_HEADER_LAYOUT } from './layouts';
import { MAIN_FILE_HEADER_LAYOUT } from './layouts';
import { StreamWalker } from './streamWalker';
import { findVmDescription } from './vmDescription';

const HEADER = fieldsOf(MAIN_FILE_HEADER_LAYOUT, ['magic', 'version']);

export type FileHeaderCheck =
  | { ok: true; version: number }
  | { ok: false; code: DiagnosticCode; message: string; at: number; reason: string; version?: number };

/** The file header's checks (qemu_loadvm_state): the magic, a complete header, version 3. */
export function checkFileHeader(head: Uint8Array): FileHeaderCheck {
  const magic = MAIN_STREAM_MAGIC.bytes;
  for (let i = 0; i < Math.min(magic.length, head.length); i++) {
    if (head[i] !== magic[i]) {
      const found = Array.from(head.subarray(0, magic.length), (b) => b.toString(16).padStart(2, '0')).join(' ');
      return {
        ok: false,
        code: 'main.bad-magic',
        message: `the main channel starts with ${found}, not ${MAIN_STREAM_MAGIC.shown}`,
        at: HEADER.magic.offset,
        reason: 'bad magic',
      };
    }
  }
  const size = MAIN_FILE_HEADER_LAYOUT.fixedSize;
  if (head.length < size)
    return {
      ok: false,
      code: 'main.truncated',
      message: `the main channel ends (at ${head.length}) inside the ${size}-byte file header`,
      at: 0,
      reason: 'truncated',
    };
  const version = readU32(HEADER.version, head);
  if (version !== QEMU_VM_FILE_VERSION) {
    const why =
      version === QEMU_VM_FILE_VERSION_COMPAT
        ? 'the obsolete v2 format no QEMU since 2.x loads'
        : 'not a version QEMU knows';
    return {
      ok: false,
      code: 'main.bad-version',
      message: `file version ${version}: ${why}`,
      at: HEADER.version.offset,
      reason: 'bad version',
      version,
    };
  }
  return { ok: true, version };
}

/**
 * The page size of a main channel, cheaply: the VM description's "page_size" from the end of the stream,
 * else the configuration's target-page-bits subsection (sent only by variable-page-size targets).
 */
export async function readMainChannelPageSize(
  stream: StreamBytes,
): Promise<{ pageSize?: number; source?: 'vmdesc' | 'target-page-bits' }> {
  try {
    const vm = await findVmDescription(stream);
    if (vm?.pageSize !== undefined) return { pageSize: vm.pageSize, source: 'vmdesc' };
    const size = MAIN_FILE_HEADER_LAYOUT.fixedSize;
    const head = await stream.read(0, size + 1);
    if (
      head.length < size + 1 ||
      !startsWithMagic(head, MAIN_STREAM_MAGIC) ||
      readU32(HEADER.version, head) !== QEMU_VM_FILE_VERSION ||
      head[size] !== QEMU_VM_CONFIGURATION
    )
      return {};
    const w = new StreamWalker(streamCursor(stream, 64 * 1024), stream.length);
    w.seek(size + 1); // past QEMU_VM_CONFIGURATION
    const r = await readConfiguration(w);
    const bits = r.config.targetPageBits;
    if (bits !== undefined && bits >= 10 && bits <= 16) return { pageSize: 2 ** bits, source: 'target-page-bits' };
  } catch {
    // A truncated or unreadable stream simply has no page size to offer.
  }
  return {};
}
