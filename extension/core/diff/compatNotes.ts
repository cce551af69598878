import type { CaptureSide, CompatNote } from './diffTypes';

/**
 * What a destination of one capture's release would make of the other capture's stream, where QEMU's history
 * says it matters (docs/wire/: sync-and-replay, multifd-channel; the known release bugs in
 * diagnostics/knownReleaseBugs.ts). Both directions are looked at: A's stream into B's destination, and B's
 * into A's.
 */

type Version = [number, number];

function parseVersion(text: string | undefined): Version | undefined {
  const m = /(\d+)\.(\d+)/.exec(text ?? '');
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

const at = (v: Version) => v[0] * 100 + v[1];

/** The destination's release as recorded, else the sender's (the recorder's driver runs the same on both ends). */
function destinationVersion(s: CaptureSide): Version | undefined {
  return parseVersion(s.destinationQemu ?? s.sourceQemu);
}

function machineVersion(s: CaptureSide): Version | undefined {
  return parseVersion(/-(\d+\.\d+)$/.exec(s.machineType ?? '')?.[1]);
}

/** The migration defaults a machine type's compat properties set (hw/core/machine.c, hw_compat_X_Y). */
export function machineTypeDefaults(machine: Version): Record<string, string> {
  const v = at(machine);
  return {
    'multifd-flush-after-each-section': v <= 800 ? 'on (hw_compat_8_0)' : 'off',
    'zero-page-detection': v <= 802 ? 'legacy (hw_compat_8_2)' : 'multifd',
    'send-switchover-start': v <= 902 ? 'off (hw_compat_9_2)' : 'on',
    'multifd-clean-tls-termination': v <= 902 ? 'false (hw_compat_9_2)' : 'true',
  };
}

export function compatNotes(a: CaptureSide, b: CaptureSide): CompatNote[] {
  const notes: CompatNote[] = [];
  const pairs: [string, CaptureSide, string, CaptureSide][] = [
    ['A', a, 'B', b],
    ['B', b, 'A', a],
  ];
  for (const [from, src, to, dst] of pairs) {
    if (src.syncPacketsWithPages === 0) continue;
    const v = destinationVersion(dst);
    const where = `${src.syncPacketsWithPages} SYNC packet(s) of ${from} carry pages, as senders up to 8.2 do`;
    if (!v)
      notes.push({
        topic: 'sync-with-pages',
        severity: 'warning',
        text: `${where}; ${to}'s release is not recorded: a 9.2 destination does not read pages on SYNC packets (QEMU issue 2720, fixed in 10.0 by b93d897ea2): it drops them and reads their payload as the next header, and the migration fails`,
      });
    else if (at(v) === 902)
      notes.push({
        topic: 'sync-with-pages',
        severity: 'warning',
        text: `${where}; a destination of ${to}'s release (${v.join('.')}) does not read pages on SYNC packets (QEMU issue 2720, d7e58f412c): it drops them and reads their payload as the next packet header, and the migration fails`,
      });
    else
      notes.push({
        topic: 'sync-with-pages',
        severity: 'info',
        text: `${where}; a destination of ${to}'s release (${v.join('.')}) reads them${at(v) >= 1000 ? ' (9.2 did not: QEMU issue 2720, fixed in 10.0 by b93d897ea2)' : ''}`,
      });
  }

  if (a.zeroPages !== b.zeroPages) {
    const how = (s: CaptureSide) =>
      s.zeroPages === 'multifd'
        ? "in the multifd packets' zero_pages list (zero-page-detection=multifd, 9.0+)"
        : s.zeroPages === 'main channel'
          ? 'as ZERO records on the main channel (the legacy path: zero-page-detection=legacy, and every release before 9.0)'
          : s.zeroPages === 'both'
            ? 'both in multifd packets and as ZERO records on the main channel'
            : 'not at all (none were found)';
    notes.push({
      topic: 'zero-pages',
      severity: 'info',
      text: `zero pages travel differently: A ${how(a)}; B ${how(b)}`,
    });
    for (const [from, src, to, dst] of pairs) {
      const v = destinationVersion(dst);
      if ((src.zeroPages === 'multifd' || src.zeroPages === 'both') && v && at(v) < 900)
        notes.push({
          topic: 'zero-pages',
          severity: 'warning',
          text: `a destination of ${to}'s release (${v.join('.')}) predates zero_pages in MultiFDPacket_t: it reads only the normal_pages offsets, so the zero pages ${from} lists in its packets are never cleared there (a page sent as data earlier keeps its old bytes)`,
        });
    }
  }

  if (a.syncMode && b.syncMode && a.syncMode !== b.syncMode) {
    const how = (s: CaptureSide) =>
      s.syncMode === 'eos'
        ? 'every RAM section (EOS): multifd-flush-after-each-section, 7.2, 8.0 and machine types up to 8.0'
        : 'each dirty-bitmap round (MULTIFD_FLUSH, 8.1+)';
    notes.push({
      topic: 'sync-mode',
      severity: 'info',
      text: `multifd channels are synced after ${how(a)} in A, after ${how(b)} in B: epochs are not comparable one for one`,
    });
  }

  const ma = machineVersion(a);
  const mb = machineVersion(b);
  if (ma && mb && at(ma) !== at(mb)) {
    const da = machineTypeDefaults(ma);
    const db = machineTypeDefaults(mb);
    const differing = Object.keys(da).filter((k) => da[k] !== db[k]);
    if (differing.length)
      notes.push({
        topic: 'machine-type',
        severity: 'info',
        text: `the machine types set different migration defaults (a machine type picks behaviour as much as the binary): ${differing.map((k) => `${k} ${da[k]} in A (${a.machineType}), ${db[k]} in B (${b.machineType})`).join('; ')}`,
      });
  }

  if ((a.compression ?? 'none') !== (b.compression ?? 'none'))
    notes.push({
      topic: 'compression',
      severity: 'info',
      text: `multifd-compression differs (A ${a.compression ?? 'none'}, B ${b.compression ?? 'none'}): a destination set for one refuses the other's packets ("flags received … flags expected …")`,
    });
  if (a.pageSize !== b.pageSize)
    notes.push({
      topic: 'page-size',
      severity: 'warning',
      text: `target page sizes differ (A ${a.pageSize}, B ${b.pageSize}): the streams are for different targets`,
    });
  return notes;
}
