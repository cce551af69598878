// Runs one `mfd` command from the built bundle (dist/mfd.js) in this process and prints its wall time and peak
// RSS (worker threads included) as JSON on stderr's last line. The benchmark runs every measured command in a
// fresh process through this, so figures are those of what users run.
const { join } = require('node:path');
const { main } = require(join(__dirname, '..', '..', 'dist', 'mfd.js'));
const started = performance.now();
main(process.argv.slice(2), { out: () => undefined, err: (t) => process.stderr.write(t), interactive: false }).then(
  (code) => {
    const ms = performance.now() - started;
    process.stderr.write('\n' + JSON.stringify({ code, ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + '\n');
    process.exitCode = code;
  },
);
