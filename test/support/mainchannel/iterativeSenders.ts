import {
  DIRTY_BITMAP_MIG_FLAG_BITMAP_NAME,
  DIRTY_BITMAP_MIG_FLAG_BITS,
  DIRTY_BITMAP_MIG_FLAG_COMPLETE,
  DIRTY_BITMAP_MIG_FLAG_DEVICE_NAME,
  DIRTY_BITMAP_MIG_FLAG_EOS,
  DIRTY_BITMAP_MIG_FLAG_START,
  DIRTY_BITMAP_MIG_FLAG_ZEROES,
} from '../../../extension/core/mainchannel/dirtyBitmapLayouts';
import {
  VFIO_MIG_FLAG_DEV_CONFIG_LOAD_READY,
  VFIO_MIG_FLAG_DEV_CONFIG_STATE,
  VFIO_MIG_FLAG_DEV_DATA_STATE,
  VFIO_MIG_FLAG_DEV_INIT_DATA_SENT,
  VFIO_MIG_FLAG_DEV_SETUP_STATE,
  VFIO_MIG_FLAG_END_OF_STATE,
  VFIO_MIG_FLAG_HIGH,
} from '../../../extension/core/mainchannel/vfioLayouts';
import type { MainStreamEncoder } from './mainStreamEncoder';

/**
 * The save side of the iterative sections other than RAM, written the way QEMU writes them, into a
 * MainStreamEncoder (the caller writes the section headers and footers around them).
 */

/**
 * migration/block-dirty-bitmap.c: send_bitmap_header names the node and the bitmap only when they differ from
 * the previous chunk's (prev_bs / prev_bitmap live for the whole migration, across sections).
 */
export class DirtyBitmapSender {
  private prevNode?: string;
  private prevBitmap?: string;

  constructor(private readonly e: MainStreamEncoder) {}

  private header(node: string, bitmap: string, flags: number): void {
    if (node !== this.prevNode) flags |= DIRTY_BITMAP_MIG_FLAG_DEVICE_NAME;
    if (bitmap !== this.prevBitmap) flags |= DIRTY_BITMAP_MIG_FLAG_BITMAP_NAME;
    this.prevNode = node;
    this.prevBitmap = bitmap;
    this.e.u8(flags);
    if (flags & DIRTY_BITMAP_MIG_FLAG_DEVICE_NAME) this.e.name8(node);
    if (flags & DIRTY_BITMAP_MIG_FLAG_BITMAP_NAME) this.e.name8(bitmap);
  }

  /** send_bitmap_start: be32 granularity, u8 flags (0x01 enabled, 0x02 persistent). */
  start(node: string, bitmap: string, granularity: number, startFlags = 1): this {
    this.header(node, bitmap, DIRTY_BITMAP_MIG_FLAG_START);
    this.e.be32(granularity).u8(startFlags);
    return this;
  }

  /** send_bitmap_bits: a range of sectors; a buffer of zeroes is sent as ZEROES without it. */
  bits(node: string, bitmap: string, startSector: number, nrSectors: number, buf?: Uint8Array): this {
    const zero = !buf || buf.every((b) => b === 0);
    this.header(node, bitmap, DIRTY_BITMAP_MIG_FLAG_BITS | (zero ? DIRTY_BITMAP_MIG_FLAG_ZEROES : 0));
    this.e.be64(startSector).be32(nrSectors);
    if (!zero) this.e.be64(buf.length).raw(buf);
    return this;
  }

  complete(node: string, bitmap: string): this {
    this.header(node, bitmap, DIRTY_BITMAP_MIG_FLAG_COMPLETE);
    return this;
  }

  eos(): this {
    this.e.u8(DIRTY_BITMAP_MIG_FLAG_EOS);
    return this;
  }
}

/** hw/vfio/migration.c: the be64 VFIO_MIG_FLAG_* markers and what follows them. */
export class VfioSender {
  constructor(private readonly e: MainStreamEncoder) {}

  marker(low: number): this {
    this.e.be32(VFIO_MIG_FLAG_HIGH).be32(low);
    return this;
  }

  /** vfio_save_setup. */
  setup(): this {
    return this.marker(VFIO_MIG_FLAG_DEV_SETUP_STATE).marker(VFIO_MIG_FLAG_END_OF_STATE);
  }

  /** vfio_save_block: DEV_DATA_STATE, be64 size, the bytes read from the device's data fd. */
  block(data: Uint8Array): this {
    this.marker(VFIO_MIG_FLAG_DEV_DATA_STATE).e.be64(data.length).raw(data);
    return this;
  }

  /** vfio_save_iterate: one block, then END_OF_STATE (or INIT_DATA_SENT once, with switchover-ack). */
  iterate(data: Uint8Array, initDataSent = false): this {
    if (data.length) this.block(data);
    return this.marker(initDataSent ? VFIO_MIG_FLAG_DEV_INIT_DATA_SENT : VFIO_MIG_FLAG_END_OF_STATE);
  }

  /** vfio_save_complete_precopy: blocks until the device has no more, then END_OF_STATE. */
  complete(blocks: Uint8Array[]): this {
    for (const b of blocks) this.block(b);
    return this.marker(VFIO_MIG_FLAG_END_OF_STATE);
  }

  /** vfio_save_device_config_state: DEV_CONFIG_STATE, the config space's VMState, END_OF_STATE. */
  config(configSpace: Uint8Array): this {
    this.marker(VFIO_MIG_FLAG_DEV_CONFIG_STATE).e.raw(configSpace);
    return this.marker(VFIO_MIG_FLAG_END_OF_STATE);
  }

  /** vfio_multifd_emit_dummy_eos: the state went over multifd. */
  dummyEos(): this {
    return this.marker(VFIO_MIG_FLAG_END_OF_STATE);
  }

  /** 10.1+ vfio_save_state with multifd transfer and load-config-after-iter. */
  configLoadReady(): this {
    return this.marker(VFIO_MIG_FLAG_DEV_CONFIG_LOAD_READY);
  }
}
