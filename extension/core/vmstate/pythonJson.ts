/**
 * JSON text as analyze-migration.py writes desc.json and state.json (Python's json with indent=4, separators
 * (',', ': ') and ensure_ascii): JSON.stringify's indented form is the same layout, so only characters beyond
 * ASCII need escaping as \uXXXX. No trailing newline, as the script writes none.
 */
export function pythonJson(value: unknown): string {
  return JSON.stringify(value, null, 4).replace(
    /[\u0080-\uffff]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
  );
}
