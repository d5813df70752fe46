// The name server with real brokers: a broker's topics are routed; a topic
// created later is routed within about a second; a broker that closes is
// unrouted at once, one that is killed (SIGKILL, in a child process) within
// the name server's expiry; a Producer sending to a topic on two brokers
// keeps going when one of them dies, on the survivor.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Admin, Producer, type SendResult } from '../../src/client/index.js';
import { MetaqError } from '../../src/common/index.js';
import { RequestClient } from '../../src/net/index.js';
import { decodeErrorBody, decodeRoute, decodeText, encodeTopic, Opcode, Status, type BrokerRoute } from '../../src/protocol/index.js';
import { MessageStore } from '../../src/store/index.js';
import { spawnTs, type RunningChild } from '../helpers/child.js';
import { useCluster } from '../helpers/cluster.js';
import { rejectionOf } from '../helpers/errors.js';
import { readQueue } from '../helpers/messages.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { sleep, waitDispatched } from '../helpers/wait.js';

const CHILD_BROKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'namesrv-broker.ts');
/** The name server of useCluster() forgets a broker silent for this long. */
const EXPIRY_MS = 2000;
/** How often the brokers re-register (FAST_BROKER). */
const REGISTER_MS = 200;

describe('name server and brokers', () => {
  const startCluster = useCluster();
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  /** Asks the name server directly (no client-side route cache): the route, or undefined for NoRoute. */
  async function routeOf(ns: string, topic: string): Promise<BrokerRoute[] | undefined> {
    const c = await RequestClient.connect(ns);
    try {
      const f = await c.request(Opcode.GetRoute, encodeTopic(topic), 3000);
      if (f.status === Status.NoRoute) return undefined;
      if (f.status !== Status.Ok) throw new Error(`GET_ROUTE ${topic}: status ${f.status}: ${decodeErrorBody(f.body)}`);
      return decodeRoute(f.body);
    } finally {
      c.close();
    }
  }

  /** Polls the route until `cond` holds; returns the time it took. */
  async function timeUntil(ns: string, topic: string, cond: (r: BrokerRoute[] | undefined) => boolean, timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      if (cond(await routeOf(ns, topic))) return Date.now() - t0;
      if (Date.now() - t0 > timeoutMs) throw new Error(`route of ${topic} did not change as expected within ${timeoutMs} ms (now ${JSON.stringify(await routeOf(ns, topic))})`);
      await sleep(20);
    }
  }

  /** Starts a broker in a child process; resolves with its address once it serves. */
  async function childBroker(ns: string, brokerName: string, topics: Record<string, number>): Promise<{ child: RunningChild; addr: string; dir: string }> {
    const dir = makeTempDir('ns-child');
    cleanup.push(() => removeDir(dir));
    let resolveAddr: ((a: string) => void) | undefined;
    const gotAddr = new Promise<string>((resolve) => (resolveAddr = resolve));
    const child = spawnTs(CHILD_BROKER, [ns, dir, brokerName, JSON.stringify(topics)], {
      onLine: (line) => {
        const m = JSON.parse(line) as { addr?: string };
        if (m.addr !== undefined) resolveAddr!(m.addr);
      },
    });
    cleanup.push(async () => {
      if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill('SIGKILL');
      await child.exited;
    });
    const addr = await Promise.race([gotAddr, child.exited.then(() => Promise.reject(new Error(`child broker exited early:\n${child.stderr()}`)))]);
    return { child, addr, dir };
  }

  it('a broker registers its topics; a topic created (or grown) later is routed within a second', async () => {
    const cluster = await startCluster({ topics: { NsA: 4, NsB: 2 } });
    const b = cluster.brokers[0]!;
    const admin = new Admin({ namesrv: cluster.ns });
    cleanup.push(() => admin.close());

    const qa = await admin.queues('NsA');
    expect(qa).toEqual([0, 1, 2, 3].map((queueId) => ({ topic: 'NsA', brokerName: 'broker-a', addr: b.addr, queueId })));
    expect((await admin.queues('NsB')).map((q) => q.queueId)).toEqual([0, 1]);
    expect(await routeOf(cluster.ns, 'NsB')).toEqual([{ brokerName: 'broker-a', addr: b.addr, queueCount: 2, role: 0 }]);
    // The internal delay topic is not advertised; an unknown topic has no route.
    expect(await routeOf(cluster.ns, 'SCHEDULE_TOPIC_XXXX')).toBeUndefined();
    expect(await routeOf(cluster.ns, 'NsNowhere')).toBeUndefined();
    expect((await rejectionOf(admin.queues('NsNowhere')) as MetaqError).code).toBe('METAQ_NO_ROUTE');

    // Created through the wire (CREATE_TOPIC).
    await admin.createTopic('NsLater', 3, [b.addr]);
    const created = await timeUntil(cluster.ns, 'NsLater', (r) => r?.[0]?.queueCount === 3, 1000);
    // Created in-process, and an existing topic grown.
    b.createTopic('NsLocal', 5);
    const local = await timeUntil(cluster.ns, 'NsLocal', (r) => r?.[0]?.queueCount === 5, 1000);
    await admin.createTopic('NsB', 6, [b.addr]);
    const grown = await timeUntil(cluster.ns, 'NsB', (r) => r?.[0]?.queueCount === 6, 1000);
    console.log(`[namesrv] routed after creation in ${created} ms (wire), ${local} ms (in-process); grown in ${grown} ms`);
    expect(await admin.waitForRoute('NsLater', 1000)).toHaveLength(3);

    // The name server's stats list the broker.
    const c = await RequestClient.connect(cluster.ns);
    try {
      const stats = JSON.parse(decodeText((await c.call(Opcode.BrokerStats, undefined, 3000)).body)) as { brokers: { brokerName: string; addr: string; topics: number }[] };
      expect(stats.brokers).toHaveLength(1);
      expect(stats.brokers[0]).toMatchObject({ brokerName: 'broker-a', addr: b.addr });
      expect(stats.brokers[0]!.topics).toBeGreaterThanOrEqual(4);
    } finally {
      c.close();
    }
  });

  it('a broker that closes is unrouted at once; its topics on another broker stay routed', async () => {
    const cluster = await startCluster({ brokers: 2, topics: { NsShared: 2 } });
    const [a, b] = cluster.brokers as [typeof cluster.brokers[0], typeof cluster.brokers[0]];
    b.createTopic('NsOnlyB', 1);
    await timeUntil(cluster.ns, 'NsOnlyB', (r) => r !== undefined, 1000);
    expect((await routeOf(cluster.ns, 'NsShared'))!.map((r) => r.brokerName)).toEqual(['broker-a', 'broker-b']);

    await cluster.stopBroker(b);
    // A clean close unregisters: no waiting for the expiry.
    const gone = await timeUntil(cluster.ns, 'NsOnlyB', (r) => r === undefined, 500);
    expect(await routeOf(cluster.ns, 'NsShared')).toEqual([{ brokerName: 'broker-a', addr: a.addr, queueCount: 2, role: 0 }]);
    console.log(`[namesrv] closed broker unrouted after ${gone} ms`);
    const p = new Producer({ namesrv: cluster.ns });
    cleanup.push(() => p.shutdown());
    expect(((await rejectionOf(p.send('NsOnlyB', { body: 'x' }))) as MetaqError).code).toBe('METAQ_NO_ROUTE');
    expect((await p.send('NsShared', { body: 'x' })).brokerName).toBe('broker-a');
  });

  it('a killed broker (SIGKILL) is unrouted within the expiry, not before', async () => {
    const cluster = await startCluster({ topics: { NsKeep: 1 } });
    const z = await childBroker(cluster.ns, 'broker-z', { NsKill: 2, NsKeep: 1 });
    await timeUntil(cluster.ns, 'NsKill', (r) => r?.[0]?.addr === z.addr, 2000);
    expect((await routeOf(cluster.ns, 'NsKeep'))!.map((r) => r.brokerName)).toEqual(['broker-a', 'broker-z']);
    // Let a registration or two land, then kill it: the name server last heard from it < REGISTER_MS ago.
    await sleep(REGISTER_MS * 2);
    const killedAt = Date.now();
    z.child.child.kill('SIGKILL');
    expect((await z.child.exited).signal).toBe('SIGKILL');
    // Still routed shortly after the kill (the name server cannot know yet) ...
    await sleep(300);
    expect(await routeOf(cluster.ns, 'NsKill')).toBeDefined();
    // ... and gone once the expiry passed (checked every EXPIRY_MS / 4).
    await timeUntil(cluster.ns, 'NsKill', (r) => r === undefined, EXPIRY_MS * 2);
    const elapsed = Date.now() - killedAt;
    console.log(`[namesrv] killed broker unrouted ${elapsed} ms after SIGKILL (expiry ${EXPIRY_MS} ms)`);
    expect(elapsed).toBeGreaterThanOrEqual(EXPIRY_MS - REGISTER_MS * 2 - 100);
    expect(elapsed).toBeLessThanOrEqual(EXPIRY_MS + EXPIRY_MS / 4 + 700);
    expect(await routeOf(cluster.ns, 'NsKeep')).toEqual([{ brokerName: 'broker-a', addr: cluster.brokers[0]!.addr, queueCount: 1, role: 0 }]);
  });

  it('a Producer sending to a topic on two brokers keeps sending when one is killed, on the survivor', async () => {
    const TOPIC = 'NsFail';
    const cluster = await startCluster({ topics: { [TOPIC]: 4 } });
    const a = cluster.brokers[0]!;
    const z = await childBroker(cluster.ns, 'broker-z', { [TOPIC]: 4 });
    await timeUntil(cluster.ns, TOPIC, (r) => r?.length === 2, 2000);
    const producer = new Producer({ namesrv: cluster.ns, requestTimeoutMs: 1000 });
    cleanup.push(() => producer.shutdown());
    expect((await producer.queues(TOPIC)).length).toBe(8);

    const N = 600;
    const IN_FLIGHT = 4;
    const results: { body: string; startedAt: number; result?: SendResult; error?: unknown }[] = [];
    let killedAt = Infinity;
    let next = 0;
    const sender = async (): Promise<void> => {
      while (next < N) {
        const i = next++;
        const entry: (typeof results)[number] = { body: `ns-${i}`, startedAt: Date.now() };
        results.push(entry);
        try {
          entry.result = await producer.send(TOPIC, { body: entry.body, keys: `ns-${i}` });
        } catch (err) {
          entry.error = err;
        }
        if (i === 150) {
          killedAt = Date.now();
          z.child.child.kill('SIGKILL');
        }
        await sleep(3);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
    expect((await z.child.exited).signal).toBe('SIGKILL');

    const failed = results.filter((r) => r.error !== undefined);
    const onA = results.filter((r) => r.result?.brokerName === 'broker-a');
    const onZ = results.filter((r) => r.result?.brokerName === 'broker-z');
    const afterKill = results.filter((r) => r.startedAt > killedAt + 5);
    console.log(
      `[namesrv] ${N} sends: ${onA.length} on broker-a, ${onZ.length} on broker-z, ${failed.length} failed; ` +
        `${afterKill.length} started after the kill, all on ${[...new Set(afterKill.map((r) => r.result?.brokerName))].join(', ')}`,
    );
    expect(failed.map((r) => `${r.body}: ${(r.error as Error).message}`)).toEqual([]);
    expect(onA.length + onZ.length).toBe(N);
    expect(onZ.length).toBeGreaterThan(20); // both brokers took sends before the kill
    expect(afterKill.length).toBeGreaterThan(300);
    for (const r of afterKill) expect(r.result!.brokerName, r.body).toBe('broker-a');

    // The survivor holds exactly the sends it acknowledged.
    const admin = new Admin({ namesrv: cluster.ns });
    cleanup.push(() => admin.close());
    let stored = 0;
    for (let q = 0; q < 4; q++) stored += (await admin.queueOffsets({ topic: TOPIC, brokerName: 'broker-a', addr: a.addr, queueId: q })).maxOffset;
    expect(stored).toBe(onA.length);
    // And the killed broker's store, reopened, holds every send it acknowledged before dying.
    const store = await MessageStore.open({ dir: z.dir, segmentSize: 16 * 1024 * 1024 });
    try {
      await waitDispatched(store);
      const bodies = new Set<string>();
      for (let q = 0; q < 4; q++) for (const m of readQueue(store, TOPIC, q, 0)) bodies.add(m.body.toString());
      for (const r of onZ) expect(bodies.has(r.body), r.body).toBe(true);
    } finally {
      await store.close();
    }
  });
});
