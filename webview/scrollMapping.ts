/**
 * Where a virtualized list is scrolled to. Browsers cap an element's height, so a list taller than `maxSpacer`
 * pixels gets a shorter spacer and its scroll range is mapped onto the list's own. The mapping is between the
 * two scroll ranges (spacer − viewport onto rows × rowHeight − viewport), not between the two heights: mapping
 * the heights leaves the last viewport's worth of rows out of reach, which for a million rows is dozens of rows.
 */
export interface ScrollGeometry {
  rowCount: number;
  rowHeight: number;
  viewportHeight: number;
  maxSpacer: number;
}

export function listHeight(g: ScrollGeometry): number {
  return g.rowCount * g.rowHeight;
}

export function spacerHeight(g: ScrollGeometry): number {
  return Math.min(g.maxSpacer, listHeight(g));
}

/** The list's scroll range over the spacer's, 1 when the spacer is not capped. */
function ratio(g: ScrollGeometry): number {
  const spacerRange = spacerHeight(g) - g.viewportHeight;
  const listRange = listHeight(g) - g.viewportHeight;
  return spacerRange > 0 && listRange > spacerRange ? listRange / spacerRange : 1;
}

/** The pixel of the whole list at the viewport's top, for the viewport's scrollTop. */
export function listOffsetAt(scrollTop: number, g: ScrollGeometry): number {
  const max = Math.max(0, listHeight(g) - g.viewportHeight);
  return Math.min(max, Math.max(0, scrollTop * ratio(g)));
}

/** The scrollTop that puts the list's pixel `listOffset` at the viewport's top. */
export function scrollTopFor(listOffset: number, g: ScrollGeometry): number {
  const max = Math.max(0, spacerHeight(g) - g.viewportHeight);
  return Math.min(max, Math.max(0, listOffset / ratio(g)));
}

/** The first row any part of which is in view. */
export function firstVisibleRow(scrollTop: number, g: ScrollGeometry): number {
  return Math.floor(listOffsetAt(scrollTop, g) / g.rowHeight);
}
