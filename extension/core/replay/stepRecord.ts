import type { CaptureAnalysis } from '../analysisTypes';
import type { MainRecordTable } from '../mainchannel/mainChannelIndex';
import { WriterKind } from './schedule';

/** The RAM record a schedule entry applies: a main-channel record or one of the postcopy preempt channel. */
export interface StepRecord {
  records: MainRecordTable;
  row: number;
  streamId: number;
  via: 'main' | 'preempt';
}

/** The record behind a Main or Preempt schedule entry; undefined for packets and mapped-ram windows. */
export function recordOfStep(a: CaptureAnalysis, step: number): StepRecord | undefined {
  const s = a.schedule;
  const row = s.row[step];
  if (s.kind[step] === WriterKind.Main && a.main)
    return { records: a.main.records, row, streamId: a.main.streamId, via: 'main' };
  const p = a.postcopy?.preempt;
  if (s.kind[step] === WriterKind.Preempt && p)
    return { records: p.records, row, streamId: p.streamId, via: 'preempt' };
  return undefined;
}
