import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, openSync, closeSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { analyzeCapture, analyzeCaptureFile } from '../../core/analysis';
import { MemoryByteSource } from '../../core/capture/fileAccessor';
import { openCaptureFromSource } from '../../core/capture/openCapture';
import { MfdBuilder } from '../../core/capture/mfdWriter';
import { readDeviceStates } from '../../core/vmstate/deviceStates';
import { fieldValueText } from '../../core/vmstate/fieldText';
import { MAX_KEPT_FIELDS, type DecodedField } from '../../core/vmstate/readDeviceState';
import type { DeviceFieldInfo } from '../../shared/protocol';
import { MainStreamEncoder } from '../../../test/support/mainchannel/mainStreamEncoder';
import { CaptureModel } from './captureModel';
import { MAX_FIELDS_PER_PAGE } from './deviceSectionsView';

// A real QEMU 7.2 capture (samples/README.md): 30 device sections decoded through its VM description.
const SAMPLE = resolve(__dirname, '../../../samples/qemu72-nocomp.mfd');
const dir = mkdtempSync(join(tmpdir(), 'mfd-devices-'));
const models: CaptureModel[] = [];
after(async () => {
  for (const m of models) await m.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function load(path: string): Promise<CaptureModel> {
  const m = await CaptureModel.load(await analyzeCaptureFile(path));
  models.push(m);
  return m;
}

/** Every field of a section, through getDeviceFields pages of `page`, children included. */
async function allFields(m: CaptureModel, section: number, path: number[] = [], page = 7): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let start = 0; ;) {
    const p = await m.devices.fields(section, path, start, page);
    assert.ok(p.fields.length <= page);
    for (const f of p.fields)
      out.push({ ...plain(f), ...(f.childCount ? { fields: await allFields(m, section, f.path, page) } : {}) });
    start += p.fields.length;
    if (start >= p.total || !p.fields.length) break;
  }
  return out;
}

function plain(f: DeviceFieldInfo | DecodedField) {
  return { name: f.name, index: f.index, type: f.type, offset: f.offset, length: f.length };
}
function decodedPlain(f: DecodedField): unknown {
  return {
    ...plain(f),
    ...(f.children ? { fields: f.children.map(decodedPlain) } : {}),
  };
}

describe('the Devices view of a real capture', () => {
  it('lists every device section mfd devices decodes, each with its row and byte range', async () => {
    const m = await load(SAMPLE);
    const cli = await readDeviceStates(m.analysis);
    const { sections, unavailable } = m.devices.list();
    assert.equal(unavailable, undefined);
    assert.equal(sections.length, 30);
    assert.deepEqual(
      sections.map((s) => [s.idstr, s.sectionId, s.instanceId, s.versionId, s.start]),
      cli.devices.map((d) => [d.idstr, d.sectionId, d.instanceId, d.versionId, d.offset]),
    );
    for (const s of sections) {
      // The row is the section's row in the packet list: its record name and stream offset.
      const row = m.rowOf(m.globalId(s.row), 0);
      assert.equal(row.record, s.kind);
      assert.equal(row.streamOffset, s.start);
      assert.ok(s.body && s.start < s.body.start && s.body.end < s.end, `${s.idstr}: body inside the record`);
      assert.deepEqual(s.problems, []);
    }
  });

  it('gives the fields and values mfd devices prints, a page at a time, structs nested', async () => {
    const m = await load(SAMPLE);
    const cli = await readDeviceStates(m.analysis);
    const { sections } = m.devices.list();
    for (const name of ['timer', 'cpu', '0000:00:01.0/PIIX3']) {
      const s = sections.find((x) => x.idstr === name)!;
      const d = cli.devices.find((x) => x.idstr === name)!;
      assert.deepEqual(await allFields(m, s.section), d.decoded.fields.map(decodedPlain), name);
      const top = await m.devices.fields(s.section, [], 0, 1000);
      assert.deepEqual(
        top.fields.map((f) => f.value),
        d.decoded.fields.map((f) => fieldValueText(f)),
      );
    }
    const timer = await m.devices.fields(0, [], 0, 10);
    assert.deepEqual(
      timer.fields.map((f) => [f.name, f.value]),
      [
        ['cpu_ticks_offset', '0x0000000000000000'],
        ['unused', '00 00 00 00 00 00 00 00'],
        ['cpu_clock_offset', '0x0000000000000000'],
      ],
    );
  });

  it("a field's bytes are the section row's payload at its offset (what the bytes pane highlights)", async () => {
    const m = await load(SAMPLE);
    const cli = await readDeviceStates(m.analysis);
    const s = m.devices.list().sections.find((x) => x.idstr === 'cpu')!;
    const details = await m.packet(s.row);
    assert.equal(details.payloadOffset, s.body!.start, "the row's payload is the section's body");
    const d = cli.devices.find((x) => x.idstr === 'cpu')!;
    const eip = (await m.devices.fields(s.section, [], 0, 500)).fields.find((f) => f.name === 'env.eip')!;
    const chunk = await m.payload(s.row, eip.offset - details.payloadOffset, eip.length);
    assert.equal(chunk.streamOffset, eip.offset);
    assert.deepEqual([...chunk.bytes], [...d.decoded.fields.find((f) => f.name === 'env.eip')!.bytes!]);
    assert.equal(eip.value, '0x000000000000fff0');
  });

  it('caps a page and rejects a path that names no struct', async () => {
    const m = await load(SAMPLE);
    const cpu = m.devices.list().sections.find((x) => x.idstr === 'cpu')!;
    const p = await m.devices.fields(cpu.section, [], 180, 1_000_000);
    assert.equal(p.start, 180);
    assert.equal(p.total, 187);
    assert.equal(p.fields.length, 7);
    assert.equal(
      (await m.devices.fields(cpu.section, [], 0, 1_000_000)).fields.length,
      Math.min(187, MAX_FIELDS_PER_PAGE),
    );
    await assert.rejects(m.devices.fields(cpu.section, [0], 0, 10), /no struct at \[0\]/);
    await assert.rejects(m.devices.fields(999, [], 0, 10), /no device section 999/);
  });

  it('a section whose footer is not where its description ends shows the Problems entry on the section', async () => {
    // The real capture with one byte changed: globalstate's footer marker (0x7e) at the end of its body.
    const m0 = await load(SAMPLE);
    const gs = m0.devices.list().sections.find((x) => x.idstr === 'globalstate')!;
    const stream = m0.analysis.streams.find((s) => s.id === m0.analysis.main!.streamId)!.stream.toDestination;
    const at = stream.fileOffsetOf(gs.body!.end);
    const path = join(dir, 'footer.mfd');
    copyFileSync(SAMPLE, path);
    const fd = openSync(path, 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    assert.equal(b[0], 0x7e, 'the footer marker is at that file offset');
    writeSync(fd, Buffer.from([0x00]), 0, 1, at);
    closeSync(fd);
    const m = await load(path);
    const bad = m.devices.list().sections.find((x) => x.idstr === 'globalstate')!;
    assert.deepEqual(
      bad.problems.map((x) => x.code),
      ['main.device-mismatch', 'main.device-state'],
      "the section's own problems (the footer, and the walk stopping there), not the VM description's note, which its row takes too",
    );
    const p = bad.problems.find((x) => x.code === 'main.device-mismatch')!;
    assert.equal(p.severity, 'error');
    assert.match(p.message, /footer of section 40 is not at/);
    assert.deepEqual(p.packet, bad.row, "the diagnostic links to the section's row");
    assert.ok(
      m.analysis.diagnostics.some((d) => d.code === 'main.device-mismatch' && d.message === p.message),
      'the same diagnostic the Problems panel lists',
    );
    // The fields still decode up to where the description ends.
    assert.ok((await m.devices.fields(bad.section, [], 0, 10)).total > 0);
  });
});

describe('the Devices view of synthetic captures', () => {
  async function synthetic(withDescription: boolean, elements: number) {
    const e = new MainStreamEncoder().header().configuration({ machineType: 'pc-i440fx-7.2', capabilities: [] });
    e.sectionFull(1, 'big', 0, 1)
      .raw(new Uint8Array(elements).map((_, i) => i & 0xff))
      .footer(1);
    e.eof();
    if (withDescription)
      e.vmDescription({
        page_size: 4096,
        devices: [
          {
            name: 'big',
            instance_id: 0,
            vmsd_name: 'big',
            version: 1,
            fields: [{ name: 'regs', type: 'uint8', size: 1, array_len: elements }],
          },
        ],
      });
    const b = new MfdBuilder().meta({ pageSize: 4096 });
    b.open(0, { label: 'main channel', client: '127.0.0.1:50000', server: '127.0.0.1:4444' });
    b.data(0, e.bytes());
    b.close(0);
    const m = await CaptureModel.load(
      await analyzeCapture(await openCaptureFromSource(new MemoryByteSource(b.build()))),
    );
    models.push(m);
    return m;
  }

  it('a section of more fields than are kept: pages of at most 500, and the stop is said on the section', async () => {
    const m = await synthetic(true, MAX_KEPT_FIELDS + 5000);
    const [s] = m.devices.list().sections;
    assert.equal(s.idstr, 'big');
    assert.equal(s.fieldCount, MAX_KEPT_FIELDS + 5000, 'the description lists them all');
    const p = await m.devices.fields(s.section, [], 99_990, 1000);
    assert.equal(p.total, MAX_KEPT_FIELDS, 'decoding for display keeps at most MAX_KEPT_FIELDS');
    assert.equal(p.fields.length, 10);
    assert.deepEqual(p.fields.at(-1), {
      path: [99_999],
      name: 'regs',
      index: 99_999,
      type: 'uint8',
      offset: p.fields.at(-1)!.offset,
      length: 1,
      value: `0x${(99_999 & 0xff).toString(16).padStart(2, '0')}`,
      childCount: 0,
    });
    assert.equal((await m.devices.fields(s.section, [], 0, 1_000_000)).fields.length, MAX_FIELDS_PER_PAGE);
    assert.match(p.problems.map((x) => x.message).join('\n'), /more than 100000 fields in one section/);
  });

  it('without a VM description: the section is listed, undecoded, with the reason and its diagnostic', async () => {
    const m = await synthetic(false, 16);
    const l = m.devices.list();
    assert.match(l.unavailable ?? '', /no VM description/);
    assert.equal(l.sections.length, 1);
    const [s] = l.sections;
    assert.equal(s.fieldCount, 0);
    assert.equal(s.body, undefined);
    assert.ok(s.problems.some((p) => p.code === 'main.device-state' && /cannot be delimited/.test(p.message)));
    const p = await m.devices.fields(s.section, [], 0, 10);
    assert.equal(p.total, 0);
  });
});
