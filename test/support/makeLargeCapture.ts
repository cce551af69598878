/**
 * Writes a synthetic multifd capture for performance work on the packet list, filter and page map:
 *
 *   node --import tsx test/support/makeLargeCapture.ts OUT.mfd [--packets 200000] [--channels 4]
 *        [--page-size 4096] [--normal-every 13] [--sync-every 5000] [--force]
 *
 * Each packet carries zero pages (QEMU 9.0+ zero-page-detection=multifd) and every Nth also one normal page,
 * so the file stays a few hundred MB at 200k packets (the 1344-byte headers dominate). Offsets wrap around a
 * 256 MiB "pc.ram", so later packets re-send pages. Channels get packets round-robin with a global packet_num;
 * every --sync-every packets each channel sends a SYNC (9.2+ style). Streams are written in batches through
 * MfdFileWriter, so memory stays flat.
 */
import { MfdFileWriter } from '../../extension/core/capture/mfdWriter';
import { MultifdChannelEncoder, page, type SenderVersion } from './multifdEncoder';

export interface LargeCaptureOptions {
  packets?: number;
  channels?: number;
  pageSize?: number;
  /** One packet in this many has a normal page (0: never). */
  normalEvery?: number;
  syncEvery?: number;
  zeroPerPacket?: number;
  blockBytes?: number;
  version?: SenderVersion;
  force?: boolean;
  ramblock?: string;
}

export interface LargeCaptureResult {
  path: string;
  packets: number;
  syncPackets: number;
  bytes: number;
}

const BATCH = 512;

export async function makeLargeCapture(path: string, o: LargeCaptureOptions = {}): Promise<LargeCaptureResult> {
  const packets = o.packets ?? 200_000;
  const channels = o.channels ?? 4;
  const pageSize = o.pageSize ?? 4096;
  const normalEvery = o.normalEvery ?? 13;
  const syncEvery = o.syncEvery ?? 5000;
  const zeroPerPacket = o.zeroPerPacket ?? 7;
  const blockPages = Math.floor((o.blockBytes ?? 256 << 20) / pageSize);
  const version = o.version ?? '10.0';
  const ramblock = o.ramblock ?? 'pc.ram';
  const w = await MfdFileWriter.create(path, o.force ?? false);
  await w.meta({
    tool: 'makeLargeCapture',
    pageSize,
    parameters: { 'multifd-channels': channels, 'multifd-compression': 'none', 'zero-page-detection': 'multifd' },
  });
  for (let c = 0; c < channels; c++)
    await w.open(c + 1, { label: `multifd channel ${c}`, client: `127.0.0.1:${40000 + c}`, server: '127.0.0.1:4444' });

  // Handshakes first, then packets in batches; each batch is one DATA record per channel.
  for (let c = 0; c < channels; c++) {
    const enc = new MultifdChannelEncoder({ version, pageSize, channelId: c });
    await w.data(c + 1, enc.bytes(), 'toDestination');
  }
  let packetNum = 1;
  let cursor = 0;
  let syncPackets = 0;
  let written = 0;
  while (written < packets) {
    const encoders = Array.from(
      { length: channels },
      (_, c) => new MultifdChannelEncoder({ version, pageSize, channelId: c }),
    );
    const end = Math.min(packets, written + BATCH);
    for (; written < end; written++) {
      const c = written % channels;
      if (syncEvery > 0 && written > 0 && written % syncEvery === 0) {
        for (const e of encoders) e.sync(packetNum);
        syncPackets += channels;
        packetNum++;
      }
      const zero: number[] = [];
      for (let k = 0; k < zeroPerPacket; k++) zero.push((cursor++ % blockPages) * pageSize);
      const normal =
        normalEvery > 0 && written % normalEvery === 0
          ? [{ offset: (cursor++ % blockPages) * pageSize, data: page(pageSize, written) }]
          : [];
      await encoders[c].packet({ ramblock, normal, zero, packetNum: packetNum++ });
    }
    // Drop each encoder's 64-byte MultiFDInit_t: it was written once above.
    for (let c = 0; c < channels; c++) {
      const bytes = encoders[c].bytes().subarray(64);
      if (bytes.length) await w.data(c + 1, bytes, 'toDestination');
    }
  }
  for (let c = 0; c < channels; c++) await w.close(c + 1, 'eof');
  await w.finish();
  return { path, packets: written + syncPackets, syncPackets, bytes: w.bytesWritten };
}

function arg(argv: string[], name: string): number | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : undefined;
}

if (process.argv[1] && /makeLargeCapture\.ts$/.test(process.argv[1])) {
  const argv = process.argv.slice(2);
  const out = argv.find(
    (a, i) => !a.startsWith('--') && (i === 0 || !argv[i - 1].startsWith('--') || argv[i - 1] === '--force'),
  );
  if (!out) {
    console.error(
      'usage: makeLargeCapture.ts OUT.mfd [--packets N] [--channels N] [--page-size N] [--normal-every N] [--sync-every N] [--force]',
    );
    process.exit(2);
  }
  const t = Date.now();
  makeLargeCapture(out, {
    packets: arg(argv, '--packets'),
    channels: arg(argv, '--channels'),
    pageSize: arg(argv, '--page-size'),
    normalEvery: arg(argv, '--normal-every'),
    syncEvery: arg(argv, '--sync-every'),
    force: argv.includes('--force'),
  }).then(
    (r) =>
      console.log(
        `${r.path}: ${r.packets} packets (${r.syncPackets} SYNC), ${(r.bytes / 1048576).toFixed(1)} MiB in ${((Date.now() - t) / 1000).toFixed(1)} s`,
      ),
    (e) => {
      console.error(String(e));
      process.exit(1);
    },
  );
}
