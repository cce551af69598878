import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileByteSource } from '../../extension/core/capture/fileAccessor';
import { StreamBytes } from '../../extension/core/capture/streamBytes';
import { DiagnosticSink } from '../../extension/core/diagnostics/diagnostic';
import { isAllZero } from '../../extension/core/util/bytes';
import {
  indexMainChannel,
  MainRecordKind,
  readMainChannelPageSize,
  type MainChannelIndex,
} from '../../extension/core/mainchannel/mainChannelIndex';
import { qemuBinary } from './qemuBinaries';

/**
 * Real main channels: a paused 64 MiB pc guest migrated by QEMU 10.0 (installed) and 7.2 (unpacked in
 * .qemu/7.2), to a file (exec:cat, or file: with mapped-ram) and over TCP with multifd (the main
 * connection is kept). The dumps are made in before() and deleted afterwards.
 */

const SEABIOS = '/usr/share/seabios';
const BIOS = join(SEABIOS, 'bios-256k.bin');
const MiB = 1 << 20;

interface Qemu {
  label: '10.0' | '7.2';
  bin: string;
  args: string[];
}

/** Both QEMUs the suite migrates with (installed by scripts/setup.sh); a missing one fails the suite, never skips it. */
function qemus(): { found: Qemu[]; missing: string[] } {
  const found: Qemu[] = [];
  const missing: string[] = [];
  for (const label of ['10.0', '7.2'] as const) {
    const b = qemuBinary(label);
    if (spawnSync(b.binary, ['--version']).status === 0) found.push({ label, bin: b.binary, args: b.baseArgs });
    else missing.push(`QEMU ${label} (${b.binary}) does not run`);
  }
  return { found, missing };
}

/** A minimal QMP client: one command at a time, events skipped. */
class Qmp {
  private buf = '';
  private waiters: ((line: string) => void)[] = [];
  private lines: string[] = [];
  constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        const w = this.waiters.shift();
        if (w) w(line);
        else this.lines.push(line);
      }
    });
  }
  private next(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((r) => this.waiters.push(r));
  }
  async greeting(): Promise<void> {
    await this.next();
  }
  async cmd(execute: string, args?: object): Promise<Record<string, unknown>> {
    this.sock.write(JSON.stringify(args ? { execute, arguments: args } : { execute }) + '\n');
    for (;;) {
      const r = JSON.parse(await this.next()) as Record<string, unknown>;
      if ('error' in r) throw new Error(`${execute}: ${JSON.stringify(r.error)}`);
      if ('return' in r) return r.return as Record<string, unknown>;
    }
  }
  close(): void {
    this.sock.destroy();
  }
}

async function connectQmp(path: string, deadline: number): Promise<Qmp> {
  for (;;) {
    try {
      const sock = await new Promise<Socket>((res, rej) => {
        const s = createConnection(path, () => res(s));
        s.once('error', rej);
      });
      const q = new Qmp(sock);
      await q.greeting();
      return q;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

let runs = 0;
async function migrate(q: Qemu, dir: string, uri: string, caps: string[] = [], params: object = {}): Promise<void> {
  const sock = join(dir, `qmp${runs++}.sock`);
  const proc: ChildProcess = spawn(
    q.bin,
    [...q.args, '-M', 'pc', '-m', '64', '-nographic', '-nodefaults', '-S', '-qmp', `unix:${sock},server=on,wait=off`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const deadline = Date.now() + 60_000;
  try {
    const qmp = await connectQmp(sock, Date.now() + 10_000);
    await qmp.cmd('qmp_capabilities');
    if (caps.length)
      await qmp.cmd('migrate-set-capabilities', {
        capabilities: caps.map((capability) => ({ capability, state: true })),
      });
    if (Object.keys(params).length) await qmp.cmd('migrate-set-parameters', params);
    await qmp.cmd('migrate', { uri });
    for (;;) {
      const st = (await qmp.cmd('query-migrate')).status;
      if (st === 'completed') break;
      if (st === 'failed' || Date.now() > deadline) throw new Error(`migration ${st}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await qmp.cmd('quit').catch(() => undefined);
    qmp.close();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  } catch (e) {
    throw new Error(`${q.label}: ${e instanceof Error ? e.message : String(e)}; stderr: ${stderr}`);
  } finally {
    if (proc.exitCode === null) proc.kill();
  }
}

/** Accepts every connection of a multifd migration and writes the one that starts with QEVM to `out`. */
async function migrateOverTcp(q: Qemu, dir: string, out: string, caps: string[], params: object): Promise<void> {
  const conns: Promise<Buffer>[] = [];
  const server = createServer((s) => {
    conns.push(
      new Promise((res) => {
        const chunks: Buffer[] = [];
        s.on('data', (d: Buffer) => chunks.push(d));
        s.on('close', () => res(Buffer.concat(chunks)));
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    await migrate(q, dir, `tcp:127.0.0.1:${port}`, caps, params);
    const all = await Promise.all(conns);
    const main = all.find((b) => b.subarray(0, 4).toString('latin1') === 'QEVM');
    if (!main) throw new Error('no QEVM connection');
    writeFileSync(out, main);
  } finally {
    server.close();
  }
}

async function indexFile(
  path: string,
): Promise<{ ix: MainChannelIndex; sink: DiagnosticSink; stream: StreamBytes; close: () => Promise<void> }> {
  const src = await FileByteSource.open(path);
  const stream = StreamBytes.contiguous(src, 0, src.size);
  const sink = new DiagnosticSink();
  const ix = await indexMainChannel(stream, 0, 4096, sink);
  return { ix, sink, stream, close: () => src.close() };
}

/** How many PAGE + ZERO records name each page of each block. */
function coverage(ix: MainChannelIndex): Uint32Array[] {
  const cov = ix.ramblocks.map((b) => new Uint32Array(Math.ceil(b.usedLength / 4096)));
  const r = ix.records;
  for (let i = 0; i < r.length; i++) {
    const k = r.kind.get(i);
    if (k !== MainRecordKind.Page && k !== MainRecordKind.Zero) continue;
    cov[r.block.get(i)][r.offset.get(i) / 4096]++;
  }
  return cov;
}

const { found, missing } = qemus();
const dir = mkdtempSync(join(tmpdir(), 'mainchannel-'));
const dumps: Record<string, string> = {};
let setupError: Error | undefined;

describe('main channel: real QEMU streams', () => {
  before(async () => {
    try {
      for (const q of found) {
        dumps[`plain-${q.label}`] = join(dir, `plain-${q.label}.bin`);
        await migrate(q, dir, `exec:cat > ${dumps[`plain-${q.label}`]}`);
        dumps[`multifd-${q.label}`] = join(dir, `multifd-${q.label}.bin`);
        await migrateOverTcp(q, dir, dumps[`multifd-${q.label}`], ['multifd'], { 'multifd-channels': 2 });
        if (q.label === '10.0') {
          dumps['mapped-ram-10.0'] = join(dir, 'mapped-ram-10.0.bin');
          await migrate(q, dir, `file:${dumps['mapped-ram-10.0']}`, ['mapped-ram']);
        }
      }
    } catch (e) {
      setupError = e as Error;
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('QEMU 10.0 and 7.2 are installed (bash scripts/setup.sh)', () => assert.deepEqual(missing, []));

  for (const q of found) {
    it(`QEMU ${q.label} plain precopy: MEM_SIZE, full page coverage, page data, device state through the VM description to EOF`, async () => {
      assert.equal(setupError, undefined, setupError?.message);
      const { ix, sink, stream, close } = await indexFile(dumps[`plain-${q.label}`]);
      try {
        assert.deepEqual(await readMainChannelPageSize(stream), { pageSize: 4096, source: 'vmdesc' });
        assert.equal(ix.fileVersion, 3);
        assert.match(ix.configuration?.machineType ?? '', new RegExp(`^pc-i440fx-${q.label.replace('.', '\\.')}$`));
        assert.deepEqual(ix.configuration?.capabilities, []);
        assert.deepEqual(ix.ramblocks[0], { name: 'pc.ram', usedLength: 64 * MiB });
        assert.equal(
          ix.totalRam,
          ix.ramblocks.reduce((a, b) => a + b.usedLength, 0),
        );
        assert.ok(ix.ramblocks.some((b) => b.name === 'pc.bios' && b.usedLength === 256 * 1024));
        // A paused guest: the bulk pass sends every page of every block exactly once.
        const cov = coverage(ix);
        cov.forEach((c, bi) =>
          assert.ok(
            c.every((n) => n === 1),
            `block ${ix.ramblocks[bi].name}: every page exactly once`,
          ),
        );
        assert.equal(ix.vmDescriptionPageSize, 4096);
        assert.equal(ix.syncMode, 'eos');
        assert.equal(ix.flushCount, 0);
        assert.equal(ix.eosCount, 3); // setup, one iteration, completion: each RAM section ends with EOS
        const types = ix.sections.map((s) => `${s.typeName}${s.idstr ? ':' + s.idstr : ''}`);
        const expected = [
          'CONFIGURATION',
          'START:ram',
          'PART:ram',
          ...(q.label === '10.0' ? ['COMMAND:SWITCHOVER_START'] : []),
          'END:ram',
          'FULL:timer',
        ];
        // Then every other device section, each delimited by its description and footer, then EOF.
        assert.deepEqual(types.slice(0, expected.length), expected);
        assert.deepEqual(types.slice(-2), ['EOF', 'VMDESCRIPTION']);
        const devices = ix.sections.filter((x) => x.typeName === 'FULL');
        assert.ok(devices.length > 10, `${devices.length} device sections`);
        for (const d of devices) assert.ok(d.bodyEnd !== undefined && d.bodyEnd >= (d.bodyOffset ?? Infinity), d.idstr);
        assert.equal(ix.complete, true);
        assert.equal(ix.stoppedAt?.reason, 'end (QEMU_VM_EOF)');
        assert.deepEqual(
          sink.items.map((d) => [d.code, d.severity]),
          [['main.vmdesc', 'info']],
        );
        assert.equal(ix.eofOffset, ix.vmDescriptionOffset! - 1);
        // PAGE data positions: pc.bios holds bios-256k.bin byte for byte.
        const bios = readFileSync(BIOS);
        const bi = ix.ramblocks.findIndex((b) => b.name === 'pc.bios');
        let pages = 0;
        for (let i = 0; i < ix.records.length; i++) {
          const r = ix.records.row(i);
          if (r.block !== bi) continue;
          const want = bios.subarray(r.offset, r.offset + 4096);
          if (r.kind === MainRecordKind.Zero)
            assert.ok(isAllZero(want), `ZERO record for a non-zero bios page ${r.offset}`);
          else {
            assert.deepEqual(Buffer.from(await stream.read(r.dataPos, r.dataPos + 4096)), want);
            pages++;
          }
        }
        assert.ok(pages > 0);
      } finally {
        await close();
      }
    });

    it(`QEMU ${q.label} multifd main channel: sync markers`, async () => {
      assert.equal(setupError, undefined, setupError?.message);
      const { ix, sink, close } = await indexFile(dumps[`multifd-${q.label}`]);
      try {
        assert.deepEqual(ix.ramblocks[0], { name: 'pc.ram', usedLength: 64 * MiB });
        assert.equal(ix.stoppedAt?.reason, 'end (QEMU_VM_EOF)');
        assert.ok(sink.items.every((d) => d.severity === 'info'));
        if (q.label === '10.0') {
          // 8.1+: MULTIFD_FLUSH marks the syncs (setup, wrap, completion); EOS does not. Zero pages go by multifd.
          assert.equal(ix.syncMode, 'flush');
          assert.equal(ix.flushCount, 3);
          assert.equal(ix.syncMarkers, 3);
          const kinds = Array.from(ix.records.kind.view());
          assert.ok(!kinds.includes(MainRecordKind.Zero) && !kinds.includes(MainRecordKind.Page));
        } else {
          // 7.2: every RAM EOS is a sync point; zero pages still travel as ZERO records on the main channel.
          assert.equal(ix.syncMode, 'eos');
          assert.equal(ix.syncMarkers, ix.eosCount);
          const cov = coverage(ix);
          assert.ok(cov[0].some((n) => n > 0));
          const last = ix.records.length - 1;
          assert.equal(ix.records.epoch.get(last), ix.eosCount - 1);
        }
      } finally {
        await close();
      }
    });
  }

  it('QEMU 10.0 mapped-ram file: block headers, page regions skipped', async () => {
    assert.equal(setupError, undefined, setupError?.message);
    assert.ok(dumps['mapped-ram-10.0'], 'QEMU 10.0 did not run');
    const { ix, sink, close } = await indexFile(dumps['mapped-ram-10.0']);
    try {
      assert.deepEqual(ix.configuration?.capabilities, ['mapped-ram']);
      const ram = ix.ramblocks[0];
      assert.equal(ram.name, 'pc.ram');
      assert.equal(ram.usedLength, 64 * MiB);
      assert.equal(ram.mappedRam?.pageSize, 4096);
      assert.equal(ram.mappedRam!.pagesOffset % MiB, 0);
      for (const b of ix.ramblocks) assert.ok(b.mappedRam && b.mappedRam.pagesOffset >= b.mappedRam.bitmapOffset);
      // No page records in a mapped-ram stream; the walk goes on past the regions, through the device state, to EOF.
      assert.deepEqual(Array.from(new Set(ix.records.kind.view())), [MainRecordKind.MemSize, MainRecordKind.Eos]);
      assert.equal(ix.stoppedAt?.reason, 'end (QEMU_VM_EOF)');
      assert.ok(ix.stoppedAt!.streamOffset > ix.ramblocks.at(-1)!.mappedRam!.pagesOffset);
      assert.deepEqual(
        sink.items.map((d) => d.code),
        ['main.vmdesc', 'main.mapped-ram'],
      );
    } finally {
      await close();
    }
  });
});
