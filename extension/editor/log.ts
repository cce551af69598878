import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

/** The extension's LogOutputChannel ("Multifd Inspector" in the Output panel; level follows Developer: Set Log Level). */
export function log(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('Multifd Inspector', { log: true });
  return channel;
}
