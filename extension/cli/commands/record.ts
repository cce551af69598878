import { existsSync } from 'node:fs';
import { EXIT_OK, EXIT_USAGE, UsageError, parseNumber, type CliCommand, type CliIo } from '../cliCommand';
import { Recorder } from '../../core/record/recorder';
import { parseEndpoint } from '../../core/record/address';
import { progressLine, formatSize } from '../../core/record/progress';

/**
 * `mfd record`: a transparent proxy between the source QEMU and the destination's migration port that writes
 * a `.mfd` capture. Point the source's `migrate` at --listen; --forward is the destination's `migrate-incoming`
 * address. Runs until interrupted (Ctrl-C / SIGTERM), or with --stop-when-idle once every connection is done.
 */

interface RecordArgs {
  listen: string;
  forward: string;
  out: string;
  meta: Record<string, unknown>;
  force: boolean;
  idleSeconds?: number;
}

function parseArgs(argv: string[]): RecordArgs {
  const args: Partial<RecordArgs> & { meta: Record<string, unknown> } = { meta: {}, force: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--listen') args.listen = value();
    else if (a === '--forward') args.forward = value();
    else if (a === '--out' || a === '-o') args.out = value();
    else if (a === '--force' || a === '-f') args.force = true;
    else if (a === '--stop-when-idle') args.idleSeconds = parseNumber(value(), '--stop-when-idle');
    else if (a === '--meta') {
      const kv = value();
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new UsageError(`--meta: "${kv}" is not KEY=VALUE`);
      args.meta[kv.slice(0, eq)] = metaValue(kv.slice(eq + 1));
    } else throw new UsageError(`unknown option "${a}"`);
  }
  for (const k of ['listen', 'forward', 'out'] as const) if (!args[k]) throw new UsageError(`--${k} is required`);
  return args as RecordArgs;
}

/** Numbers, booleans and JSON objects stay typed in META (`pageSize=4096`); anything else is a string. */
function metaValue(text: string): unknown {
  if (/^(-?\d+(\.\d+)?|true|false|null)$/.test(text) || /^[[{"]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

export const recordCommand: CliCommand = {
  name: 'record',
  usage:
    'mfd record --listen HOST:PORT --forward HOST:PORT --out FILE.mfd [--meta KEY=VALUE]... [--force] [--stop-when-idle SECONDS]',
  summary: 'record a live migration through a transparent TCP proxy into a .mfd capture',
  async run(argv: string[], io: CliIo): Promise<number> {
    const args = parseArgs(argv);
    let listen, forward;
    try {
      listen = parseEndpoint(args.listen, '--listen');
      forward = parseEndpoint(args.forward, '--forward');
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (existsSync(args.out) && !args.force) {
      io.err(`mfd record: ${args.out} exists; use --force to overwrite it\n`);
      return EXIT_USAGE;
    }
    const recorder = new Recorder({ listen, forward, out: args.out, meta: args.meta, overwrite: args.force });
    try {
      await recorder.start();
    } catch (e) {
      io.err(`mfd record: ${(e as Error).message}\n`);
      return EXIT_USAGE;
    }
    const bound = recorder.address;
    io.err(
      `mfd record: listening on ${bound.host}:${bound.port}, forwarding to ${args.forward}, writing ${args.out}\n`,
    );

    const clearLine = (): void => {
      if (io.interactive) io.err('\x1b[2K\r');
    };
    recorder.on('streamError', (e) => {
      clearLine();
      io.err(`mfd record: ${e.message}\n`);
    });
    recorder.on('recordError', (e) => {
      clearLine();
      io.err(`mfd record: ${e.message}\n`);
    });
    if (!io.interactive) {
      recorder.on('open', (s) => io.err(`mfd record: stream ${s.id} open (${s.client} -> ${s.server})\n`));
      recorder.on('close', (s) =>
        io.err(
          `mfd record: stream ${s.id} closed (${s.closeReason}), ${s.toDestination} bytes ->, ${s.toSource} bytes <-\n`,
        ),
      );
    }
    const progress = io.interactive
      ? setInterval(
          () => io.err('\x1b[2K\r' + progressLine(recorder.stats(), (process.stderr.columns || 120) - 1)),
          250,
        )
      : undefined;

    // The first Ctrl-C / SIGTERM stops the recording: open connections are cut and get their CLOSE records. Those
    // that follow while the capture is being finished only say so; the third abandons the last records.
    let signals = 0;
    let stopRequested: () => void = () => undefined;
    const onSignal = (): void => {
      signals++;
      if (signals === 1) return stopRequested();
      if (signals === 2) {
        clearLine();
        io.err(
          `mfd record: finishing ${args.out} (the last records are being written); interrupt again to abandon them\n`,
        );
        return;
      }
      process.exit(130);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let idleTimer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      stopRequested = resolve;
      if (args.idleSeconds !== undefined) {
        // Idle means: at least one connection came, and none is open for the given time.
        const check = (): void => {
          if (idleTimer) clearTimeout(idleTimer);
          if (recorder.stats().streams.length > 0 && recorder.activeCount() === 0)
            idleTimer = setTimeout(resolve, args.idleSeconds! * 1000);
        };
        recorder.on('open', check);
        recorder.on('close', check);
      }
    });
    if (idleTimer) clearTimeout(idleTimer);
    if (progress) clearInterval(progress);
    let stats;
    try {
      stats = await recorder.stop();
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    clearLine();
    const total = stats.streams.reduce((n, s) => n + s.toDestination + s.toSource, 0);
    io.err(
      `mfd record: ${stats.streams.length} stream(s), ${formatSize(total)} forwarded, ${args.out} is ${formatSize(stats.fileBytes)}\n`,
    );
    return stats.recordError ? EXIT_USAGE : EXIT_OK;
  },
};
