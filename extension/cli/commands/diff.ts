import { parseArgs } from 'node:util';
import { analyzeCaptureFile } from '../../core/analysis';
import type { CaptureAnalysis } from '../../core/analysisTypes';
import { diffCaptures } from '../../core/diff/captureDiff';
import type { CaptureDiff, ValueDiff } from '../../core/diff/diffTypes';
import { pageSizeProblem } from '../../core/pageSizeCheck';
import { EXIT_FINDINGS, EXIT_OK, parseNumber, UsageError, type CliCommand } from '../cliCommand';
import { terminalLines } from '../terminalText';
import { jsonValue } from './sections';

/** Rows shown per list in text output; --json has them all. */
const TEXT_ROWS = 20;

export const diffCommand: CliCommand = {
  name: 'diff',
  usage: 'mfd diff <A> <B> [--json] [--no-ram] [--max-pages N] [--page-size N]',
  summary:
    'compare two captures: releases, machine types, capabilities, parameters, streams, ramblocks, device state, and RAM after replay with each page’s writers',
  async run(argv, io) {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: {
          json: { type: 'boolean' },
          'no-ram': { type: 'boolean' },
          'max-pages': { type: 'string' },
          'page-size': { type: 'string' },
        },
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (parsed.positionals.length !== 2) throw new UsageError('two capture files expected (A and B)');
    const v = parsed.values;
    const pageSize = v['page-size'] === undefined ? undefined : parseNumber(v['page-size'], '--page-size');
    const problem = pageSize === undefined ? undefined : pageSizeProblem(pageSize);
    if (problem) throw new UsageError(`--page-size ${pageSize}: ${problem}`);
    const maxPages = v['max-pages'] === undefined ? undefined : parseNumber(v['max-pages'], '--max-pages');
    const opened: CaptureAnalysis[] = [];
    try {
      for (const path of parsed.positionals) opened.push(await analyzeCaptureFile(path, { pageSize }));
      const diff = await diffCaptures(opened[0], opened[1], { noRam: v['no-ram'], maxPages });
      io.out(v.json ? JSON.stringify(diff, jsonValue) + '\n' : renderDiff(diff));
      return differs(diff) ? EXIT_FINDINGS : EXIT_OK;
    } finally {
      for (const a of opened) await a.capture.source.close();
    }
  },
};

/** Exit 1 when anything compared differs (as diff(1) does), 0 when nothing does. */
export function differs(d: CaptureDiff): boolean {
  return (
    d.summary.some((x) => x.differs) ||
    d.capabilities.some((x) => x.differs) ||
    d.parameters.some((x) => x.differs) ||
    d.streams.counts.some((x) => x.differs) ||
    d.ramblocks.some((r) => r.status !== 'same') ||
    d.devices.diffs.some((x) => x.status !== 'both' || x.versionA !== x.versionB || x.fieldsDiffering > 0) ||
    (d.ram !== undefined &&
      (!d.ram.complete || d.ram.unmatched.length > 0 || d.ram.blocks.some((b) => b.pagesDiffering > 0)))
  );
}

function shown(v: unknown): string {
  if (v === undefined) return '(absent)';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function valueLines(title: string, xs: ValueDiff[], all: boolean): string[] {
  const d = xs.filter((x) => x.differs);
  const lines = [`${title}: ${d.length} of ${xs.length} differ`];
  for (const x of (all ? xs : d).slice(0, all ? xs.length : TEXT_ROWS))
    lines.push(`  ${x.differs ? '≠' : '='} ${x.name}: ${shown(x.a)}${x.differs ? ` | ${shown(x.b)}` : ''}`);
  if (!all && d.length > TEXT_ROWS) lines.push(`  … ${d.length - TEXT_ROWS} more`);
  return lines;
}

function size(n: number | undefined): string {
  if (n === undefined) return '-';
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

export function renderDiff(d: CaptureDiff): string {
  const lines: string[] = [];
  for (const [n, s] of [
    ['A', d.a],
    ['B', d.b],
  ] as const)
    lines.push(
      `${n}: ${s.file} (${s.format}): QEMU ${s.sourceQemu ?? '?'} → ${s.destinationQemu ?? '?'}, sender ${s.versionHint ?? 'version not inferred'}, machine ${s.machineType ?? '?'}`,
    );
  lines.push('', ...valueLines('summary', d.summary, true));
  lines.push('', ...valueLines('capabilities', d.capabilities, false));
  lines.push('', ...valueLines('parameters', d.parameters, false));
  lines.push('', ...valueLines('streams', d.streams.counts, true));
  for (const [n, ss] of [
    ['A', d.streams.a],
    ['B', d.streams.b],
  ] as const)
    lines.push(
      `  ${n}: ${ss.map((s) => `${s.id} ${s.kind}${s.channel !== null ? ` ch ${s.channel}` : ''} ${size(s.bytes)}${s.kind === 'multifd' ? ` ${s.packets} pkt` : ''}`).join('; ')}`,
    );
  const blocks = d.ramblocks.filter((r) => r.status !== 'same');
  lines.push('', `ramblocks: ${blocks.length} of ${d.ramblocks.length} differ`);
  for (const r of d.ramblocks)
    lines.push(
      `  ${r.status === 'same' ? '=' : '≠'} ${r.name}: ${size(r.a)} | ${size(r.b)}${r.status === 'same' ? '' : ` (${r.status})`}`,
    );

  const dev = d.devices.diffs;
  const devDiffer = dev.filter((x) => x.status !== 'both' || x.versionA !== x.versionB || x.fieldsDiffering > 0);
  lines.push('', `devices: ${devDiffer.length} of ${dev.length} differ`);
  if (d.devices.unavailable?.a) lines.push(`  A: not decoded: ${d.devices.unavailable.a}`);
  if (d.devices.unavailable?.b) lines.push(`  B: not decoded: ${d.devices.unavailable.b}`);
  for (const x of devDiffer) {
    const name = `${x.idstr} (instance ${x.instanceId})`;
    if (x.status === 'only-a') lines.push(`  only in A: ${name}, version ${x.versionA}`);
    else if (x.status === 'only-b') lines.push(`  only in B: ${name}, version ${x.versionB}`);
    else {
      const version = x.versionA !== x.versionB ? `version ${x.versionA} | ${x.versionB}; ` : '';
      lines.push(`  ${name}: ${version}${x.fieldsDiffering} field(s) differ`);
      for (const f of x.fields.slice(0, 5)) lines.push(`    ${f.path}: ${cut(f.a)} | ${cut(f.b)}`);
      if (x.fieldsDiffering > 5) lines.push(`    … ${x.fieldsDiffering - 5} more`);
    }
  }

  if (d.ram) {
    const r = d.ram;
    const total = r.blocks.reduce((n, b) => n + b.pagesDiffering, 0);
    lines.push(
      '',
      `RAM after replay: ${total} page(s) differ${r.complete ? '' : ' (a replay did not finish: see below)'}`,
    );
    for (const p of r.problems) lines.push(`  ! ${p}`);
    if (r.unmatched.length) lines.push(`  rebuilt by one capture only: ${r.unmatched.join(', ')}`);
    for (const b of r.blocks) {
      lines.push(
        `  ${b.pagesDiffering ? '≠' : '='} ${b.block}: ${b.pagesDiffering} of ${b.pagesCompared} page(s) differ${b.sizeA !== b.sizeB ? ` (sizes ${b.sizeA} | ${b.sizeB})` : ''}`,
      );
      for (const p of b.pages.slice(0, TEXT_ROWS)) {
        lines.push(`    0x${p.offset.toString(16)}: A ${p.a.text}`);
        lines.push(`    ${' '.repeat(p.offset.toString(16).length + 2)}  B ${p.b.text}`);
      }
      if (b.pagesDiffering > TEXT_ROWS) lines.push(`    … ${b.pagesDiffering - TEXT_ROWS} more (--json lists them)`);
    }
  }
  lines.push('', `compatibility: ${d.notes.length} note(s)`);
  for (const n of d.notes) lines.push(`  ${n.severity}[${n.topic}] ${n.text}`);
  return terminalLines(lines);
}

function cut(v: string | undefined): string {
  if (v === undefined) return '(absent)';
  return v.length > 60 ? `${v.slice(0, 60)}… (${v.length} chars)` : v;
}
