// The packet list over a large main channel, against the same over multifd (issue: "a stream of 100,000
// main-channel records scrolls as smoothly as multifd"):
//   node --import tsx test/bench/packetList.ts [N]
// builds a 7.2-style legacy capture whose main channel carries N ZERO records (indexMemory.ts) and a multifd
// capture of N packets (makeLargeCapture.ts), both written to files, and for each times
//   index:  analysis + the editor's model (CaptureModel.load: rows, sort by time)
//   scroll: 200 windows of 64 rows spread over the list (what the webview asks for while scrolling), median of 7
//   filter: a filter matching most rows (record == "ZERO" / zero > 0) and the view it sorts
// and prints the main channel's time as a ratio to multifd's. Ratios, never timed assertions: the machine varies.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCaptureFile } from '../../extension/core/analysis';
import { CaptureModel } from '../../extension/editor/model/captureModel';
import { DEFAULT_VIEW } from '../../extension/shared/protocol';
import { makeLargeCapture } from '../support/makeLargeCapture';
import { legacyZeroCapture } from './indexMemory';

const WINDOWS = 200;
const WINDOW_ROWS = 64;
const SCROLL_PASSES = 7;

interface Timing {
  rows: number;
  indexMs: number;
  scrollMs: number;
  filterMs: number;
  filtered: number;
}

async function time(path: string, filter: string): Promise<Timing> {
  const t0 = performance.now();
  const m = await CaptureModel.load(await analyzeCaptureFile(path));
  const indexMs = performance.now() - t0;
  try {
    const rows = m.currentView.rowCount;
    // The median of a few passes: the machine is shared, one pass is noise.
    const passes: number[] = [];
    for (let pass = 0; pass < SCROLL_PASSES; pass++) {
      const t1 = performance.now();
      let served = 0;
      for (let k = 0; k < WINDOWS; k++) {
        const start = Math.floor(((rows - WINDOW_ROWS) * k) / (WINDOWS - 1));
        served += m.rows(start, WINDOW_ROWS).rows.length;
      }
      passes.push(performance.now() - t1);
      if (served !== WINDOWS * WINDOW_ROWS) throw new Error(`served ${served} rows of ${WINDOWS * WINDOW_ROWS}`);
    }
    const scrollMs = passes.sort((a, b) => a - b)[Math.floor(passes.length / 2)];
    const t2 = performance.now();
    const v = await m.setView({ filter, sort: DEFAULT_VIEW.sort });
    const filterMs = performance.now() - t2;
    if (v.error) throw new Error(`${filter}: ${v.error.message}`);
    return { rows, indexMs, scrollMs, filterMs, filtered: v.rowCount };
  } finally {
    await m.dispose();
  }
}

export async function packetListBench(n: number): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mfd-packetlist-'));
  try {
    const mainPath = join(dir, 'main.mfd');
    writeFileSync(mainPath, legacyZeroCapture(n));
    const multifdPath = join(dir, 'multifd.mfd');
    await makeLargeCapture(multifdPath, { packets: n, channels: 4 });
    // Once each first, so both are measured with a warm page cache and warm code.
    await time(mainPath, 'record == "ZERO"');
    await time(multifdPath, 'zero > 0');
    const main = await time(mainPath, 'record == "ZERO"');
    const multifd = await time(multifdPath, 'zero > 0');
    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    return [
      `packet list: main channel of ${main.rows} rows (${n} ZERO records) vs multifd of ${multifd.rows} packets`,
      `  index   ${main.indexMs.toFixed(0)} ms vs ${multifd.indexMs.toFixed(0)} ms = ${ratio(main.indexMs, multifd.indexMs)} × multifd`,
      `  scroll  ${WINDOWS} windows of ${WINDOW_ROWS} rows: ${main.scrollMs.toFixed(1)} ms vs ${multifd.scrollMs.toFixed(1)} ms = ${ratio(main.scrollMs, multifd.scrollMs)} × multifd (${((main.scrollMs / WINDOWS) * 1000).toFixed(0)} µs a window)`,
      `  filter  ${main.filtered} vs ${multifd.filtered} rows kept: ${main.filterMs.toFixed(0)} ms vs ${multifd.filterMs.toFixed(0)} ms = ${ratio(main.filterMs, multifd.filterMs)} × multifd`,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const n = Number(process.argv[2] ?? 100_000);
  packetListBench(n).then(
    (lines) => console.log(lines.join('\n')),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
