import { recordCommand } from '../../extension/cli/commands/record';

/**
 * Runs `mfd record` on its own (without the other subcommands), as a separate process the tests can kill:
 *   node --import tsx test/qemu/recordCli.ts --listen 127.0.0.1:0 --forward 127.0.0.1:4444 --out x.mfd
 */
recordCommand
  .run(process.argv.slice(2), {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    interactive: Boolean(process.stderr.isTTY),
  })
  .then(
    (code) => (process.exitCode = code),
    (e) => {
      process.stderr.write(`mfd record: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 70;
    },
  );
