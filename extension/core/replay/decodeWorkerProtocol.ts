import type { CompressionMethod } from '../multifd/constants';
import type { ReceiveErrorCode } from './receivers/receiveError';

/** Messages between the replay's main thread and its decode workers. */
export type WorkerRequest =
  | {
      type: 'open';
      channel: number;
      method: CompressionMethod;
      pageSize: number;
      zstdImplementation?: 'node' | 'js' | 'auto';
    }
  | { type: 'decode'; channel: number; row: number; payload: ArrayBuffer; normalPages: number }
  | { type: 'close' };

export type WorkerReply =
  | { type: 'decoded'; channel: number; row: number; data: ArrayBuffer }
  | { type: 'error'; channel: number; row: number; code: ReceiveErrorCode; message: string; page?: number };
