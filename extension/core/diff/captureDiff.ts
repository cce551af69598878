import type { CaptureAnalysis } from '../analysisTypes';
import { compatNotes } from './compatNotes';
import { diffDevices } from './deviceDiff';
import type { CaptureDiff } from './diffTypes';
import { diffRam, type RamDiffOptions } from './ramDiff';
import {
  captureSide,
  ramblockDiff,
  settingsOf,
  streamCounts,
  streamSummaries,
  diffValues,
  summaryDiff,
} from './settingsDiff';

export interface DiffOptions extends RamDiffOptions {
  /** Skip the replays (settings, streams, blocks and devices only). */
  noRam?: boolean;
}

/**
 * Two analysed captures side by side: releases, machine types, capabilities and parameters, streams, ramblocks,
 * device state, and, after replaying both, the RAM pages that differ with their writers in each; plus what QEMU's
 * history says a destination of one release would make of the other's stream.
 */
export async function diffCaptures(
  a: CaptureAnalysis,
  b: CaptureAnalysis,
  options: DiffOptions = {},
): Promise<CaptureDiff> {
  const sa = captureSide(a);
  const sb = captureSide(b);
  const setA = settingsOf(a);
  const setB = settingsOf(b);
  const devices = await diffDevices(a, b);
  const ram = options.noRam ? undefined : await diffRam(a, b, options);
  return {
    a: sa,
    b: sb,
    summary: summaryDiff(sa, sb),
    capabilities: diffValues(setA.capabilities, setB.capabilities),
    parameters: diffValues(setA.parameters, setB.parameters),
    streams: { a: streamSummaries(a), b: streamSummaries(b), counts: streamCounts(a, b) },
    ramblocks: ramblockDiff(a, b),
    devices,
    ...(ram ? { ram } : {}),
    notes: compatNotes(sa, sb),
  };
}
