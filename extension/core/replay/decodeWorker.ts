import { parentPort } from 'node:worker_threads';
import { createReceiver, ReceiveError, type PacketPayloadReceiver } from './receivers/receiver';
import type { WorkerRequest, WorkerReply } from './decodeWorkerProtocol';

/**
 * A decode worker: holds the receivers (codec state) of the channels assigned to it and decodes their payloads
 * in the order they arrive, which is each channel's order. Channels decompress independently, so a replay runs
 * several of these in parallel while the main thread applies pages in epoch order.
 */
const receivers = new Map<number, PacketPayloadReceiver>();
const chains = new Map<number, Promise<void>>();

function reply(m: WorkerReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(m, transfer);
}

parentPort?.on('message', (m: WorkerRequest) => {
  if (m.type === 'open') {
    receivers.set(m.channel, createReceiver(m.method, m.pageSize, { zstdImplementation: m.zstdImplementation }));
    chains.set(m.channel, Promise.resolve());
    return;
  }
  if (m.type === 'close') {
    for (const r of receivers.values()) r.close();
    receivers.clear();
    return;
  }
  const receiver = receivers.get(m.channel)!;
  const next = chains.get(m.channel)!.then(async () => {
    try {
      const out = await receiver.receive(new Uint8Array(m.payload), m.normalPages);
      // Receivers hand out slices of the codec's output buffers: copy, so transferring never detaches codec memory.
      const own = new Uint8Array(out); // a copy (Buffer.prototype.slice would share memory)
      reply({ type: 'decoded', channel: m.channel, row: m.row, data: own.buffer as ArrayBuffer }, [
        own.buffer as ArrayBuffer,
      ]);
    } catch (e) {
      reply({
        type: 'error',
        channel: m.channel,
        row: m.row,
        code: e instanceof ReceiveError ? e.code : 'replay.decompress',
        message: (e as Error).message,
        page: e instanceof ReceiveError ? e.page : undefined,
      });
    }
  });
  chains.set(m.channel, next);
});
