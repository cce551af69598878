import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compatNotes, machineTypeDefaults } from './compatNotes';
import type { CaptureSide } from './diffTypes';

const side = (o: Partial<CaptureSide>): CaptureSide => ({
  file: 'x.mfd',
  format: 'mfd',
  pageSize: 4096,
  zeroPages: 'multifd',
  syncMode: 'flush',
  syncPacketsWithPages: 0,
  ...o,
});

test('pages on SYNC packets into a 9.2 destination: a warning naming QEMU issue 2720; into 10.0: fixed', () => {
  const old = side({
    sourceQemu: '8.2.0',
    destinationQemu: '8.2.0',
    syncPacketsWithPages: 4,
    zeroPages: 'main channel',
  });
  const into92 = compatNotes(old, side({ sourceQemu: '9.2.1', destinationQemu: '9.2.1' }));
  const n = into92.find((x) => x.topic === 'sync-with-pages')!;
  assert.equal(n.severity, 'warning');
  assert.match(
    n.text,
    /4 SYNC packet\(s\) of A carry pages.*B's release \(9\.2\) does not read pages on SYNC packets \(QEMU issue 2720/,
  );
  const into10 = compatNotes(old, side({ sourceQemu: '10.0.2' })).find((x) => x.topic === 'sync-with-pages')!;
  assert.equal(into10.severity, 'info');
  assert.match(into10.text, /fixed in 10\.0 by b93d897ea2/);
  // Nothing to say when neither side sends pages with SYNC.
  assert.equal(compatNotes(side({}), side({})).length, 0);
});

test('multifd zero pages into a destination before 9.0 are never cleared there', () => {
  const notes = compatNotes(
    side({ sourceQemu: '7.2.22', zeroPages: 'main channel', syncMode: 'eos' }),
    side({ sourceQemu: '10.0.2' }),
  );
  const warn = notes.find((x) => x.topic === 'zero-pages' && x.severity === 'warning')!;
  assert.match(warn.text, /A's release \(7\.2\) predates zero_pages.*B lists/);
  assert.ok(notes.some((x) => x.topic === 'sync-mode'));
});

test('machine types: the compat defaults that differ between them', () => {
  assert.deepEqual(machineTypeDefaults([8, 0]), {
    'multifd-flush-after-each-section': 'on (hw_compat_8_0)',
    'zero-page-detection': 'legacy (hw_compat_8_2)',
    'send-switchover-start': 'off (hw_compat_9_2)',
    'multifd-clean-tls-termination': 'false (hw_compat_9_2)',
  });
  const n = compatNotes(side({ machineType: 'pc-q35-9.0' }), side({ machineType: 'pc-q35-10.0' })).find(
    (x) => x.topic === 'machine-type',
  )!;
  assert.match(n.text, /send-switchover-start off \(hw_compat_9_2\) in A \(pc-q35-9\.0\), on in B/);
  assert.doesNotMatch(n.text, /zero-page-detection/);
});
