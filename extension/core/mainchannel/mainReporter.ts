import type { StreamBytes } from '../capture/streamBytes';
import type { DiagnosticCode } from '../diagnostics/codes';
import type { DiagnosticSink, Severity } from '../diagnostics/diagnostic';

/** Reports a main-channel finding at a stream offset (and record, when one is meant), with the file offset added. */
export type Reporter = (
  code: DiagnosticCode,
  message: string,
  streamOffset: number,
  record?: number,
  severity?: Severity,
) => void;

export function mainChannelReporter(sink: DiagnosticSink, streamId: number, stream: StreamBytes): Reporter {
  return (code, message, streamOffset, record, severity) => {
    const location = {
      stream: streamId,
      ...(record !== undefined ? { record } : {}),
      streamOffset,
      fileOffset: stream.fileOffsetOf(streamOffset),
    };
    sink.report(code, message, location, severity ? { severity } : undefined);
  };
}
