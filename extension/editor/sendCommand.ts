import * as vscode from 'vscode';
import { sendCapture } from '../core/send/sendCapture';
import { errorDetail, errorMessage } from '../core/util/errorMessage';
import { log } from './log';

export const SEND_COMMAND = 'multifd.sendCapture';

/**
 * Multifd: Send Capture to Destination QEMU…: plays a capture into a destination started with
 * `-incoming tcp:…` (or defer), with progress and cancel. With the destination's QMP socket it also sets the
 * recorded capabilities and parameters and reports the destination's own verdict.
 */
export async function sendCaptureCommand(capture: vscode.Uri): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('Multifd: sending a capture needs a trusted workspace.');
    return;
  }
  const to = await vscode.window.showInputBox({
    title: 'Send Capture to Destination QEMU (1/2)',
    prompt: 'host:port of the destination QEMU started with -incoming tcp:HOST:PORT (or -incoming defer)',
    value: '127.0.0.1:4444',
    validateInput: (t) => (/^[^\s:]+:\d{1,5}$/.test(t.trim()) ? undefined : 'host:port expected, e.g. 127.0.0.1:4444'),
  });
  if (!to) return;
  const qmp = await vscode.window.showInputBox({
    title: 'Send Capture to Destination QEMU (2/2)',
    prompt:
      "Optional: the destination's QMP unix socket, to set the recorded parameters and report its result (leave empty to skip)",
    placeHolder: '/tmp/dst.qmp',
  });
  if (qmp === undefined) return;
  const out = log();
  const ac = new AbortController();
  try {
    const result = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Sending ${vscode.workspace.asRelativePath(capture)} to ${to}`,
        cancellable: true,
      },
      async (progress, token) => {
        token.onCancellationRequested(() => ac.abort());
        let last = 0;
        return sendCapture(capture.fsPath, {
          to: to.trim(),
          qmpSocket: qmp.trim() || undefined,
          signal: ac.signal,
          onLog: (line) => out.info(line),
          onProgress: (p) => {
            const pct = p.totalBytes ? (100 * p.sentBytes) / p.totalBytes : 0;
            progress.report({
              increment: pct - last,
              message: `${p.phase}: ${(p.sentBytes / 2 ** 20).toFixed(1)} of ${(p.totalBytes / 2 ** 20).toFixed(1)} MiB`,
            });
            last = pct;
          },
        });
      },
    );
    for (const w of result.warnings) out.warn(w);
    for (const p of result.problems) out.error(p);
    if (result.cancelled)
      void vscode.window.showInformationMessage('Multifd: sending cancelled; every connection was closed.');
    else if (result.ok && !result.confirmed) {
      out.warn(`not confirmed: ${result.unconfirmed}`);
      void vscode.window
        .showWarningMessage(`Multifd: every byte was handed over, but ${result.unconfirmed}`, 'Show Log')
        .then((b) => b && out.show());
    } else if (result.ok)
      void vscode.window.showInformationMessage(
        `Multifd: destination ${result.qmp?.outcome?.status ?? 'took every stream'}${result.timings.destinationCompletedMs !== undefined ? ` in ${result.timings.destinationCompletedMs} ms` : ''}.`,
      );
    else
      void vscode.window
        .showErrorMessage(`Multifd: ${result.problems[0] ?? 'the destination did not complete'}`, 'Show Log')
        .then((b) => b && out.show());
  } catch (e) {
    out.error(`send: ${errorDetail(e)}`);
    void vscode.window.showErrorMessage(`Multifd: ${errorMessage(e)}`);
  }
}
