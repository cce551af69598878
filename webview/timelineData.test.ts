import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaptureStats, EpochStats, StreamStats } from '../extension/shared/captureStats';
import { parseFilter } from '../extension/core/filter/filter';
import {
  EPOCH_COLUMNS,
  derivedFigures,
  deviceStateMarks,
  epochBands,
  epochFilter,
  epochRows,
  phaseBands,
  timelineLanes,
} from './timelineData';

function stream(s: Partial<StreamStats> & { id: number; kind: string }): StreamStats {
  return {
    bytes: 0,
    packets: 0,
    deviceStatePackets: 0,
    dataPages: 0,
    zeroPages: 0,
    throughput: null,
    syncs: [],
    flushes: [],
    eos: [],
    returnPathBytes: 0,
    ...s,
  };
}

function epoch(e: Partial<EpochStats> & { epoch: number }): EpochStats {
  return {
    packets: 0,
    dataPages: 0,
    zeroPages: 0,
    mainDataPages: 0,
    mainZeroPages: 0,
    resentPages: 0,
    repeatedPages: 0,
    channels: [],
    balance: null,
    compression: { rawBytes: 0, payloadBytes: 0, ratio: null },
    ...e,
  };
}

/** A timed capture: a main channel and one multifd channel, 4 drawing points of 10 ms. */
function timedStats(): CaptureStats {
  return {
    file: 'x.mfd',
    pageSize: 4096,
    axis: { kind: 'time', unit: 'ns', reason: 'stamped', start: 0, end: 40e6, binWidth: 10e6, bins: 4 },
    streams: [
      stream({ id: 0, kind: 'main', flushes: [25e6], eos: [5e6, 30e6] }),
      stream({
        id: 1,
        kind: 'multifd',
        channel: 0,
        syncs: [20e6, 2e6],
        throughput: { averageBytesPerSecond: 1500, peakBytesPerSecond: 3 * 2 ** 20, peakAt: 10e6 },
      }),
    ],
    epochs: [
      epoch({ epoch: 0, start: 0, end: 2e6, packets: 1 }),
      epoch({
        epoch: 1,
        start: 3e6,
        end: 20e6,
        packets: 12345,
        dataPages: 1000,
        zeroPages: 24,
        mainZeroPages: 3,
        resentPages: 7,
        balance: 1.23456,
        compression: { rawBytes: 4096000, payloadBytes: 1024000, ratio: 4 },
        channels: [{ stream: 1, channel: 0, packets: 12345, dataPages: 1000, zeroPages: 24, wireBytes: 99 }],
      }),
      epoch({ epoch: 2 }),
    ],
    phases: [
      { name: 'setup', startOffset: 0, endOffset: 10, start: 0, end: 3e6, records: 2 },
      { name: 'iteration', index: 1, startOffset: 10, endOffset: 20, start: 3e6, end: 30e6, records: 5, epoch: 1 },
      {
        name: 'switchover',
        startOffset: 20,
        endOffset: 30,
        start: 30e6,
        end: 38e6,
        records: 9,
        epoch: 2,
        deviceState: { startOffset: 25, start: 33e6, sections: 30 },
      },
    ],
    derived: {
      total: 40e6,
      iterations: 1,
      downtime: { start: 30e6, end: 38e6, duration: 8e6, lastIteration: 3e6, deviceState: 5e6 },
    },
    series: {
      start: 0,
      pointWidth: 10e6,
      binsPerPoint: 1,
      points: 4,
      lanes: [
        { stream: 0, bytes: [10, 0, 0, 20], packets: [1, 0, 0, 1] },
        { stream: 1, bytes: [0, 1000, 500, 0], packets: [0, 2, 1, 0] },
      ],
    },
    returnPath: [{ name: 'PONG', at: 1e6 }],
    pageRequests: [{ at: 36e6, ramblock: 'pc.ram', start: 8192, length: 4096, pages: 1, answered: 1 }],
    notes: [],
  };
}

test('lanes: x in ms, throughput in bytes/s from the bytes per point, markers of each stream in x order', () => {
  const [main, ch0] = timelineLanes(timedStats());
  assert.deepEqual(ch0.data[0], [0, 10, 20, 30]);
  // 1000 bytes in a 10 ms point: 100,000 bytes/s.
  assert.deepEqual(ch0.data[1], [0, 100000, 50000, 0]);
  assert.equal(ch0.title, 'multifd channel 0 (stream 1)');
  assert.deepEqual(
    ch0.markers.map((m) => [m.kind, m.at, m.label]),
    [
      ['SYNC', 2, 'SYNC 2'],
      ['SYNC', 20, 'SYNC 1'],
    ],
  );
  assert.equal(ch0.peak, 3 * 2 ** 20);
  assert.equal(main.title, 'main channel (stream 0)');
  assert.deepEqual(
    main.markers.map((m) => [m.kind, m.at]),
    [
      ['return path', 1],
      ['EOS', 5],
      ['MULTIFD_FLUSH', 25],
      ['EOS', 30],
      ['page request', 36],
    ],
  );
  assert.equal(main.average, null);
});

test('a byte axis: x and y stay bytes (no time to divide by)', () => {
  const s = timedStats();
  s.axis = {
    kind: 'bytes',
    unit: 'byte',
    reason: 'a raw dump has no times',
    start: 0,
    end: 4096,
    binWidth: 1024,
    bins: 4,
  };
  s.series.pointWidth = 1024;
  s.derived = { total: 4096, iterations: 0 };
  const ch0 = timelineLanes(s)[1];
  assert.deepEqual(ch0.data[0], [0, 1024, 2048, 3072]);
  assert.deepEqual(ch0.data[1], [0, 1000, 500, 0]);
  assert.equal(derivedFigures(s)[0].value, '4.0 KiB');
  assert.equal(derivedFigures(s)[0].label, 'total bytes');
});

test('bands: epochs with packets, phases named with their iteration, the device state marked', () => {
  const s = timedStats();
  assert.deepEqual(
    epochBands(s).map((b) => [b.label, b.start, b.end]),
    [
      ['epoch 0', 0, 2],
      ['epoch 1', 3, 20],
    ],
  );
  assert.deepEqual(
    phaseBands(s).map((b) => [b.label, b.start, b.end]),
    [
      ['setup', 0, 3],
      ['iteration 1', 3, 30],
      ['switchover', 30, 38],
    ],
  );
  assert.deepEqual(
    deviceStateMarks(s).map((m) => [m.kind, m.at, m.label]),
    [['device state', 33, 'device state (30 FULL sections)']],
  );
});

test('epoch rows: exact counts, balance and compression rounded to 2 places, per-channel shares', () => {
  const rows = epochRows(timedStats());
  assert.equal(rows.length, 3);
  assert.equal(rows[1].cells.length, EPOCH_COLUMNS.length);
  assert.deepEqual(rows[1].cells, [
    '1',
    '12,345',
    '1,000',
    '24',
    '0 / 3',
    '7',
    '1.23',
    '4.00×',
    'ch 0: 12,345, 1,000 + 24',
  ]);
  assert.deepEqual(rows[2].cells.slice(6, 8), ['-', '-']);
});

test('derived figures: total, downtime with its parts, each timed stream average and peak', () => {
  const f = derivedFigures(timedStats());
  assert.deepEqual(
    f.map((x) => [x.key, x.value]),
    [
      ['total', '40.000 ms'],
      ['iterations', '1'],
      ['downtime', '8.000 ms (last iteration 3.000 ms + device state 5.000 ms)'],
      ['throughput-1', 'average 1.5 KiB/s, peak 3.00 MiB/s'],
    ],
  );
});

test("an epoch's filter is one the packet list's filter language accepts", () => {
  const r = parseFilter(epochFilter(3));
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual([...r.filter.fields].sort(), ['epoch', 'kind']);
});
