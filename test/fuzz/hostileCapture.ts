// A small, well-formed capture whose every name is hostile: ramblock names (MEM_SIZE and multifd packets),
// META and NOTE text, OPEN labels, device-state idstr. For the path tests and the webview's render test:
//   node --import tsx test/fuzz/hostileCapture.ts out.mfd
import { writeFileSync } from 'node:fs';
import { MfdBuilder } from '../../extension/core/capture/mfdWriter';
import { MainStreamEncoder } from '../support/mainchannel/mainStreamEncoder';
import { MultifdChannelEncoder, page } from '../support/multifdEncoder';

export const HOSTILE_RAMBLOCKS = [
  '../../x',
  '/etc/passwd',
  '<img src=x onerror=alert(1)>',
  'ctl\u0001\u001b[31m\r\n',
  '..',
];
export const HOSTILE_IDSTRS = ['../../../tmp/escape', '<script>alert(1)</script>', '/abs/path', 'nul\u0000after'];
export const HOSTILE_TEXT = '<img src=x onerror="document.title=\'pwned\'"><script>alert(1)</script>&amp;\u202e\u0000';

const PS = 4096;
const PAGES = 4;

export async function hostileCapture(): Promise<Uint8Array> {
  const blocks = HOSTILE_RAMBLOCKS.map((name) => ({ name, usedLength: PAGES * PS }));
  const main = new MainStreamEncoder().header().configuration({ machineType: `pc-${HOSTILE_TEXT}` });
  main.sectionStart(2, 'ram').memSize(blocks).flush().eos().footer(2);
  main.sectionEnd(2).eos().footer(2).eof();
  const ch = new MultifdChannelEncoder({ version: '10.0', pageSize: PS, channelId: 0, method: 'none' });
  let num = 0;
  ch.sync(num++);
  for (const [i, b] of blocks.entries()) {
    await ch.packet({
      ramblock: b.name,
      normal: [{ offset: PS * (i % PAGES), data: page(PS, i + 1) }],
      zero: [PS * ((i + 1) % PAGES)],
      packetNum: num++,
    });
  }
  for (const [i, id] of HOSTILE_IDSTRS.entries())
    ch.deviceState(id, i, new TextEncoder().encode(`${HOSTILE_TEXT} blob ${i}`));
  ch.sync(num++);
  return new MfdBuilder()
    .meta({
      tool: HOSTILE_TEXT,
      source: HOSTILE_TEXT,
      destination: '../../etc',
      pageSize: PS,
      parameters: { 'multifd-channels': 1, 'multifd-compression': 'none', note: HOSTILE_TEXT },
    })
    .open(0, { client: HOSTILE_TEXT, server: '127.0.0.1:1', label: HOSTILE_TEXT })
    .open(1, { client: '127.0.0.1:2', server: '127.0.0.1:1', label: '../../label' })
    .data(0, main.bytes())
    .data(1, ch.bytes())
    .note(HOSTILE_TEXT)
    .close(1, 'eof')
    .close(0, HOSTILE_TEXT)
    .build();
}

if (require.main === module) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: hostileCapture.ts OUT.mfd');
    process.exit(2);
  }
  hostileCapture().then(
    (b) => writeFileSync(out, b, { flag: 'wx' }),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
