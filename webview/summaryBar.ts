import type { CommandName, PageRequestsSummaryInfo, SummaryInfo } from '../extension/shared/protocol';
import { clear, el, icon } from './dom';
import { formatSize, plural } from './format';

/** The parameters the QEMU fact's neighbours show; the tooltip lists them all. */
const KEY_PARAMETERS = ['multifd-channels', 'multifd-compression', 'zero-page-detection'];

/** The recorded builds, then what the bytes say and why. */
function qemuTitle(s: SummaryInfo): string {
  const build = (side: string, b?: { version: string; package?: string }) =>
    b ? `${side}: QEMU ${b.version}${b.package ? ` (${b.package})` : ''}, as the recorder read it` : undefined;
  const recorded = [build('source', s.setup.source), build('destination', s.setup.destination)].filter(Boolean);
  const inferred = `from the stream's bytes: ${s.qemuVersionHint ?? 'no version-specific evidence'}${s.qemuVersionReasons.length ? `\n${s.qemuVersionReasons.join('\n')}` : ''}`;
  return [...recorded, inferred].join('\n');
}

/** Format, version hint, page size, channels, compression, totals, and diagnostic counts that open the list. */
export class SummaryBar {
  readonly root: HTMLElement;
  onDiagnostics: (severity?: 'error' | 'warning' | 'info') => void = () => {};
  onCommand: (c: CommandName) => void = () => {};
  onTogglePageMap: () => void = () => {};
  onToggleDevices: () => void = () => {};
  onToggleTimeline: () => void = () => {};

  constructor() {
    this.root = el('header', { class: 'summary', attrs: { 'aria-label': 'Capture summary' } });
    this.root.append(el('span', { class: 'muted', text: 'Indexing capture…' }));
  }

  show(s: SummaryInfo): void {
    clear(this.root);
    const facts = el('div', { class: 'facts', attrs: { role: 'list' } });
    const fact = (label: string, value: string, title?: string) =>
      facts.append(
        el('span', { class: 'fact', attrs: { role: 'listitem' }, title: title ?? `${label}: ${value}` }, [
          el('span', { class: 'k', text: label }),
          el('span', { class: 'v', text: value }),
        ]),
      );
    fact('file', s.fileName);
    fact('input', s.input, `${s.inputDescription}\n(format: ${s.format}, ${s.formatDescription})`);
    if (s.migration)
      fact(
        'migration',
        s.migration,
        `the migration shown, of those in the file: ${s.migration} (Multifd: Choose Migration in Capture… switches)`,
      );
    fact('QEMU', s.qemuVersion, qemuTitle(s));
    if (s.setup.machineType) fact('machine', s.setup.machineType, `machine type (main channel CONFIGURATION)`);
    if (s.setup.capabilities.length)
      fact(
        'capabilities',
        s.setup.capabilities.join(', '),
        `migration capabilities on (${s.setup.capabilitiesFrom === 'recorder' ? 'as the recorder read them over QMP' : 'from the main channel CONFIGURATION'})`,
      );
    const shown = s.setup.parameters.filter(([k]) => KEY_PARAMETERS.includes(k));
    if (s.setup.parameters.length)
      fact(
        'parameters',
        shown.length ? shown.map(([k, v]) => `${k} ${v}`).join(', ') : plural(s.setup.parameters.length, 'parameter'),
        `migration parameters as the recorder read them:\n${s.setup.parameters.map(([k, v]) => `${k}: ${v}`).join('\n')}`,
      );
    fact('page size', `${s.pageSize}`, `target page size ${s.pageSize} (from ${s.pageSizeSource})`);
    fact(
      'channels',
      `${s.channels.length}`,
      s.channels
        .map(
          (c) => `stream ${c.stream}: channel ${c.channel ?? '?'}, ${c.packets} packets, ${c.compression ?? 'no data'}`,
        )
        .join('\n'),
    );
    fact('compression', s.compression ?? 'none seen');
    fact('packets', s.totals.packets.toLocaleString('en-US'), `${plural(s.totals.syncPackets, 'SYNC packet')}`);
    fact('normal pages', s.totals.normalPages.toLocaleString('en-US'));
    fact('zero pages', s.totals.zeroPages.toLocaleString('en-US'));
    // The main channel's RAM records mean something only where it carries pages (no multifd, or legacy zero pages).
    if (s.hasMainChannel && s.totals.mainPageRecords + s.totals.mainZeroRecords > 0)
      fact(
        'main channel',
        `${s.totals.mainPageRecords} PAGE / ${s.totals.mainZeroRecords} ZERO`,
        'RAM records on the main channel',
      );
    if (s.pageRequests) fact('page requests', pageRequestsValue(s.pageRequests), pageRequestsTitle(s.pageRequests));
    if (s.ramblocks.length)
      fact('ramblocks', s.ramblocks.map((b) => `${b.name} (${formatSize(b.usedLength)})`).join(', '));
    this.root.append(facts);

    const diag = el('div', { class: 'diag-counts', attrs: { role: 'group', 'aria-label': 'Diagnostics' } });
    for (const sev of ['error', 'warning', 'info'] as const) {
      const n = s.diagnosticCounts[sev] ?? 0;
      const b = el(
        'button',
        {
          class: `diag-count sev-${sev}`,
          attrs: { type: 'button', 'aria-label': `${plural(n, sev)}: show the list` },
          title: `Show ${sev} diagnostics`,
        },
        [icon(sev), el('span', { text: String(n) })],
      );
      b.addEventListener('click', () => this.onDiagnostics(sev));
      diag.append(b);
    }
    this.root.append(diag);

    const actions = el('div', { class: 'actions', attrs: { role: 'toolbar', 'aria-label': 'Capture actions' } });
    const action = (label: string, iconName: string, run: () => void, disabled = false, title?: string) => {
      const b = el('vscode-button', {
        attrs: { secondary: true, icon: iconName, disabled, 'aria-label': label },
        title: title ?? label,
        text: label,
      });
      b.addEventListener('click', run);
      actions.append(b);
    };
    action('Page map', 'symbol-array', () => this.onTogglePageMap());
    action(
      'Devices',
      'circuit-board',
      () => this.onToggleDevices(),
      !s.hasMainChannel,
      s.hasMainChannel ? 'Device sections and their fields' : 'No main channel: no device state',
    );
    action(
      'Timeline',
      'graph-line',
      () => this.onToggleTimeline(),
      false,
      'Throughput, markers, epochs and phases per stream (mfd stats)',
    );
    action('Find Page…', 'search', () => this.onCommand('findPage'));
    action('Go to Packet…', 'go-to-file', () => this.onCommand('goToPacket'));
    action('Export…', 'export', () => this.onCommand('export'));
    action(
      'Replay…',
      'debug-rerun',
      () => this.onCommand('replay'),
      !s.trusted,
      s.trusted ? 'Replay the capture into RAM images' : 'Replay needs a trusted workspace',
    );
    this.root.append(actions);
  }
}

/** The postcopy fact: pages answered of those requested, and the median latency. */
function pageRequestsValue(p: PageRequestsSummaryInfo): string {
  const median = p.latency ? `, median ${latencyMs(p.latency.medianMs)}` : '';
  return `${p.answered} of ${p.pagesRequested} answered${median}`;
}

function pageRequestsTitle(p: PageRequestsSummaryInfo): string {
  const lines = [
    `${plural(p.requests, 'page request')} (REQ_PAGES) for ${plural(p.pagesRequested, 'page')}`,
    `${p.answered} answered: ${p.answeredViaMain} on the main channel, ${p.answeredViaPreempt} on the preempt channel`,
  ];
  if (p.beforeRequest) lines.push(`${p.beforeRequest} already on their way when requested`);
  lines.push(`${p.unanswered} never answered`);
  const l = p.latency;
  if (l)
    lines.push(
      `latency min ${latencyMs(l.minMs)}, median ${latencyMs(l.medianMs)}, p95 ${latencyMs(l.p95Ms)}, max ${latencyMs(l.maxMs)}`,
      'from the request read on the return path to the last byte of the page read from the source (capture times)',
    );
  else lines.push(p.timed ? 'no latency: no page answered' : 'no latency: the capture has no times');
  return lines.join('\n');
}

function latencyMs(v: number): string {
  return `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
}
