import type { StructLayout } from '../layout/fieldLayout';

/**
 * VFIODeviceStatePacket (hw/vfio/migration-multifd.c, 10.0+, QEMU_PACKED): what a VFIO device puts in each
 * multifd device-state blob. Its buffers travel on any channel; the destination puts them back in `idx`
 * order and writes the data of each to the device's migration data fd, until the buffer flagged
 * CONFIG_STATE (the last one), whose data is the device's config space (DEV_CONFIG_STATE … END_OF_STATE).
 */

export const VFIO_DEVICE_STATE_PACKET_SIZE = 12;
export const VFIO_DEVICE_STATE_PACKET_VER_CURRENT = 0;
export const VFIO_DEVICE_STATE_CONFIG_STATE = 0x1;
/** idx UINT32_MAX is refused ("packet index is invalid"). */
export const VFIO_DEVICE_STATE_IDX_INVALID = 0xffffffff;

export const VFIO_DEVICE_STATE_PACKET_LAYOUT: StructLayout = {
  cStruct: 'VFIODeviceStatePacket',
  fixedSize: VFIO_DEVICE_STATE_PACKET_SIZE,
  fields: [
    {
      name: 'version',
      offset: 0,
      width: 4,
      type: 'u32be',
      meaning: `VFIO_DEVICE_STATE_PACKET_VER_CURRENT (${VFIO_DEVICE_STATE_PACKET_VER_CURRENT}); any other is refused`,
    },
    { name: 'idx', offset: 4, width: 4, type: 'u32be', meaning: "the buffer's place in the device's state" },
    {
      name: 'flags',
      offset: 8,
      width: 4,
      type: 'u32be',
      meaning: 'VFIO_DEVICE_STATE_CONFIG_STATE (0x1): the config space, the last buffer',
      explain: (v) => (Number(v) & VFIO_DEVICE_STATE_CONFIG_STATE ? 'CONFIG_STATE' : 'device data'),
    },
  ],
};
