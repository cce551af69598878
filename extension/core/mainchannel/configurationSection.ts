import { latin1, uuidString } from '../util/bytes';
import { LIMITS, QEMU_VM_SUBSECTION } from './constants';
import type { StreamWalker } from './streamWalker';

/** What the QEMU_VM_CONFIGURATION record (vmstate "configuration", savevm.c) says. */
export interface MainConfiguration {
  machineType?: string;
  targetPageBits?: number;
  capabilities: string[];
  uuid?: string;
  /** Names of the subsections present, in stream order. */
  subsections?: string[];
}

export type ConfigurationResult =
  { ok: true; config: MainConfiguration } | { ok: false; config: MainConfiguration; at: number; message: string };

/**
 * Reads the configuration vmstate after its 0x07 byte: be32 length + machine-type name, then the
 * subsections that are "needed" on the source. On x86 none is sent by default: target-page-bits only for
 * variable-page-size targets, capabilities only when a validated capability (x-ignore-shared, mapped-ram)
 * is on, uuid only with validate-uuid. The vmstate has no terminator; subsections are recognised by the
 * 0x05 byte, and the next top-level record is never 0x05.
 * Truncation surfaces as StreamEnded from the walker.
 */
export async function readConfiguration(w: StreamWalker): Promise<ConfigurationResult> {
  const config: MainConfiguration = { capabilities: [] };
  const lenAt = w.pos;
  const len = await w.be32();
  if (len > LIMITS.maxMachineTypeLength)
    return {
      ok: false,
      config,
      at: lenAt,
      message: `machine-type name length ${len} is implausible (limit ${LIMITS.maxMachineTypeLength})`,
    };
  config.machineType = latin1(await w.bytes(len));
  const seen: string[] = [];
  while ((await w.peek8()) === QEMU_VM_SUBSECTION) {
    const at = w.pos;
    await w.u8();
    const name = await w.name8();
    const version = await w.be32();
    seen.push(name);
    config.subsections = seen;
    if (version !== 1)
      return { ok: false, config, at, message: `subsection "${name}" has version ${version}; only version 1 exists` };
    switch (name) {
      case 'configuration/target-page-bits':
        config.targetPageBits = await w.be32();
        break;
      case 'configuration/capabilities': {
        const countAt = w.pos;
        const count = await w.be32();
        if (count > LIMITS.maxCapabilities)
          return {
            ok: false,
            config,
            at: countAt,
            message: `capability count ${count} is implausible (limit ${LIMITS.maxCapabilities})`,
          };
        for (let i = 0; i < count; i++) config.capabilities.push(await w.name8());
        break;
      }
      case 'configuration/uuid':
        config.uuid = uuidString(await w.bytes(16));
        break;
      default:
        // An unknown subsection cannot be delimited: its fields are not self-describing.
        return { ok: false, config, at, message: `unknown configuration subsection "${name}"` };
    }
  }
  return { ok: true, config };
}
