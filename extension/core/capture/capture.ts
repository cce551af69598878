import type { ByteSource } from './fileAccessor';
import type { StreamBytes } from './streamBytes';
import type { Diagnostic } from '../diagnostics/diagnostic';
import type { CaptureInput } from './captureInput';

export type CaptureFormat = 'mfd' | 'raw-multifd' | 'raw-main' | 'pcap' | 'pcapng';

export const FORMAT_DESCRIPTIONS: Record<CaptureFormat, string> = {
  mfd: '.mfd capture container',
  'raw-multifd': 'raw multifd channel dump (no container)',
  'raw-main':
    'QEMU main migration stream, no container (a main-channel dump, a file:/exec: output, or the stream inside a libvirt image)',
  pcap: 'tcpdump capture (pcap), TCP reassembled',
  pcapng: 'tcpdump capture (pcapng), TCP reassembled',
};

export interface OpenInfo {
  client?: string;
  server?: string;
  label?: string;
  [key: string]: unknown;
}

/** One captured TCP connection: both directions, reassembled lazily. */
export interface CaptureStream {
  id: number;
  open?: OpenInfo;
  closeReason?: string;
  /** Source → destination bytes: what QEMU's destination read. */
  toDestination: StreamBytes;
  /** Destination → source bytes (the return path). Recorded, never decoded as migration data. */
  toSource: StreamBytes;
  openedAtNs?: number;
  closedAtNs?: number;
}

export interface CaptureNote {
  timestampNs: number;
  text: string;
  fileOffset: number;
}

export interface Capture {
  format: CaptureFormat;
  path: string;
  fileSize: number;
  source: ByteSource;
  /** META records merged in order (later keys override earlier ones). */
  meta: Record<string, unknown>;
  /** File offset of the META record that set each key of `meta` (for diagnostics about a META value). */
  metaRecordOffsets?: Record<string, number>;
  notes: CaptureNote[];
  streams: CaptureStream[];
  diagnostics: Diagnostic[];
  /** What kind of file this was (a file:/exec: stream, compressed, a libvirt image…) and how it was read. */
  input?: CaptureInput;
}
