import type { StreamBytes } from '../capture/streamBytes';
import { DescriptionError, parseDeviceDescriptions, type DeviceDescriptions } from '../vmstate/deviceDescriptions';
import { decodeDeviceSection } from '../vmstate/deviceSection';
import type { Reporter } from './mainReporter';
import type { MainSectionEntry } from './mainChannelTypes';

/**
 * Device sections of the main channel, for the walk: a SECTION_FULL (or START) of a device the VM description
 * describes is decoded through it and the walk goes on after its footer; inside a PACKAGED command (postcopy's
 * device state) a section that cannot be delimited is skipped to the package's end, which its length gives.
 * Anything else stops the walk, saying why.
 */

export interface DeviceSectionOutcome {
  /** Where the walk goes on; undefined: it stops here. */
  next?: number;
  /** The section's body ended where the description says, and its footer followed. */
  decoded: boolean;
}

export class DeviceSections {
  private descriptions?: DeviceDescriptions;
  private descriptionError?: string;
  /** Devices seen in the stream, by "name/instance", to compare with the description at the end. */
  private readonly seen = new Set<string>();

  constructor(
    private readonly stream: StreamBytes,
    private readonly report: Reporter,
  ) {}

  /** The VM description's JSON, once it is known (from the tail, or at EOF). */
  describe(json: unknown, at: number): void {
    if (this.descriptions || this.descriptionError) return;
    try {
      this.descriptions = parseDeviceDescriptions(json);
    } catch (e) {
      this.descriptionError = e instanceof DescriptionError ? e.message : String(e);
      this.report(
        'main.vmdesc-invalid',
        `the VM description does not describe devices as QEMU writes it: ${this.descriptionError}; device state cannot be decoded`,
        at,
      );
    }
  }

  get described(): boolean {
    return this.descriptions !== undefined;
  }

  /**
   * One device section whose header was read; `bodyAt` is its first body byte. `packageEnd`: the end of the
   * PACKAGED blob the section sits in, if any.
   */
  async section(
    entry: MainSectionEntry,
    bodyAt: number,
    packageEnd: number | undefined,
  ): Promise<DeviceSectionOutcome> {
    const { idstr = '', instanceId, versionId, id } = entry;
    const full = instanceId !== undefined && versionId !== undefined;
    if (this.descriptions && full) {
      this.seen.add(`${idstr}/${instanceId}`);
      const r = await decodeDeviceSection(
        this.stream,
        { idstr, instanceId, versionId, sectionId: id, bodyOffset: bodyAt },
        this.descriptions,
        { keepFields: false },
      );
      for (const p of r.problems) {
        const code =
          p.kind === 'not-described'
            ? 'main.device-not-described'
            : p.kind === 'version'
              ? 'main.device-version'
              : 'main.device-mismatch';
        this.report(code, `section "${idstr}" (id ${id}, instance ${instanceId}): ${p.message}`, p.offset);
      }
      entry.bodyOffset = bodyAt;
      entry.bodyEnd = r.bodyEnd;
      if (r.next !== undefined) return { next: r.next, decoded: r.problems.every((p) => p.kind === 'version') };
    }
    if (packageEnd !== undefined && bodyAt < packageEnd) {
      this.report(
        'main.device-state',
        `section "${idstr}" (id ${id}) inside PACKAGED: ${this.why()}; the rest of the package is skipped, to its end at ${packageEnd}`,
        entry.streamOffset,
      );
      return { next: packageEnd, decoded: false };
    }
    const kind = full ? '' : ' (an iterative device: its PART/END bodies have no description)';
    this.report(
      'main.device-state',
      `section "${idstr}" (id ${id}${full ? `, instance ${instanceId}, version ${versionId}` : ''})${kind}: device state cannot be delimited: ${this.why()}; decoding stops here`,
      entry.streamOffset,
    );
    return { decoded: false };
  }

  private why(): string {
    if (this.descriptionError) return `the VM description is unusable (${this.descriptionError})`;
    if (!this.descriptions)
      return 'the stream carries no VM description (suppress-vmdesc, a postcopy package, or a capture cut before its end)';
    return 'the VM description does not delimit it';
  }

  /** At EOF: devices the description lists that no section carried (the stream's devices missing from it are reported as met). */
  finish(at: number): void {
    if (!this.descriptions) return;
    const missing = this.descriptions.devices.filter((d) => !this.seen.has(`${d.name}/${d.instanceId}`));
    if (missing.length)
      this.report(
        'main.device-not-sent',
        `the VM description lists ${missing.length} device(s) no section of the stream carried: ${missing
          .slice(0, 8)
          .map((d) => `"${d.name}" instance ${d.instanceId}`)
          .join(', ')}${missing.length > 8 ? ', …' : ''}`,
        at,
      );
  }
}
