import { existsSync } from 'node:fs';
import { parseQemuVersion } from './qemuBinaries';
import {
  removeWorkDir,
  runMigration,
  type Compression,
  type MigrationOptions,
  type ZeroPageDetection,
} from './migration';
import { freePort } from './qemuProcess';
import { Tcpdump } from './tcpdump';

/**
 * Command-line face of the migration driver:
 *   node --import tsx test/qemu/migrate.ts --qemu 10.0 --channels 4 --compression zstd \
 *     --zero-page-detection multifd --ram 64 --live --out x.mfd
 * Without --out the source migrates straight to the destination (no recorder). Prints a JSON summary
 * on stdout; exit status 0 only when the migration completed and the destination RAM equals the source's.
 */

const USAGE = `usage: node --import tsx test/qemu/migrate.ts [options]
  --qemu 7.2|10.0|11.1          source QEMU (default 10.0)
  --destination-qemu VERSION    destination QEMU (default: same as --qemu)
  --channels N                  multifd-channels (default 2; 0: multifd off)
  --compression none|zlib|zstd  multifd-compression (default none)
  --zero-page-detection multifd|legacy|none   (10.0 and 11.1)
  --postcopy                    postcopy-ram; migrate-start-postcopy after --postcopy-after dirty syncs (RAM on /dev/shm)
  --postcopy-after N            dirty syncs before the switch (default 2 with --live, else 0)
  --preempt                     postcopy-preempt too
  --destination-runs            postcopy: cont on the destination once postcopy-active, so its guest faults and requests pages
  --postcopy-bandwidth MiB/s    max-postcopy-bandwidth (default 4 with --destination-runs, else unlimited)
  --ram MiB                     guest RAM (default 32)
  --live                        run a guest that dirties memory during migration
  --out FILE.mfd                record through the recorder into FILE.mfd
  --force                       overwrite --out
  --via-port PORT               migrate to 127.0.0.1:PORT (an external recorder) instead
  --tcpdump FILE.pcap           also capture the destination's port with tcpdump (as users do) into FILE.pcap
  --seed N  --non-zero FRACTION  RAM fill (defaults 1, 0.4)
  --bandwidth MiB/s             max-bandwidth (default: live 16 for none, 2 for zlib/zstd; unlimited otherwise)
  --iterations N                live mode: dirty syncs before the limits are raised (default 5)
  --min-live-ms MS              live mode: and at least this long iterating (default 1000)
  --accel tcg|kvm               (default tcg)
  --work-dir DIR                where RAM files go (default: a new temporary directory)
  --clean                       delete the RAM files afterwards`;

function parse(argv: string[]): MigrationOptions & { clean: boolean; tcpdump?: string } {
  const o: MigrationOptions & { clean: boolean; tcpdump?: string } = {
    qemu: '10.0',
    channels: 2,
    compression: 'none',
    ramMiB: 32,
    live: false,
    clean: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    const num = (): number => {
      const n = Number(v());
      if (!Number.isFinite(n) || n < 0) throw new Error(`${a}: not a number`);
      return n;
    };
    switch (a) {
      case '--qemu':
        o.qemu = parseQemuVersion(v());
        break;
      case '--destination-qemu':
        o.destinationQemu = parseQemuVersion(v());
        break;
      case '--channels':
        o.channels = num();
        break;
      case '--compression':
        o.compression = oneOf(v(), ['none', 'zlib', 'zstd'], a) as Compression;
        break;
      case '--zero-page-detection':
        o.zeroPageDetection = oneOf(v(), ['multifd', 'legacy', 'none'], a) as ZeroPageDetection;
        break;
      case '--ram':
        o.ramMiB = num();
        break;
      case '--live':
        o.live = true;
        break;
      case '--out':
        o.out = v();
        break;
      case '--force':
        o.overwrite = true;
        break;
      case '--via-port':
        o.viaPort = num();
        break;
      case '--seed':
        o.seed = num();
        break;
      case '--non-zero':
        o.nonZeroFraction = num();
        break;
      case '--bandwidth':
        o.maxBandwidth = num() * 2 ** 20;
        break;
      case '--iterations':
        o.iterations = num();
        break;
      case '--min-live-ms':
        o.minLiveMs = num();
        break;
      case '--accel':
        o.accel = v();
        break;
      case '--work-dir':
        o.workDir = v();
        break;
      case '--clean':
        o.clean = true;
        break;
      case '--tcpdump':
        o.tcpdump = v();
        break;
      case '--postcopy':
        o.postcopy = { ...o.postcopy };
        break;
      case '--postcopy-after':
        o.postcopy = { ...o.postcopy, afterSyncs: num() };
        break;
      case '--preempt':
        o.postcopy = { ...o.postcopy, preempt: true };
        break;
      case '--destination-runs':
        o.postcopy = { ...o.postcopy, destinationRuns: true };
        break;
      case '--postcopy-bandwidth':
        o.postcopy = { ...o.postcopy, bandwidth: num() * 2 ** 20 };
        break;
      case '--help':
      case '-h':
        process.stdout.write(USAGE + '\n');
        return process.exit(0);
      default:
        throw new Error(`unknown option ${a}`);
    }
  }
  return o;
}

function oneOf(x: string, allowed: string[], what: string): string {
  if (!allowed.includes(x)) throw new Error(`${what}: "${x}" is not one of ${allowed.join(', ')}`);
  return x;
}

async function main(): Promise<number> {
  let o;
  try {
    o = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`migrate: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (o.out && existsSync(o.out) && !o.overwrite) {
    process.stderr.write(`migrate: ${o.out} exists; use --force to overwrite it\n`);
    return 2;
  }
  const log = (l: string): void => void process.stderr.write(`migrate: ${l}\n`);
  let dump: Tcpdump | undefined;
  if (o.tcpdump) {
    o.incomingPort ??= await freePort();
    dump = await Tcpdump.start(o.tcpdump, o.incomingPort);
  }
  let result;
  try {
    result = await runMigration({ ...o, log });
  } finally {
    if (dump) log(`tcpdump: ${(await dump.stop()).trim().split('\n').slice(-3).join('; ')}`);
  }
  const { clean } = o;
  if (clean) await removeWorkDir(result);
  const summary = {
    status: result.status,
    error: result.error,
    ramEqual: result.comparison?.equal,
    differingPages: result.comparison?.differingPages,
    capture: result.capture,
    sourceRam: clean ? undefined : result.sourceRam,
    destinationRam: clean ? undefined : result.destinationRam,
    timings: result.timings,
    dirtySyncCount: result.dirtySyncCount,
    destinationStarted: result.destinationStarted,
    transferred: result.sourceInfo.ram?.transferred,
    streams: result.recorder?.streams.map((s) => ({
      id: s.id,
      toDestination: s.toDestination,
      toSource: s.toSource,
      close: s.closeReason,
    })),
  };
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  return result.status === 'completed' && result.comparison?.equal ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`migrate: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  },
);
