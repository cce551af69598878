import type { DiagnosticSink } from '../diagnostics/diagnostic';
import type { StreamBytes } from '../capture/streamBytes';
import type { MainChannelIndex } from '../mainchannel/mainChannelIndex';
import type { PreemptChannelIndex } from './preemptChannel';
import { readCommandAt } from '../mainchannel/commandArguments';
import { postcopySwitchOffset } from './pageRequestsOfCapture';
import { postcopyAdvised } from './preemptChannel';

/**
 * A capture that switched to postcopy (PACKAGED on the main channel) but ends before the migration did: the
 * destination then holds only the pages sent so far, and its guest already runs on the package's device state,
 * so nothing after the cut can be rebuilt. One error per stream that stops early, naming where and what is
 * missing: the package itself (POSTCOPY_RUN never reached the destination), the main channel's QEMU_VM_EOF,
 * or the preempt channel's end.
 */
export async function checkPostcopyCompletion(input: {
  main: MainChannelIndex;
  mainStream: StreamBytes;
  preempt?: PreemptChannelIndex;
  preemptStream?: StreamBytes;
  sink: DiagnosticSink;
}): Promise<void> {
  const { main, mainStream, preempt, preemptStream, sink } = input;
  const where = (stream: StreamBytes, offset: number) =>
    `stream offset ${offset} (file offset ${endFileOffset(stream, offset)})`;
  const switchAt = postcopySwitchOffset(main);
  if (switchAt < 0) {
    // Advised but cut before the switch: whether QEMU went on to postcopy is unknown, and no POSTCOPY_RUN is there.
    if (postcopyAdvised(main) && !main.complete)
      sink.report(
        'postcopy.incomplete',
        `the main channel (stream ${main.streamId}) advised postcopy (POSTCOPY_ADVISE) and ends at ${where(mainStream, main.bytes)} before QEMU_VM_EOF, with no PACKAGED and no POSTCOPY_RUN seen: the migration's end, precopy or postcopy, is not in the capture`,
        { stream: main.streamId, streamOffset: main.bytes, fileOffset: endFileOffset(mainStream, main.bytes) },
      );
    return;
  }
  const packaged = await readCommandAt(mainStream, switchAt);
  const length = packaged.arguments.packageLength;
  const packageEnd = typeof length === 'number' ? packaged.end + length : undefined;
  if (!main.complete) {
    const stop = Math.min(main.stoppedAt?.streamOffset ?? main.bytes, main.bytes);
    const what =
      packageEnd === undefined || packageEnd > main.bytes
        ? `inside the PACKAGED blob at ${switchAt} (it ends at ${packageEnd ?? '?'}): POSTCOPY_RUN never reached the destination`
        : `${main.bytes - packageEnd} byte(s) after the PACKAGED blob (POSTCOPY_RUN at its end was sent), before QEMU_VM_EOF`;
    sink.report(
      'postcopy.incomplete',
      `postcopy did not complete in this capture: the main channel (stream ${main.streamId}) ends at ${where(mainStream, main.bytes)}, ${what}; its index stopped at ${stop}${main.stoppedAt ? ` (${main.stoppedAt.reason})` : ''}; pages QEMU sent after the cut are missing`,
      { stream: main.streamId, streamOffset: main.bytes, fileOffset: endFileOffset(mainStream, main.bytes) },
    );
  }
  if (preempt && preemptStream && !preempt.complete) {
    sink.report(
      'postcopy.incomplete',
      `postcopy did not complete in this capture: the preempt channel (stream ${preempt.streamId}) ends at ${where(preemptStream, preempt.bytes)} inside a record (${preempt.stoppedAt?.reason ?? 'cut'}); requested pages sent on it after the cut are missing`,
      { stream: preempt.streamId, streamOffset: preempt.bytes },
    );
  }
}

/** The file offset just past a stream's byte `offset - 1`: where the capture's copy of the stream stops. */
function endFileOffset(stream: StreamBytes, offset: number): number {
  return offset > 0 ? stream.fileOffsetOf(offset - 1) + 1 : stream.fileOffsetOf(0);
}
