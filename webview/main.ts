import './styles.css';
import { errorMessage } from '../extension/shared/errorMessage';
import { isSortColumn } from '../extension/shared/packetColumns';
import {
  DEFAULT_VIEW,
  type DeviceFieldInfo,
  type DeviceSectionInfo,
  type HostEvent,
  type PacketDetails,
  type PacketRef,
  type SortColumn,
  type ViewSpec,
  type WebviewState,
} from '../extension/shared/protocol';
import { BytesPane } from './bytesPane';
import { DetailsTree, type DetailTarget } from './details';
import { DevicesView } from './devicesView';
import { fieldWindow } from './deviceText';
import { DiagnosticsPanel } from './diagnosticsPanel';
import { el } from './dom';
import { FilterBox } from './filterBox';
import { hexOffset, plural } from './format';
import { PacketList } from './packetList';
import { PageMap } from './pageMap';
import { Rpc } from './rpc';
import { SummaryBar } from './summaryBar';
import { epochFilter } from './timelineData';
import { TimelineView } from './timelineView';

/** The saved view, unless it predates a column rename (its sort then falls back to the default). */
function restoredView(v: ViewSpec | undefined): ViewSpec {
  if (!v) return DEFAULT_VIEW;
  return isSortColumn(v.sort?.column)
    ? v
    : { filter: typeof v.filter === 'string' ? v.filter : '', sort: DEFAULT_VIEW.sort };
}

const rpc = new Rpc();
const saved = rpc.getState();
const state: WebviewState = { sidePanel: 'none', bytesTab: 'header', ...saved, view: restoredView(saved?.view) };

let pageSize = 4096;
let saveTimer: ReturnType<typeof setTimeout> | undefined;
function save(): void {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => rpc.setState(state), 150);
}

// ---- layout -------------------------------------------------------------------------------------------
const summary = new SummaryBar();
const filter = new FilterBox(state.view.filter);
const list = new PacketList(rpc);
const details = new DetailsTree();
const bytes = new BytesPane();
const pageMap = new PageMap(rpc);
const diagnostics = new DiagnosticsPanel(rpc);
const devices = new DevicesView(rpc);
const timeline = new TimelineView(rpc);
const status = el('div', { class: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
const side = el('div', { class: 'side' }, [pageMap.root, diagnostics.root, devices.root, timeline.root]);
const lower = el('div', { class: 'lower' }, [details.root, bytes.root, side]);
const app = el('div', { class: 'app' }, [
  summary.root,
  filter.root,
  el('main', { class: 'panes' }, [list.root, lower]),
  status,
]);
document.body.append(app);
list.setSort(state.view.sort);
bytes.selectTab(state.bytesTab ?? 'header');

function setSide(panel: WebviewState['sidePanel']): void {
  state.sidePanel = panel;
  pageMap.root.hidden = panel !== 'pagemap';
  diagnostics.root.hidden = panel !== 'diagnostics';
  devices.root.hidden = panel !== 'devices';
  timeline.root.hidden = panel !== 'timeline';
  lower.classList.toggle('with-side', panel !== 'none');
  lower.classList.toggle('with-devices', panel === 'devices');
  lower.classList.toggle('with-timeline', panel === 'timeline');
  save();
}
setSide(state.sidePanel);

// ---- view (filter + sort, applied by the host) ----------------------------------------------------------
async function applyView(spec: ViewSpec, keepScroll?: number): Promise<boolean> {
  status.textContent = spec.filter ? 'Filtering…' : '';
  const info = await rpc.request('setView', spec);
  if (info.cancelled) return false;
  filter.showError(spec.filter, info.error);
  if (info.error) {
    status.textContent = '';
    return false;
  }
  state.view = spec;
  save();
  list.setSort(spec.sort);
  await list.setView(info.viewId, info.rowCount, info.totalCount, keepScroll, info.mainCount);
  // The filter the list shows (tests wait for it; the status alone can read the same for two filters).
  list.root.dataset.filter = spec.filter;
  status.textContent = '';
  return true;
}

filter.onApply = (text) => void applyView({ ...state.view, filter: text });
list.onSort = (column: SortColumn) => {
  const same = state.view.sort.column === column;
  void applyView({
    ...state.view,
    sort: { column, direction: same && state.view.sort.direction === 'asc' ? 'desc' : 'asc' },
  });
};
list.onScroll = (top) => {
  state.scrollTop = top;
  save();
};

// ---- selection: list → details → bytes -----------------------------------------------------------------
let packetToken = 0;
let current: PacketDetails | undefined;
let pendingSlot: number | undefined;
list.onSelect = (ref) => void showPacket(ref);
list.onActivate = () => details.focus();

async function showPacket(ref: PacketRef): Promise<void> {
  const token = ++packetToken;
  const keepField =
    state.selected && state.selected.stream === ref.stream && state.selected.index === ref.index
      ? state.selectedField
      : undefined;
  state.selected = ref;
  save();
  rpc.send({ type: 'selection', packet: ref });
  let d: PacketDetails;
  try {
    d = await rpc.request('getPacket', ref);
  } catch (e) {
    if (token === packetToken) details.showEmpty(`Cannot read this packet: ${errorMessage(e)}`);
    return;
  }
  if (token !== packetToken) return;
  current = d;
  bytes.showHeader(d);
  bytes.startPayload(d);
  bytes.pageLoading('Select an offset[] entry in the details to see its page.');
  const field = deviceField && sameRef(deviceField.section.row, ref) ? deviceField.field : undefined;
  if (!field) deviceField = undefined;
  const slot = pendingSlot;
  pendingSlot = undefined;
  details.show(d, slot !== undefined ? `slot:${slot}` : keepField);
  if (field) void showFieldBytes(d, field);
  else if (bytes.tab === 'payload') void loadPayload();
  if (slot !== undefined) {
    bytes.selectTab('page');
    void loadPage(slot);
  }
}

details.onSelect = (t: DetailTarget) => {
  bytes.highlight(t.range);
  state.selectedField = t.key;
  if (t.offset) {
    rpc.send({ type: 'selection', packet: current?.ref, block: current?.row.ramblock, offset: t.offset.value });
    if (bytes.tab === 'page') void loadPage(t.offset.slot);
  }
  save();
};
details.onActivate = (t) => {
  if (t.offset) {
    bytes.selectTab('page');
    void loadPage(t.offset.slot);
  } else if (t.range) bytes.selectTab('header');
};
bytes.onByteClick = (o) => details.selectByte(o);
bytes.onTab = (t) => {
  state.bytesTab = t;
  save();
  // A device field's window is on its way when deviceField is set: the payload from its start would replace it.
  if (t === 'payload' && current && !bytes.payloadShown && !deviceField) void loadPayload();
  if (t === 'page' && current && state.selectedField?.startsWith('slot:'))
    void loadPage(Number(state.selectedField.slice(5)));
};
bytes.onMorePayload = () => void loadPayload();
bytes.onWholePayload = () => {
  deviceField = undefined;
  if (!current) return;
  bytes.startPayload(current);
  void loadPayload();
};

// ---- Devices view: a section selects its row; a field shows its bytes in the row's payload ----------------------
/** The device field whose bytes the payload tab shows, and its section. */
let deviceField: { section: DeviceSectionInfo; field: DeviceFieldInfo } | undefined;
let fieldToken = 0;
const sameRef = (a: PacketRef, b: PacketRef) => a.stream === b.stream && a.index === b.index;

async function selectRow(ref: PacketRef): Promise<void> {
  // Selected in the list when the view holds it (the list then asks for its details), else shown directly.
  if (!(await list.reveal(ref))) await showPacket(ref);
}
devices.onSection = (s) => {
  deviceField = undefined;
  if (!current || !sameRef(current.ref, s.row)) void selectRow(s.row);
};
devices.onField = (section, field) => {
  deviceField = { section, field };
  if (current && sameRef(current.ref, section.row)) void showFieldBytes(current, field);
  else void selectRow(section.row);
};

bytes.onWindowByteClick = (o) => {
  if (deviceField) devices.selectOffset(deviceField.section.section, o);
};

async function showFieldBytes(d: PacketDetails, f: DeviceFieldInfo): Promise<void> {
  const token = ++fieldToken;
  const w = fieldWindow(f, d.payloadOffset, d.payloadOffset + d.payloadLength);
  bytes.selectTab('payload');
  state.bytesTab = 'payload';
  try {
    const c = await rpc.request('getPayload', { ...d.ref, start: w.start - d.payloadOffset, length: w.end - w.start });
    if (token !== fieldToken || current !== d) return;
    const name = f.index !== undefined ? `${f.name}[${f.index}]` : f.name;
    bytes.showPayloadWindow(
      c,
      [f.offset, f.offset + f.length],
      `${name}: ${f.length} bytes at stream offset ${hexOffset(f.offset)}, highlighted (section body ${hexOffset(d.payloadOffset)}, ${d.payloadLength} bytes)`,
    );
  } catch (e) {
    if (token === fieldToken) status.textContent = `Cannot show the field's bytes: ${errorMessage(e)}`;
  }
  save();
}

async function loadPayload(): Promise<void> {
  const d = current;
  if (!d || !d.payloadLength) return;
  const chunk = await rpc.request('getPayload', { ...d.ref, start: bytes.payloadLoaded, length: 65536 });
  if (current === d) bytes.addPayload(chunk);
}

let pageToken = 0;
async function loadPage(slot: number): Promise<void> {
  const d = current;
  if (!d) return;
  const token = ++pageToken;
  bytes.pageLoading(`Reading offset[${slot}]…`);
  try {
    const p = await rpc.request('getPage', { ...d.ref, slot });
    if (token === pageToken && current === d) bytes.showPage(p, pageSize);
  } catch (e) {
    if (token === pageToken) bytes.pageLoading(`Cannot show this page: ${errorMessage(e)}`);
  }
}

// ---- summary, side panels ---------------------------------------------------------------------------------
summary.onCommand = (command) => rpc.send({ type: 'runCommand', command });
summary.onDiagnostics = (severity) => {
  setSide('diagnostics');
  void diagnostics.show(severity).then(() => diagnostics.focus());
};
summary.onTogglePageMap = () => {
  setSide(state.sidePanel === 'pagemap' ? 'none' : 'pagemap');
  if (state.sidePanel === 'pagemap') void pageMap.load(state.pageMapBlock).then(() => pageMap.focus());
};
summary.onToggleDevices = () => {
  setSide(state.sidePanel === 'devices' ? 'none' : 'devices');
  if (state.sidePanel === 'devices') void devices.load().then(() => devices.focus());
};
summary.onToggleTimeline = () => {
  setSide(state.sidePanel === 'timeline' ? 'none' : 'timeline');
  if (state.sidePanel === 'timeline') void timeline.load().then(() => timeline.focus());
};
// An epoch row of the Timeline filters the packet list to that epoch.
timeline.onEpoch = (epoch) => {
  filter.value = epochFilter(epoch);
  void applyView({ ...state.view, filter: filter.value });
};
pageMap.onBlock = (b) => {
  state.pageMapBlock = b;
  save();
};
pageMap.onReveal = (ref) => void reveal(ref, true);
diagnostics.onReveal = (ref) => void reveal(ref, true);
diagnostics.onProblems = () => rpc.send({ type: 'runCommand', command: 'showProblems' });

async function reveal(ref: PacketRef, clearFilterIfHidden: boolean, slot?: number): Promise<void> {
  pendingSlot = slot;
  let ok = await list.reveal(ref);
  if (!ok && clearFilterIfHidden && state.view.filter) {
    filter.value = '';
    await applyView({ ...state.view, filter: '' });
    filter.showInfo('The filter was cleared to show the packet.');
    ok = await list.reveal(ref);
  }
  if (!ok) status.textContent = `Packet ${ref.index} of stream ${ref.stream} is not in the list.`;
  list.focus();
}

// ---- keyboard: F6 / Shift+F6 cycle panes, Ctrl+F or / focuses the filter -----------------------------------------
document.addEventListener('keydown', (e) => {
  if (
    (e.key === 'f' && (e.ctrlKey || e.metaKey)) ||
    (e.key === '/' && !(e.target as HTMLElement).closest('vscode-textfield'))
  ) {
    e.preventDefault();
    filter.focus();
  } else if (e.key === 'F6') {
    e.preventDefault();
    const panes = [
      () => filter.focus(),
      () => list.focus(),
      () => details.focus(),
      () => (bytes.root.querySelector('.hex') as HTMLElement | null)?.focus(),
    ];
    if (state.sidePanel === 'pagemap') panes.push(() => pageMap.focus());
    if (state.sidePanel === 'devices') panes.push(() => devices.focus());
    if (state.sidePanel === 'timeline') panes.push(() => timeline.focus());
    const sideRoot =
      state.sidePanel === 'devices' ? devices.root : state.sidePanel === 'timeline' ? timeline.root : pageMap.root;
    const active = document.activeElement;
    let i = [filter.root, list.root, details.root, bytes.root, sideRoot].findIndex((r) => r.contains(active));
    i = (i + (e.shiftKey ? panes.length - 1 : 1)) % panes.length;
    panes[i]();
  }
});

// ---- host events --------------------------------------------------------------------------------------------------
rpc.onEvent((m: HostEvent) => {
  switch (m.type) {
    case 'loading':
    case 'progress':
      status.textContent = m.type === 'loading' ? m.message : (m.message ?? '');
      break;
    case 'loadFailed':
      status.textContent = '';
      summary.root.textContent = `Cannot open this capture: ${m.message}`;
      break;
    case 'init': {
      pageSize = m.summary.pageSize;
      summary.show(m.summary);
      filter.setFields(m.fields);
      const blocks = [...new Set([...m.summary.ramblocks.map((b) => b.name), ...m.summary.packetRamblocks])];
      pageMap.setBlocks(blocks, state.pageMapBlock);
      status.textContent = '';
      const sel = state.selected;
      void applyView(state.view, state.scrollTop).then(async () => {
        if (sel) await list.reveal(sel);
        if (state.sidePanel === 'pagemap') void pageMap.load(state.pageMapBlock);
        if (state.sidePanel === 'diagnostics') void diagnostics.show();
        if (state.sidePanel === 'devices') void devices.load();
        if (state.sidePanel === 'timeline') void timeline.load();
        document.body.dataset.ready = 'true';
      });
      break;
    }
    case 'reveal':
      void reveal(m.packet, m.clearFilterIfHidden ?? true, m.slot);
      break;
    case 'showPage':
      setSide('pagemap');
      void pageMap.showPage(m.block, m.offset);
      break;
    case 'replayDone': {
      const mism = m.replay.mismatches.reduce((n, x) => n + x.mismatchedPages, 0);
      status.textContent = `${m.replay.imagesKept ? `Replay into ${m.replay.outDir}` : 'Compared without keeping the images'}: ${plural(m.replay.blocks.length, 'ramblock')}${m.replay.mismatches.length ? `, ${plural(mism, 'page differs', 'pages differ')} from the reference` : ''}.`;
      if (state.sidePanel === 'pagemap') void pageMap.load(pageMap.block);
      break;
    }
  }
});
rpc.send({ type: 'ready' });
