import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryByteSource } from '../capture/fileAccessor';
import { openCaptureFromSource } from '../capture/openCapture';
import { MfdBuilder } from '../capture/mfdWriter';
import { analyzeCapture } from '../analysis';
import { MultifdChannelEncoder, page } from '../../../test/support/multifdEncoder';
import { replayCapture } from './replay';

test('no main channel and 2,000 ramblock names: images are capped, with a diagnostic, and no descriptor is left open', async () => {
  const ch = new MultifdChannelEncoder({ version: '10.0', pageSize: 4096, channelId: 0 });
  ch.sync(0);
  for (let i = 0; i < 2000; i++)
    await ch.packet({ ramblock: `block${i}`, normal: [{ offset: 0, data: page(4096, i) }], packetNum: i + 1 });
  ch.sync(2001);
  const a = await analyzeCapture(
    await openCaptureFromSource(
      new MemoryByteSource(new MfdBuilder().meta({ pageSize: 4096 }).data(1, ch.bytes()).build()),
    ),
  );
  const out = join(mkdtempSync(join(tmpdir(), 'mfd-images-')), 'out');
  const fdsBefore = readdirSync('/proc/self/fd').length;
  const r = await replayCapture(a, { outDir: out, workers: false });
  const images = readdirSync(out).filter((n) => n.endsWith('.ram'));
  assert.ok(images.length <= 256, `${images.length} images`);
  assert.ok(images.length >= 1);
  const d = r.diagnostics.find((x) => x.code === 'replay.too-many-blocks');
  assert.ok(d, r.diagnostics.map((x) => x.code).join(', '));
  assert.match(d.message, /more than 256 ramblocks/);
  assert.ok(readdirSync('/proc/self/fd').length <= fdsBefore + 2, 'images closed');
});
