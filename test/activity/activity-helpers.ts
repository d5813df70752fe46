// Helpers for the activity service's tests: a service per test (closed after
// it), HTTP requests on fresh connections (so that a cluster spreads them
// over its workers), the topic's messages read back, and metric values.
import http from 'node:http';
import { afterEach } from 'vitest';
import { Admin, type Credential } from '../../src/client/index.js';
import { startActivityService, type ActivityService, type ActivityServiceOptions } from '../../src/activity/index.js';
import { decodeClaim, type Claim } from '../../src/harness/workers/index.js';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  text: string;
}

export function useActivityServices(): (o: ActivityServiceOptions) => Promise<ActivityService> {
  const running: ActivityService[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) await s.close();
  });
  return async (o) => {
    const s = await startActivityService({ port: 0, ...o });
    running.push(s);
    return s;
  };
}

/** One request on its own connection (no keep-alive). */
export function request(url: string, method: string, path: string, body?: string | Buffer, headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method, agent: false, headers: { connection: 'close', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // not JSON (metrics)
        }
        resolve({ status: res.statusCode!, headers: res.headers, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const claim = (url: string, fields: Record<string, unknown>): Promise<Reply> => request(url, 'POST', '/claims', JSON.stringify(fields));

export interface ReadClaim {
  claim: Claim;
  msgId: string;
  keys: string[];
  queueId: number;
  queueOffset: number;
}

/** Every message of the topic, read from offset 0 of every queue. */
export async function readTopic(ns: string, topic: string, nonce: number, credential?: Credential): Promise<ReadClaim[]> {
  const admin = new Admin({ namesrv: ns, ...(credential !== undefined ? { credential } : {}) });
  try {
    const out: ReadClaim[] = [];
    for (const mq of await admin.queues(topic)) {
      let offset = 0;
      for (;;) {
        const r = await admin.pull(mq, offset, { maxCount: 256, pollTimeoutMs: 0 });
        if (r.messages.length === 0) break;
        for (const m of r.messages) out.push({ claim: decodeClaim(m.body, nonce)!, msgId: m.messageId, keys: m.keys, queueId: m.queueId, queueOffset: m.queueOffset });
        offset = r.nextOffset;
      }
    }
    return out;
  } finally {
    admin.close();
  }
}

/** The value of one sample of a Prometheus text exposition (0 when absent). */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = Object.fromEntries((m[2] ?? '').split(',').filter((p) => p !== '').map((p) => { const [k, v] = p.split('='); return [k!, JSON.parse(v!) as string]; }));
    if (Object.entries(labels).every(([k, v]) => have[k] === v) && Object.keys(have).length === Object.keys(labels).length) return Number(m[3]);
  }
  return 0;
}
