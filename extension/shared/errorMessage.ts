// Shared by the extension host and the webview page; extension/core/util/errorMessage.ts re-exports it for the host.

/** The message of something thrown: an Error's message, else the value as text (`throw 'x'` happens too). */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && e !== null && 'message' in e && typeof e.message === 'string') return e.message;
  return String(e);
}

/** For logs: the stack when there is one, else the message. */
export function errorDetail(e: unknown): string {
  return e instanceof Error && e.stack ? e.stack : errorMessage(e);
}
