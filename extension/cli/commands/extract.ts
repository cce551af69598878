import { existsSync, statSync, writeFileSync } from 'node:fs';
import { analyzeCaptureFile } from '../../core/analysis';
import { countBySeverity, formatDiagnostic } from '../../core/diagnostics/diagnostic';
import { ReplayRefused } from '../../core/replay/outputFolder';
import { replayCapture } from '../../core/replay/replay';
import { insideFolder } from '../../core/replay/safeFileName';
import { buildStateJson } from '../../core/vmstate/deviceStates';
import { pythonJson } from '../../core/vmstate/pythonJson';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CliCommand } from '../cliCommand';
import { terminalLines } from '../terminalText';
import { parseCaptureArgs } from './inspect';

export const extractCommand: CliCommand = {
  name: 'extract',
  usage: 'mfd extract <capture> --out DIR [--force] [--json] [--page-size N] [--offset N] [--port P] [--migration N]',
  summary:
    'write what analyze-migration.py -x writes (desc.json, state.json), one RAM image per block and the device-state blobs',
  async run(argv, io) {
    const { values, positionals } = parseCaptureArgs(argv, {
      out: { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (!values.out) throw new UsageError('--out DIR is required');
    if (existsSync(values.out) && !statSync(values.out).isDirectory())
      throw new UsageError(`--out ${values.out} exists and is not a folder`);
    const analysis = await analyzeCaptureFile(positionals[0], { pageSize: values.pageSize, open: values.open });
    try {
      // The images first: replay claims the folder and refuses what it must not overwrite.
      const result = await replayCapture(analysis, { outDir: values.out, force: values.force });
      const written: string[] = [];
      const problems: string[] = [];
      const flag = values.force ? 'w' : 'wx';
      const desc = analysis.main?.vmDescription;
      if (desc !== undefined) {
        const text = descriptionText(desc);
        if (typeof text === 'string') {
          writeFileSync(insideFolder(values.out, 'desc.json'), text, { flag });
          written.push('desc.json');
        } else problems.push(`desc.json not written: ${text.problem}`);
      } else
        problems.push(
          'no VM description in the main channel: desc.json and the device fields of state.json are not written',
        );
      const { state, devices } = await buildStateJson(analysis);
      if (devices.unavailable && desc !== undefined) problems.push(`device state not decoded: ${devices.unavailable}`);
      for (const d of devices.devices)
        for (const p of d.decoded.problems)
          if (p.kind !== 'version') problems.push(`${d.key}: @${p.offset}: ${p.message}`);
      writeFileSync(insideFolder(values.out, 'state.json'), pythonJson(state), { flag });
      written.push('state.json');
      const counts = countBySeverity(result.diagnostics);
      const failed = counts.error > 0 || !result.complete || problems.length > 0;
      if (values.json)
        io.out(
          JSON.stringify({
            outDir: values.out,
            complete: result.complete,
            files: written,
            sections: Object.keys(state),
            blocks: result.blocks,
            deviceState: result.deviceState,
            problems,
            diagnosticCounts: counts,
            diagnostics: result.diagnostics,
          }) + '\n',
        );
      else {
        const lines = [
          `extracted into ${values.out}: ${written.join(', ')} (${Object.keys(state).length} section(s))${result.complete ? '' : `; INCOMPLETE: ${result.incomplete?.reason}`}`,
        ];
        for (const b of result.blocks)
          lines.push(
            `  ${b.name}: ${b.file} ${b.size} bytes; pages written ${b.pagesWritten}, never written ${b.neverWritten}`,
          );
        for (const d of result.deviceState) {
          lines.push(
            `  device state ${JSON.stringify(d.idstr)} instance ${d.instanceId}: ${d.bytes} bytes -> ${d.file}`,
          );
          const v = d.vfio;
          if (v)
            lines.push(
              `    VFIO: ${v.buffers} buffer(s) in idx order${v.missing.length ? `, idx ${v.missing.join(', ')} missing` : ''}; ${v.configFile ? `config space (idx ${v.configIdx}) ${v.configBytes} bytes -> ${v.configFile}` : 'no CONFIG_STATE buffer'}`,
            );
        }
        for (const p of problems) lines.push(`  ! ${p}`);
        lines.push(`diagnostics: ${counts.error} error(s), ${counts.warning} warning(s), ${counts.info} info`);
        for (const d of result.diagnostics) if (d.severity !== 'info') lines.push('  ' + formatDiagnostic(d));
        io.out(terminalLines(lines));
      }
      return failed ? EXIT_FINDINGS : EXIT_OK;
    } catch (e) {
      if (e instanceof ReplayRefused) throw new UsageError(e.message);
      if ((e as { code?: string }).code === 'EEXIST')
        throw new UsageError(
          `${(e as Error).message.replace(/^EEXIST: /, '')}: the output exists; pass --force to replace it`,
        );
      throw e;
    } finally {
      await analysis.capture.source.close();
    }
  },
};

/** The VM description re-encoded; JSON nested deeper than the stack allows is reported, not thrown. */
function descriptionText(desc: unknown): string | { problem: string } {
  try {
    return pythonJson(desc);
  } catch (e) {
    if (e instanceof RangeError)
      return { problem: `the VM description is nested too deeply to re-encode (${e.message})` };
    throw e;
  }
}
