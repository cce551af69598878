import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseQemuBuild, qemuVersionText, recordedSetup } from './recordedSetup';

type Streams = Parameters<typeof recordedSetup>[0]['streams'];
const mainStream = (machineType: string, capabilities: string[]) =>
  [{ kind: 'main', main: { machineType, capabilities } }] as unknown as Streams;

describe('recordedSetup', () => {
  it("reads QEMU's own version text, with and without a package version", () => {
    assert.deepEqual(parseQemuBuild('QEMU 10.0.2 (Debian 1:10.0.2+ds-2): qemu-system-x86_64 -m 32M'), {
      version: '10.0.2',
      package: 'Debian 1:10.0.2+ds-2',
    });
    assert.deepEqual(parseQemuBuild('QEMU 7.2.0: qemu-system-x86_64'), { version: '7.2.0' });
    assert.equal(parseQemuBuild('qemu-system-x86_64 -m 32M'), undefined);
    assert.equal(parseQemuBuild(42), undefined);
  });

  it('prefers the recorded versions to the hint, and names a side when only one is known', () => {
    const both = recordedSetup({ meta: { source: 'QEMU 9.2.0: x', destination: 'QEMU 10.0.2: y' }, streams: [] });
    assert.equal(qemuVersionText(both, '≥ 9.2'), '9.2.0 → 10.0.2');
    const one = recordedSetup({ meta: { destination: 'QEMU 10.0.2: y' }, streams: [] });
    assert.equal(qemuVersionText(one, '≥ 9.2'), '10.0.2 (destination)');
    assert.equal(qemuVersionText(recordedSetup({ meta: {}, streams: [] }), '≥ 9.2'), '≥ 9.2');
    assert.equal(qemuVersionText(recordedSetup({ meta: {}, streams: [] }), null), 'unknown');
  });

  it("takes capabilities from the recorder's QMP read, else from the main channel's CONFIGURATION", () => {
    const recorded = recordedSetup({
      meta: { parameters: { capabilities: { multifd: true, 'postcopy-ram': false }, 'multifd-channels': 4 } },
      streams: mainStream('pc-i440fx-10.0', ['x-ignore-shared']),
    });
    assert.deepEqual(recorded.capabilities, ['multifd']);
    assert.equal(recorded.capabilitiesFrom, 'recorder');
    assert.deepEqual(recorded.parameters, [['multifd-channels', '4']]);
    assert.equal(recorded.machineType, 'pc-i440fx-10.0');
    const fromStream = recordedSetup({ meta: {}, streams: mainStream('pc-q35-7.2', ['x-ignore-shared']) });
    assert.deepEqual(fromStream.capabilities, ['x-ignore-shared']);
    assert.equal(fromStream.capabilitiesFrom, 'CONFIGURATION');
    assert.deepEqual(fromStream.parameters, []);
  });
});
