import { analyzeCaptureFile, sourceBytes } from '../../core/analysis';
import { describeFlags } from '../../core/multifd/constants';
import { readPacket } from '../../core/multifd/readPacket';
import { EXIT_FINDINGS, EXIT_OK, parseNumber, UsageError, type CliCommand } from '../cliCommand';
import { parseCaptureArgs } from './inspect';
import { terminalLines } from '../terminalText';

export const packetsCommand: CliCommand = {
  name: 'packets',
  usage: 'mfd packets <capture> [--stream N] [--offsets] [--json] [--page-size N]',
  summary: 'list multifd packets, one per line (JSON lines with --json)',
  async run(argv, io) {
    const { values, positionals } = parseCaptureArgs(argv, {
      json: { type: 'boolean' },
      stream: { type: 'string' },
      offsets: { type: 'boolean' },
    });
    const only = values.stream === undefined ? undefined : parseNumber(values.stream, '--stream');
    const analysis = await analyzeCaptureFile(positionals[0], { pageSize: values.pageSize, open: values.open });
    try {
      const chosen = analysis.multifd.filter((m) => only === undefined || m.streamId === only);
      if (only !== undefined && !analysis.streams.some((s) => s.id === only))
        throw new UsageError(
          `--stream ${only}: the capture has streams ${analysis.streams.map((s) => s.id).join(', ')}`,
        );
      for (const m of chosen) {
        const stream = sourceBytes(analysis, m.streamId);
        const channel = m.handshake?.channelId ?? null;
        let lines: string[] = [];
        for (let i = 0; i < m.packets.length; i++) {
          const p = m.packets.row(i);
          const offsets = values.offsets ? await readPacket(stream, m.packets, i, analysis.pageSize) : undefined;
          if (values.json) {
            lines.push(
              JSON.stringify({
                stream: p.stream,
                channel,
                index: p.index,
                kind: p.kind,
                epoch: p.epoch,
                packetNum: p.packetNum,
                flags: p.flags,
                sync: p.sync,
                method: p.method ?? null,
                pagesAlloc: p.pagesAlloc,
                normalPages: p.normalPages,
                zeroPages: p.zeroPages,
                nextPacketSize: p.nextPacketSize,
                ramblock: p.ramblock,
                headerOffset: p.headerOffset,
                payloadLength: p.payloadLength,
                timestampNs: p.timestampNs,
                ...(offsets ? { normalOffsets: offsets.normalOffsets, zeroOffsets: offsets.zeroOffsets } : {}),
              }),
            );
          } else {
            const what =
              p.kind === 'device-state'
                ? `device-state ${JSON.stringify(p.ramblock)} instance ${p.instanceId}`
                : `num ${p.packetNum} ${p.ramblock ? JSON.stringify(p.ramblock) : '-'} normal ${p.normalPages} zero ${p.zeroPages}`;
            let line = `stream ${p.stream} ch ${channel ?? '?'} #${p.index} epoch ${p.epoch} ${what} flags ${describeFlags(p.flags)} next_packet_size ${p.nextPacketSize} @${p.headerOffset}`;
            if (offsets)
              line += ` normal [${offsets.normalOffsets.map((o) => '0x' + o.toString(16)).join(' ')}] zero [${offsets.zeroOffsets.map((o) => '0x' + o.toString(16)).join(' ')}]`;
            lines.push(line);
          }
          if (lines.length >= 1000) {
            io.out(terminalLines(lines));
            lines = [];
          }
        }
        if (lines.length) io.out(terminalLines(lines));
      }
      return analysis.diagnostics.some((d) => d.severity === 'error') ? EXIT_FINDINGS : EXIT_OK;
    } finally {
      await analysis.capture.source.close();
    }
  },
};
