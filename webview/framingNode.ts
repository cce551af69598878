import type { OffsetEntry, PayloadFramingInfo } from '../extension/shared/protocol';
import type { TreeNode } from './treeNode';
import { hexOffset, plural } from './format';

/**
 * The details tree's view of a qpl/uadk/qatzip payload: per normal page its compressed size from the be32 size
 * array ("raw page" where the size is the page size), or per qatzip gzip member its sizes and the pages it holds.
 * Each page node points at its offset[] entry, so Enter decodes that page in the bytes pane.
 */
export function framingNode(f: PayloadFramingInfo, normal: OffsetEntry[], ramblock: string): TreeNode | undefined {
  const problem: TreeNode[] = f.problem
    ? [
        {
          key: 'framing:problem',
          label: 'does not add up',
          value: f.problem,
          iconName: 'warning',
          cls: 'sev-warning',
          target: { key: 'framing:problem' },
        },
      ]
    : [];
  if (f.pages) {
    const raw = f.pages.filter((p) => p.raw).length;
    const compressed = f.pages.filter((p) => !p.raw);
    const bytes = compressed.reduce((n, p) => n + p.size, 0);
    const pages: TreeNode[] = f.pages.map((p) => {
      const o = normal[p.slot];
      const at = o ? ` at ${hexOffset(o.value)} in ${ramblock}` : '';
      return {
        key: `size:${p.slot}`,
        label: `size[${p.slot}]`,
        value: p.raw ? `raw page (${p.size} bytes)` : `${p.size} bytes`,
        meaning: `${p.raw ? 'sent uncompressed: the size equals the page size' : `${f.method === 'qpl' ? 'raw DEFLATE' : 'zlib stream'}, ${((100 * p.size) / f.pageSize).toFixed(1)}% of the page`}; payload bytes ${p.start}..${p.start + p.size - 1}; page${at}: Enter decodes it`,
        iconName: p.raw ? 'file-binary' : 'file-zip',
        cls: p.raw ? 'raw-page' : 'compressed-page',
        target: { key: `size:${p.slot}`, offset: o },
      };
    });
    return {
      key: 'framing',
      label: `${f.method} page sizes`,
      value: `${plural(compressed.length, 'compressed page')} (${bytes} bytes), ${plural(raw, 'raw page')}; be32 size array of ${f.sizeArrayLength ?? 0} bytes at payload byte 0`,
      iconName: 'list-ordered',
      target: { key: 'framing' },
      children: [...problem, ...pages],
    };
  }
  if (f.members) {
    const members: TreeNode[] = f.members.map((m, i) => {
      const o = normal[m.firstSlot];
      return {
        key: `member:${i}`,
        label: `gzip member ${i}`,
        value: `${m.length} bytes → ${m.srcSize} bytes, pages ${m.firstSlot}${m.lastSlot !== m.firstSlot ? `–${m.lastSlot}` : ''}`,
        meaning: `QZ extra field: src_sz ${m.srcSize}, dest_sz ${m.destSize}; payload bytes ${m.start}..${m.start + m.length - 1}; Enter decodes its first page`,
        iconName: 'file-zip',
        cls: 'compressed-page',
        target: { key: `member:${i}`, offset: o },
      };
    });
    const total = f.members.reduce((n, m) => n + m.length, 0);
    return {
      key: 'framing',
      label: 'qatzip gzip members',
      value: `${plural(f.members.length, 'member')}, ${total} bytes for ${plural(normal.length, 'page')}`,
      iconName: 'list-ordered',
      target: { key: 'framing' },
      children: [...problem, ...members],
    };
  }
  return problem.length
    ? {
        key: 'framing',
        label: `${f.method} payload`,
        value: f.problem,
        iconName: 'warning',
        target: { key: 'framing' },
        children: problem,
      }
    : undefined;
}
