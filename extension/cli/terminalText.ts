/**
 * Text that came from a capture (META strings, ramblock names, device idstrs, notes) is printed to a
 * terminal: an ESC sequence could recolour or clear the screen, a CR or LF could fake a line of output.
 * Every text printer passes each line through escapeControls, so what the capture holds is shown, never
 * obeyed. JSON output needs none of this: JSON.stringify escapes control characters itself.
 */

/** C0 controls, DEL, C1 controls (a lone 0x9b is CSI on some terminals), line/paragraph separators, bidi overrides. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** `text` with every control character written as an escape (`\x1b`, `\r`, `\u{202e}`); the rest unchanged. */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, escapeOne);
}

/** Lines of a text report, each escaped, joined and ended with a newline: the only newlines are the printer's own. */
export function terminalLines(lines: readonly string[]): string {
  return lines.map(escapeControls).join('\n') + '\n';
}
