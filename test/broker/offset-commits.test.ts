// Committed offsets against a real broker on a real port, through the real
// clients: commits outside a queue's [minOffset, maxOffset] are refused (a
// batch with one bad entry applies nothing), a commit carried by a pull is
// not applied when out of range, internal groups are closed to clients, and
// an admin reset (to an offset, clamped into range, or to a point in time)
// moves a stopped group and redirects a live one, which then re-delivers
// from that point.
import { describe, expect, it } from 'vitest';
import type { MessageQueue } from '../../src/client/index.js';
import { TIMER_TOPIC, type MetaqError } from '../../src/common/index.js';
import { encodeCommitOffsets, encodeHeartbeat, encodePullRequest, Opcode } from '../../src/protocol/index.js';
import { RequestClient } from '../../src/net/index.js';
import { useCluster } from '../helpers/cluster.js';
import { Collector, queueKey, useClients } from '../helpers/consume.js';
import { rejectionOf } from '../helpers/errors.js';
import { sleep } from '../helpers/wait.js';

const TOPIC = 'Offsets';
const QUEUES = 4;
const TIMEOUT_MS = 3000;

const cluster = useCluster();
const clients = useClients();

/** The error's stable code (and its message, for the assertion's report). */
function codeOf(err: unknown): string {
  return `${(err as MetaqError).code}: ${(err as Error).message}`;
}

async function waitFor(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

async function setup(perQueue: number): Promise<{ ns: string; addr: string; queues: MessageQueue[] }> {
  const c = await cluster({ topics: { [TOPIC]: QUEUES } });
  const admin = clients.admin(c.ns);
  const queues = await admin.waitForRoute(TOPIC);
  const producer = clients.producer(c.ns);
  for (const mq of queues) {
    await producer.sendToQueue(mq, Array.from({ length: perQueue }, (_, i) => ({ body: `q${mq.queueId}-${i}` })));
  }
  return { ns: c.ns, addr: c.brokers[0]!.addr, queues };
}

describe('offset commits are checked', () => {
  it('refuses commits above the queue end, on unknown queues, and a whole batch with one bad entry; a pull does not apply an out-of-range commit', async () => {
    const { ns, addr, queues } = await setup(10);
    const admin = clients.admin(ns);
    const [q0, q1] = [queues[0]!, queues[1]!];

    // 2^53-1 and one past the end are refused; the end itself ("everything consumed") is valid.
    expect(codeOf(await rejectionOf(admin.commitOffset('g-range', q0, Number.MAX_SAFE_INTEGER)))).toMatch(/^METAQ_OFFSET_OUT_OF_RANGE: .*Offsets:0 offset 9007199254740991 .*maxOffset 10/);
    expect(codeOf(await rejectionOf(admin.commitOffset('g-range', q0, 11)))).toMatch(/^METAQ_OFFSET_OUT_OF_RANGE: /);
    expect(await admin.committedOffset('g-range', q0)).toBeUndefined();
    await admin.commitOffset('g-range', q0, 10);
    expect(await admin.committedOffset('g-range', q0)).toBe(10);

    // A batch with one bad entry applies nothing, and the error names the entry.
    const raw = await RequestClient.connect(addr);
    try {
      const batch = encodeCommitOffsets({ group: 'g-batch', entries: [{ topic: TOPIC, queueId: 1, offset: 3 }, { topic: TOPIC, queueId: 0, offset: 99 }] });
      expect(codeOf(await rejectionOf(raw.call(Opcode.CommitOffsets, batch, TIMEOUT_MS)))).toMatch(/^METAQ_OFFSET_OUT_OF_RANGE: .*Offsets:0 offset 99 .*nothing in the request was applied/);
      expect(await admin.committedOffset('g-batch', q1)).toBeUndefined();
    } finally {
      raw.close();
    }

    // Unknown topics and queues are refused.
    expect(codeOf(await rejectionOf(admin.commitOffset('g-range', { ...q0, topic: 'NoSuchTopic' }, 0)))).toMatch(/^METAQ_UNKNOWN_TOPIC: /);
    expect(codeOf(await rejectionOf(admin.commitOffset('g-range', { ...q0, queueId: 7 }, 0)))).toMatch(/^METAQ_UNKNOWN_QUEUE: /);

    // A commit carried by a pull is checked too: out of range, it is not applied (the pull is answered).
    const pulled = await admin.pull(q1, 10, { group: 'g-pull', commitOffset: Number.MAX_SAFE_INTEGER });
    expect(pulled.status).toBe('NO_NEW_MESSAGE');
    expect(await admin.committedOffset('g-pull', q1)).toBeUndefined();
    await admin.pull(q1, 10, { group: 'g-pull', commitOffset: 10 });
    expect(await admin.committedOffset('g-pull', q1)).toBe(10);
  });

  it('refuses commits, pull commits and heartbeats naming an internal group', async () => {
    const { ns, addr, queues } = await setup(1);
    const admin = clients.admin(ns);
    // The retry service's own progress: a client commit there would stop re-deliveries.
    const schedule: MessageQueue = { topic: TIMER_TOPIC, brokerName: queues[0]!.brokerName, addr, queueId: 0 };
    expect(codeOf(await rejectionOf(admin.commitOffset('%SCHEDULE%', schedule, 0)))).toMatch(/^METAQ_INTERNAL_GROUP: /);
    expect(codeOf(await rejectionOf(admin.pull(schedule, 0, { group: '%SCHEDULE%', commitOffset: 0 })))).toMatch(/^METAQ_INTERNAL_GROUP: /);
    const raw = await RequestClient.connect(addr);
    try {
      const hb = encodeHeartbeat({ clientId: 'intruder', groups: [{ group: '%SCHEDULE%', mode: 0, ordered: false, subscriptions: [{ topic: TOPIC, tags: [] }] }] });
      expect(codeOf(await rejectionOf(raw.call(Opcode.Heartbeat, hb, TIMEOUT_MS)))).toMatch(/^METAQ_INTERNAL_GROUP: /);
      const pull = encodePullRequest({ group: '%SCHEDULE%', topic: TIMER_TOPIC, queueId: 0, offset: 0, maxCount: 1, maxBytes: 1024, pollTimeoutMs: 0, commitOffset: 0, tags: [] });
      expect(codeOf(await rejectionOf(raw.call(Opcode.Pull, pull, TIMEOUT_MS)))).toMatch(/^METAQ_INTERNAL_GROUP: /);
    } finally {
      raw.close();
    }
    // Reading an internal group's offsets stays allowed (tools), and resetting it is refused.
    await admin.committedOffset('%SCHEDULE%', schedule);
    expect(codeOf(await rejectionOf(admin.resetOffsets('%SCHEDULE%', TIMER_TOPIC, { offset: 0 }, { brokerAddrs: [addr] })))).toMatch(/^METAQ_INTERNAL_GROUP: /);
  });
});

describe('an admin reset of a group offsets', () => {
  it('of a stopped group, to an offset clamped into range, is where its next consumer starts', async () => {
    const { ns, queues } = await setup(10);
    const admin = clients.admin(ns);
    const group = 'g-stopped';
    for (const mq of queues) await admin.commitOffset(group, mq, 10);

    // Far past the end: clamped to maxOffset, and the answer says so.
    const past = await admin.resetOffsets(group, TOPIC, { offset: 1000 });
    expect(past.map((r) => [r.queueId, r.offset, r.previousOffset, r.clamped])).toEqual(queues.map((q) => [q.queueId, 10, 10, 'max']));
    // One queue back to offset 4.
    const back = await admin.resetOffsets(group, TOPIC, { offset: 4 }, { queueId: 2 });
    expect(back).toEqual([{ brokerName: queues[0]!.brokerName, addr: queues[0]!.addr, queueId: 2, offset: 4, previousOffset: 10, clamped: undefined, membersRedirected: false }]);
    expect(await admin.committedOffset(group, queues[2]!)).toBe(4);

    const got = new Collector();
    const consumer = clients.consumer({ namesrv: ns, group });
    consumer.subscribe(TOPIC);
    await consumer.start(got.handler());
    const expected = [4, 5, 6, 7, 8, 9].map((i) => `q2-${i}`);
    await got.waitForAll(expected);
    await sleep(500);
    expect(got.deliveries.map((d) => d.body).sort()).toEqual(expected.sort());
  });

  it('to a timestamp re-delivers, to a live consumer, every message stored from that point and none before', async () => {
    const c = await cluster({ topics: { [TOPIC]: QUEUES } });
    const admin = clients.admin(c.ns);
    await admin.waitForRoute(TOPIC);
    const producer = clients.producer(c.ns);
    const before = Array.from({ length: 40 }, (_, i) => `before-${i}`);
    const after = Array.from({ length: 40 }, (_, i) => `after-${i}`);
    for (const body of before) await producer.send(TOPIC, { body });
    await sleep(30);
    const from = Date.now();
    await sleep(30);
    for (const body of after) await producer.send(TOPIC, { body });

    const group = 'g-live';
    const got = new Collector();
    const consumer = clients.consumer({ namesrv: c.ns, group });
    consumer.subscribe(TOPIC);
    await consumer.start(got.handler());
    await got.waitForAll([...before, ...after]);
    const queues = await admin.queues(TOPIC);
    await waitFor(async () => {
      for (const mq of queues) if ((await admin.committedOffset(group, mq)) !== (await admin.queueOffsets(mq)).maxOffset) return false;
      return true;
    }, 'the group to commit everything');
    expect(got.deliveries).toHaveLength(80);

    // The consumer stays up, its pulls held at the end of each queue.
    const reset = await admin.resetOffsets(group, TOPIC, { timestamp: from });
    const firstAfter = new Map<string, number>();
    for (const d of got.deliveries) {
      if (d.body.startsWith('after-')) firstAfter.set(queueKey(d), Math.min(firstAfter.get(queueKey(d)) ?? Infinity, d.queueOffset));
    }
    expect(reset).toHaveLength(QUEUES);
    for (const r of reset) {
      expect(r.offset, `queue ${r.queueId}`).toBe(firstAfter.get(queueKey(r)) ?? (await admin.queueOffsets(queues[r.queueId]!)).maxOffset);
      expect(r.membersRedirected).toBe(true);
    }

    // Every message stored from `from` on comes again; nothing from before.
    await waitFor(() => after.every((b) => got.counts.get(b) === 2), 'every message after the reset point to be delivered twice');
    await sleep(500);
    for (const b of before) expect(got.counts.get(b), b).toBe(1);
    for (const b of after) expect(got.counts.get(b), b).toBe(2);
    // And the group's progress catches up again (no live member overwrote the reset with its old offsets).
    await waitFor(async () => {
      for (const mq of queues) if ((await admin.committedOffset(group, mq)) !== (await admin.queueOffsets(mq)).maxOffset) return false;
      return true;
    }, 'the group to commit everything again');
  });
});
