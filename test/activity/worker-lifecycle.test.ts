// The activity service's limits and its workers' lives, over real HTTP and
// real brokers: past maxInFlight a claim is answered 503 BUSY with
// Retry-After (and the held one still 200); a worker killed is forked again,
// counted in /metrics, and its users are served again; past
// maxRestartsPerMinute it stays down and claims of its users are answered
// 503 at once (not after the forward timeout), the other users still 200.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { useCluster } from '../helpers/cluster.js';
import { sleep, waitUntil } from '../helpers/wait.js';
import { claim, metric, request, useActivityServices } from './activity-helpers.js';

const TOPIC = 'LOTTERY_CLAIM';
const FAST_PRODUCER = { requestTimeoutMs: 1000, routeRefreshMs: 300, retries: 1 };
/** Users 2n go to worker 0, 2n + 1 to worker 1 (ownerOf: userId % workers). */
const USER = 20_000_000_000;

/** A POST /claims whose body is held back after its first byte: the claim stays in flight until `finish`. */
function heldClaim(url: string, userId: number): Promise<{ finish(): Promise<string> }> {
  const { hostname, port } = new URL(url);
  const body = JSON.stringify({ userId });
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), hostname, () => {
      sock.write(`POST /claims HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.slice(0, 1)}`);
      resolve({
        finish: () =>
          new Promise((done) => {
            let text = '';
            sock.on('data', (c: Buffer) => (text += c.toString('latin1')));
            sock.on('end', () => done(text));
            sock.write(body.slice(1));
          }),
      });
    });
    sock.once('error', reject);
  });
}

describe('the activity service under limits and worker deaths', () => {
  const cluster = useCluster();
  const start = useActivityServices();

  it('answers 503 BUSY with Retry-After past maxInFlight, and the claim it holds still 200', async () => {
    const c = await cluster({ topics: { [TOPIC]: 2 } });
    const s = await start({ namesrv: c.ns, workers: 1, maxInFlight: 1, retryAfterSec: 3, producer: FAST_PRODUCER });
    const held = await heldClaim(s.url, USER);
    // The held claim counts once its headers are parsed: a claim racing ahead of that passes, the next is refused.
    let busy = await claim(s.url, { userId: USER + 2 });
    for (let i = 0; i < 50 && busy.status === 200; i++) busy = await claim(s.url, { userId: USER + 4 + 2 * i });
    expect(busy.status, busy.text).toBe(503);
    expect(busy.body.error).toBe('BUSY');
    expect(busy.headers['retry-after']).toBe('3');
    const first = await held.finish();
    expect(first).toMatch(/^HTTP\/1\.1 200 /);
    // Nothing is held any more: the next claim passes.
    expect((await claim(s.url, { userId: USER + 1000 })).status).toBe(200);
    expect(metric((await request(s.url, 'GET', '/metrics')).text, 'metaq_activity_requests_total', { route: 'claims', status: '503' })).toBeGreaterThanOrEqual(1);
  });

  it('forks a killed worker again, counts it, and serves its users again', async () => {
    const c = await cluster({ topics: { [TOPIC]: 2 } });
    const s = await start({ namesrv: c.ns, workers: 2, producer: FAST_PRODUCER });
    const [, victim] = s.pids;
    process.kill(victim!, 'SIGKILL');
    await waitUntil(() => s.restarts === 1 && s.pids[1] !== victim, 'the worker forked again', 30_000, 50);
    // The new worker serves once its producer is up: until then its users get 503 OWNER_DOWN, never anything else.
    for (let r = await claim(s.url, { userId: USER + 1 }); r.status !== 200; r = await claim(s.url, { userId: USER + 1 })) {
      expect(r.body.error, r.text).toBe('OWNER_DOWN');
      await sleep(100);
    }
    // Both workers' users answered 200 (each user's owner serves it; some reach the other worker and are forwarded).
    for (let i = 0; i < 8; i++) {
      const r = await claim(s.url, { userId: USER + 100 + i });
      expect(r.status, r.text).toBe(200);
    }
    expect(metric((await request(s.url, 'GET', '/metrics')).text, 'metaq_activity_worker_restarts_total')).toBe(1);
  });

  it('leaves a worker down past maxRestartsPerMinute: its users get 503 at once, the others 200', async () => {
    const c = await cluster({ topics: { [TOPIC]: 2 } });
    const s = await start({ namesrv: c.ns, workers: 2, maxRestartsPerMinute: 0, retryAfterSec: 2, producer: FAST_PRODUCER });
    const [, victim] = s.pids;
    process.kill(victim!, 'SIGKILL');
    // Let the primary see the death: connections then reach worker 0 only.
    await sleep(500);
    const started = Date.now();
    const down = await claim(s.url, { userId: USER + 1 });
    expect(down.status, down.text).toBe(503);
    expect(down.body.error).toBe('OWNER_DOWN');
    expect(down.headers['retry-after']).toBe('2');
    // At once, not after the forward timeout (4 s with these producer options).
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await claim(s.url, { userId: USER + 2 })).status).toBe(200);
    expect(s.restarts).toBe(0);
    expect(metric((await request(s.url, 'GET', '/metrics')).text, 'metaq_activity_worker_restarts_total')).toBe(0);
  });
});
