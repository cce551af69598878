import { page } from '../multifdEncoder';
import { HardwareMigrationSender, type MigrationOptions } from './migrationSender';

export const SCENARIO_PAGES = 48;

/**
 * A dirtying guest in three or four rounds, sent with qpl, uadk or qatzip: compressible, incompressible (the
 * raw fallback), nearly empty and zero pages; then re-sends with new contents, pages going from data to zero
 * and from zero to data. Every batch holds data pages, except in the optional last round, where only two pages
 * change, both to zero: a batch made only of zero pages, which 9.1/9.2 senders never write.
 */
export function liveMigration(
  opts: Omit<MigrationOptions, 'blockPages'>,
  zeroOnlyRound = false,
): HardwareMigrationSender {
  const ps = opts.pageSize;
  const s = new HardwareMigrationSender({ batch: 8, ...opts, blockPages: SCENARIO_PAGES });
  const kinds = ['pattern', 'random', 'zero', 'one-byte'] as const;
  s.round(new Map(Array.from({ length: SCENARIO_PAGES }, (_, i) => [i, page(ps, i, kinds[i % 4])])));
  s.round(
    new Map([
      [0, page(ps, 0, 'zero')],
      [1, page(ps, 101, 'pattern')],
      [2, page(ps, 102)],
      [4, page(ps, 0, 'zero')],
      [5, page(ps, 105, 'pattern')],
      [6, page(ps, 106)],
      [9, page(ps, 109, 'one-byte')],
    ]),
  );
  s.round(
    new Map([
      [0, page(ps, 200, 'pattern')],
      [13, page(ps, 0, 'zero')],
      [17, page(ps, 217)],
      [40, page(ps, 240, 'pattern')],
    ]),
  );
  if (zeroOnlyRound) {
    s.round(
      new Map([
        [3, page(ps, 0, 'zero')],
        [7, page(ps, 0, 'zero')],
      ]),
    );
  }
  return s;
}
