import { createInterface } from 'node:readline';
import {
  EXIT_FINDINGS,
  EXIT_OK,
  EXIT_USAGE,
  parseNumber,
  UsageError,
  type CliCommand,
  type CliIo,
} from '../cliCommand';
import { parseCaptureArgs } from './inspect';
import { sendCapture, SendConnectError, SendInputError, type SendResult } from '../../core/send/sendCapture';
import { formatSize } from '../../core/record/progress';
import { escapeControls, terminalLines } from '../terminalText';

/**
 * `mfd send`: feeds a capture into a destination QEMU, so a destination-side failure can be reproduced again and
 * again (under gdb) without the source VM. Log lines go to stderr as things happen; the summary (or --json) to stdout.
 */
export const sendCommand: CliCommand = {
  name: 'send',
  usage:
    'mfd send <capture> --to HOST:PORT [--qmp PATH] [--rate BYTES/S] [--pause-at STREAM:PACKET|STREAM:@OFFSET] [--timeout SECONDS] [--close-timeout SECONDS] [--json] [--page-size N] [--port P] [--migration N] [--offset N]',
  summary: 'play a capture into a destination QEMU (-incoming), one connection per recorded stream',
  async run(argv, io) {
    const { values, positionals } = parseCaptureArgs(argv, {
      to: { type: 'string' },
      qmp: { type: 'string' },
      rate: { type: 'string' },
      'pause-at': { type: 'string' },
      timeout: { type: 'string' },
      'close-timeout': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (!values.to) throw new UsageError("--to HOST:PORT is required (the destination's -incoming tcp:HOST:PORT)");
    const rate = values.rate === undefined ? undefined : parseRate(values.rate);
    const timeout = values.timeout === undefined ? 60 : parseNumber(values.timeout, '--timeout');
    const closeTimeout =
      values['close-timeout'] === undefined ? undefined : parseSeconds(values['close-timeout'], '--close-timeout');
    const controller = new AbortController();
    const onSignal = (): void => {
      io.err('\nmfd send: interrupted, closing the connections\n');
      controller.abort();
    };
    process.once('SIGINT', onSignal);
    let lastProgress = 0;
    const clear = (): void => {
      if (io.interactive && lastProgress) io.err('\x1b[2K\r');
      lastProgress = 0;
    };
    let result: SendResult;
    try {
      result = await sendCapture(positionals[0], {
        to: values.to,
        open: values.open,
        qmpSocket: values.qmp,
        rateBytesPerSecond: rate,
        pauseAt: values['pause-at'],
        onPause: (p) => {
          clear();
          return waitForEnter(
            io,
            `mfd send: ${p.message}; streams stopped at ${p.sentByStream.map((s) => `#${s.id} ${s.sent}`).join(', ')}.\nSet your breakpoints in the destination, then press Enter to continue… `,
          );
        },
        stallTimeoutMs: timeout * 1000,
        closeTimeoutMs: closeTimeout === undefined ? undefined : Math.round(closeTimeout * 1000),
        pageSize: values.pageSize,
        signal: controller.signal,
        onLog: (line) => {
          clear();
          io.err(`mfd send: ${escapeControls(line)}\n`);
        },
        onProgress: io.interactive
          ? (p) => {
              lastProgress = Date.now();
              const streams = p.streams.map((s) => `#${s.id} ${formatSize(s.sent)}/${formatSize(s.bytes)}`).join('  ');
              io.err(
                `\x1b[2K\r${p.phase} ${formatSize(p.sentBytes)}/${formatSize(p.totalBytes)}  ${streams}`.slice(
                  0,
                  (process.stderr.columns || 120) - 1,
                ),
              );
            }
          : undefined,
      });
    } catch (e) {
      if (e instanceof SendInputError) throw new UsageError(e.message);
      if (e instanceof SendConnectError || /^QMP /.test((e as Error).message)) {
        clear();
        io.err(`mfd send: ${(e as Error).message}\n`);
        return EXIT_USAGE;
      }
      throw e;
    } finally {
      process.off('SIGINT', onSignal);
    }
    clear();
    io.out(values.json ? JSON.stringify(result) + '\n' : renderSend(result));
    // Success needs the destination's word: it closed every connection, or --qmp's query-migrate said completed.
    return result.ok && result.confirmed ? EXIT_OK : EXIT_FINDINGS;
  },
};

/** BYTES/S with an optional K, M or G (powers of 1024): 10M is 10 MiB/s. */
export function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?(?:\/s)?$/i.exec(text.trim());
  const n = m ? Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase()) : NaN;
  if (!m || !(n >= 1)) throw new UsageError(`--rate ${text}: bytes per second expected, e.g. 1048576 or 10M`);
  return Math.floor(n);
}

/** Seconds, fractions allowed (0.5): how long to wait for the destination to close after the last byte. */
function parseSeconds(text: string, what: string): number {
  const n = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n > 0)) throw new UsageError(`${what} ${text}: seconds expected (more than 0)`);
  return n;
}

/** Waits for a line on stdin; if stdin ends (not a terminal, closed) it goes on rather than hang. */
function waitForEnter(io: CliIo, prompt: string): Promise<void> {
  io.err(prompt);
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, terminal: false });
    const done = (): void => {
      rl.close();
      process.stdin.pause();
      resolve();
    };
    rl.once('line', done);
    rl.once('close', () => {
      io.err('\nmfd send: stdin is closed, continuing\n');
      resolve();
    });
  });
}

function renderSend(r: SendResult): string {
  const lines = [
    `sent ${r.capture} to ${r.to}: ${formatSize(r.sentBytes)} of ${formatSize(r.totalBytes)} in ${r.streams.length} connection(s)`,
  ];
  for (const s of r.streams) {
    const rp = s.returnPath;
    const back =
      rp.received || rp.recorded
        ? `; return path ${rp.received} bytes received (recorded ${rp.recorded}${rp.matchesRecording === undefined ? '' : rp.matchesRecording ? ', identical' : ', different'})`
        : '';
    lines.push(
      `  stream ${s.id} ${s.kind.padEnd(7)} ${s.sent}/${s.bytes} bytes  ${s.outcome}${s.detail ? `: ${s.detail}` : ''}${back}`,
    );
  }
  if (r.skippedStreams.length) lines.push(`  streams ${r.skippedStreams.join(', ')}: nothing to send (not opened)`);
  const t = r.timings;
  if (t.allWrittenMs !== undefined)
    lines.push(
      `all bytes handed over after ${t.allWrittenMs} ms${t.allClosedMs !== undefined ? `, all connections closed after ${t.allClosedMs} ms` : ''}${t.destinationCompletedMs !== undefined ? `, destination completed after ${t.destinationCompletedMs} ms` : ''}`,
    );
  const q = r.qmp?.outcome;
  if (q) lines.push(`destination query-migrate: ${q.status}${q.error ? ` (${q.error})` : ''}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  for (const p of r.problems) lines.push(`problem: ${p}`);
  if (r.unconfirmed) lines.push(`not confirmed: ${r.unconfirmed}`);
  lines.push(!r.ok ? 'FAILED' : r.confirmed ? 'ok' : 'NOT CONFIRMED');
  return terminalLines(lines);
}
