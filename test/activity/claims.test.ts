// The activity service's claim contract over real HTTP on 127.0.0.1, against
// a real name server and brokers: 200 only after SEND_OK (the message is then
// at the returned queue offset, with the returned id), a repeated scan gets
// the same allocation and produces nothing, malformed and oversized requests
// are 400 and 413, a broker that cannot take the claim gives 503 with
// Retry-After (never 200) and the next scan tries again, and the metrics
// count what happened, over all workers.
import { describe, expect, it } from 'vitest';
import { useCluster } from '../helpers/cluster.js';
import { sleep, waitUntil } from '../helpers/wait.js';
import { masterHa } from '../ha/ha-helpers.js';
import { claim, metric, readTopic, request, useActivityServices } from './activity-helpers.js';

const TOPIC = 'LOTTERY_CLAIM';
const NONCE = 0x5eed;
const USER = 10_000_000_042;
const FAST_PRODUCER = { requestTimeoutMs: 1000, routeRefreshMs: 300, retries: 1 };

describe('the activity service', () => {
  const cluster = useCluster();
  const start = useActivityServices();

  it('answers 200 only after SEND_OK, with the id and offset of a consumable claim; a repeat produces nothing', async () => {
    const c = await cluster({ topics: { [TOPIC]: 2 } });
    const s = await start({ namesrv: c.ns, workers: 2, claimNonce: NONCE, producer: FAST_PRODUCER });
    const health = await request(s.url, 'GET', '/healthz');
    expect(health.status).toBe(200);

    const first = await claim(s.url, { userId: USER, activityId: 'd12', seq: 7, intendedUs: 1234 });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ userId: USER, activityId: 'd12', seq: 7, topic: TOPIC, repeat: false });
    const messages = await readTopic(c.ns, TOPIC, NONCE);
    expect(messages).toHaveLength(1);
    const m = messages[0]!;
    expect(m.msgId).toBe(first.body.msgId);
    expect([m.queueId, m.queueOffset]).toEqual([first.body.queueId, first.body.queueOffset]);
    expect(m.keys).toEqual([String(USER)]);
    // The harness's claim record: the lottery and the verifier read it as their own.
    expect(m.claim).toEqual({ nonce: NONCE, producer: 0, seq: 7, userId: USER, intendedUs: 1234 });

    // The same user scans again (query form this time, another connection): same allocation, no new message.
    const again = await request(s.url, 'POST', `/claims?userId=${USER}`);
    expect(again.status).toBe(200);
    expect({ ...again.body, repeat: false }).toEqual(first.body);
    expect(again.body.repeat).toBe(true);
    expect(await readTopic(c.ns, TOPIC, NONCE)).toHaveLength(1);
  });

  it('gives one user one allocation whatever worker each of its concurrent scans reaches', async () => {
    const c = await cluster({ topics: { [TOPIC]: 2 } });
    const s = await start({ namesrv: c.ns, workers: 2, claimNonce: NONCE, producer: FAST_PRODUCER });
    const users = [USER, USER + 1];
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => claim(s.url, { userId: users[i % 2]! })));
    for (const r of replies) expect(r.status, r.text).toBe(200);
    for (const u of users) {
      const ids = new Set(replies.filter((r) => r.body.userId === u).map((r) => r.body.msgId));
      expect(ids.size, `allocations of user ${u}`).toBe(1);
    }
    const messages = await readTopic(c.ns, TOPIC, NONCE);
    expect(messages.map((m) => m.claim.userId).sort()).toEqual(users);
    // The scans did reach both workers: some were forwarded to the owner of their user.
    const text = await s.metrics();
    expect(metric(text, 'metaq_activity_claims_forwarded_total')).toBeGreaterThan(0);
    expect(metric(text, 'metaq_activity_claims_produced_total')).toBe(2);
    expect(metric(text, 'metaq_activity_claims_repeated_total')).toBe(38);
  });

  it('answers 400 to malformed claims, 413 to oversized bodies, 404 and 405 elsewhere, and keeps serving', async () => {
    const c = await cluster({ topics: { [TOPIC]: 1 } });
    const s = await start({ namesrv: c.ns, workers: 1, maxBodyBytes: 256, producer: FAST_PRODUCER });
    for (const body of ['{"userId": 4', '[]', '{}', '{"userId": -3}', '{"userId": 1, "x": 2}']) {
      const r = await request(s.url, 'POST', '/claims', body);
      expect(r.status, body).toBe(400);
      expect(r.body.error).toBe('METAQ_INVALID_REQUEST');
    }
    expect((await request(s.url, 'POST', '/claims?userId=abc')).status).toBe(400);
    // Too long, declared up front, and too long without a declared length (chunked).
    const big = JSON.stringify({ userId: 1, activityId: 'a'.repeat(64), pad: 'x'.repeat(400) });
    expect((await request(s.url, 'POST', '/claims', big)).status).toBe(413);
    expect((await request(s.url, 'POST', '/claims', big, { 'transfer-encoding': 'chunked' })).status).toBe(413);
    expect((await request(s.url, 'GET', '/claims')).status).toBe(405);
    expect((await request(s.url, 'GET', '/nowhere')).status).toBe(404);
    expect((await claim(s.url, { userId: 5 })).status).toBe(200);
    expect(await readTopic(c.ns, TOPIC, 0)).toHaveLength(1);

    const text = (await request(s.url, 'GET', '/metrics')).text;
    expect(metric(text, 'metaq_activity_requests_total', { route: 'claims', status: '400' })).toBe(6);
    expect(metric(text, 'metaq_activity_requests_total', { route: 'claims', status: '413' })).toBe(2);
    expect(metric(text, 'metaq_activity_requests_total', { route: 'claims', status: '200' })).toBe(1);
    expect(metric(text, 'metaq_activity_claims_produced_total')).toBe(1);
    expect(metric(text, 'metaq_activity_producer_batch_size_count')).toBe(1);
    // 6 + 2 + the 405 + the 200.
    expect(metric(text, 'metaq_activity_request_duration_seconds_count', { route: 'claims' })).toBe(10);
    expect(metric(text, 'metaq_activity_claims_in_flight')).toBe(0);
  });

  it('answers 503 with Retry-After when a sync master has no slave, and the next scan sends again', async () => {
    const c = await cluster({ topics: { [TOPIC]: 1 }, brokers: 0 });
    const master = await c.startBroker({ brokerName: 'm', replicationMode: 'sync', slaveTimeoutMs: 500 });
    const s = await start({ namesrv: c.ns, workers: 1, retryAfterSec: 2, producer: FAST_PRODUCER });
    // A sync master that never heard from a slave takes no writes at all (an error, not a status).
    const unverified = await claim(s.url, { userId: USER });
    expect(unverified.status, unverified.text).toBe(503);
    expect(unverified.headers['retry-after']).toBe('2');
    expect(unverified.body.error).toBe('METAQ_MASTER_BEHIND_SLAVE');

    const slave = await c.startBroker({ brokerName: 'm', role: 'slave', masterHaAddr: master.haAddr! });
    await waitUntil(() => masterHa(master.stats()).slaveConnected, 'the slave to connect', 10_000, 10);
    const withSlave = await claim(s.url, { userId: USER });
    expect(withSlave.status, withSlave.text).toBe(200);

    // The slave gone: the master stores the claim but answers SLAVE_NOT_AVAILABLE, a status, not SEND_OK.
    await c.stopBroker(slave);
    await waitUntil(() => !masterHa(master.stats()).slaveConnected, 'the master to notice the slave is gone', 10_000, 10);
    for (let scan = 0; scan < 2; scan++) {
      const r = await claim(s.url, { userId: USER + 1 });
      expect(r.status, r.text).toBe(503);
      expect(r.headers['retry-after']).toBe('2');
      expect(r.body.error).toMatch(/^SLAVE_(NOT_AVAILABLE|TIMEOUT)$/);
    }
    const text = await s.metrics();
    // Both scans of user + 1 sent (nothing was recorded for the user after the first refusal).
    expect(metric(text, 'metaq_activity_producer_batch_size_count')).toBe(4);
    expect(metric(text, 'metaq_activity_claims_produced_total')).toBe(1);
    expect(metric(text, 'metaq_activity_requests_total', { route: 'claims', status: '503' })).toBe(3);
  });

  it('answers 503, never 200, while the broker is down; every claim answered 200 is in the topic exactly once', async () => {
    const c = await cluster({ topics: { [TOPIC]: 2 } });
    const s = await start({ namesrv: c.ns, workers: 2, claimNonce: NONCE, producer: FAST_PRODUCER });
    // Where each acknowledged claim is (a message id names the broker's address, which a restart changes).
    const acknowledged = new Map<number, string>();
    const at = (b: Record<string, unknown>): string => `${b.brokerName}/${b.queueId}/${b.queueOffset}`;
    const scan = async (u: number): Promise<number> => {
      const r = await claim(s.url, { userId: u });
      if (r.status === 200) {
        const before = acknowledged.get(u);
        if (before !== undefined) expect(at(r.body), `user ${u}'s allocation`).toBe(before);
        acknowledged.set(u, at(r.body));
      } else {
        expect(r.status, r.text).toBe(503);
        expect(r.headers['retry-after']).toBe('1');
      }
      return r.status;
    };
    const users = Array.from({ length: 60 }, (_, i) => USER + i);
    for (const u of users.slice(0, 20)) expect(await scan(u)).toBe(200);

    const name = c.brokers[0]!.config.brokerName;
    const dir = await c.stopBroker(c.brokers[0]!);
    const down = await Promise.all(users.slice(20, 40).map(scan));
    expect(down.every((st) => st === 503), `answers while down: ${down.join(',')}`).toBe(true);

    await c.startBroker({ dir, brokerName: name });
    // Users scan again until acknowledged (a 503 is retryable by the same user).
    const deadline = Date.now() + 20_000;
    for (const u of users) {
      while ((await scan(u)) !== 200) {
        expect(Date.now() < deadline, `user ${u} acknowledged after the restart`).toBe(true);
        await sleep(200);
      }
    }
    const messages = await readTopic(c.ns, TOPIC, NONCE);
    for (const [u, where] of acknowledged) {
      const found = messages.filter((m) => `${name}/${m.queueId}/${m.queueOffset}` === where);
      expect(found.length, `user ${u}'s claim at ${where}`).toBe(1);
      expect(found[0]!.claim.userId).toBe(u);
    }
    expect(new Set(messages.map((m) => m.claim.userId)).size).toBe(users.length);
    const text = await s.metrics();
    expect(metric(text, 'metaq_activity_claims_produced_total')).toBe(users.length);
  });
});
