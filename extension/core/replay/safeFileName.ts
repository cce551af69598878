import { resolve, sep } from 'node:path';

/**
 * Makes a file name from a name found in a capture (ramblock idstr, device idstr). Those are arbitrary
 * bytes: `/rom@etc/acpi/tables`, `../../x`, NUL, control characters. The result is one path component
 * that cannot escape its folder; distinct inputs stay distinct through `uniqueNames`.
 */
export function safeFileName(name: string, suffix: string): string {
  let s = name
    .replace(/^\/+/, '')
    .replace(/[^A-Za-z0-9._@+-]/g, '_')
    .replace(/^\.+/, '_')
    .replace(/_{2,}/g, '_');
  if (!s || /^_*$/.test(s)) s = 'unnamed';
  return s.slice(0, 120) + suffix;
}

/** Assigns every name its own safe file name, adding -2, -3… where two names map to the same one. */
export function uniqueNames(names: readonly string[], suffix: string): Map<string, string> {
  const used = new Set<string>();
  const out = new Map<string, string>();
  for (const n of names) {
    const base = safeFileName(n, '');
    let candidate = base + suffix;
    for (let k = 2; used.has(candidate.toLowerCase()); k++) candidate = `${base}-${k}${suffix}`;
    used.add(candidate.toLowerCase());
    out.set(n, candidate);
  }
  return out;
}

/** Joins a safe name under a folder and checks that the result stays inside it. */
export function insideFolder(folder: string, fileName: string): string {
  const root = resolve(folder);
  const full = resolve(root, fileName);
  if (!full.startsWith(root + sep)) throw new Error(`refusing to write ${JSON.stringify(fileName)} outside ${root}`);
  return full;
}
