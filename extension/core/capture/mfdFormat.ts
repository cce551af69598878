/** The `.mfd` container, version 1 (docs/mfd-capture-format.md). Container integers are little-endian. */

export const MFD_MAGIC = new Uint8Array([0x51, 0x4d, 0x46, 0x44, 0x43, 0x41, 0x50, 0x0a]); // "QMFDCAP\n"
export const MFD_VERSION = 1;
export const MFD_FILE_HEADER_LENGTH = 16;
export const MFD_RECORD_HEADER_LENGTH = 16;

export enum RecordType {
  Meta = 1,
  Open = 2,
  Data = 3,
  Close = 4,
  Note = 5,
}

/** Record flags bit 0: the bytes travel destination → source (the return path). */
export const FLAG_RETURN_PATH = 0x01;

export type Direction = 'toDestination' | 'toSource';

export interface RecordHeader {
  type: number;
  flags: number;
  stream: number;
  length: number;
  timestampNs: number;
}

export function startsWithMfdMagic(b: Uint8Array): boolean {
  if (b.length < MFD_MAGIC.length) return false;
  for (let i = 0; i < MFD_MAGIC.length; i++) if (b[i] !== MFD_MAGIC[i]) return false;
  return true;
}
