import { main } from '../../extension/cli/mfd';

/**
 * Runs one `mfd` command in this process and prints its wall time and peak RSS (worker threads included) as
 * JSON on stderr's last line: the benchmark runs every measured command in a fresh process through this.
 */
const started = performance.now();
main(process.argv.slice(2), { out: () => undefined, err: (t) => process.stderr.write(t), interactive: false }).then((code) => {
  const ms = performance.now() - started;
  process.stderr.write('\n' + JSON.stringify({ code, ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + '\n');
  process.exitCode = code;
});
