import type { DiagnosticCode } from '../diagnostics/codes';
import { hex32, MAIN_STREAM_MAGIC, MULTIFD_STREAM_MAGIC } from '../layout/streamMagic';

/**
 * The destination's own error messages, as QEMU prints them, and the checks of ours that fire on the same bytes.
 * `mfd explain` matches a pasted message against `pattern` and points at the diagnostics with these codes: the
 * place in the capture where QEMU's check failed, or a statement that it cannot fire on this capture.
 */
export interface DestinationError {
  /** A short name, for listings. */
  id: string;
  pattern: RegExp;
  /** Where QEMU raises it. */
  source: string;
  /** Our diagnostics that mark the same condition. */
  codes: DiagnosticCode[];
  /** What the check is about, for the "cannot fire here" answer. */
  about: string;
  /** When it cannot fire on a capture, why (from the analysis: no multifd stream, no such ramblock, …). */
  needs?: 'multifd' | 'main' | 'postcopy' | 'x-ignore-shared' | 'device-state';
}

export const DESTINATION_ERRORS: DestinationError[] = [
  {
    id: 'unknown-ramblock',
    pattern: /Unknown ramblock "?([^",]*)"?/i,
    source: 'migration/ram.c ram_load_precopy / parse_ramblock; multifd-nocomp.c multifd_ram_unfill_packet',
    codes: ['multifd.unknown-ramblock', 'main.unknown-ramblock', 'main.no-block'],
    about: 'a ramblock name the destination does not have (a packet or a RAM record names it)',
  },
  {
    id: 'multifd-magic',
    pattern: /multifd: received packet magic [0-9a-fx]+ (and )?expected/i,
    source: 'migration/multifd.c multifd_recv_unfill_packet_header',
    codes: ['multifd.bad-magic', 'multifd.init.bad-magic'],
    about: `a multifd packet header whose magic is not ${hex32(MULTIFD_STREAM_MAGIC.value)} (framing lost)`,
    needs: 'multifd',
  },
  {
    id: 'multifd-version',
    pattern: /multifd: received packet version \d+ (and )?expected/i,
    source: 'migration/multifd.c multifd_recv_unfill_packet_header',
    codes: ['multifd.bad-version', 'multifd.init.bad-version'],
    about: 'a multifd header whose version is not 1',
    needs: 'multifd',
  },
  {
    id: 'multifd-uuid',
    pattern: /multifd: received uuid '[^']*' and expected uuid/i,
    source: 'migration/multifd.c multifd_recv_initial_packet',
    codes: ['multifd.uuid-mismatch'],
    about: "a multifd channel whose MultiFDInit_t uuid is not the destination's -uuid",
    needs: 'multifd',
  },
  {
    id: 'multifd-channel-id',
    pattern:
      /multifd: received channel (id )?\d+ is greater than number of channels|channel id \d+ (is )?(out of range|already)/i,
    source: 'migration/multifd.c multifd_recv_initial_packet',
    codes: ['multifd.init.channel-id'],
    about: 'a channel id outside 0 … multifd-channels-1, or used twice',
    needs: 'multifd',
  },
  {
    id: 'multifd-pages',
    pattern:
      /multifd: received packet with (\d+ )?(normal|zero) pages|more pages than|(normal|zero) pages \d+ (and|but) (expected )?maximum/i,
    source: 'migration/multifd-nocomp.c multifd_ram_unfill_packet',
    codes: ['multifd.pages-alloc', 'multifd.normal-pages', 'multifd.zero-pages'],
    about: 'page counts a packet cannot hold',
    needs: 'multifd',
  },
  {
    id: 'multifd-offset',
    pattern: /multifd: offset too long/i,
    source: 'migration/multifd-nocomp.c multifd_ram_unfill_packet',
    codes: ['multifd.offset-range'],
    about: 'a page offset beyond used_length - page_size',
    needs: 'multifd',
  },
  {
    id: 'multifd-flags',
    pattern: /multifd: flags received \S+ flags expected|Data received with unexpected (compression|packet) flags/i,
    source: 'migration/multifd-*.c recv',
    codes: ['multifd.compression-mismatch', 'multifd.unknown-flags', 'multifd.unknown-method'],
    about: "a packet whose compression bits are not the channel's method",
    needs: 'multifd',
  },
  {
    id: 'zero-page-value',
    pattern: /Found a zero page with value/i,
    source: 'migration/ram.c ram_handle_zero (RAM_SAVE_FLAG_ZERO with a non-zero fill byte)',
    codes: ['main.zero-fill'],
    about: 'a main-channel ZERO record whose fill byte is not 0',
    needs: 'main',
  },
  {
    id: 'ram-flags',
    pattern: /Unexpected RAM flags/i,
    source: 'migration/ram.c ram_load_precopy',
    codes: ['main.unknown-ram-flags', 'main.unsupported-record'],
    about: 'a RAM record with flags the destination does not take',
    needs: 'main',
  },
  {
    id: 'page-size',
    pattern: /Mismatched RAM page size/i,
    source: 'migration/ram.c ram_load_precopy (MEM_SIZE with postcopy-ram)',
    codes: ['main.mem-size-mismatch'],
    about: "a block's page size in MEM_SIZE (sent after POSTCOPY_ADVISE) that differs from the destination's",
    needs: 'postcopy',
  },
  {
    id: 'gpa',
    pattern: /Mismatched GPAs/i,
    source: 'migration/ram.c ram_load_precopy (x-ignore-shared)',
    codes: ['mapped-ram.shared-block'],
    about: "a shared block's guest physical address that differs (x-ignore-shared)",
    needs: 'x-ignore-shared',
  },
  {
    id: 'channel-magic',
    pattern: /unknown channel magic/i,
    source: 'migration/migration.c migration_ioc_process_incoming',
    codes: ['stream.unknown-kind'],
    about: `a connection that starts with neither ${MAIN_STREAM_MAGIC.shown} nor the multifd magic`,
  },
  {
    id: 'device-load',
    pattern: /error while loading state for instance 0x([0-9a-f]+) of device '([^']+)'/i,
    source: 'migration/savevm.c qemu_loadvm_section_start_full / _part_end',
    codes: [
      'main.device-state',
      'main.bad-section',
      'main.footer-mismatch',
      'main.dirty-bitmap',
      'main.vfio',
      'main.iterative-unknown',
    ],
    about: 'a device section the destination could not load',
    needs: 'device-state',
  },
  {
    id: 'load-failed',
    pattern: /load of migration failed/i,
    source: 'migration/migration.c process_incoming_migration_co',
    codes: [],
    about: 'the destination gave up; the first error of the capture is where to look',
  },
];

export function matchDestinationError(text: string): { entry: DestinationError; groups: string[] } | undefined {
  for (const entry of DESTINATION_ERRORS) {
    const m = entry.pattern.exec(text);
    if (m) return { entry, groups: m.slice(1).filter((g): g is string => typeof g === 'string') };
  }
  return undefined;
}
