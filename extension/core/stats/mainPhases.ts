import type { StreamBytes } from '../capture/streamBytes';
import type { MainChannelIndex } from '../mainchannel/mainChannelTypes';
import { MainRecordKind } from '../mainchannel/recordTable';
import type { SectionList, SectionListRow } from '../mainchannel/sectionList';
import type { Position } from './statsAxis';
import type { DerivedStats, EpochStats, Phase } from './statsTypes';

/**
 * The main channel's phases, read off its top-level records (what `mfd sections` lists), contiguous from the
 * first byte to the last:
 * - setup: the file header, the configuration and every START section (ram's carries MEM_SIZE);
 * - iterations: the PART sections, one iteration per sync round (the PARTs between two MULTIFD_FLUSH records,
 *   or between two EOS where QEMU syncs multifd after every section: 7.2, 8.0);
 * - switchover: from the first record after the last precopy PART (SWITCHOVER_START, the END sections with
 *   the final RAM pass, then the device state as FULL sections) to QEMU_VM_EOF; with postcopy, from the last
 *   precopy PART to POSTCOPY_RUN (discard commands, the PACKAGED device state);
 * - postcopy: after POSTCOPY_RUN, the RAM sent while the destination runs, to QEMU_VM_EOF;
 * - end: QEMU_VM_EOF and the VM description.
 */
export function mainPhases(
  list: SectionList,
  main: MainChannelIndex,
  stream: StreamBytes,
  x: Position,
): { phases: Phase[]; notes: string[] } {
  const rows = list.rows;
  const notes: string[] = [];
  const phases: Phase[] = [];
  if (!rows.length) return { phases, notes };
  const xAt = (offset: number) => x(stream, offset);
  const phase = (p: Omit<Phase, 'start' | 'end' | 'records'>): Phase | undefined => {
    if (p.endOffset <= p.startOffset) return undefined;
    const records = rows.filter((r) => r.start >= p.startOffset && r.start < p.endOffset).length;
    const out: Phase = { ...p, start: xAt(p.startOffset), end: xAt(p.endOffset - 1), records };
    phases.push(out);
    return out;
  };
  const isPart = (r: SectionListRow) => r.kind === 'PART';
  const eofIdx = rows.findIndex((r) => r.kind === 'EOF');
  // Postcopy: the switch is a PACKAGED blob (POSTCOPY_LISTEN, the device state, POSTCOPY_RUN). Without a VM
  // description the walk cannot delimit the device state inside it and skips to its end, so POSTCOPY_RUN may not
  // be a row of its own: the package's end is where it is.
  const pkgIdx = rows.findIndex((r) => r.command?.name === 'PACKAGED');
  const runIdx = rows.findIndex((r) => r.command?.name === 'POSTCOPY_RUN');
  const packageLength = pkgIdx >= 0 ? rows[pkgIdx].command?.arguments.packageLength : undefined;
  const packageEnd = typeof packageLength === 'number' ? rows[pkgIdx].end + packageLength : undefined;
  const postcopy = runIdx >= 0 || packageEnd !== undefined;
  const precopyLimit = pkgIdx >= 0 ? pkgIdx : runIdx >= 0 ? runIdx : eofIdx >= 0 ? eofIdx : rows.length;
  const firstPart = rows.findIndex(isPart);
  let lastPart = -1;
  for (let i = 0; i < precopyLimit; i++) if (isPart(rows[i])) lastPart = i;
  // The switchover starts after the last precopy PART, or, with none, at the first record of the completion.
  let switchIdx = lastPart >= 0 ? lastPart + 1 : rows.findIndex((r) => isCompletion(r));
  if (switchIdx >= rows.length) switchIdx = -1;
  const setupEnd = firstPart >= 0 && firstPart < precopyLimit ? firstPart : switchIdx;
  const bytes = list.bytes;
  const offsetOf = (i: number) => (i >= 0 && i < rows.length ? rows[i].start : bytes);

  phase({ name: 'setup', startOffset: 0, endOffset: setupEnd >= 0 ? offsetOf(setupEnd) : bytes });

  // Iterations: PARTs grouped by the sync markers before them; each runs to the next group's first PART.
  const markers = syncMarkerOffsets(main);
  const groups: { first: number; key: number }[] = [];
  if (firstPart >= 0)
    for (let i = firstPart; i <= lastPart; i++) {
      if (!isPart(rows[i])) continue;
      const key = countBelow(markers, rows[i].start);
      if (!groups.length || groups[groups.length - 1].key !== key) groups.push({ first: i, key });
    }
  const iterationsEnd = switchIdx >= 0 ? offsetOf(switchIdx) : bytes;
  groups.forEach((g, n) =>
    phase({
      name: 'iteration',
      index: n + 1,
      startOffset: rows[g.first].start,
      endOffset: n + 1 < groups.length ? rows[groups[n + 1].first].start : iterationsEnd,
      epoch: g.key,
    }),
  );

  if (switchIdx < 0) {
    notes.push('the main channel ends before the switchover: no switchover, downtime or end phase');
    return { phases, notes };
  }
  const precopyEnd = eofIdx >= 0 ? rows[eofIdx].start : bytes;
  const switchEnd = !postcopy ? precopyEnd : runIdx >= 0 ? rows[runIdx].end : Math.min(packageEnd!, bytes);
  const sw = phase({ name: 'switchover', startOffset: offsetOf(switchIdx), endOffset: switchEnd });
  if (sw) {
    sw.epoch = countBelow(markers, sw.startOffset);
    const full = rows.filter((r) => r.kind === 'FULL' && r.start >= sw.startOffset && r.start < sw.endOffset);
    if (full.length) sw.deviceState = { startOffset: full[0].start, start: xAt(full[0].start), sections: full.length };
  }
  if (postcopy && runIdx < 0)
    notes.push(
      "the postcopy package's device state is not delimited without a VM description: the switchover ends at the package's end (POSTCOPY_RUN is its last command), and its FULL sections are not all counted",
    );
  if (postcopy)
    phase({ name: 'postcopy', startOffset: switchEnd, endOffset: eofIdx >= 0 ? rows[eofIdx].start : bytes });
  if (eofIdx >= 0) phase({ name: 'end', startOffset: rows[eofIdx].start, endOffset: bytes });
  else notes.push('the main channel has no QEMU_VM_EOF: the last phase runs to where it stops');
  return { phases, notes };
}

/**
 * Derived figures: total time over every stream, the downtime as the switchover shows it. The main channel is
 * buffered by the source (QEMUFile), so the final pass's multifd packets can arrive before the END section's
 * bytes: the downtime starts at whichever comes first, the switchover's first record or the first packet of the
 * epoch it opens.
 */
export function derivedStats(
  phases: Phase[],
  epochs: EpochStats[],
  first: number,
  last: number,
  timed: boolean,
): DerivedStats {
  const out: DerivedStats = { total: last - first, iterations: phases.filter((p) => p.name === 'iteration').length };
  const sw = phases.find((p) => p.name === 'switchover');
  if (!timed || !sw) return out;
  // Precopy: until the EOF byte (the end phase's start); postcopy: until POSTCOPY_RUN, the switchover's end.
  const next = phases[phases.indexOf(sw) + 1];
  const end = next && next.name === 'end' ? next.start : sw.end;
  let start = sw.start;
  for (const e of epochs)
    if (e.epoch >= (sw.epoch ?? Infinity) && e.start !== undefined) start = Math.min(start, e.start);
  const deviceStart = sw.deviceState?.start ?? end;
  out.downtime = {
    start,
    end,
    duration: end - start,
    lastIteration: deviceStart - start,
    deviceState: end - deviceStart,
  };
  return out;
}

function isCompletion(r: SectionListRow): boolean {
  return (
    r.kind === 'END' ||
    r.kind === 'FULL' ||
    ['SWITCHOVER_START', 'POSTCOPY_RAM_DISCARD', 'PACKAGED', 'POSTCOPY_LISTEN'].includes(r.command?.name ?? '')
  );
}

/** Stream offsets of the records that end an epoch on the main channel (MULTIFD_FLUSH, or EOS in per-section mode). */
function syncMarkerOffsets(main: MainChannelIndex): number[] {
  const kind = main.syncMode === 'flush' ? MainRecordKind.Flush : MainRecordKind.Eos;
  const out: number[] = [];
  for (let i = 0; i < main.records.length; i++)
    if (main.records.kind.get(i) === kind) out.push(main.records.streamPos.get(i));
  return out;
}

function countBelow(sorted: number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
