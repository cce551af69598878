import type { OpenOptions } from './capture/openCapture';
import type { Capture, CaptureStream } from './capture/capture';
import type { StreamBytes } from './capture/streamBytes';
import type { Diagnostic } from './diagnostics/diagnostic';
import type { MultifdStreamIndex } from './multifd/indexMultifdStream';
import type { CompressionMethod } from './multifd/constants';
import type { versionRange } from './multifd/versionHints';
import type { MainChannelIndex, RamBlockInfo } from './mainchannel/mainChannelIndex';
import type { ReplaySchedule } from './replay/schedule';
import type { StringTable } from './util/growableArrays';
import type { MappedRamIndex } from './capture/mappedRam/mappedRamIndex';
import type { PreemptChannelIndex } from './postcopy/preemptChannel';

/**
 * What an analysed capture looks like, for the modules that consume one (replay, send, the debugger, the
 * editor, the CLI). A leaf: it imports types only, so a consumer does not pull in the analysis pipeline
 * (analysis.ts) that produces it.
 */

/** 'preempt': the postcopy preempt channel (no magic; told apart by when it connects, see postcopy/preemptChannel.ts). */
export type StreamKind = 'main' | 'multifd' | 'preempt' | 'unknown' | 'empty';
export type PageSizeSource = 'option' | 'meta' | 'vmdesc' | 'target-page-bits' | 'multifd' | 'default';

export interface StreamAnalysis {
  id: number;
  kind: StreamKind;
  stream: CaptureStream;
  multifd?: MultifdStreamIndex;
  main?: MainChannelIndex;
  preempt?: PreemptChannelIndex;
}

/** Everything the CLI, the editor, replay and the debugger need to know about a capture. */
export interface CaptureAnalysis {
  capture: Capture;
  pageSize: number;
  pageSizeSource: PageSizeSource;
  streams: StreamAnalysis[];
  main?: MainChannelIndex;
  /** Multifd streams, in stream-id order. */
  multifd: MultifdStreamIndex[];
  ramblocks: RamBlockInfo[];
  /** The compression the capture's parameters name, else what the packets show. */
  compression?: CompressionMethod;
  versionHint: ReturnType<typeof versionRange>;
  /** A mapped-ram image (file: migration with capability mapped-ram): each block's bitmap and page region. */
  mappedRam?: MappedRamIndex;
  /** Postcopy: the preempt channel's records, when the capture has one. */
  postcopy?: { preempt?: PreemptChannelIndex };
  /** Page writes in replay order (epoch, then packet_num). */
  schedule: ReplaySchedule;
  names: StringTable;
  /** Diagnostics kept (at most 1000 per code, so a broken capture cannot exhaust memory). */
  diagnostics: Diagnostic[];
  /** How many of each code were raised, including those past the cap. */
  diagnosticTotals: Record<string, number>;
}

export interface AnalyzeOptions {
  /** Target page size override (the CLI's --page-size, the editor setting). */
  pageSize?: number;
  /** Which migration of a multi-migration input (a pcap) to open. */
  open?: OpenOptions;
}

/** The source → destination bytes of a capture stream (what QEMU's destination read). */
export function sourceBytes(analysis: CaptureAnalysis, streamId: number): StreamBytes {
  const s = analysis.streams.find((x) => x.id === streamId);
  if (!s) throw new Error(`no stream ${streamId} in ${analysis.capture.path}`);
  return s.stream.toDestination;
}
