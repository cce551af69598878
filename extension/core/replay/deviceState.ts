import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { sourceBytes, type CaptureAnalysis } from '../analysisTypes';
import { insideFolder, uniqueNames } from './safeFileName';

export interface DeviceStateBlob {
  idstr: string;
  instanceId: number;
  file: string;
  bytes: number;
  packets: number;
}

/**
 * 10.0+ device-state packets: each device's buffers, concatenated in channel order, go to one file named by
 * idstr and instance (what QEMU hands to the device's load_state_buffer hook).
 */
export async function extractDeviceState(analysis: CaptureAnalysis, outDir: string, force: boolean): Promise<DeviceStateBlob[]> {
  const keys: { key: string; idstr: string; instance: number }[] = [];
  for (const m of analysis.multifd) {
    for (let r = 0; r < m.packets.length; r++) {
      if (!m.packets.isDeviceState(r)) continue;
      const idstr = analysis.names.get(m.packets.name.get(r));
      const instance = m.packets.instanceId.get(r);
      const key = `${idstr}\u0000${instance}`;
      if (!keys.some((k) => k.key === key)) keys.push({ key, idstr, instance });
    }
  }
  if (!keys.length) return [];
  const dir = join(outDir, 'device-state');
  await fsp.mkdir(dir, { recursive: true });
  const names = uniqueNames(keys.map((k) => `${k.idstr}.${k.instance}`), '.bin');
  const out: DeviceStateBlob[] = [];
  for (const k of keys) {
    const file = insideFolder(dir, names.get(`${k.idstr}.${k.instance}`)!);
    const h = await fsp.open(file, force ? 'w' : 'wx');
    const blob: DeviceStateBlob = { idstr: k.idstr, instanceId: k.instance, file, bytes: 0, packets: 0 };
    try {
      for (const m of analysis.multifd) {
        const stream = sourceBytes(analysis, m.streamId);
        for (let r = 0; r < m.packets.length; r++) {
          if (!m.packets.isDeviceState(r) || analysis.names.get(m.packets.name.get(r)) !== k.idstr || m.packets.instanceId.get(r) !== k.instance) continue;
          const start = m.packets.headerOffset.get(r) + m.packets.headerLength.get(r);
          const data = await stream.read(start, start + m.packets.payloadLength.get(r));
          await h.write(data);
          blob.bytes += data.length;
          blob.packets++;
        }
      }
    } finally {
      await h.close();
    }
    out.push(blob);
  }
  return out;
}
