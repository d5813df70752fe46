// Shared pieces of the limit tests: raw sockets that never read (a peer that
// lets the server's answers pile up), a broker process's resident memory, and
// a broker's stats and pulls over a plain RequestClient.
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { RequestClient } from '../../src/net/index.js';
import { decodeBrokerStats, encodeFrame, encodePullRequest, encodeSendRequest, Opcode, type BrokerStats, type PullRequest } from '../../src/protocol/index.js';

/** Resident memory of a process, bytes (Linux). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

/** A connected socket that never reads what it is sent (no 'data' listener, paused). */
export function connectNeverReading(addr: string): Promise<Socket> {
  const [host, port] = addr.split(':');
  return new Promise((resolve, reject) => {
    const s = connect({ host: host!, port: Number(port) });
    s.pause();
    s.once('error', reject);
    s.once('connect', () => {
      s.off('error', reject);
      s.on('error', () => undefined);
      resolve(s);
    });
  });
}

/** A PULL body: queue 0 from offset 0, up to 8 MiB, answered at once, unless `req` says otherwise. */
export function pullBody(req: Partial<PullRequest> & Pick<PullRequest, 'topic'>): Buffer {
  return encodePullRequest({ group: 'sec_g', queueId: 0, offset: 0, maxCount: 4096, maxBytes: 8 * 1024 * 1024, pollTimeoutMs: 0, tags: [], ...req });
}

export function pullFrame(requestId: number, req: Partial<PullRequest> & Pick<PullRequest, 'topic'>): Buffer {
  return encodeFrame({ opcode: Opcode.Pull, flags: 0, requestId, status: 0 }, pullBody(req));
}

export async function stats(client: RequestClient): Promise<BrokerStats> {
  return decodeBrokerStats((await client.call(Opcode.BrokerStats, undefined, 5000)).body);
}

/** Sends `count` messages of `size` bytes to one queue, `batch` per request. */
export async function fill(client: RequestClient, topic: string, queueId: number, count: number, size: number, batch = 64): Promise<void> {
  const body = Buffer.alloc(size, 0x61);
  for (let sent = 0; sent < count; sent += batch) {
    const n = Math.min(batch, count - sent);
    await client.call(Opcode.Send, encodeSendRequest({ topic, queueId, messages: Array.from({ length: n }, () => ({ body })) }), 10_000);
  }
}
