import { analyzeCaptureFile } from '../../core/analysis';
import { explainDestinationError } from '../../core/explain/explainError';
import { formatDiagnostic } from '../../core/diagnostics/diagnostic';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CliCommand } from '../cliCommand';
import { terminalLines } from '../terminalText';
import { parseCaptureArgs } from './inspect';

export const explainCommand: CliCommand = {
  name: 'explain',
  usage: 'mfd explain "<destination error text>" <capture> [--json] [--page-size N] [--port P] [--migration N]',
  summary: "map a destination QEMU's error message to the place in the capture where that check fires",
  async run(argv, io) {
    const text = argv[0];
    if (text === undefined || text.startsWith('--'))
      throw new UsageError("the destination's error text comes first, quoted");
    const { values, positionals } = parseCaptureArgs(argv.slice(1), { json: { type: 'boolean' } });
    const analysis = await analyzeCaptureFile(positionals[0], { pageSize: values.pageSize, open: values.open });
    try {
      const e = explainDestinationError(text, analysis);
      if (values.json) io.out(JSON.stringify(e) + '\n');
      else {
        const lines = [
          e.error ? `${e.error.id} (${e.error.source})` : 'unrecognised message',
          e.summary,
          ...e.at.slice(0, 20).map((d) => '  ' + formatDiagnostic(d)),
        ];
        if (e.at.length > 20) lines.push(`  … ${e.at.length - 20} more (--json lists them all)`);
        io.out(terminalLines(lines));
      }
      // Exit 1 when the check fires here: the capture holds what made the destination fail.
      return e.verdict === 'fires' ? EXIT_FINDINGS : EXIT_OK;
    } finally {
      await analysis.capture.source.close();
    }
  },
};
