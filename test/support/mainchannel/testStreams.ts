import { MemoryByteSource } from '../../../extension/core/capture/fileAccessor';
import { StreamBytes } from '../../../extension/core/capture/streamBytes';
import { MainStreamEncoder } from './mainStreamEncoder';

/** Test helpers: wrap bytes as a stream, and a small but complete synthetic main channel. */

/** A stream whose bytes sit `fileStart` bytes into a "file", so stream and file offsets differ in tests. */
export function memoryStream(bytes: Uint8Array, fileStart = 0): StreamBytes {
  const file = new Uint8Array(fileStart + bytes.length);
  file.set(bytes, fileStart);
  return StreamBytes.contiguous(new MemoryByteSource(file), fileStart, bytes.length);
}

export function filledPage(size: number, seed: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = (seed + i * 7) & 0xff;
  return p;
}

export interface SampleOptions {
  pageSize?: number;
  /** Write MULTIFD_FLUSH records (8.1+ default) besides the EOS that ends each RAM section. */
  flush?: boolean;
  /** End with a device FULL section (as real streams do) rather than going straight to QEMU_VM_EOF. */
  device?: boolean;
  /** false: the VM description lists no device, so the device section cannot be decoded. */
  describeDevices?: boolean;
  vmdesc?: boolean;
}

/**
 * header, configuration, RAM START (MEM_SIZE, [FLUSH], EOS), RAM PART (ZERO, ZERO, PAGE, PAGE, [FLUSH],
 * EOS), SWITCHOVER_START, RAM END (ZERO, [FLUSH], EOS), [device FULL section], EOF, [VM description].
 */
export function sampleStream(o: SampleOptions = {}): Uint8Array {
  const ps = o.pageSize ?? 4096;
  const e = new MainStreamEncoder()
    .header()
    .configuration({
      machineType: 'pc-i440fx-10.0',
      capabilities: [],
      uuid: Uint8Array.from({ length: 16 }, (_, i) => i),
    })
    .sectionStart(1, 'ram', 0, 4)
    .memSize([
      { name: 'pc.ram', usedLength: 16 * ps },
      { name: 'pc.bios', usedLength: 2 * ps },
    ]);
  if (o.flush) e.flush();
  e.eos().footer(1);
  e.sectionPart(1)
    .zero(0, 'pc.ram')
    .zero(ps)
    .page(2 * ps, undefined, filledPage(ps, 1))
    .page(ps, 'pc.bios', filledPage(ps, 2));
  if (o.flush) e.flush();
  e.eos().footer(1);
  e.command(11);
  e.sectionEnd(1).zero(3 * ps, 'pc.ram');
  if (o.flush) e.flush();
  e.eos().footer(1);
  if (o.device) e.sectionFull(2, 'timer', 0, 2).raw([0, 0, 0, 1, 0, 0, 0, 2]).footer(2);
  e.eof();
  // The timer's body above, as QEMU's VM description describes a device: its fields in order, with type and size.
  const timer = {
    name: 'timer',
    instance_id: 0,
    vmsd_name: 'timer',
    version: 2,
    fields: [
      { name: 'cpu_ticks_offset', type: 'int32', size: 4 },
      { name: 'cpu_clock_offset', type: 'int32', size: 4 },
    ],
  };
  if (o.vmdesc !== false)
    e.vmDescription({ page_size: ps, devices: o.device && o.describeDevices !== false ? [timer] : [] });
  return e.bytes();
}
