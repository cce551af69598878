import type { LibvirtSaveHeader } from './libvirt/libvirtHeader';

/** What kind of file a capture was opened from, beyond its format: shown by `mfd inspect` and the editor. */
export type InputKind = 'mfd' | 'raw-dump' | 'file-stream' | 'compressed-stream' | 'libvirt-save' | 'pcap';

export interface CaptureInput {
  kind: InputKind;
  /** One line: what the file is and how it was read. */
  description: string;
  /** File offset where the QEMU stream starts (`file:path,offset=N`, libvirt's 92 + data_len). */
  streamOffset?: number;
  compression?: {
    kind: 'gzip' | 'zstd';
    compressedBytes: number;
    decompressedBytes: number;
    decoder: string;
    tempDir: string;
  };
  libvirt?: { header: LibvirtSaveHeader; domainXml: string; cookie?: string };
  /** Things the reader wants the user to know (a temporary file, an incomplete save, a format it cannot read). */
  notes: string[];
}
