import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { CaptureStats } from '../extension/shared/captureStats';
import { errorMessage } from '../extension/shared/errorMessage';
import { plural } from '../extension/shared/plural';
import { clear, el } from './dom';
import type { Rpc } from './rpc';
import {
  EPOCH_COLUMNS,
  type Band,
  type LaneMarker,
  type MarkerKind,
  deviceStateMarks,
  derivedFigures,
  displayAxis,
  epochBands,
  epochRows,
  phaseBands,
  timelineLanes,
} from './timelineData';

const LANE_HEIGHT = 120;
const PHASE_HEIGHT = 54;
/** The y axis' width, the same in every lane so that their plots line up on x. */
const Y_AXIS_SIZE = 88;

/** A theme colour (canvas drawing needs the value, not the variable). */
function themeColour(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function withAlpha(colour: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(colour);
  if (!m) return colour;
  const n = parseInt(m[1], 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

interface Palette {
  fg: string;
  muted: string;
  grid: string;
  line: string;
  band: string;
  markers: Record<MarkerKind, string>;
  phases: string[];
}

function palette(): Palette {
  const fg = themeColour('--vscode-foreground', '#cccccc');
  return {
    fg,
    muted: themeColour('--vscode-descriptionForeground', '#999999'),
    grid: themeColour('--vscode-editorWidget-border', '#454545'),
    line: themeColour('--vscode-charts-blue', '#3794ff'),
    band: withAlpha(themeColour('--vscode-charts-purple', '#b180d7'), 0.12),
    markers: {
      SYNC: themeColour('--vscode-charts-orange', '#d18616'),
      MULTIFD_FLUSH: themeColour('--vscode-charts-yellow', '#cca700'),
      EOS: themeColour('--vscode-charts-green', '#89d185'),
      'return path': themeColour('--vscode-charts-purple', '#b180d7'),
      'page request': themeColour('--vscode-charts-red', '#f14c4c'),
      'device state': themeColour('--vscode-charts-red', '#f14c4c'),
    },
    phases: [
      withAlpha(themeColour('--vscode-charts-blue', '#3794ff'), 0.35),
      withAlpha(themeColour('--vscode-charts-green', '#89d185'), 0.35),
    ],
  };
}

/**
 * The Timeline view: `mfd stats` drawn (uPlot, one chart per stream, cursors in sync), the derived figures above,
 * the per-epoch table below. Lanes take focus (Left/Right move the cursor a point, the legend shows its
 * figures); the table's rows are selected with the arrows or a click, which filters the packet list to the epoch.
 */
export class TimelineView {
  readonly root: HTMLElement;
  private readonly head: HTMLElement;
  private readonly body: HTMLElement;
  private stats?: CaptureStats;
  private charts: uPlot[] = [];
  private rows: HTMLElement[] = [];
  private active = -1;
  private loading?: Promise<void>;
  private readonly resize = new ResizeObserver(() => this.fit());

  onEpoch: (epoch: number) => void = () => {};

  constructor(private readonly rpc: Rpc) {
    this.root = el('section', { class: 'timeline side-panel', attrs: { 'aria-label': 'Timeline' } });
    this.head = el('div', { class: 'tl-head', attrs: { 'aria-live': 'polite' }, text: 'Timeline' });
    this.body = el('div', { class: 'tl-body' });
    this.root.append(this.head, this.body);
    this.resize.observe(this.root);
  }

  focus(): void {
    (this.body.querySelector('.tl-lane') as HTMLElement | null)?.focus();
  }

  /** Asks the host for the stats once (again after a failure). */
  load(): Promise<void> {
    this.loading ??= this.fetch().catch((e) => {
      this.loading = undefined;
      this.head.textContent = `Cannot compute the timeline: ${errorMessage(e)}`;
    });
    return this.loading;
  }

  private async fetch(): Promise<void> {
    this.head.textContent = 'Computing the timeline (mfd stats)…';
    const stats = await this.rpc.request('getStats', {});
    this.stats = stats;
    this.head.textContent = `${plural(stats.streams.length, 'stream')}, ${plural(stats.epochs.length, 'epoch')} — x: ${displayAxis(stats.axis).label}`;
    this.render(stats);
  }

  private render(stats: CaptureStats): void {
    for (const c of this.charts) c.destroy();
    this.charts = [];
    clear(this.body);
    const figures = el('dl', { class: 'tl-figures', attrs: { 'aria-label': 'Derived figures' } });
    for (const f of derivedFigures(stats))
      figures.append(
        el('div', { class: 'tl-figure', attrs: { 'data-figure': f.key } }, [
          el('dt', { text: f.label }),
          el('dd', { text: f.value }),
        ]),
      );
    const lanes = el('div', { class: 'tl-lanes' });
    const table = this.epochTable(stats);
    for (const n of stats.notes) this.body.append(el('div', { class: 'note', text: `note: ${n}` }));
    this.body.append(figures, lanes, table);

    const ax = displayAxis(stats.axis);
    const colours = palette();
    const range: [number, number] = [ax.toDisplay(stats.axis.start), ax.toDisplay(stats.axis.end)];
    const width = this.plotWidth();
    const epochs = epochBands(stats);
    const phases = phaseBands(stats);
    for (const lane of timelineLanes(stats)) {
      const main = stats.streams.find((s) => s.id === lane.stream)?.kind === 'main';
      const markers = main ? [...lane.markers, ...deviceStateMarks(stats)] : lane.markers;
      const counts = new Map<MarkerKind, number>();
      for (const m of markers) counts.set(m.kind, (counts.get(m.kind) ?? 0) + 1);
      const box = el('div', {
        class: 'tl-lane',
        attrs: {
          tabindex: 0,
          role: 'group',
          'data-stream': lane.stream,
          'aria-label': `${lane.title}: average ${ax.valueText(lane.average)}, peak ${ax.valueText(lane.peak)}; ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ') || 'no markers'}. Left and Right move the cursor.`,
        },
      });
      box.append(
        el('div', { class: 'tl-lane-title' }, [
          el('span', { text: lane.title }),
          el('span', {
            class: 'muted',
            text: [...counts].map(([k, n]) => `${n} ${k}`).join(' · '),
          }),
        ]),
      );
      lanes.append(box);
      const chart = new uPlot(
        {
          width,
          height: LANE_HEIGHT,
          legend: { show: true, live: true },
          cursor: { sync: { key: 'mfd-timeline' }, drag: { x: false, y: false }, y: false },
          scales: { x: { time: false, range } },
          axes: [
            { stroke: colours.muted, grid: { stroke: colours.grid, width: 1 }, ticks: { stroke: colours.grid } },
            {
              stroke: colours.muted,
              size: Y_AXIS_SIZE,
              grid: { stroke: colours.grid, width: 1 },
              ticks: { stroke: colours.grid },
              values: (_u, vals) => vals.map((v) => ax.valueText(v)),
            },
          ],
          series: [
            { label: ax.unit === 'ms' ? 'ms' : 'byte', value: (_u, v) => (v === null ? '-' : v.toFixed(3)) },
            {
              label: stats.axis.kind === 'time' ? 'throughput' : 'bytes per point',
              stroke: colours.line,
              fill: withAlpha(colours.line, 0.2),
              width: 1,
              value: (_u, v) => ax.valueText(v),
            },
          ],
          hooks: {
            drawClear: [(u) => drawBands(u, epochs, colours.band)],
            draw: [(u) => drawMarkers(u, markers, colours)],
          },
        },
        lane.data,
        box,
      );
      this.charts.push(chart);
      box.addEventListener('keydown', (e) => moveCursor(e, chart, lane.data[0]));
    }
    if (phases.length) {
      const box = el('div', {
        class: 'tl-lane tl-phases',
        attrs: {
          tabindex: 0,
          role: 'group',
          'aria-label': `main channel phases: ${stats.phases.map((p, i) => `${phases[i].label} ${ax.spanText(p.end - p.start)}`).join(', ')}`,
        },
      });
      box.append(el('div', { class: 'tl-lane-title' }, [el('span', { text: 'main channel phases' })]));
      lanes.append(box);
      const chart = new uPlot(
        {
          width,
          height: PHASE_HEIGHT,
          legend: { show: false },
          cursor: { sync: { key: 'mfd-timeline' }, drag: { x: false, y: false }, y: false },
          scales: { x: { time: false, range }, y: { range: [0, 1] } },
          axes: [{ show: false }, { show: true, size: Y_AXIS_SIZE, values: () => [], grid: { show: false } }],
          series: [{}, { show: false }],
          hooks: { draw: [(u) => drawPhases(u, phases, colours)] },
        },
        [
          [range[0], range[1]],
          [0, 0],
        ],
        box,
      );
      this.charts.push(chart);
    }
  }

  private epochTable(stats: CaptureStats): HTMLElement {
    const table = el('table', {
      class: 'tl-epochs',
      attrs: {
        role: 'grid',
        tabindex: 0,
        'aria-label': 'Epochs: Up and Down select one and filter the packet list to it',
      },
    });
    const head = el(
      'tr',
      {},
      EPOCH_COLUMNS.map((c) => el('th', { text: c, attrs: { scope: 'col' } })),
    );
    const tbody = el('tbody');
    this.rows = epochRows(stats).map((r, i) => {
      const tr = el(
        'tr',
        { class: 'tl-epoch', attrs: { 'data-epoch': r.epoch, 'aria-selected': 'false' } },
        r.cells.map((c, j) => el('td', { text: c, attrs: { 'data-col': EPOCH_COLUMNS[j] } })),
      );
      tr.addEventListener('click', () => this.select(i));
      return tr;
    });
    tbody.append(...this.rows);
    table.append(el('thead', {}, [head]), tbody);
    table.addEventListener('keydown', (e) => {
      const next =
        e.key === 'ArrowDown'
          ? this.active + 1
          : e.key === 'ArrowUp'
            ? this.active - 1
            : e.key === 'Home'
              ? 0
              : e.key === 'End'
                ? this.rows.length - 1
                : undefined;
      if (next === undefined) return;
      e.preventDefault();
      this.select(Math.max(0, Math.min(this.rows.length - 1, next)));
    });
    return table;
  }

  /** Selects an epoch row and filters the packet list to its epoch. */
  private select(i: number): void {
    if (!this.rows[i]) return;
    this.rows[this.active]?.setAttribute('aria-selected', 'false');
    this.active = i;
    this.rows[i].setAttribute('aria-selected', 'true');
    this.rows[i].scrollIntoView({ block: 'nearest' });
    this.onEpoch(Number(this.rows[i].dataset.epoch));
  }

  private plotWidth(): number {
    return Math.max(240, this.body.clientWidth - 16);
  }

  private fit(): void {
    if (!this.charts.length || this.root.hidden) return;
    const width = this.plotWidth();
    for (const c of this.charts) if (Math.abs(c.width - width) > 2) c.setSize({ width, height: c.height });
  }
}

/** Left/Right move the synced cursor one drawing point (Home/End to the ends); the legend shows the figures. */
function moveCursor(e: KeyboardEvent, u: uPlot, xs: number[]): void {
  if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key) || !xs.length) return;
  e.preventDefault();
  const cur = u.cursor.idx ?? -1;
  const i =
    e.key === 'Home'
      ? 0
      : e.key === 'End'
        ? xs.length - 1
        : Math.max(0, Math.min(xs.length - 1, cur + (e.key === 'ArrowRight' ? 1 : -1)));
  u.setCursor({ left: u.valToPos(xs[i], 'x'), top: u.over.clientHeight / 2 });
}

function drawBands(u: uPlot, bands: Band[], fill: string): void {
  const { ctx, bbox } = u;
  ctx.save();
  ctx.fillStyle = fill;
  // Every other epoch shaded: neighbours stay apart without a colour per epoch.
  bands.forEach((b, i) => {
    if (i % 2) return;
    const x0 = u.valToPos(b.start, 'x', true);
    const x1 = Math.max(x0 + 1, u.valToPos(b.end, 'x', true));
    ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height);
  });
  ctx.restore();
}

function drawMarkers(u: uPlot, markers: LaneMarker[], colours: Palette): void {
  const { ctx, bbox } = u;
  ctx.save();
  ctx.lineWidth = Math.max(1, devicePixelRatio);
  for (const m of markers) {
    const x = Math.round(u.valToPos(m.at, 'x', true));
    ctx.strokeStyle = colours.markers[m.kind];
    ctx.beginPath();
    // The destination's messages take the top half of the lane, the sender's markers the whole height.
    const half = m.kind === 'return path' || m.kind === 'page request';
    ctx.moveTo(x, bbox.top);
    ctx.lineTo(x, bbox.top + (half ? bbox.height / 2 : bbox.height));
    ctx.stroke();
  }
  ctx.restore();
}

function drawPhases(u: uPlot, phases: Band[], colours: Palette): void {
  const { ctx, bbox } = u;
  ctx.save();
  ctx.font = `${Math.round(11 * devicePixelRatio)}px ${getComputedStyle(document.body).fontFamily}`;
  ctx.textBaseline = 'middle';
  phases.forEach((p, i) => {
    const x0 = u.valToPos(p.start, 'x', true);
    const x1 = Math.max(x0 + 2, u.valToPos(p.end, 'x', true));
    ctx.fillStyle = colours.phases[i % 2];
    ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height);
    const text = p.label;
    if (ctx.measureText(text).width < x1 - x0 - 4) {
      ctx.fillStyle = colours.fg;
      ctx.fillText(text, x0 + 3, bbox.top + bbox.height / 2);
    }
  });
  ctx.restore();
}
