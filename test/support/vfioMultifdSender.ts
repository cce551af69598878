import { VFIO_END_OF_STATE_BYTES } from '../../extension/core/mainchannel/vfioLayouts';
import type { MultifdChannelEncoder } from './multifdEncoder';

/**
 * A VFIO device's stop-copy state sent over multifd, as hw/vfio/migration-multifd.c sends it (10.0+):
 * vfio_multifd_save_complete_precopy_thread reads the device's data fd in buffers of data_buffer_size, each
 * queued as one VFIODeviceStatePacket (be32 version 0, be32 idx from 0, be32 flags 0, the data); then
 * vfio_save_complete_precopy_thread_config_state queues the config space (DEV_CONFIG_STATE, its VMState,
 * END_OF_STATE) as the next idx with flags CONFIG_STATE. multifd_queue_device_state hands each to whichever
 * channel is free: `channelOf` says which.
 */

export interface VfioPacket {
  version: number;
  idx: number;
  flags: number;
  data: Uint8Array;
}

export function vfioPackets(state: Uint8Array, bufferSize: number, configSpace: Uint8Array): VfioPacket[] {
  const out: VfioPacket[] = [];
  for (let at = 0, idx = 0; at < state.length; at += bufferSize, idx++)
    out.push({ version: 0, idx, flags: 0, data: state.subarray(at, at + bufferSize) });
  const config = new Uint8Array(8 + configSpace.length + 8);
  config.set([0xff, 0xff, 0xff, 0xff, 0xef, 0x10, 0x00, 0x02]);
  config.set(configSpace, 8);
  config.set(VFIO_END_OF_STATE_BYTES, 8 + configSpace.length);
  out.push({ version: 0, idx: out.length, flags: 1, data: config });
  return out;
}

export function vfioPacketBlob(p: VfioPacket): Uint8Array {
  const b = new Uint8Array(12 + p.data.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, p.version);
  v.setUint32(4, p.idx);
  v.setUint32(8, p.flags);
  b.set(p.data, 12);
  return b;
}

export function sendVfio(
  channels: MultifdChannelEncoder[],
  idstr: string,
  instance: number,
  packets: readonly VfioPacket[],
  channelOf: (i: number) => number,
): void {
  packets.forEach((p, i) => channels[channelOf(i)].deviceState(idstr, instance, vfioPacketBlob(p)));
}
