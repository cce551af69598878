import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../mfd';
import type { CliIo } from '../cliCommand';
import { MfdBuilder } from '../../core/capture/mfdWriter';
import { MainStreamEncoder } from '../../../test/support/mainchannel/mainStreamEncoder';

/** mfd sections, devices and extract on a small synthetic capture with a device section, commands and a return path. */

const PS = 4096;
const dir = mkdtempSync(join(tmpdir(), 'mfd-devices-'));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), interactive: false };
  const code = await main(argv, io);
  return { code, out, err };
}

const DESCRIPTION = {
  page_size: PS,
  devices: [
    {
      name: 'dév',
      instance_id: 0,
      vmsd_name: 'dev',
      version: 1,
      fields: [
        { name: 'a', type: 'uint32', size: 4 },
        { name: 'b', type: 'uint8 equal', size: 1 },
        { name: 'r', type: 'int16', size: 2, array_len: 2 },
      ],
    },
  ],
};

function capture(name: string, opts: { lyingDescription?: boolean } = {}): string {
  const m = new MainStreamEncoder().header().configuration({ machineType: 'pc' });
  m.command(1);
  m.sectionStart(2, 'ram')
    .memSize([{ name: 'pc.ram', usedLength: 4 * PS }])
    .page(0, 'pc.ram', new Uint8Array(PS).fill(9))
    .eos()
    .footer(2);
  m.command(2, [0, 0, 0, 7]);
  // version 0, the name with its length byte and the nil QEMU writes after it, one range (start 0x1000, 2 pages)
  m.command(6, [0, 6, ...Buffer.from('pc.ram'), 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
  m.command(10, [6, ...Buffer.from('pc.ram')]);
  m.command(11);
  m.sectionEnd(2).eos().footer(2);
  m.sectionFull(3, 'dév', 0, 1).raw([0, 0, 0, 5, 0xc8, 0xff, 0xfe, 0, 3]).footer(3);
  m.eof();
  const desc = opts.lyingDescription
    ? { ...DESCRIPTION, devices: [{ ...DESCRIPTION.devices[0], fields: [{ name: 'a', type: 'buffer', size: 6 }] }] }
    : DESCRIPTION;
  m.vmDescription(desc);
  const pong = Uint8Array.from([0, 2, 0, 4, 0, 0, 0, 7]);
  const file = new MfdBuilder()
    .meta({ tool: 'test', pageSize: PS })
    .open(0, { client: 'a', server: 'b' })
    .data(0, m.bytes(), 'toDestination', 1_000_000)
    .data(0, pong, 'toSource', 3_500_000)
    .build();
  const path = join(dir, name);
  writeFileSync(path, file);
  return path;
}

test('mfd sections --json: every record with its range, command arguments, the return path with PING matched to PONG', async () => {
  const r = await run('sections', capture('ok.mfd'), '--json');
  assert.equal(r.code, 0, r.out + r.err);
  const j = JSON.parse(r.out);
  const rows = j.mainChannel.rows as {
    kind: string;
    start: number;
    end: number;
    idstr?: string;
    command?: { name: string; arguments: Record<string, unknown> };
    body?: unknown;
  }[];
  assert.deepEqual(
    rows.map((x) => x.command?.name ?? x.kind),
    [
      'CONFIGURATION',
      'OPEN_RETURN_PATH',
      'START',
      'PING',
      'POSTCOPY_RAM_DISCARD',
      'RECV_BITMAP',
      'SWITCHOVER_START',
      'END',
      'FULL',
      'EOF',
      'VMDESCRIPTION',
    ],
  );
  for (let i = 0; i + 1 < rows.length; i++)
    assert.equal(rows[i].end, rows[i + 1].start, `row ${i} ends where the next starts`);
  assert.deepEqual(rows[3].command?.arguments, { value: 7 });
  assert.deepEqual(rows[4].command?.arguments, {
    version: 0,
    ramblock: 'pc.ram',
    ranges: [{ start: '4096', length: '2' }],
  });
  assert.deepEqual(rows[5].command?.arguments, { ramblock: 'pc.ram' });
  assert.equal(rows[8].idstr, 'dév');
  assert.ok(rows[8].body);
  assert.equal(j.mainChannel.complete, true);
  assert.deepEqual(
    j.mainChannel.returnPath.messages.map((m: { name: string; answers?: number }) => [m.name, m.answers]),
    [['PONG', rows[3].start]],
  );
  assert.equal(j.mainChannel.pings[0].pong.timeNs - j.mainChannel.pings[0].timeNs, 2_500_000);
  assert.equal(j.diagnosticCounts.error, 0);
  const text = await run('sections', capture('ok.mfd'));
  assert.match(text.out, /COMMAND PING \(2, length 4\): value 7/);
  assert.match(text.out, /PING 7 at \d+: PONG at 0, 2\.500 ms later/);
});

test('mfd devices: the decoded tree with offsets; --device filters; an unknown device is a usage error', async () => {
  const f = capture('ok.mfd');
  const r = await run('devices', f, '--json');
  assert.equal(r.code, 0, r.out + r.err);
  const d = JSON.parse(r.out).devices;
  assert.equal(d.length, 1);
  assert.equal(d[0].key, 'dév (3)');
  assert.deepEqual(
    d[0].fields.map((x: { name: string; value: unknown; index?: number }) => [x.name, x.value, x.index]),
    [
      ['a', 5, undefined],
      ['b', 200, undefined],
      ['r', -2, 0],
      ['r', 3, 1],
    ],
  );
  assert.equal(d[0].fields[1].offset - d[0].fields[0].offset, 4);
  const t = await run('devices', f, '--device', 'dév');
  assert.match(t.out, /b \(uint8 equal\) @\d+ \+1: 0xc8/);
  assert.match(t.out, /r\[0\] \(int16\) @\d+ \+2: 0xfffe \(-2\)/);
  const u = await run('devices', f, '--device', 'nope');
  assert.equal(u.code, 2);
  assert.match(u.err, /no decoded device section of that name \(devices: dév\)/);
});

test("mfd extract: desc.json and state.json in analyze-migration.py's layout, the RAM image, refusal without --force", async () => {
  const f = capture('ok.mfd');
  const out = join(dir, 'x');
  const r = await run('extract', f, '--out', out);
  assert.equal(r.code, 0, r.out + r.err);
  const desc = readFileSync(join(out, 'desc.json'), 'utf8');
  assert.equal(desc, JSON.stringify(DESCRIPTION, null, 4).replace('dév', 'd\\u00e9v'));
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'state.json'), 'utf8')), {
    'ram (2)': { 'section sizes': { 'pc.ram': '0x0000000000004000' } },
    'dév (3)': { a: '0x00000005', b: '0xc8', r: ['0xfffe (-2)', '0x0003'] },
  });
  const ram = readFileSync(join(out, 'pc.ram.ram'));
  assert.equal(ram.length, 4 * PS);
  assert.equal(ram[0], 9);
  assert.equal(ram[PS], 0);
  const again = await run('extract', f, '--out', out);
  assert.equal(again.code, 2);
  assert.match(again.err, /--force/);
  assert.equal((await run('extract', f, '--out', out, '--force')).code, 0);
  assert.equal((await run('extract', f)).code, 2);
});

test('a description that does not fit the bytes: every command says so with the offset, exit 1', async () => {
  const f = capture('lie.mfd', { lyingDescription: true });
  const s = await run('sections', f);
  assert.equal(s.code, 1);
  assert.match(s.out, /main\.device-mismatch.*stream offset \d+.*the footer is at \d+ \(3 byte\(s\) further\)/);
  const d = await run('devices', f);
  assert.equal(d.code, 1);
  assert.match(d.out, /! @\d+: the footer of section 3 is not at \d+/);
  const x = await run('extract', f, '--out', join(dir, 'lie'));
  assert.equal(x.code, 1);
  assert.match(x.out, /! dév \(3\): @\d+: the footer of section 3/);
});
