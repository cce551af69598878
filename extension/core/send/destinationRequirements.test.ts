import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeRequirements, destinationRequirements, splitCommandLine } from './destinationRequirements';

test('command lines split as a POSIX shell would (quotes, escapes, no expansion)', () => {
  assert.deepEqual(splitCommandLine(`qemu -a 'b c' "d \\"e\\" $f" g\\ h '' -i`), [
    'qemu',
    '-a',
    'b c',
    'd "e" $f',
    'g h',
    '',
    '-i',
  ]);
  assert.deepEqual(splitCommandLine(`  x  'it'\\''s'  `), ['x', "it's"]);
  assert.throws(() => splitCommandLine(`a 'b`), /unterminated/);
});

test('META: versions, machine, RAM, uuid, capabilities and parameters of the recorded destination', () => {
  const r = destinationRequirements({
    pageSize: 4096,
    source: 'QEMU 10.0.2 (Debian 1:10.0.2+ds-2): qemu-system-x86_64 -machine pc -m 32M',
    destination:
      "QEMU 10.0.2 (Debian 1:10.0.2+ds-2): qemu-system-x86_64 -machine pc,memory-backend=mem -m 32M -object 'memory-backend-file,id=mem,size=32M,mem-path=/tmp/a b.ram,share=on' -uuid 1234 -S -incoming defer",
    parameters: {
      capabilities: { multifd: true, 'auto-converge': false },
      'multifd-channels': 4,
      'multifd-compression': 'zstd',
      'max-bandwidth': 1,
    },
  });
  assert.equal(r.sourceQemu, 'QEMU 10.0.2 (Debian 1:10.0.2+ds-2)');
  assert.equal(r.destinationQemu, 'QEMU 10.0.2 (Debian 1:10.0.2+ds-2)');
  assert.equal(r.machine, 'pc,memory-backend=mem');
  assert.equal(r.memory, '32M');
  assert.equal(r.uuid, '1234');
  assert.equal(r.incoming, 'defer');
  assert.equal(r.destinationArgv?.[6], 'memory-backend-file,id=mem,size=32M,mem-path=/tmp/a b.ram,share=on');
  assert.deepEqual(r.capabilities, ['multifd']);
  assert.deepEqual(r.parameters, { 'multifd-channels': 4, 'multifd-compression': 'zstd', 'max-bandwidth': 1 });
  const text = describeRequirements(r).join('\n');
  assert.match(text, /must match: -machine pc,memory-backend=mem, -m 32M, -uuid 1234, target page size 4096/);
  assert.match(text, /capabilities on: multifd\nparameters: multifd-channels=4, multifd-compression=zstd/);
});

test('META from other writers: free text is shown as is, nothing is invented', () => {
  const r = destinationRequirements({ source: 'qemu 9.2 on host a', destination: 'my build' });
  assert.equal(r.destinationQemu, 'my build');
  assert.equal(r.machine, undefined);
  assert.deepEqual(r.capabilities, []);
  assert.match(describeRequirements(r).join('\n'), /does not say which machine/);
  assert.deepEqual(destinationRequirements({}).parameters, {});
});
