import { hex32, MAIN_STREAM_MAGIC as MAIN, MULTIFD_STREAM_MAGIC as MULTIFD } from '../layout/streamMagic';

/** How bad a finding is; each code below has a default, a report may lower or raise it. */
export type Severity = 'error' | 'warning' | 'info';

/**
 * Every diagnostic code, declared once with its default severity and what it means. Codes are stable:
 * tools and tests match on them. `qemu` says whether QEMU's own receiver makes the same check (and
 * aborts the migration), as opposed to a lint of ours.
 */
export const DIAGNOSTIC_CODES = {
  // Container and input
  'capture.unknown-format': {
    severity: 'error',
    qemu: false,
    title: `Not a capture: the first bytes are neither .mfd, multifd nor ${MAIN.shown}`,
  },
  'capture.bad-header': { severity: 'error', qemu: false, title: 'Malformed .mfd file header' },
  'capture.truncated-record': {
    severity: 'warning',
    qemu: false,
    title: 'A .mfd record is cut off by end of file: the capture ends before it',
  },
  'capture.unknown-record-type': { severity: 'info', qemu: false, title: 'Records of an unknown type were skipped' },
  'capture.bad-json': {
    severity: 'warning',
    qemu: false,
    title: 'A META/OPEN/CLOSE/NOTE record does not hold a JSON object',
  },
  'capture.timestamp-backwards': { severity: 'warning', qemu: false, title: 'A record timestamp goes backwards' },
  'capture.data-after-close': { severity: 'warning', qemu: false, title: 'DATA for a stream after its CLOSE' },
  'capture.bad-page-size': {
    severity: 'error',
    qemu: false,
    title: 'META pageSize is not a power of two between 512 and 1048576; it is ignored',
  },
  'capture.decompress': {
    severity: 'error',
    qemu: false,
    title: 'A gzip or zstd input is truncated or corrupt: the stream is decoded up to where decompression stopped',
  },
  'capture.stream-reset': { severity: 'warning', qemu: false, title: 'A connection was reset or ended with an error' },
  // pcap / pcapng inputs
  'pcap.hole': {
    severity: 'error',
    qemu: false,
    title:
      'Bytes of a TCP stream are missing from the pcap (a dropped segment or a snaplen cut): a multifd channel resumes at the next packet boundary that can be proved, any other stream is decoded up to the hole',
  },
  'pcap.retransmission-differs': {
    severity: 'error',
    qemu: false,
    title: 'Two captured copies of the same TCP bytes disagree',
  },
  'pcap.unreadable-frames': {
    severity: 'warning',
    qemu: false,
    title: 'Frames whose link, IP or TCP headers could not be read',
  },
  'pcap.truncated-file': {
    severity: 'warning',
    qemu: false,
    title: 'The pcap ends inside a record, or its structure is broken: frames after that are not read',
  },
  'pcap.open-at-end': {
    severity: 'warning',
    qemu: false,
    title: 'A connection was still open when the capture ended: bytes sent after that are missing',
  },
  'pcap.no-syn': { severity: 'info', qemu: false, title: 'A connection was already open when the capture began' },
  'pcap.no-migration': {
    severity: 'error',
    qemu: false,
    title: 'No TCP connection in the pcap carries a migration stream',
  },
  'stream.unknown-kind': {
    severity: 'error',
    qemu: false,
    title: `A stream starts with neither ${MAIN.shown} nor the multifd magic`,
  },
  // Multifd
  'multifd.init.bad-magic': {
    severity: 'error',
    qemu: true,
    title: `MultiFDInit_t magic is not ${hex32(MULTIFD.value)}`,
  },
  'multifd.init.bad-version': { severity: 'error', qemu: true, title: 'MultiFDInit_t version is not 1' },
  'multifd.init.truncated': { severity: 'error', qemu: true, title: 'The stream ends inside the 64-byte handshake' },
  'multifd.init.channel-id': { severity: 'warning', qemu: true, title: 'Channel id is out of range or used twice' },
  'multifd.uuid-mismatch': { severity: 'error', qemu: true, title: 'Channels carry different source uuids' },
  'multifd.page-size-unknown': {
    severity: 'warning',
    qemu: false,
    title: 'Page size could not be inferred; 4096 assumed',
  },
  'multifd.page-size-conflict': { severity: 'warning', qemu: false, title: 'Sources of the page size disagree' },
  'multifd.bad-magic': {
    severity: 'error',
    qemu: true,
    title: `Packet magic is not ${hex32(MULTIFD.value)} (framing lost)`,
  },
  'multifd.bad-version': { severity: 'error', qemu: true, title: 'Packet version is not 1' },
  'multifd.truncated-header': { severity: 'error', qemu: true, title: 'The stream ends inside a packet header' },
  'multifd.truncated-payload': { severity: 'error', qemu: true, title: 'The stream ends inside a packet payload' },
  'multifd.pages-alloc': {
    severity: 'error',
    qemu: true,
    title: 'pages_alloc is larger than the page count per packet',
  },
  'multifd.normal-pages': { severity: 'error', qemu: true, title: 'normal_pages is larger than pages_alloc' },
  'multifd.zero-pages': {
    severity: 'error',
    qemu: true,
    title: 'zero_pages is larger than pages_alloc - normal_pages',
  },
  'multifd.unknown-ramblock': {
    severity: 'error',
    qemu: true,
    title: 'The packet names a ramblock the main channel did not announce',
  },
  'multifd.ramblock-unterminated': {
    severity: 'warning',
    qemu: false,
    title: 'The ramblock name fills all 256 bytes with no NUL (QEMU forces byte 255 to NUL)',
  },
  'multifd.offset-range': { severity: 'error', qemu: true, title: 'A page offset is beyond used_length - page_size' },
  'multifd.offset-unaligned': {
    severity: 'warning',
    qemu: false,
    title: 'A page offset is not a multiple of the page size (QEMU does not check)',
  },
  'multifd.compression-mismatch': {
    severity: 'error',
    qemu: true,
    title: "A packet with pages has compression bits other than the channel's method",
  },
  'multifd.unknown-flags': { severity: 'warning', qemu: false, title: 'Flag bits no QEMU version defines' },
  'multifd.unknown-method': { severity: 'error', qemu: false, title: 'The compression field holds no known method' },
  'multifd.nocomp-size': {
    severity: 'warning',
    qemu: false,
    title: 'nocomp: next_packet_size differs from normal_pages × page_size',
  },
  'multifd.payload-without-pages': {
    severity: 'info',
    qemu: false,
    title: 'next_packet_size is non-zero on a packet without normal pages (stale field, ignored as QEMU does)',
  },
  'multifd.device-state.unterminated': {
    severity: 'error',
    qemu: true,
    title: 'Device-state idstr has no NUL terminator',
  },
  'multifd.device-state.empty': { severity: 'error', qemu: true, title: 'Empty device-state packet' },
  'multifd.device-state.sync': { severity: 'error', qemu: true, title: 'SYNC set on a device-state packet' },
  'multifd.device-state.vfio': {
    severity: 'error',
    qemu: true,
    title:
      "A VFIO device's buffers on multifd do not make its whole state (a missing or repeated idx, an unknown version, no CONFIG_STATE)",
  },
  'multifd.resync': {
    severity: 'error',
    qemu: false,
    title: 'After a hole in the stream, decoding resumed at the next packet boundary that could be proved',
  },
  'multifd.hole-unrecovered': {
    severity: 'error',
    qemu: false,
    title: 'After a hole in the stream, no packet boundary could be proved: the rest of the stream is not decoded',
  },
  'multifd.packet-num-gap': { severity: 'info', qemu: false, title: 'packet_num values are missing' },
  'multifd.packet-num-repeat': {
    severity: 'info',
    qemu: false,
    title: 'A packet_num value is used by more than one packet',
  },
  'multifd.sync-count-mismatch': {
    severity: 'warning',
    qemu: false,
    title: 'Channels carry different numbers of SYNC packets',
  },
  'multifd.page-twice-in-epoch': {
    severity: 'warning',
    qemu: false,
    title: 'The same page is sent twice within one epoch',
  },
  'multifd.sync-marker-mismatch': {
    severity: 'warning',
    qemu: false,
    title: "SYNCs per channel differ from the main channel's sync markers",
  },
  'multifd.release-bug.zero-only-dropped': {
    severity: 'warning',
    qemu: false,
    title:
      '9.0–9.2 with compression: packets made only of zero pages were filled but never sent, so those zero pages never reach the destination',
  },
  'multifd.release-bug.received-map': {
    severity: 'warning',
    qemu: false,
    title:
      'qpl/qatzip receivers before 10.0 (and uadk receivers) do not mark data pages received: a page later sent as a zero page keeps its old data',
  },
  'multifd.release-bug.sync-with-pages': {
    severity: 'warning',
    qemu: false,
    title:
      'SYNC packets carry pages (pre-9.0 sender): a 9.2 destination skips them and loses framing (QEMU issue 2720)',
  },
  'multifd.no-main-channel': {
    severity: 'info',
    qemu: false,
    title: 'No main channel in the capture: ramblock sizes are not known',
  },
  // Main channel
  'main.bad-magic': { severity: 'error', qemu: true, title: `The main channel does not start with ${MAIN.shown}` },
  'main.bad-version': { severity: 'error', qemu: true, title: `${MAIN.shown} file version is not 3` },
  'main.truncated': { severity: 'warning', qemu: false, title: 'The main channel ends inside a record' },
  'main.unknown-ram-flags': { severity: 'error', qemu: true, title: 'Unknown combination of RAM record flags' },
  'main.unknown-ramblock': {
    severity: 'error',
    qemu: true,
    title: 'A RAM record names a ramblock not announced in MEM_SIZE',
  },
  'main.no-block': { severity: 'error', qemu: true, title: 'RAM_SAVE_FLAG_CONTINUE with no previous block' },
  'main.offset-range': { severity: 'error', qemu: true, title: 'A RAM record offset is beyond the block' },
  'main.zero-fill': { severity: 'warning', qemu: true, title: 'A ZERO record carries a non-zero fill byte' },
  'main.mem-size-mismatch': {
    severity: 'error',
    qemu: false,
    title: 'MEM_SIZE block lengths do not add up to the total',
  },
  'main.unsupported-record': {
    severity: 'warning',
    qemu: false,
    title: 'A RAM record kind the decoder does not follow (XBZRLE, COMPRESS_PAGE, HOOK)',
  },
  'main.device-not-described': {
    severity: 'error',
    qemu: true,
    title: 'A device section whose device the VM description does not list',
  },
  'main.device-version': {
    severity: 'warning',
    qemu: false,
    title: 'A device section whose version_id differs from its description',
  },
  'main.device-mismatch': {
    severity: 'error',
    qemu: false,
    title: "A device section's bytes do not match its description (the footer is not where the description ends)",
  },
  'main.device-not-sent': {
    severity: 'warning',
    qemu: false,
    title: 'The VM description lists a device no section carried',
  },
  'main.vmdesc-invalid': {
    severity: 'warning',
    qemu: false,
    title: 'The VM description is JSON, but not the shape QEMU writes',
  },
  'main.package-truncated': {
    severity: 'error',
    qemu: false,
    title: 'A PACKAGED command declares more bytes than the stream holds',
  },
  'main.device-state': { severity: 'info', qemu: false, title: 'Stopped at device state that cannot be delimited' },
  'main.iterative-unknown': {
    severity: 'error',
    qemu: false,
    title: 'An iterative section (START/PART/END) of a device whose body no reader here knows: the walk stops there',
  },
  'main.dirty-bitmap': {
    severity: 'error',
    qemu: true,
    title: 'A dirty-bitmap chunk the destination (dirty_bitmap_load) refuses or drops',
  },
  'main.vfio': {
    severity: 'error',
    qemu: true,
    title: 'A VFIO section body the destination (vfio_load_state) refuses',
  },
  'main.bad-section': { severity: 'error', qemu: false, title: 'Unexpected section type byte' },
  'main.footer-mismatch': { severity: 'error', qemu: true, title: 'Section footer names another section' },
  'main.vmdesc': { severity: 'info', qemu: false, title: 'VM description JSON found at the end of the main channel' },
  'main.mapped-ram': { severity: 'info', qemu: false, title: 'mapped-ram stream: pages live at fixed file offsets' },
  'mapped-ram.bad-header': {
    severity: 'error',
    qemu: false,
    title: 'A MappedRamHeader whose page size, bitmap or page region cannot be right: the block is not replayed',
  },
  'mapped-ram.bitmap-empty': {
    severity: 'warning',
    qemu: false,
    title:
      'Every mapped-ram bitmap is all zero: QEMU writes the bitmaps only at the end of a save, so the save was interrupted',
  },
  'mapped-ram.shared-block': {
    severity: 'info',
    qemu: false,
    title: 'x-ignore-shared: a block whose RAM is not in the file (shared memory at its GPA), so it is not replayed',
  },
  'mapped-ram.page-unreadable': {
    severity: 'error',
    qemu: false,
    title: 'A page the bitmap marks present lies past the end of the file',
  },
  'main.bad-configuration': { severity: 'error', qemu: true, title: 'Malformed QEMU_VM_CONFIGURATION record' },
  'main.record-limit': {
    severity: 'warning',
    qemu: false,
    title: 'Too many RAM records: the index stops to bound memory',
  },
  // Postcopy
  'postcopy.preempt-channel': {
    severity: 'info',
    qemu: false,
    title: 'A stream without magic, after the main and every multifd channel, is the postcopy preempt channel',
  },
  'postcopy.preempt-truncated': {
    severity: 'warning',
    qemu: false,
    title: 'The postcopy preempt channel ends inside a RAM record',
  },
  'postcopy.preempt-after-eos': {
    severity: 'warning',
    qemu: true,
    title: "Bytes follow the preempt channel's EOS: the destination stops reading it there",
  },
  'postcopy.page-twice': {
    severity: 'warning',
    qemu: true,
    title: 'A page came twice after the switch: the destination keeps the first it placed',
  },
  'postcopy.incomplete': {
    severity: 'error',
    qemu: false,
    title: 'The capture ends inside postcopy: the pages sent after the cut are missing',
  },
  'replay.postcopy-unsent': {
    severity: 'error',
    qemu: false,
    title: 'Pages never sent before a capture cut inside postcopy could not be rebuilt',
  },
  'postcopy.order-unknown': {
    severity: 'warning',
    qemu: false,
    title: 'Two streams carry the same postcopy page and the capture cannot tell which came first',
  },
  // Replay
  'replay.decompress': { severity: 'error', qemu: true, title: 'Decompression failed' },
  'replay.output-size': {
    severity: 'error',
    qemu: true,
    title: 'Decompressed output differs from normal_pages × page_size',
  },
  'replay.page-twice-in-epoch': {
    severity: 'warning',
    qemu: false,
    title: 'A page was written twice within one epoch',
  },
  'replay.zero-data-page': {
    severity: 'info',
    qemu: false,
    title: 'A page sent as data is all zeros (wasted bandwidth with zero-page detection on)',
  },
  'replay.pages-lost': {
    severity: 'error',
    qemu: false,
    title: 'Pages the capture lost in a hole could not be rebuilt',
  },
  'replay.stopped': { severity: 'error', qemu: false, title: 'Replay of a channel stopped early' },
  'replay.image-size': {
    severity: 'error',
    qemu: false,
    title: 'No image of the MEM_SIZE length can be made for a ramblock; its pages are not replayed',
  },
  'replay.no-size': {
    severity: 'warning',
    qemu: false,
    title: 'Block size unknown (no MEM_SIZE); image sized to the highest offset seen',
  },
  'replay.mismatch': { severity: 'error', qemu: false, title: 'Rebuilt RAM differs from the reference' },
  'replay.capture-ended': {
    severity: 'error',
    qemu: false,
    title: 'The capture ended before the bytes its index counts (it shrank while replaying); replay stopped there',
  },
  'replay.write-failed': {
    severity: 'error',
    qemu: false,
    title: 'An output file could not be written (disk full, I/O error); replay stopped, output marked incomplete',
  },
  'replay.interrupted': {
    severity: 'error',
    qemu: false,
    title: 'Replay interrupted (signal or cancel) before its end; output marked incomplete',
  },
  'replay.incomplete-index': {
    severity: 'error',
    qemu: false,
    title: 'The index stopped early (a record limit), so the replay cannot apply every page',
  },
  'replay.too-many-blocks': {
    severity: 'error',
    qemu: false,
    title: 'More ramblocks than the image limit; pages of the others are not replayed',
  },
  'diagnostics.capped': { severity: 'info', qemu: false, title: 'Further diagnostics of one code were not listed' },
} as const satisfies Record<string, { severity: Severity; qemu: boolean; title: string }>;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;
