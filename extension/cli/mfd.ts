import { COMMANDS } from './commands';
import { EXIT_FINDINGS, EXIT_USAGE, UsageError, type CliIo } from './cliCommand';
import { CaptureFormatError } from '../core/capture/openCapture';
import { CaptureEndedError } from '../core/capture/captureEnded';

/** `mfd`: the command-line face of the core. Each subcommand lives in ./commands. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  const command = COMMANDS.find((c) => c.name === name);
  if (!command || name === '--help' || name === '-h') {
    const lines = [
      'usage: mfd <command> [options]',
      '',
      'commands:',
      ...COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
    ];
    (name && !['--help', '-h'].includes(name) ? io.err : io.out)(
      lines.join('\n') +
        (name && !command && name !== '--help' && name !== '-h' ? `\n\nunknown command "${name}"` : '') +
        '\n',
    );
    return name && (name === '--help' || name === '-h') ? 0 : EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`usage: ${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`mfd ${command.name}: ${e.message}\nusage: ${command.usage}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof CaptureEndedError) {
      // The capture shrank while it was being read: a finding about the input, never a stack trace.
      io.err(`mfd ${command.name}: ${e.message}\n`);
      return EXIT_FINDINGS;
    }
    if (e instanceof CaptureFormatError || isFsError(e)) {
      io.err(`mfd ${command.name}: ${(e as Error).message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}

function isFsError(e: unknown): boolean {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'string' &&
    /^E[A-Z]+$/.test((e as { code: string }).code)
  );
}

if (require.main === module) {
  const io: CliIo = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    interactive: Boolean(process.stderr.isTTY),
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`mfd: internal error: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 70;
    },
  );
}
