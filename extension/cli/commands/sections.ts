import { analyzeCaptureFile } from '../../core/analysis';
import { countBySeverity, formatDiagnostic } from '../../core/diagnostics/diagnostic';
import { buildSectionList, type SectionList, type SectionListRow } from '../../core/mainchannel/sectionList';
import { EXIT_FINDINGS, EXIT_OK, type CliCommand } from '../cliCommand';
import { terminalLines } from '../terminalText';
import { parseCaptureArgs } from './inspect';

export const sectionsCommand: CliCommand = {
  name: 'sections',
  usage: 'mfd sections <capture> [--json] [--page-size N] [--offset N] [--port P] [--migration N]',
  summary:
    "every record of the main channel (sections, commands with their arguments, EOF, VM description) and the return path's messages",
  async run(argv, io) {
    const { values, positionals } = parseCaptureArgs(argv, { json: { type: 'boolean' } });
    const analysis = await analyzeCaptureFile(positionals[0], { pageSize: values.pageSize, open: values.open });
    try {
      const list = await buildSectionList(analysis);
      const mainDiagnostics = analysis.diagnostics.filter(
        (d) => d.location.stream === analysis.main?.streamId || d.location.stream === undefined,
      );
      const counts = countBySeverity(mainDiagnostics);
      if (values.json)
        io.out(
          JSON.stringify(
            { mainChannel: list ?? null, diagnosticCounts: counts, diagnostics: mainDiagnostics },
            jsonValue,
          ) + '\n',
        );
      else io.out(renderSections(list, mainDiagnostics.map(formatDiagnostic), counts));
      return !list || counts.error > 0 ? EXIT_FINDINGS : EXIT_OK;
    } finally {
      await analysis.capture.source.close();
    }
  },
};

/** JSON has no bigint: 64-bit command arguments are written as decimal strings. */
export function jsonValue(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

function argumentText(a: Record<string, unknown>): string {
  return Object.entries(a)
    .map(([k, v]) => {
      if (Array.isArray(v))
        return `${k} [${v.map((r: { start: bigint; length: bigint }) => `0x${r.start.toString(16)}+0x${r.length.toString(16)}`).join(', ')}]`;
      if (typeof v === 'string') return `${k} ${JSON.stringify(v)}`;
      return `${k} ${typeof v === 'bigint' || (typeof v === 'number' && v > 9) ? `0x${v.toString(16)}` : String(v)}`;
    })
    .join(', ');
}

function rowText(r: SectionListRow): string {
  const where = `@${r.start}-${r.end} (file ${r.fileOffset})`.padEnd(34);
  if (r.command) {
    const args = argumentText(r.command.arguments);
    return `${where} COMMAND ${r.command.name} (${r.command.number}, length ${r.command.length})${args ? `: ${args}` : ''}${r.problem ? `  ! ${r.problem.message}` : ''}`;
  }
  if (r.sectionId === undefined) return `${where} ${r.kind}`;
  const head = r.instanceId !== undefined ? `, instance ${r.instanceId}, version ${r.versionId}` : '';
  const body = r.body ? `; body ${r.body.start}-${r.body.end}` : '';
  return `${where} ${r.kind.padEnd(5)} id ${r.sectionId} ${JSON.stringify(r.idstr ?? '?')}${head}${body}${markersText(r)}`;
}

/** A dirty-bitmap or VFIO body's markers, each with the fields that say something (names, sizes, ranges). */
function markersText(r: SectionListRow): string {
  const it = r.iterative;
  if (!it) return '';
  const shown = it.markers.map((m) => {
    const f = Object.entries(m.fields)
      .filter(([k]) => k !== 'flags' && k !== 'marker' && !k.endsWith('_len') && !k.endsWith('_alias'))
      .map(([k, v]) => `${k} ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
    return `${m.name}${f.length ? ` (${f.join(', ')})` : ''}`;
  });
  const more = it.markerCount > it.markers.length ? `, … ${it.markerCount - it.markers.length} more` : '';
  return `; ${it.markerCount} ${it.reader === 'vfio' ? 'marker' : 'chunk'}(s)${shown.length ? `: ${shown.join(', ')}${more}` : ''}`;
}

export function renderSections(
  list: SectionList | undefined,
  diagnostics: string[],
  counts: { error: number; warning: number; info: number },
): string {
  if (!list) return terminalLines(['no main channel in this capture', ...diagnostics.map((d) => '  ' + d)]);
  const lines = [
    `main channel: stream ${list.streamId}, ${list.bytes} bytes, ${list.recordCount} record(s)${list.complete ? ', walked to QEMU_VM_EOF' : ''}${list.stoppedAt ? `; stopped at ${list.stoppedAt.streamOffset}: ${list.stoppedAt.reason}` : ''}`,
  ];
  // A PACKAGED command's records (postcopy's LISTEN, device state, RUN) are nested under it.
  for (const r of list.rows) lines.push((r.inPackage !== undefined ? '    └ ' : '  ') + rowText(r));
  if (list.recordCount > list.rows.length)
    lines.push(`  … ${list.recordCount - list.rows.length} more record(s) past the index's cap`);
  const rp = list.returnPath;
  lines.push(`return path: ${rp.bytes} bytes, ${rp.messages.length} message(s)`);
  const ms = (ns: number | undefined) => (ns === undefined ? '' : ` at ${(ns / 1e6).toFixed(3)} ms`);
  for (const m of rp.messages) {
    const fields = Object.entries(m.fields)
      .map(([k, v]) => `${k} ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`)
      .join(', ');
    lines.push(
      `  @${m.offset} (file ${m.fileOffset})${ms(m.timeNs)} ${m.name}${fields ? `: ${fields}` : ''}${m.answers !== undefined ? ` (answers the PING at ${m.answers})` : ''}`,
    );
  }
  for (const p of rp.problems) lines.push(`  ! @${p.offset} (file ${p.fileOffset}): ${p.message}`);
  for (const p of list.pings) {
    const rtt =
      p.pong && p.timeNs !== undefined && p.pong.timeNs !== undefined
        ? `, ${((p.pong.timeNs - p.timeNs) / 1e6).toFixed(3)} ms later`
        : '';
    lines.push(`  PING ${p.value} at ${p.offset}: ${p.pong ? `PONG at ${p.pong.offset}${rtt}` : 'no PONG'}`);
  }
  lines.push(`diagnostics (main channel): ${counts.error} error(s), ${counts.warning} warning(s), ${counts.info} info`);
  for (const d of diagnostics) lines.push('  ' + d);
  return terminalLines(lines);
}
