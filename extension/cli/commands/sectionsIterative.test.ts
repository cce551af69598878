import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../mfd';
import type { CliIo } from '../cliCommand';
import { MfdBuilder } from '../../core/capture/mfdWriter';
import { MainStreamEncoder } from '../../../test/support/mainchannel/mainStreamEncoder';
import { DirtyBitmapSender, VfioSender } from '../../../test/support/mainchannel/iterativeSenders';

/** mfd sections, as text and --json, on dirty-bitmap and VFIO sections: each chunk or marker with its fields. */

async function run(...argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (out += t), interactive: false };
  const code = await main(argv, io);
  return { code, out };
}

test('mfd sections lists the chunks of dirty-bitmap sections and the markers of VFIO sections', async () => {
  const m = new MainStreamEncoder().header().configuration({ machineType: 'pc' });
  const bitmap = new DirtyBitmapSender(m);
  const vfio = new VfioSender(m);
  m.sectionStart(2, 'dirty-bitmap', 0, 1);
  bitmap.start('disk0', 'bitmap0', 65536).eos();
  m.footer(2).sectionStart(3, '0000:00:02.0/vfio', 0, 1);
  vfio.setup();
  m.footer(3).sectionEnd(2);
  bitmap
    .bits('disk0', 'bitmap0', 0, 2048, Uint8Array.of(1, 0, 0, 0))
    .complete('disk0', 'bitmap0')
    .eos();
  m.footer(2).sectionEnd(3);
  vfio.complete([new Uint8Array(100)]);
  m.footer(3).eof();
  const path = join(mkdtempSync(join(tmpdir(), 'mfd-sections-it-')), 'x.mfd');
  writeFileSync(path, new MfdBuilder().meta({ pageSize: 4096 }).data(0, m.bytes()).build());
  const text = await run('sections', path);
  assert.equal(text.code, 0, text.out);
  const line = (re: RegExp) =>
    assert.ok(
      text.out.split('\n').some((l) => re.test(l)),
      `${re} in\n${text.out}`,
    );
  line(
    /START id 2 "dirty-bitmap", instance 0, version 1; body \d+-\d+; 2 chunk\(s\): START \(granularity 65536, bitmap_flags 1, node "disk0", bitmap "bitmap0"\), EOS$/,
  );
  line(
    /START id 3 "0000:00:02.0\/vfio", instance 0, version 1; body \d+-\d+; 2 marker\(s\): DEV_SETUP_STATE, END_OF_STATE$/,
  );
  line(
    /END {3}id 2 "dirty-bitmap"; body \d+-\d+; 3 chunk\(s\): BITS \(start_sector 0, nr_sectors 2048, buf_size 4, node "disk0", bitmap "bitmap0"\), COMPLETE \(node "disk0", bitmap "bitmap0"\), EOS$/,
  );
  line(
    /END {3}id 3 "0000:00:02.0\/vfio"; body \d+-\d+; 2 marker\(s\): DEV_DATA_STATE \(data_size 100\), END_OF_STATE$/,
  );
  const json = JSON.parse((await run('sections', path, '--json')).out);
  const end = json.mainChannel.rows.find(
    (r: { kind: string; idstr: string }) => r.kind === 'END' && r.idstr === 'dirty-bitmap',
  );
  assert.equal(end.iterative.reader, 'dirty-bitmap');
  assert.equal(end.iterative.markerCount, 3);
  assert.equal(end.iterative.markers[0].fields.buf_size, 4);
  assert.equal(end.iterative.markers[0].end - end.iterative.markers[0].offset, 1 + 8 + 4 + 8 + 4);
  assert.equal(end.body.end, end.iterative.markers[2].end);
});
