import { analyzeCaptureFile } from '../../core/analysis';
import type { DecodedField } from '../../core/vmstate/readDeviceState';
import { readDeviceStates, type DeviceState } from '../../core/vmstate/deviceStates';
import { fieldValueText } from '../../core/vmstate/fieldText';
import { hexBytes } from '../../core/vmstate/stateJson';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CliCommand } from '../cliCommand';
import { terminalLines } from '../terminalText';
import { parseCaptureArgs } from './inspect';
import { jsonValue } from './sections';

export const devicesCommand: CliCommand = {
  name: 'devices',
  usage: 'mfd devices <capture> [--device NAME] [--json] [--page-size N] [--offset N] [--port P] [--migration N]',
  summary:
    'the state of each device section, decoded through the VM description: section, fields, values, byte offsets',
  async run(argv, io) {
    const { values, positionals } = parseCaptureArgs(argv, { device: { type: 'string' }, json: { type: 'boolean' } });
    const analysis = await analyzeCaptureFile(positionals[0], { pageSize: values.pageSize, open: values.open });
    try {
      const states = await readDeviceStates(analysis, values.device);
      if (values.device !== undefined && states.devices.length === 0 && !states.unavailable) {
        const names = [
          ...new Set((analysis.main?.sections ?? []).filter((e) => e.bodyOffset !== undefined).map((e) => e.idstr)),
        ];
        throw new UsageError(
          `--device ${values.device}: no decoded device section of that name (devices: ${names.join(', ') || 'none'})`,
        );
      }
      const problems = states.devices.reduce(
        (n, d) => n + d.decoded.problems.filter((p) => p.kind !== 'version').length,
        0,
      );
      if (values.json)
        io.out(
          JSON.stringify(
            { streamId: states.streamId, unavailable: states.unavailable, devices: states.devices.map(deviceJson) },
            jsonValue,
          ) + '\n',
        );
      else io.out(renderDevices(states.devices, states.unavailable));
      return states.unavailable || problems > 0 ? EXIT_FINDINGS : EXIT_OK;
    } finally {
      await analysis.capture.source.close();
    }
  },
};

function fieldJson(f: DecodedField): Record<string, unknown> {
  return {
    name: f.name,
    type: f.type,
    offset: f.offset,
    length: f.length,
    ...(f.index !== undefined ? { index: f.index } : {}),
    ...(f.version !== undefined ? { version: f.version } : {}),
    ...(f.value !== undefined ? { value: f.value } : {}),
    ...(f.bytes && !f.children ? { hex: hexBytes(f.bytes) } : {}),
    ...(f.children ? { fields: f.children.map(fieldJson) } : {}),
  };
}

function deviceJson(d: DeviceState) {
  return {
    key: d.key,
    idstr: d.idstr,
    sectionId: d.sectionId,
    instanceId: d.instanceId,
    versionId: d.versionId,
    kind: d.kind,
    offset: d.offset,
    bodyEnd: d.decoded.bodyEnd,
    problems: d.decoded.problems,
    fields: d.decoded.fields.map(fieldJson),
  };
}

function fieldLines(fields: DecodedField[], depth: number, out: string[]): void {
  for (const f of fields) {
    const pad = '  '.repeat(depth);
    const name = `${f.name}${f.index !== undefined ? `[${f.index}]` : ''}`;
    if (f.children) {
      out.push(
        `${pad}${name} (${f.subsection ? `subsection, version ${f.version}` : f.type}) @${f.offset} +${f.length}`,
      );
      fieldLines(f.children, depth + 1, out);
    } else out.push(`${pad}${name} (${f.type}) @${f.offset} +${f.length}: ${fieldValueText(f)}`);
  }
}

export function renderDevices(devices: DeviceState[], unavailable?: string): string {
  if (unavailable) return terminalLines([`device state not decoded: ${unavailable}`]);
  const lines: string[] = [];
  for (const d of devices) {
    lines.push(
      `${d.key}: ${d.kind} instance ${d.instanceId} version ${d.versionId} @${d.offset}, body ends at ${d.decoded.bodyEnd}`,
    );
    for (const p of d.decoded.problems) lines.push(`  ! @${p.offset}: ${p.message}`);
    fieldLines(d.decoded.fields, 1, lines);
  }
  if (!devices.length) lines.push('no device section was decoded');
  return terminalLines(lines);
}
