/**
 * "1 page", "2 pages", "1,024 pages": a count with its noun, for every text the editor, the debugger and the
 * CLI show. `many` is for nouns whose plural is not noun + "s" ("2 info messages" reads better than "2 infos").
 */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}
