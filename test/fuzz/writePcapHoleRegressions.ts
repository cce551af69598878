// Writes hostile pcaps with holes into the fuzz corpus (test/fuzz/corpus/regressions/), each with a note
// saying what it checks. Run by hand when a shape changes:
//   node --import tsx test/fuzz/writePcapHoleRegressions.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataSegments, holedMigration, tinyMigrationFrames } from '../support/holedPcap';

const dir = join(__dirname, 'corpus', 'regressions');

async function main(): Promise<void> {
  const { multifd, main } = await tinyMigrationFrames();
  const data = dataSegments(multifd);
  const mainData = dataSegments(main);
  const cases: [string, Buffer, string][] = [
    [
      'pcap-hole-multifd-handshake',
      await holedMigration({ dropMultifd: [data[0]] }),
      'The multifd channel lost its first segment (the MultiFDInit_t handshake and more): the stream kind is unknown, an error names the hole at stream offset 0; nothing of it is decoded or replayed.',
    ],
    [
      'pcap-hole-multifd-every-other',
      await holedMigration({ dropMultifd: data.filter((_, k) => k % 2 === 1) }),
      'Every other segment of a multifd channel dropped: one pcap.hole per hole at its stream offset, the indexer resumes only where two checked headers prove a boundary, replay names what it lost and fails.',
    ],
    [
      'pcap-hole-multifd-all-but-first',
      await holedMigration({ dropMultifd: data.slice(1) }),
      'Only the first segment of a multifd channel captured: one hole to the end of the stream; no boundary can be proved after it (multifd.hole-unrecovered), never a read inside the hole.',
    ],
    [
      'pcap-hole-snaplen-multifd-headers',
      await holedMigration({ snapMultifd: new Map(data.map((i) => [i, 14 + 20 + 20 + 100])) }),
      'Every multifd segment cut by a 154-byte snaplen: a hole in every segment, as tcpdump -s 154 would make; decoding resumes nowhere and says so.',
    ],
    [
      'pcap-hole-main-and-multifd',
      await holedMigration({ dropMain: [mainData[1]], dropMultifd: [data[Math.floor(data.length / 2)]] }),
      'A hole in the main channel and one in the multifd channel: the main channel stops at its hole (and says the main channel is not resynchronised), the multifd channel resumes after its hole.',
    ],
    [
      'pcap-hole-zlib',
      await holedMigration({ method: 'zlib', dropMultifd: [data[Math.floor(data.length / 2)]] }),
      "A zlib channel with a hole: the channel's codec stream is broken there, replay stops the channel naming the packets and pages it could not rebuild; zero pages after the hole still apply.",
    ],
  ];
  for (const [name, bytes, note] of cases) {
    writeFileSync(join(dir, `${name}.pcap`), bytes);
    writeFileSync(join(dir, `${name}.txt`), note + '\n');
  }
}

void main();
