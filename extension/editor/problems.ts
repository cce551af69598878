import * as vscode from 'vscode';
import { formatLocation, type Diagnostic, type DiagnosticLocation } from '../core/diagnostics/diagnostic';

export const REVEAL_COMMAND = 'multifd.revealPacket';

export interface RevealArgs {
  uri: string;
  stream: number;
  packet: number;
}

const SEVERITY: Record<Diagnostic['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

/** A command URI that reveals a packet in the capture editor (the Problems entry's code links to it). */
export function revealUri(args: RevealArgs): vscode.Uri {
  return vscode.Uri.parse(`command:${REVEAL_COMMAND}?${encodeURIComponent(JSON.stringify([args]))}`);
}

/**
 * The capture's diagnostics in the Problems panel, on the .mfd uri. A capture is not text: the range's line
 * is the packet index in its stream; the message names stream, packet and offsets; the code links to the packet.
 */
export function toVscodeDiagnostics(
  uri: vscode.Uri,
  ds: readonly Diagnostic[],
  /** The main-channel row of a diagnostic without a packet (the list's row for its record or offset). */
  mainRowOf?: (l: DiagnosticLocation) => number | undefined,
): vscode.Diagnostic[] {
  return ds.map((d) => {
    const packet = d.location.packet ?? mainRowOf?.(d.location);
    const line = Math.max(0, packet ?? 0);
    const where = formatLocation(d.location);
    const v = new vscode.Diagnostic(
      new vscode.Range(line, 0, line, 0),
      where ? `${d.message} [${where}]` : d.message,
      SEVERITY[d.severity],
    );
    v.source = 'multifd';
    if (d.location.stream !== undefined && packet !== undefined) {
      v.code = {
        value: d.code,
        target: revealUri({ uri: uri.toString(), stream: d.location.stream, packet }),
      };
    } else v.code = d.code;
    if (d.related?.stream !== undefined && d.related.packet !== undefined) {
      v.relatedInformation = [
        new vscode.DiagnosticRelatedInformation(
          new vscode.Location(uri, new vscode.Position(d.related.packet, 0)),
          `related: ${formatLocation(d.related)}`,
        ),
      ];
    }
    return v;
  });
}
