import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from './mfd';
import type { CliIo } from './cliCommand';
import { MfdBuilder } from '../core/capture/mfdWriter';
import { MFD_FILE_HEADER_LENGTH } from '../core/capture/mfdFormat';
import { analyzeCaptureFile } from '../core/analysis';
import { CaptureFormatError } from '../core/capture/openCapture';
import { MainStreamEncoder } from '../../test/support/mainchannel/mainStreamEncoder';
import { MultifdChannelEncoder, page } from '../../test/support/multifdEncoder';
import { hostileCapture } from '../../test/fuzz/hostileCapture';

/** The CLI against inputs a careless or hostile user gives it: bad META values, control characters, non-files. */

const PS = 4096;
const dir = mkdtempSync(join(tmpdir(), 'mfd-untrusted-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), interactive: false };
  const code = await main(argv, io);
  return { code, out, err };
}

async function captureWithMeta(name: string, meta: Record<string, unknown>): Promise<string> {
  const m = new MainStreamEncoder().header().configuration({ machineType: 'pc' });
  m.sectionStart(2, 'ram')
    .memSize([{ name: 'pc.ram', usedLength: 16 * PS }])
    .flush()
    .eos()
    .footer(2)
    .sectionEnd(2)
    .eos()
    .footer(2)
    .eof();
  const ch = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 0 });
  ch.sync(0);
  await ch.packet({ ramblock: 'pc.ram', normal: [{ offset: PS, data: page(PS, 3) }], zero: [2 * PS], packetNum: 1 });
  ch.sync(2);
  const path = join(dir, name);
  writeFileSync(path, new MfdBuilder().meta(meta).data(0, m.bytes()).data(1, ch.bytes()).build());
  return path;
}

test('META pageSize out of range (2^33): an error naming the META record and its file offset, not a crash', async () => {
  const f = await captureWithMeta('ps-huge.mfd', { tool: 'test', pageSize: 2 ** 33 });
  const r = await run('replay', f, '--out', join(dir, 'out-huge'));
  assert.equal(r.code, 1, r.err + r.out);
  assert.match(
    r.out,
    new RegExp(
      `META record at file offset ${MFD_FILE_HEADER_LENGTH}: pageSize 8589934592 is not a power of two between 512 and 1048576`,
    ),
  );
  assert.match(r.out, /page size 4096\)/, 'replayed with the page size the capture frames');
});

test('META pageSize 1 is refused, not used: the page size comes from the next source', async () => {
  const f = await captureWithMeta('ps-one.mfd', { tool: 'test', pageSize: 1 });
  const r = await run('inspect', f, '--json');
  assert.equal(r.code, 1, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.pageSize, 4096);
  assert.notEqual(j.pageSizeSource, 'meta');
  const d = j.diagnostics.find((x: { code: string }) => x.code === 'capture.bad-page-size');
  assert.ok(d, JSON.stringify(j.diagnostics));
  assert.equal(d.severity, 'error');
  assert.equal(d.location.fileOffset, MFD_FILE_HEADER_LENGTH);
  for (const bad of ['4096', 3000, -4096, 4096.5]) {
    const g = await captureWithMeta('ps-bad.mfd', { pageSize: bad });
    const a = await analyzeCaptureFile(g);
    await a.capture.source.close();
    assert.equal(a.pageSize, 4096);
    assert.ok(
      a.diagnostics.some((x) => x.code === 'capture.bad-page-size'),
      `pageSize ${JSON.stringify(bad)}`,
    );
  }
  const ok = await analyzeCaptureFile(await captureWithMeta('ps-ok.mfd', { pageSize: 4096 }));
  await ok.capture.source.close();
  assert.equal(ok.pageSizeSource, 'meta');
  assert.ok(!ok.diagnostics.some((x) => x.code === 'capture.bad-page-size'));
});

/** C0 controls other than the newline that ends each line, DEL, C1 controls, bidi overrides. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

test('text output escapes control characters from the capture (ESC, CR, LF, bidi) in inspect, replay and packets', async () => {
  const f = join(dir, 'hostile.mfd');
  writeFileSync(f, await hostileCapture());
  const extra = join(dir, 'meta-esc.mfd');
  writeFileSync(
    extra,
    new MfdBuilder()
      .meta({ pageSize: PS, source: 'src\r\nfake: 0 error(s)\u001b[2J', destination: '\u009b31mdst' })
      .build(),
  );
  const outputs = [
    ['inspect', (await run('inspect', f)).out],
    ['inspect meta', (await run('inspect', extra)).out],
    ['replay', (await run('replay', f, '--out', join(dir, 'out-hostile'))).out],
    ['packets', (await run('packets', f)).out],
  ];
  for (const [what, out] of outputs) {
    const bad = RAW_CONTROL.exec(out);
    assert.equal(
      bad,
      null,
      `${what}: raw U+${bad?.[0].codePointAt(0)!.toString(16).padStart(4, '0')} at ${bad?.index}`,
    );
  }
  assert.match(outputs[0][1], /ctl\\x01\\x1b\[31m\\r\\n/, 'the ramblock name is shown escaped');
  assert.match(outputs[1][1], /source src\\r\\nfake: 0 error\(s\)\\x1b\[2J, destination \\x9b31mdst/);
  assert.match(outputs[2][1], /ctl\\x01\\x1b\[31m\\r\\n/);
  // JSON output stays exact: the name round-trips.
  const j = JSON.parse((await run('inspect', f, '--json')).out);
  assert.ok(j.ramblocks.some((b: { name: string }) => b.name === 'ctl\u0001\u001b[31m\r\n'));
});

const MFD = resolve(__dirname, 'mfd.ts');

/** Runs the CLI in a child process: an input that blocks in open() must not wedge the test run. */
function runChild(...argv: string[]): Promise<{ code: number | null; err: string; timedOut: boolean }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MFD, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b) => (err += b));
    // Generous: this bounds a hang, it does not measure speed.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, err, timedOut: signal === 'SIGKILL' });
    });
  });
}

test('non-regular inputs (a device, a folder, a FIFO): exit 2 with a clear message, no stack trace, no hang', async () => {
  const folder = join(dir, 'a-folder.mfd');
  mkdirSync(folder);
  const fifo = join(dir, 'a-fifo.mfd');
  execFileSync('mkfifo', [fifo]);
  const cases: [string, RegExp][] = [
    ['/dev/zero', /\/dev\/zero: not a capture file: it is a character device/],
    [folder, /a-folder\.mfd: not a capture file: it is a folder/],
    [fifo, /a-fifo\.mfd: not a capture file: it is a FIFO/],
  ];
  const results = await Promise.all(cases.map(([p]) => runChild('inspect', p)));
  for (const [i, r] of results.entries()) {
    assert.equal(r.timedOut, false, `${cases[i][0]}: the CLI hung`);
    assert.equal(r.code, 2, `${cases[i][0]}: ${r.err}`);
    assert.match(r.err, cases[i][1]);
    assert.doesNotMatch(r.err, /internal error|\n\s+at /);
  }
  const replay = await runChild('replay', fifo, '--out', join(dir, 'out-fifo'));
  assert.equal(replay.code, 2, replay.err);
  // What the editor calls: the same error, as a CaptureFormatError.
  await assert.rejects(
    analyzeCaptureFile(folder),
    (e) => e instanceof CaptureFormatError && /it is a folder/.test(e.message),
  );
  await assert.rejects(
    analyzeCaptureFile(fifo),
    (e) => e instanceof CaptureFormatError && /it is a FIFO/.test(e.message),
  );
});
