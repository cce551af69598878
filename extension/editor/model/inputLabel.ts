import type { CaptureReport } from '../../core/captureReport';

/** The input kind in a few words, for the summary bar: `mfd inspect` gives the long description. */
export function inputLabel(r: Pick<CaptureReport, 'format' | 'input'>): string {
  if (r.format === 'pcap' || r.format === 'pcapng') return `tcpdump capture (${r.format})`;
  switch (r.input.kind) {
    case 'mfd':
      return '.mfd capture';
    case 'raw-dump':
    case 'raw-multifd':
      return 'raw multifd channel dump';
    case 'file-stream':
      return 'migration stream (file: or exec:)';
    case 'compressed-stream':
      return `exec: output (${r.input.compression?.kind ?? 'compressed'})`;
    case 'libvirt-save':
      return `libvirt save image${r.input.libvirt ? ` (${r.input.libvirt.format})` : ''}`;
    case 'mapped-ram':
      return 'mapped-ram image';
    case 'raw-main':
      return 'raw main-channel dump';
    default:
      return r.input.kind;
  }
}

interface PcapMeta {
  migrations?: { index: number; server: string; startTime?: string; connections: number; bytes: number }[];
  chosen?: { index: number; server: string };
}

/** "2 of 3: to 127.0.0.1:4444, started …, 3 connections" when a tcpdump file holds several migrations. */
export function migrationLabel(meta: Record<string, unknown>): string | undefined {
  const pcap = meta.pcap as PcapMeta | undefined;
  const all = pcap?.migrations ?? [];
  const chosen = pcap?.chosen && all.find((m) => m.index === pcap.chosen!.index);
  if (!chosen || all.length < 2) return undefined;
  return `${chosen.index} of ${all.length}: to ${chosen.server}${chosen.startTime ? `, started ${chosen.startTime}` : ''}, ${chosen.connections} connection${chosen.connections === 1 ? '' : 's'}`;
}
