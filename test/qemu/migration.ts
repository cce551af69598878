import { promises as fsp, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Recorder, type RecorderStats } from '../../extension/core/record/recorder';
import type { QmpClient } from '../../extension/core/qmp/qmpClient';
import { QemuVm, freePort, quoteCommandLine } from './qemuProcess';
import type { QemuVersion } from './qemuBinaries';
import {
  compareRamFiles,
  createZeroRamFile,
  fillRamFile,
  readGuestMarker,
  type FillSummary,
  type RamComparison,
} from './guestRam';
import { GUEST_MARKER, dirtyGuestBootSector, floppyImage, type DirtyGuest } from './bootSector';

/**
 * Runs one real migration between two QEMU processes on 127.0.0.1, optionally through the recorder, and
 * checks the destination's RAM against the source's. Guest RAM on both sides is a file (memory-backend-file,
 * share=on): the source's is filled with known content first; after completion the source is paused, so its
 * file is the ground truth for the destination's.
 */

export type Compression = 'none' | 'zlib' | 'zstd';
export type ZeroPageDetection = 'multifd' | 'legacy' | 'none';

export interface MigrationOptions {
  qemu: QemuVersion;
  /** Destination QEMU, when it differs from the source (the machine type is then pinned to pc-i440fx-7.2). */
  destinationQemu?: QemuVersion;
  channels: number;
  compression: Compression;
  /** 10.0 only; QEMU's default (multifd) when not given. */
  zeroPageDetection?: ZeroPageDetection;
  ramMiB: number;
  /** A guest keeps dirtying memory while migrating, under a bandwidth limit, for several iterations. */
  live: boolean;
  /** Capture file: the migration goes through an in-process recorder. */
  out?: string;
  overwrite?: boolean;
  /** Migrate to this port instead (an external recorder), or straight to the destination when neither is set. */
  viaPort?: number;
  /** The destination's migrate-incoming port (default: a free one), for an external recorder set up beforehand. */
  incomingPort?: number;
  workDir?: string;
  seed?: number;
  nonZeroFraction?: number;
  /** max-bandwidth in bytes per second (live mode: while iterating); default see liveBandwidth, unlimited when not live. */
  maxBandwidth?: number;
  /** Live mode: dirty-bitmap syncs before the limits are raised so the migration converges. Default 5. */
  iterations?: number;
  /** Live mode: and at least this long iterating. Default 1000 ms. */
  minLiveMs?: number;
  /**
   * Postcopy: `postcopy-ram` on both sides, `migrate-start-postcopy` once `afterSyncs` dirty syncs are done (default
   * 2 with a live guest; 0 without, which asks for the switch right after migrate, so most pages come by postcopy). RAM then lives on tmpfs (/dev/shm), since userfaultfd refuses
   * other file backends. `channels: 0` turns multifd off (QEMU before 10.1 refuses multifd with postcopy).
   */
  postcopy?: PostcopyOptions;
  /** More migration capabilities to turn on on both sides, e.g. 'return-path' (the destination then answers on it). */
  capabilities?: string[];
  /** A block node on both sides with a dirty bitmap on the source's (migrated with capability `dirty-bitmaps`). */
  dirtyBitmap?: DirtyBitmapOptions;
  accel?: string;
  timeoutMs?: number;
  log?: (line: string) => void;
  /** Called on every poll of the source's query-migrate while the migration runs. */
  onProgress?: (info: QueryMigrate) => void | Promise<void>;
}

export interface PostcopyOptions {
  preempt?: boolean;
  afterSyncs?: number;
  /**
   * `cont` on the destination once the source reports postcopy-active: its guest then runs, faults on pages
   * not received yet and requests them (REQ_PAGES on the return path). Its RAM then differs from the source's
   * in the pages its own guest writes after `cont`; the source, stopped from the switch on, holds every page
   * as sent.
   */
  destinationRuns?: boolean;
  /**
   * max-postcopy-bandwidth in bytes per second: a slow background push leaves pages for the running destination
   * to fault on. Default with destinationRuns: 4 MiB/s; otherwise QEMU's (unlimited).
   */
  bandwidth?: number;
}

export interface DirtyBitmapOptions {
  /** node-name of a null-co node of `sizeMiB` on both sides (the destination finds the bitmap's node by it). */
  node: string;
  sizeMiB: number;
  /** The bitmap `block-dirty-bitmap-add` creates on the source's node. */
  bitmap: string;
  granularity?: number;
  /** Byte ranges written on the source's node (HMP qemu-io) before the migration: their bits are set. */
  writes?: { offset: number; length: number }[];
}

/** A dirty bitmap as query-named-block-nodes shows it: `count` is the dirty bytes it covers. */
export interface DirtyBitmapInfo {
  name: string;
  count: number;
  granularity: number;
}

export interface QueryMigrate {
  status: string;
  'total-time'?: number;
  downtime?: number;
  'setup-time'?: number;
  'error-desc'?: string;
  ram?: Record<string, number>;
  [key: string]: unknown;
}

export interface MigrationResult {
  status: string;
  error?: string;
  capture?: string;
  sourceRam: string;
  destinationRam: string;
  workDir: string;
  comparison?: RamComparison;
  fill: FillSummary;
  timings: {
    fillMs: number;
    bootMs: number;
    migrateMs: number;
    qemuTotalTimeMs?: number;
    downtimeMs?: number;
    setupTimeMs?: number;
  };
  sourceInfo: QueryMigrate;
  dirtySyncCount?: number;
  recorder?: RecorderStats;
  commandLines: { source: string; destination: string };
  /** The -uuid both VMs ran with (multifd handshakes carry it). */
  uuid: string;
  parameters: Record<string, unknown>;
  /** destinationRuns: when `cont` was issued on the destination (ms after migrate), and the source status then. */
  destinationStarted?: { afterMs: number; sourceStatus: string };
  /** dirtyBitmap: the node's bitmaps on the source before the migration and on the destination after it. */
  dirtyBitmaps?: { source: DirtyBitmapInfo[]; destination: DirtyBitmapInfo[] };
}

export const PAGE_SIZE = 4096;
const HIGH_BANDWIDTH = 10 * 2 ** 30;

/** Where the live guest works: a 1 MiB range (smaller for tiny RAM) with its marker page just below. */
export function guestLayout(ramMiB: number): DirtyGuest {
  const base = Math.max(2, Math.min(8, ramMiB / 4)) << 20;
  const pages = Math.min(256, ((ramMiB << 20) - base) / PAGE_SIZE / 2);
  return { base, pages, markerAddress: base - PAGE_SIZE };
}

/**
 * Live mode's bandwidth limit while iterating. QEMU's rate limiter only waits once a 100 ms budget is spent,
 * so the budget must be small against one iteration's bytes, or iterations follow each other within
 * microseconds, a dirty sync finds nothing new (the vCPU thread had no CPU in between) and QEMU switches
 * over early. Compressed guest pages are small on the wire, hence the lower limit for zlib and zstd.
 */
export function liveBandwidth(c: Compression): number {
  return c === 'none' ? 16 << 20 : 2 << 20;
}

/**
 * Runs a migration. A postcopy case must switch, and on a loaded machine the live guest's vCPU thread can starve
 * long enough for precopy to converge before `migrate-start-postcopy` takes effect (QEMU then completes without
 * a postcopy phase: `postcopy-bytes` 0). That run tests nothing of postcopy, so it is logged and run again, up to
 * three times; the caller still asserts that the switch happened.
 */
export async function runMigration(o: MigrationOptions): Promise<MigrationResult> {
  const attempts = o.postcopy ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const result = await runMigrationOnce(attempt === 1 ? o : { ...o, overwrite: true });
    const switched = Number(result.sourceInfo.ram?.['postcopy-bytes'] ?? 0) > 0;
    if (!o.postcopy || result.status !== 'completed' || switched || attempt >= attempts) return result;
    o.log?.(`attempt ${attempt}: precopy converged before the switch to postcopy; running the migration again`);
    if (!o.workDir) await removeWorkDir(result);
  }
}

async function runMigrationOnce(o: MigrationOptions): Promise<MigrationResult> {
  const log = o.log ?? (() => undefined);
  const dstVersion = o.destinationQemu ?? o.qemu;
  if (o.zeroPageDetection && (o.qemu === '7.2' || dstVersion === '7.2'))
    throw new Error('zero-page-detection needs QEMU 9.0 or later (10.0 or 11.1 here), not 7.2');
  if (o.out && o.viaPort !== undefined)
    throw new Error('give either out (in-process recorder) or viaPort (external one), not both');
  const workDir = o.workDir ?? mkdtempSync(join(o.postcopy ? '/dev/shm' : tmpdir(), 'mfd-migrate-'));
  await fsp.mkdir(workDir, { recursive: true });
  const sourceRam = join(workDir, 'source.ram');
  const destinationRam = join(workDir, 'destination.ram');
  const sizeBytes = o.ramMiB << 20;
  const machine = o.qemu === dstVersion ? 'pc' : 'pc-i440fx-7.2';
  const accel = o.accel ?? 'tcg';
  const uuid = randomUUID();
  const guest = o.live ? guestLayout(o.ramMiB) : undefined;
  const timeoutMs = o.timeoutMs ?? 180_000;
  const bitmapNode = o.dirtyBitmap
    ? ['-blockdev', `driver=null-co,node-name=${o.dirtyBitmap.node},size=${o.dirtyBitmap.sizeMiB << 20}`]
    : [];

  let t = Date.now();
  const fill = await fillRamFile(sourceRam, {
    sizeBytes,
    seed: o.seed ?? 1,
    nonZeroFraction: o.nonZeroFraction ?? 0.4,
    // The BIOS and the boot sector live in the first MiB; leave it to them when the guest runs.
    skipLowBytes: o.live ? 1 << 20 : 0,
  });
  await createZeroRamFile(destinationRam, sizeBytes);
  let floppySrc: string | undefined;
  let floppyDst: string | undefined;
  if (guest) {
    const img = floppyImage(dirtyGuestBootSector(guest));
    floppySrc = join(workDir, 'source-boot.img');
    floppyDst = join(workDir, 'destination-boot.img');
    // One image each: both QEMUs lock their drive file for writing.
    await Promise.all([fsp.writeFile(floppySrc, img), fsp.writeFile(floppyDst, img)]);
  }
  const fillMs = Date.now() - t;

  const vms: QemuVm[] = [];
  let recorder: Recorder | undefined;
  try {
    t = Date.now();
    const dst = await QemuVm.start('destination', {
      version: dstVersion,
      machine,
      ramMiB: o.ramMiB,
      ramFile: destinationRam,
      uuid,
      accel,
      qmpSocket: join(workDir, 'destination.qmp'),
      floppy: floppyDst,
      paused: true,
      incoming: true,
      extraArgs: bitmapNode,
    });
    vms.push(dst);
    const src = await QemuVm.start('source', {
      version: o.qemu,
      machine,
      ramMiB: o.ramMiB,
      ramFile: sourceRam,
      uuid,
      accel,
      qmpSocket: join(workDir, 'source.qmp'),
      floppy: floppySrc,
      paused: !o.live,
      incoming: false,
      extraArgs: bitmapNode,
    });
    vms.push(src);
    const srcQmp = src.qmp!;
    const dstQmp = dst.qmp!;

    const capabilities = [
      ...(o.channels > 0 ? [{ capability: 'multifd', state: true }] : []),
      ...(o.postcopy ? [{ capability: 'postcopy-ram', state: true }] : []),
      ...(o.postcopy?.preempt ? [{ capability: 'postcopy-preempt', state: true }] : []),
      ...(o.capabilities ?? []).map((capability) => ({ capability, state: true })),
    ];
    const postcopyBandwidth = o.postcopy?.bandwidth ?? (o.postcopy?.destinationRuns ? 4 << 20 : undefined);
    const params: Record<string, unknown> = {
      ...(o.channels > 0 ? { 'multifd-channels': o.channels, 'multifd-compression': o.compression } : {}),
      'max-bandwidth': o.maxBandwidth ?? (o.live ? liveBandwidth(o.compression) : HIGH_BANDWIDTH),
      // Live: 1 ms, so it cannot converge while the guest keeps dirtying pages, until the driver raises the
      // limits. (0 would not do: QEMU then switches over as soon as its estimate, taken without a dirty
      // sync, reaches zero.)
      'downtime-limit': o.live ? 1 : 300,
      ...(o.zeroPageDetection ? { 'zero-page-detection': o.zeroPageDetection } : {}),
      ...(postcopyBandwidth !== undefined ? { 'max-postcopy-bandwidth': postcopyBandwidth } : {}),
    };
    for (const q of [srcQmp, dstQmp]) {
      if (capabilities.length > 0) await q.execute('migrate-set-capabilities', { capabilities });
      await q.execute('migrate-set-parameters', params);
    }
    let sourceBitmaps: DirtyBitmapInfo[] = [];
    if (o.dirtyBitmap) {
      const b = o.dirtyBitmap;
      await srcQmp.execute('block-dirty-bitmap-add', {
        node: b.node,
        name: b.bitmap,
        ...(b.granularity ? { granularity: b.granularity } : {}),
      });
      for (const w of b.writes ?? [])
        await srcQmp.execute('human-monitor-command', {
          'command-line': `qemu-io ${b.node} "write ${w.offset} ${w.length}"`,
        });
      sourceBitmaps = await nodeBitmaps(srcQmp, b.node);
    }
    const incomingPort = o.incomingPort ?? (await freePort());
    await dstQmp.execute('migrate-incoming', { uri: `tcp:127.0.0.1:${incomingPort}` });

    if (guest) {
      // Wait until the guest's loop runs (BIOS boot under TCG takes a moment).
      const deadline = Date.now() + 30_000;
      let ticks: number | undefined;
      while ((ticks = await readGuestMarker(sourceRam, guest.markerAddress, GUEST_MARKER)) === undefined || ticks < 3) {
        if (Date.now() > deadline)
          throw new Error(
            `the live guest did not start within 30 s (no marker at 0x${guest.markerAddress.toString(16)}): ${src.stderr}`,
          );
        await sleep(100);
      }
      log(`guest running (tick ${ticks})`);
    }
    const bootMs = Date.now() - t;

    const [srcVersion, dstVersionInfo, srcParams, srcCaps] = await Promise.all([
      srcQmp.execute<{ qemu: Record<string, number>; package: string }>('query-version'),
      dstQmp.execute<{ qemu: Record<string, number>; package: string }>('query-version'),
      srcQmp.execute<Record<string, unknown>>('query-migrate-parameters'),
      srcQmp.execute<{ capability: string; state: boolean }[]>('query-migrate-capabilities'),
    ]);
    const versionText = (v: { qemu: Record<string, number>; package: string }): string =>
      `QEMU ${v.qemu.major}.${v.qemu.minor}.${v.qemu.micro} (${v.package})`;
    const parameters: Record<string, unknown> = {
      capabilities: Object.fromEntries(srcCaps.filter((c) => c.state).map((c) => [c.capability, true])),
      ...srcParams,
    };
    delete parameters['tls-creds'];
    delete parameters['tls-hostname'];
    delete parameters['tls-authz'];
    const commandLines = { source: quoteCommandLine(src.commandLine), destination: quoteCommandLine(dst.commandLine) };

    let targetPort = o.viaPort ?? incomingPort;
    if (o.out) {
      recorder = new Recorder({
        listen: { host: '127.0.0.1', port: 0 },
        forward: { host: '127.0.0.1', port: incomingPort },
        out: resolve(o.out),
        overwrite: o.overwrite,
        meta: {
          pageSize: PAGE_SIZE,
          source: `${versionText(srcVersion)}: ${commandLines.source}`,
          destination: `${versionText(dstVersionInfo)}: ${commandLines.destination}`,
          parameters,
          qemu: { source: o.qemu, destination: dstVersion },
          driver: {
            ramMiB: o.ramMiB,
            live: o.live,
            seed: o.seed ?? 1,
            nonZeroFraction: o.nonZeroFraction ?? 0.4,
            fill,
            guest,
          },
        },
      });
      targetPort = (await recorder.start()).port;
      recorder.on('streamError', (e) => log(`recorder: ${e.message}`));
    }

    t = Date.now();
    recorder?.note('migration started');
    await srcQmp.execute('migrate', { uri: `tcp:127.0.0.1:${targetPort}` });
    let info: QueryMigrate = { status: 'setup' };
    let raised = false;
    let postcopyStarted = false;
    let destinationStarted: MigrationResult['destinationStarted'];
    for (;;) {
      info = await srcQmp.execute<QueryMigrate>('query-migrate');
      const syncs = info.ram?.['dirty-sync-count'] ?? 0;
      if (
        o.postcopy &&
        !postcopyStarted &&
        ['setup', 'active'].includes(info.status) &&
        syncs >= (o.postcopy.afterSyncs ?? (o.live ? 2 : 0))
      ) {
        postcopyStarted = true;
        await srcQmp.execute('migrate-start-postcopy');
        recorder?.note(`postcopy started after ${syncs} dirty syncs`);
        log(`postcopy started after ${syncs} dirty syncs`);
      }
      if (o.postcopy?.destinationRuns && !destinationStarted && info.status === 'postcopy-active') {
        // The destination's guest runs from here on: every page it touches before the background push brings
        // it is a fault, requested on the return path.
        await dstQmp.execute('cont');
        destinationStarted = { afterMs: Date.now() - t, sourceStatus: info.status };
        recorder?.note('destination guest continued (cont)');
        log(`destination continued ${destinationStarted.afterMs} ms after migrate`);
      }
      if (o.live && !o.postcopy && !raised && syncs >= (o.iterations ?? 5) && Date.now() - t >= (o.minLiveMs ?? 1000)) {
        raised = true;
        // Enough iterations: let it converge.
        await srcQmp.execute('migrate-set-parameters', { 'downtime-limit': 2000, 'max-bandwidth': HIGH_BANDWIDTH });
        recorder?.note(`limits raised after ${syncs} dirty syncs`);
        log(`limits raised after ${syncs} dirty syncs`);
      }
      await o.onProgress?.(info);
      if (['completed', 'failed', 'cancelled'].includes(info.status)) break;
      if (Date.now() - t > timeoutMs) {
        await srcQmp.execute('migrate_cancel').catch(() => undefined);
        info = { ...info, status: 'failed', 'error-desc': `timed out after ${timeoutMs} ms (status ${info.status})` };
        break;
      }
      await sleep(o.postcopy && !postcopyStarted ? 10 : o.live ? 50 : 100);
    }
    const migrateMs = Date.now() - t;
    log(`source: ${info.status} in ${migrateMs} ms${info['error-desc'] ? `: ${info['error-desc']}` : ''}`);

    // The destination finishes loading after the source says completed.
    let dstStatus = '';
    const dstDeadline = Date.now() + 30_000;
    while (dst.running && Date.now() < dstDeadline) {
      const d = await dstQmp.execute<QueryMigrate>('query-migrate').catch(() => ({ status: 'gone' }) as QueryMigrate);
      dstStatus = d.status;
      if (
        ['completed', 'failed', 'gone'].includes(dstStatus) ||
        (info.status !== 'completed' && dstStatus !== 'active')
      )
        break;
      await sleep(50);
    }
    const status =
      info.status === 'completed' && dstStatus !== 'completed'
        ? `source completed, destination ${dstStatus || 'exited'}`
        : info.status;

    const dirtyBitmaps =
      o.dirtyBitmap && dst.running
        ? { source: sourceBitmaps, destination: await nodeBitmaps(dstQmp, o.dirtyBitmap.node).catch(() => []) }
        : undefined;
    let recorderStats: RecorderStats | undefined;
    if (recorder) {
      await recorder.whenIdle(10_000);
      recorder.note(`migration ${status}`);
      recorder.meta({ result: { status, migrateMs, sourceInfo: info } });
      recorderStats = await recorder.stop();
      recorder = undefined;
    }
    const comparison = status === 'completed' ? await compareRamFiles(sourceRam, destinationRam) : undefined;
    return {
      status,
      error: info['error-desc'],
      capture: o.out ? resolve(o.out) : undefined,
      sourceRam,
      destinationRam,
      workDir,
      comparison,
      fill,
      timings: {
        fillMs,
        bootMs,
        migrateMs,
        qemuTotalTimeMs: info['total-time'],
        downtimeMs: info.downtime,
        setupTimeMs: info['setup-time'],
      },
      sourceInfo: info,
      dirtySyncCount: info.ram?.['dirty-sync-count'],
      recorder: recorderStats,
      commandLines,
      uuid,
      parameters,
      destinationStarted,
      dirtyBitmaps,
    };
  } finally {
    if (recorder) await recorder.stop().catch(() => undefined);
    for (const vm of vms) await vm.stop();
  }
}

async function nodeBitmaps(qmp: QmpClient, node: string): Promise<DirtyBitmapInfo[]> {
  const nodes =
    await qmp.execute<{ 'node-name': string; 'dirty-bitmaps'?: DirtyBitmapInfo[] }[]>('query-named-block-nodes');
  return (nodes.find((n) => n['node-name'] === node)?.['dirty-bitmaps'] ?? []).map((d) => ({
    name: d.name,
    count: d.count,
    granularity: d.granularity,
  }));
}

/** Deletes a migration's working directory (RAM files, boot images, sockets). */
export async function removeWorkDir(result: { workDir: string }): Promise<void> {
  await fsp.rm(result.workDir, { recursive: true, force: true });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
