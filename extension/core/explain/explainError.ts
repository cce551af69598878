import type { CaptureAnalysis } from '../analysisTypes';
import type { Diagnostic } from '../diagnostics/diagnostic';
import { DESTINATION_ERRORS, matchDestinationError, type DestinationError } from './destinationErrors';

/**
 * `mfd explain "<QEMU error text>" <capture>`: which check of the destination's the message comes from, and where in
 * this capture that check fires (the diagnostics of ours that mark the same bytes), or why it cannot fire here.
 */

export interface Explanation {
  /** The destination error the text was recognised as; undefined when it is none QEMU's receivers print. */
  error?: { id: string; source: string; about: string };
  verdict: 'fires' | 'cannot-fire' | 'not-found' | 'unrecognised';
  /** One or two sentences, for the terminal. */
  summary: string;
  /** Where the check fires, first first. */
  at: Diagnostic[];
}

export function explainDestinationError(text: string, analysis: CaptureAnalysis): Explanation {
  const m = matchDestinationError(text);
  if (!m) {
    return {
      verdict: 'unrecognised',
      summary: `not a message of QEMU's migration receivers that this tool knows; it knows: ${DESTINATION_ERRORS.map((e) => e.id).join(', ')}`,
      at: [],
    };
  }
  const { entry, groups } = m;
  const error = { id: entry.id, source: entry.source, about: entry.about };
  const codes = new Set<string>(entry.codes);
  // Info notes (e.g. where decoding of device state stopped) say what was not read, not that a check failed.
  let at = analysis.diagnostics.filter((d) => codes.has(d.code) && d.severity !== 'info');
  if (entry.id === 'load-failed') at = analysis.diagnostics.filter((d) => d.severity === 'error').slice(0, 1);
  if (entry.id === 'device-load' && groups.length >= 2) {
    const [instanceHex, device] = groups;
    const named = at.filter((d) => d.message.includes(`"${device}"`));
    const section = analysis.main?.sections.find(
      (s) => s.idstr === device && (s.instanceId ?? 0) === parseInt(instanceHex, 16),
    );
    if (named.length) at = named;
    else if (section) {
      return {
        error,
        verdict: 'not-found',
        summary: `section "${device}" instance ${parseInt(instanceHex, 16)} starts at stream offset ${section.streamOffset} of the main channel (stream ${analysis.main?.streamId}); its bytes decode cleanly here, so the destination refused a value (a device model or version mismatch), not the framing`,
        at: [],
      };
    }
  }
  if (entry.id === 'unknown-ramblock' && groups[0]) {
    const block = groups[0];
    const named = at.filter((d) => d.message.includes(block));
    if (named.length) at = named;
    else if (analysis.ramblocks.some((b) => b.name === block)) {
      return {
        error,
        verdict: 'not-found',
        summary: `the capture announces ramblock "${block}" in MEM_SIZE and sends its pages: the destination lacks it, so its machine or -m/-device options differ from the source's (compare the recorded command lines: mfd inspect)`,
        at: [],
      };
    }
  }
  if (at.length) {
    const first = at[0];
    return {
      error,
      verdict: 'fires',
      summary: `${entry.about}: it fires in this capture ${at.length === 1 ? 'once' : `${at.length} times`}; first at ${where(first)}: ${first.message}`,
      at,
    };
  }
  const why = cannotFire(entry, analysis);
  return {
    error,
    verdict: why ? 'cannot-fire' : 'not-found',
    summary:
      why ??
      `${entry.about}: nothing in this capture trips that check (${entry.source}); the error came from bytes this capture does not hold, or from the destination's own configuration`,
    at: [],
  };
}

function where(d: Diagnostic): string {
  const l = d.location;
  const parts = [
    l.stream !== undefined ? `stream ${l.stream}` : undefined,
    l.packet !== undefined ? `packet ${l.packet}` : undefined,
    l.record !== undefined ? `record ${l.record}` : undefined,
    l.streamOffset !== undefined ? `stream offset ${l.streamOffset}` : undefined,
    l.fileOffset !== undefined ? `file offset ${l.fileOffset}` : undefined,
  ];
  return parts.filter(Boolean).join(', ');
}

function cannotFire(entry: DestinationError, a: CaptureAnalysis): string | undefined {
  switch (entry.needs) {
    case 'multifd':
      return a.multifd.length === 0
        ? `${entry.about}: it cannot fire on this capture, which has no multifd channel`
        : undefined;
    case 'main':
      return a.main ? undefined : `${entry.about}: it cannot fire on this capture, which has no main channel`;
    case 'postcopy':
      return a.main?.sections.some((s) => s.idstr === 'POSTCOPY_ADVISE')
        ? undefined
        : `${entry.about}: it cannot fire on this capture: MEM_SIZE carries page sizes only after POSTCOPY_ADVISE, which this main channel never sends`;
    case 'x-ignore-shared':
      return a.main?.configuration?.capabilities?.includes('x-ignore-shared')
        ? undefined
        : `${entry.about}: it cannot fire on this capture: GPAs travel only with x-ignore-shared, which its configuration section does not name`;
    default:
      return undefined;
  }
}
