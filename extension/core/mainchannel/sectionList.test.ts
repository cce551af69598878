import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeCapture } from '../analysis';
import { MemoryByteSource } from '../capture/fileAccessor';
import { openCaptureFromSource } from '../capture/openCapture';
import { MfdBuilder } from '../capture/mfdWriter';
import { buildSectionList } from './sectionList';
import { renderSections } from '../../cli/commands/sections';
import { MainStreamEncoder } from '../../../test/support/mainchannel/mainStreamEncoder';

const be32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

/** The main channel's shape at postcopy's switch: PACKAGED holding LISTEN, a PING and RUN
 * (the device state QEMU packages between them needs a VM description to be walked, so it is left out). */
async function packagedCapture() {
  const inner = new MainStreamEncoder()
    .command(4) // POSTCOPY_LISTEN
    .command(2, be32(9)) // PING
    .command(5) // POSTCOPY_RUN
    .bytes();
  const main = new MainStreamEncoder()
    .header()
    .configuration({ machineType: 'pc-q35-10.0', capabilities: ['postcopy-ram'] })
    .command(1) // OPEN_RETURN_PATH
    .command(3) // POSTCOPY_ADVISE
    .command(7, be32(inner.length)) // PACKAGED
    .raw(inner)
    .eof()
    .bytes();
  const b = new MfdBuilder().meta({ pageSize: 4096 });
  b.open(0, { label: 'main channel', client: '127.0.0.1:50000', server: '127.0.0.1:4444' });
  b.data(0, main);
  b.close(0);
  return analyzeCapture(await openCaptureFromSource(new MemoryByteSource(b.build())));
}

describe('section list: PACKAGED', () => {
  it('names the PACKAGED command on each record of its blob, and mfd sections nests them under it', async () => {
    const list = (await buildSectionList(await packagedCapture()))!;
    const pkg = list.rows.find((r) => r.command?.name === 'PACKAGED')!;
    assert.ok(pkg, JSON.stringify(list.rows.map((r) => r.kind)));
    const nested = list.rows.filter((r) => r.inPackage === pkg.start);
    assert.deepEqual(
      nested.map((r) => r.command?.name ?? r.kind),
      ['POSTCOPY_LISTEN', 'PING', 'POSTCOPY_RUN'],
    );
    // The records before the package and the main channel's own EOF after it are not nested.
    const last = list.rows[list.rows.length - 1];
    assert.equal(last.kind, 'EOF');
    assert.equal(last.inPackage, undefined);
    assert.equal(pkg.inPackage, undefined);
    const text = renderSections(list, [], { error: 0, warning: 0, info: 0 });
    assert.match(text, /\n {4}└ @\d+-\d+ .*COMMAND POSTCOPY_RUN/);
    assert.match(text, /\n {2}@\d+-\d+ .*COMMAND PACKAGED \(7, length 4\): packageLength/);
  });
});
