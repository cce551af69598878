/**
 * The packet list's column layout: which columns show and how wide, from the defaults and the user's choice
 * (kept in the webview state). Pure: the list applies it as one CSS grid template shared by header and rows.
 */
import type { ListColumnPrefs } from '../extension/shared/protocol';

export interface ColumnDefault {
  key: string;
  /** Default width in CSS pixels. */
  width: number;
  /** Takes a share of the room left over when the list is wider than its columns (until resized by hand). */
  grow?: boolean;
}

export interface ColumnTrack {
  key: string;
  width: number;
  grow: boolean;
}

/** Narrowest a column may be dragged to when its header is not measured yet. */
export const MIN_COLUMN_WIDTH = 40;

/** The visible columns in list order with their widths: never narrower than `minWidths` (header label + sort icon). */
export function columnTracks(
  defaults: readonly ColumnDefault[],
  prefs: ListColumnPrefs | undefined,
  minWidths: ReadonlyMap<string, number> = new Map(),
): ColumnTrack[] {
  const hidden = new Set(prefs?.hidden ?? []);
  // Hiding every column would leave nothing to click to bring one back: the first one then stays.
  const shown = defaults.filter((c) => !hidden.has(c.key));
  const visible = shown.length ? shown : defaults.slice(0, 1);
  return visible.map((c) => {
    const set = prefs?.widths?.[c.key];
    const min = Math.max(MIN_COLUMN_WIDTH, minWidths.get(c.key) ?? 0);
    const width = Math.max(min, Math.round(typeof set === 'number' && set > 0 ? set : c.width));
    return { key: c.key, width, grow: !!c.grow && set === undefined };
  });
}

/** The CSS grid template of the tracks: fixed pixels, or at least that and a share of the spare room. */
export function gridTemplate(tracks: readonly ColumnTrack[]): string {
  return tracks.map((t) => (t.grow ? `minmax(${t.width}px, 1fr)` : `${t.width}px`)).join(' ');
}

/** The width the columns need: past it the list scrolls horizontally, header with the rows. */
export function tracksWidth(tracks: readonly ColumnTrack[]): number {
  return tracks.reduce((n, t) => n + t.width, 0);
}

/** Prefs with one column shown or hidden (at least one column stays visible). */
export function withColumnHidden(
  defaults: readonly ColumnDefault[],
  prefs: ListColumnPrefs | undefined,
  key: string,
  hide: boolean,
): ListColumnPrefs {
  const hidden = new Set(prefs?.hidden ?? []);
  if (hide) hidden.add(key);
  else hidden.delete(key);
  if (defaults.every((c) => hidden.has(c.key))) hidden.delete(key);
  return { ...prefs, hidden: defaults.map((c) => c.key).filter((k) => hidden.has(k)) };
}

/** Prefs with one column resized by hand. */
export function withColumnWidth(prefs: ListColumnPrefs | undefined, key: string, width: number): ListColumnPrefs {
  return { ...prefs, widths: { ...prefs?.widths, [key]: Math.max(MIN_COLUMN_WIDTH, Math.round(width)) } };
}
