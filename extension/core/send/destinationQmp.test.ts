import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QmpClient } from '../qmp/qmpClient';
import { prepareDestination, waitForDestination } from './destinationQmp';
import { destinationRequirements } from './destinationRequirements';

/** A fake QMP monitor that answers like an older destination: no exit-on-error, refuses one parameter. */
async function fakeMonitor(path: string, log: { execute: string; arguments?: Record<string, unknown> }[]) {
  let polls = 0;
  const server = createServer((s) => {
    s.write(JSON.stringify({ QMP: { version: {}, capabilities: [] } }) + '\n');
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const cmd = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        log.push({ execute: cmd.execute, arguments: cmd.arguments });
        const reply = (ret: unknown) => s.write(JSON.stringify({ return: ret, id: cmd.id }) + '\n');
        const error = (desc: string) =>
          s.write(JSON.stringify({ error: { class: 'GenericError', desc }, id: cmd.id }) + '\n');
        const a = cmd.arguments ?? {};
        switch (cmd.execute) {
          case 'query-version':
            return reply({ qemu: { major: 7, minor: 2, micro: 0 }, package: '' });
          case 'query-migrate':
            if (polls++ < 2) return reply({});
            s.write(JSON.stringify({ event: 'MIGRATION', data: { status: 'completed' } }) + '\n');
            return reply({ status: 'completed' });
          case 'query-migrate-capabilities':
            return reply([
              { capability: 'multifd', state: false },
              { capability: 'events', state: false },
              { capability: 'auto-converge', state: true },
            ]);
          case 'query-migrate-parameters':
            return reply({ 'multifd-channels': 2, 'multifd-compression': 'none', 'downtime-limit': 300 });
          case 'migrate-set-parameters':
            return 'downtime-limit' in a ? error("Parameter 'downtime-limit' expects a number") : reply({});
          case 'migrate-incoming':
            return 'exit-on-error' in a ? error("Parameter 'exit-on-error' is unexpected") : reply({});
          default:
            return reply({});
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return server;
}

test('QMP: capabilities and parameters from META (each refusal named), migrate-incoming without exit-on-error on older QEMU', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'mfd-qmp-')), 'qmp.sock');
  const log: { execute: string; arguments?: Record<string, unknown> }[] = [];
  const server = await fakeMonitor(path, log);
  const qmp = await QmpClient.connect(path);
  try {
    const req = destinationRequirements({
      parameters: {
        capabilities: { multifd: true },
        'multifd-channels': 3,
        'multifd-compression': 'none',
        'downtime-limit': 2,
        'zero-page-detection': 'legacy',
      },
    });
    const prep = await prepareDestination(qmp, req, true, 'tcp:127.0.0.1:4444');
    assert.equal(prep.version, 'QEMU 7.2.0');
    assert.deepEqual(prep.capabilitiesSet, { multifd: true, events: true, 'auto-converge': false });
    assert.deepEqual(prep.parametersSet, { 'multifd-channels': 3 });
    assert.equal(prep.incoming, 'migrate-incoming tcp:127.0.0.1:4444');
    assert.ok(
      prep.warnings.some((w) =>
        /zero-page-detection was recorded but this destination QEMU does not report it/.test(w),
      ),
    );
    assert.ok(
      prep.warnings.some((w) => /cannot set parameter downtime-limit=2 on the destination: .*expects a number/.test(w)),
    );
    assert.deepEqual(
      log.filter((l) => l.execute === 'migrate-incoming').map((l) => l.arguments),
      [{ uri: 'tcp:127.0.0.1:4444', 'exit-on-error': false }, { uri: 'tcp:127.0.0.1:4444' }],
    );
    const out = await waitForDestination(qmp, 5000);
    assert.equal(out.status, 'completed');
    assert.ok(out.completedAt! > 0);
  } finally {
    qmp.close();
    server.close();
  }
});

test('QMP: a path nobody serves is a clear error', async () => {
  await assert.rejects(QmpClient.connect('/nonexistent/qmp.sock', 500), /QMP \/nonexistent\/qmp\.sock: .*ENOENT/);
});
