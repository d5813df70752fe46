// Held long polls: those of a connection that closes are dropped at once
// (before, each stayed parked, with its timer and request, until its poll
// timeout), and the broker holds at most maxHeldPullsPerConnection per
// connection and maxHeldPulls in all: a pull past a bound is answered
// LimitExceeded (a consumer backs off and pulls again, losing nothing), the
// refusal counted, and every pull held is still answered when messages come.
import { describe, expect, it } from 'vitest';
import { LimitExceededError } from '../../src/common/index.js';
import { RequestClient } from '../../src/net/index.js';
import { decodePullResponse, encodeSendRequest, Opcode, Status, type Frame } from '../../src/protocol/index.js';
import { useCluster } from '../helpers/cluster.js';
import { sleep, waitUntil } from '../helpers/wait.js';
import { pullBody } from './wire-helpers.js';

const TOPIC = 'HeldPulls';
const HOLD_MS = 30_000;

function holdPulls(client: RequestClient, n: number): Promise<Frame | Error>[] {
  return Array.from({ length: n }, () => client.call(Opcode.Pull, pullBody({ topic: TOPIC, pollTimeoutMs: HOLD_MS }), HOLD_MS * 2).catch((err: unknown) => err as Error));
}

describe('held pulls', () => {
  const cluster = useCluster();

  it('10,000 pulls held on one connection are released at once when it closes', async () => {
    const c = await cluster({ topics: { [TOPIC]: 1 } });
    const broker = await c.startBroker();
    const client = await RequestClient.connect(broker.addr);
    const pending = holdPulls(client, 10_000);
    await waitUntil(() => broker.stats().heldPulls === 10_000, '10,000 pulls held', 20_000, 10);
    const heapHeld = process.memoryUsage().heapUsed;
    const t0 = Date.now();
    client.close();
    await waitUntil(() => broker.stats().heldPulls === 0, 'the held pulls to be released', 5000, 5);
    const releasedMs = Date.now() - t0;
    console.log(`10,000 held pulls (heap ${(heapHeld / 1024 / 1024).toFixed(0)} MB) released ${releasedMs} ms after their connection closed; refusals ${JSON.stringify(broker.stats().refusals)}`);
    expect(releasedMs).toBeLessThan(1000);
    expect(broker.stats().refusals).toEqual({});
    await Promise.all(pending);
  }, 60_000);

  it('per connection and in total: pulls past the bounds are refused with LimitExceeded and counted; those held are answered', async () => {
    const c = await cluster({ topics: { [TOPIC]: 1 } });
    const broker = await c.startBroker({ maxHeldPullsPerConnection: 100, maxHeldPulls: 250 });
    const clients = await Promise.all([1, 2, 3].map(() => RequestClient.connect(broker.addr)));
    try {
      const first = holdPulls(clients[0]!, 150);
      await waitUntil(() => broker.stats().heldPulls === 100, 'the first connection to hold 100', 5000, 5);
      const second = holdPulls(clients[1]!, 100);
      await waitUntil(() => broker.stats().heldPulls === 200, 'the second connection to hold 100', 5000, 5);
      const third = holdPulls(clients[2]!, 100);
      await waitUntil(() => broker.stats().heldPulls === 250, 'the broker to hold 250', 5000, 5);
      await sleep(100);
      expect(broker.stats().heldPulls).toBe(250);

      // The refused ones are answered at once, with the limit named.
      const refused = async (ps: Promise<Frame | Error>[]): Promise<LimitExceededError[]> => {
        const settled = await Promise.all(ps.map((p) => Promise.race([p, sleep(500).then(() => undefined)])));
        return settled.filter((r): r is LimitExceededError => r instanceof LimitExceededError);
      };
      const perConnection = await refused(first);
      const total = await refused(third);
      expect(perConnection).toHaveLength(50);
      expect(perConnection.every((e) => e.limit === 'heldPullsPerConnection')).toBe(true);
      expect(perConnection[0]!.message).toMatch(/maxHeldPullsPerConnection/);
      expect(total).toHaveLength(50);
      expect(total.every((e) => e.limit === 'heldPulls')).toBe(true);
      expect(broker.stats().refusals).toEqual({ heldPullsPerConnection: 50, heldPulls: 50 });

      // A message arrives: every pull held is answered with it.
      await clients[0]!.call(Opcode.Send, encodeSendRequest({ topic: TOPIC, queueId: 0, messages: [{ body: Buffer.from('wake') }] }), 5000);
      const answers = (await Promise.all([...first, ...second, ...third])).filter((r): r is Frame => !(r instanceof Error));
      expect(answers).toHaveLength(250);
      expect(answers.every((f) => f.status === Status.Ok && decodePullResponse(f.body).count === 1)).toBe(true);
      expect(broker.stats().heldPulls).toBe(0);

      // Room again: the next pulls are held.
      const again = Array.from({ length: 100 }, () => clients[1]!.call(Opcode.Pull, pullBody({ topic: TOPIC, offset: 1, pollTimeoutMs: HOLD_MS }), HOLD_MS * 2).catch((err: unknown) => err as Error));
      await waitUntil(() => broker.stats().heldPulls === 100, 'pulls held again', 5000, 5);
      clients[1]!.close();
      await waitUntil(() => broker.stats().heldPulls === 0, 'the closed connection\'s pulls to go', 2000, 5);
      await Promise.all(again);
    } finally {
      for (const cl of clients) cl.close();
    }
  }, 60_000);
});
