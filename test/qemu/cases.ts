import type { MigrationOptions } from './migration';

/** The real-QEMU matrix of recorded migrations (32 MiB guests), shared by the matrix and the send-and-compare suites. */

export interface Case extends Omit<MigrationOptions, 'out'> {
  name: string;
}

export const CASES: Case[] = [
  ...(['none', 'zlib', 'zstd'] as const).flatMap((compression) => [
    {
      name: `10.0 ${compression} zero-page-detection=multifd`,
      qemu: '10.0' as const,
      channels: 4,
      compression,
      zeroPageDetection: 'multifd' as const,
      ramMiB: 32,
      live: false,
    },
    {
      name: `10.0 ${compression} zero-page-detection=legacy, live guest`,
      qemu: '10.0' as const,
      channels: 2,
      compression,
      zeroPageDetection: 'legacy' as const,
      ramMiB: 32,
      live: true,
    },
  ]),
  {
    name: '10.0 none zero-page-detection=none',
    qemu: '10.0',
    channels: 2,
    compression: 'none',
    zeroPageDetection: 'none',
    ramMiB: 32,
    live: false,
  },
  {
    name: '10.0 zstd zero-page-detection=multifd, live guest',
    qemu: '10.0',
    channels: 2,
    compression: 'zstd',
    zeroPageDetection: 'multifd',
    ramMiB: 32,
    live: true,
  },
  ...(['none', 'zlib', 'zstd'] as const).map((compression) => ({
    name: `7.2 ${compression}, live guest`,
    qemu: '7.2' as const,
    channels: 2,
    compression,
    ramMiB: 32,
    live: true,
  })),
  { name: '7.2 zlib static', qemu: '7.2', channels: 3, compression: 'zlib', ramMiB: 32, live: false },
  // 11.1, the current release: the 10.0 cases again, and the live cases 7.2 has (every method with a live guest).
  ...(['none', 'zlib', 'zstd'] as const).flatMap((compression) => [
    {
      name: `11.1 ${compression} zero-page-detection=multifd`,
      qemu: '11.1' as const,
      channels: 4,
      compression,
      zeroPageDetection: 'multifd' as const,
      ramMiB: 32,
      live: false,
    },
    {
      name: `11.1 ${compression} zero-page-detection=legacy, live guest`,
      qemu: '11.1' as const,
      channels: 2,
      compression,
      zeroPageDetection: 'legacy' as const,
      ramMiB: 32,
      live: true,
    },
    {
      name: `11.1 ${compression} zero-page-detection=multifd, live guest`,
      qemu: '11.1' as const,
      channels: 2,
      compression,
      zeroPageDetection: 'multifd' as const,
      ramMiB: 32,
      live: true,
    },
  ]),
  {
    name: '11.1 none zero-page-detection=none',
    qemu: '11.1',
    channels: 2,
    compression: 'none',
    zeroPageDetection: 'none',
    ramMiB: 32,
    live: false,
  },
  // Postcopy: precopy for two dirty syncs of a live guest, then migrate-start-postcopy. 10.0 refuses multifd with
  // postcopy; 11.1 runs them together. The destination stays paused (-S), so pages come by background push.
  {
    name: '10.0 postcopy, no multifd, live guest',
    qemu: '10.0',
    channels: 0,
    compression: 'none',
    ramMiB: 32,
    live: true,
    postcopy: {},
  },
  {
    name: '10.0 postcopy-preempt, no multifd, live guest',
    qemu: '10.0',
    channels: 0,
    compression: 'none',
    ramMiB: 32,
    live: true,
    postcopy: { preempt: true },
  },
  ...(['none', 'zlib', 'zstd'] as const).flatMap((compression) =>
    (['multifd', 'legacy'] as const).map((zeroPageDetection) => ({
      name: `11.1 postcopy, multifd ${compression}, zero-page-detection=${zeroPageDetection}, live guest`,
      qemu: '11.1' as const,
      channels: 2,
      compression,
      zeroPageDetection,
      ramMiB: 32,
      live: true,
      postcopy: {},
    })),
  ),
  {
    name: '11.1 postcopy-preempt, multifd zstd, live guest',
    qemu: '11.1',
    channels: 2,
    compression: 'zstd',
    zeroPageDetection: 'multifd',
    ramMiB: 32,
    live: true,
    postcopy: { preempt: true },
  },
  // Postcopy with the destination's guest running after the switch: it faults and requests pages (REQ_PAGES on
  // the return path), so its RAM differs from the source's in what its own guest writes. Their assertions differ
  // from the matrix's: postcopyRequests.test.ts runs them.
  {
    name: '10.0 postcopy-preempt, no multifd, live guest, destination runs',
    qemu: '10.0',
    channels: 0,
    compression: 'none',
    ramMiB: 32,
    live: true,
    postcopy: { preempt: true, destinationRuns: true },
  },
  ...([false, true] as const).map((preempt) => ({
    name: `11.1 ${preempt ? 'postcopy-preempt' : 'postcopy'}, multifd zstd, live guest, destination runs`,
    qemu: '11.1' as const,
    channels: 2,
    compression: 'zstd' as const,
    zeroPageDetection: 'multifd' as const,
    ramMiB: 32,
    live: true,
    postcopy: { preempt, destinationRuns: true },
  })),
];
