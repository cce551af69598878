import type { CaptureAnalysis } from './analysisTypes';

/** What `mfd inspect` says about the file itself: its kind, how it was read, and what of it could not be. */
export interface InputReport {
  /** mfd, pcap, pcapng, raw-multifd, file-stream, compressed-stream, mapped-ram, libvirt-save. */
  kind: string;
  description: string;
  streamOffset?: number;
  notes: string[];
  compression?: { kind: string; compressedBytes: number; decompressedBytes: number; decoder: string; tempDir: string };
  libvirt?: {
    version: number;
    format: string;
    formatNumber: number;
    dataLen: number;
    wasRunning: boolean;
    complete: boolean;
    littleEndian: boolean;
    cookieOffset: number;
    streamOffset: number;
    domainXml: string;
    cookie?: string;
  };
  mappedRam?: {
    interrupted: boolean;
    blocks: {
      name: string;
      pageSize: number;
      pages: number;
      present: number;
      shared: boolean;
      gpa?: number;
      bitmapFileOffset?: number;
      pagesFileOffset?: number;
      problem?: string;
    }[];
  };
}

export function buildInputReport(a: CaptureAnalysis): InputReport {
  const c = a.capture;
  const input = c.input;
  const m = a.mappedRam;
  const kind = input?.kind === 'libvirt-save' ? 'libvirt-save' : m ? 'mapped-ram' : (input?.kind ?? c.format);
  const notes = [...(input?.notes ?? [])];
  let description = input?.description ?? c.format;
  if (m) {
    description += `; a mapped-ram image (migrate file: with capability mapped-ram, written with or without multifd: the file does not say which), ${m.blocks.length} block(s), pages read in place where each block's bitmap marks them`;
  }
  const r: InputReport = { kind, description, streamOffset: input?.streamOffset, notes };
  if (input?.compression) r.compression = { ...input.compression };
  if (input?.libvirt) {
    const h = input.libvirt.header;
    r.libvirt = { ...h, domainXml: input.libvirt.domainXml, cookie: input.libvirt.cookie };
  }
  if (m) {
    r.mappedRam = {
      interrupted: m.interrupted,
      blocks: m.blocks.map((b) => ({
        name: b.name,
        pageSize: b.pageSize,
        pages: b.pages,
        present: b.present,
        shared: b.shared,
        gpa: b.gpa,
        bitmapFileOffset: b.bitmapFileOffset,
        pagesFileOffset: b.pagesFileOffset,
        problem: b.problem,
      })),
    };
  }
  return r;
}

/** The lines `mfd inspect` prints for the input (the domain XML in full: it is what libvirt restores). */
export function inputLines(r: InputReport): string[] {
  const lines = [`input: ${r.kind}: ${r.description}`];
  for (const n of r.notes) lines.push(`  note: ${n}`);
  if (r.libvirt) {
    const l = r.libvirt;
    lines.push(
      `  libvirt header: magic ${l.complete ? 'LibvirtQemudSave' : 'LibvirtQemudPart (incomplete save)'}, version ${l.version}, data_len ${l.dataLen}, was_running ${l.wasRunning ? 1 : 0}, format ${l.formatNumber} (${l.format}), cookieOffset ${l.cookieOffset}; QEMU stream at file offset ${l.streamOffset}`,
    );
    lines.push('  domain XML:');
    for (const x of l.domainXml.split('\n')) lines.push('    ' + x);
    if (l.cookie) lines.push(`  cookie: ${l.cookie.replace(/\s+/g, ' ').trim()}`);
  }
  if (r.mappedRam) {
    lines.push(`  mapped-ram blocks${r.mappedRam.interrupted ? ' (every bitmap all zero: an interrupted save)' : ''}:`);
    for (const b of r.mappedRam.blocks) {
      if (b.shared)
        lines.push(
          `    ${b.name}: shared (x-ignore-shared)${b.gpa !== undefined ? `, GPA 0x${b.gpa.toString(16)}` : ''}: not in the file`,
        );
      else if (b.problem) lines.push(`    ${b.name}: not read: ${b.problem}`);
      else
        lines.push(
          `    ${b.name}: ${b.present} of ${b.pages} pages present (page size ${b.pageSize}), bitmap at file offset ${b.bitmapFileOffset}, pages from file offset ${b.pagesFileOffset}${b.gpa !== undefined ? `, GPA 0x${b.gpa.toString(16)}` : ''}`,
        );
    }
  }
  return lines;
}
