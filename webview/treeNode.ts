import type { DiagnosticInfo, OffsetEntry } from '../extension/shared/protocol';

/** What a tree node points at in the header, and what selecting it means. */
export interface DetailTarget {
  key: string;
  /** Byte range in the header [start, end). */
  range?: [number, number];
  /** A page offset entry (offset[slot]). */
  offset?: OffsetEntry;
  field?: string;
  diagnostic?: DiagnosticInfo;
}

export interface TreeNode {
  key: string;
  label: string;
  value?: string;
  meaning?: string;
  iconName?: string;
  cls?: string;
  target: DetailTarget;
  children?: TreeNode[];
}
