// Transactional messages against real brokers: a half message is invisible
// until committed; commit and rollback now; commit and rollback answered to
// a check; a transaction never answered is checked transactionCheckMax times
// and discarded; a producer that dies before its END leaves the check to
// another producer of the group; a duplicate END (sent twice, or racing a
// check's answer) writes one message; the broker's own topics take no SEND.
import { describe, expect, it } from 'vitest';
import { Producer, type TransactionCheck } from '../../src/client/index.js';
import { InvalidRequestError, NoRouteError } from '../../src/common/index.js';
import { RequestClient } from '../../src/net/index.js';
import { encodeEndTransaction, decodeEndTransactionResponse, Opcode, Status, TransactionAction, TransactionOutcome } from '../../src/protocol/index.js';
import { DISCARD_TOPIC, HALF_TOPIC, OP_TOPIC } from '../../src/broker/transaction/index.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTs } from '../helpers/child.js';
import { useCluster } from '../helpers/cluster.js';
import { rejectionOf } from '../helpers/errors.js';
import { sleep, waitUntil } from '../helpers/wait.js';
import { bodies, FAST_TX, GROUP, QUEUES, readTopic, TOPIC, useTxClients } from './tx-helpers.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'producer-child.ts');

/** Longer than the first check plus every check of FAST_TX and the discard: nothing can still happen after it. */
const ALL_CHECKS_OVER_MS = 300 + 3 * 300 + 1500;

describe('transactional messages', () => {
  const startCluster = useCluster();
  const clients = useTxClients();

  async function cluster() {
    const c = await startCluster({ topics: { [TOPIC]: QUEUES }, broker: FAST_TX });
    const broker = c.brokers[0]!;
    return { c, broker, admin: clients.admin(c.ns) };
  }

  it('commit now: the message appears once committed, never before; the half topic is not routed', async () => {
    const { c, broker, admin } = await cluster();
    const p = clients.producer(c.ns);
    let seenDuringLocal: string[] | undefined;
    const r = await p.sendTransactional(TOPIC, { body: 'order-1', keys: 'k1', properties: { shop: 's1' } }, async (info): Promise<'commit'> => {
      expect(info.transactionId).toMatch(/^broker-a:\d+$/);
      seenDuringLocal = bodies(await readTopic(admin, broker, TOPIC));
      return 'commit';
    });
    expect(seenDuringLocal).toEqual([]);
    expect(r).toMatchObject({ localState: 'commit', outcome: 'COMMITTED', status: 'SEND_OK', duplicate: false });
    const got = await readTopic(admin, broker, TOPIC);
    expect(bodies(got)).toEqual(['order-1']);
    expect(got[0]!.properties.shop).toBe('s1');
    expect(got[0]!.keys).toContain('k1');
    expect(got[0]!.queueOffset).toBe(r.queueOffset);
    await sleep(ALL_CHECKS_OVER_MS);
    expect(bodies(await readTopic(admin, broker, TOPIC))).toEqual(['order-1']);
    expect(broker.transactionStats()).toMatchObject({ pending: 0, committed: 1, checks: 0 });
  });

  it('rollback now: the message never appears, and is never checked', async () => {
    const { c, broker, admin } = await cluster();
    const checks: TransactionCheck[] = [];
    const p = clients.producer(c.ns, { checker: (ch) => (checks.push(ch), 'commit') });
    const r = await p.sendTransactional(TOPIC, { body: 'order-2' }, () => 'rollback');
    expect(r).toMatchObject({ outcome: 'ROLLED_BACK' });
    await sleep(ALL_CHECKS_OVER_MS);
    expect(await readTopic(admin, broker, TOPIC)).toEqual([]);
    expect(checks).toEqual([]);
    expect(broker.transactionStats()).toMatchObject({ pending: 0, rolledBack: 1 });
  });

  it('a local transaction that throws counts as unknown: commit on check', async () => {
    const { c, broker, admin } = await cluster();
    const checks: TransactionCheck[] = [];
    const p = clients.producer(c.ns, { checker: (ch) => (checks.push(ch), 'commit') });
    const r = await p.sendTransactional(TOPIC, { body: 'order-3', tags: 'paid' }, () => {
      throw new Error('database is slow');
    });
    expect(r).toMatchObject({ localState: 'unknown', outcome: 'UNKNOWN' });
    expect(r.localError).toBeInstanceOf(Error);
    await waitUntil(() => checks.length > 0, 'a check', 5000);
    await waitUntil(() => broker.transactionStats()!.committed === 1, 'the commit', 5000);
    expect(checks[0]!.transactionId).toBe(r.transactionId);
    expect(checks[0]!.message.body.toString()).toBe('order-3');
    expect(checks[0]!.message.tags).toBe('paid');
    await sleep(ALL_CHECKS_OVER_MS);
    const got = await readTopic(admin, broker, TOPIC);
    expect(bodies(got)).toEqual(['order-3']);
    expect(got[0]!.tags).toBe('paid');
    expect(checks.length).toBe(1);
  });

  it('rollback on check', async () => {
    const { c, broker, admin } = await cluster();
    let checks = 0;
    const p = clients.producer(c.ns, { checker: () => (checks++, 'rollback') });
    const r = await p.sendTransactional(TOPIC, { body: 'order-4' }, () => 'unknown');
    expect(r.outcome).toBe('UNKNOWN');
    await waitUntil(() => broker.transactionStats()!.rolledBack === 1, 'the rollback', 5000);
    await sleep(ALL_CHECKS_OVER_MS);
    expect(await readTopic(admin, broker, TOPIC)).toEqual([]);
    expect(checks).toBe(1);
  });

  it('unknown until discarded: transactionCheckMax checks, then the half message goes to the discard topic and is counted', async () => {
    const { c, broker, admin } = await cluster();
    const checks: number[] = [];
    const p = clients.producer(c.ns, { checker: (ch) => (checks.push(ch.checkTimes), 'unknown') });
    await p.sendTransactional(TOPIC, { body: 'order-5' }, () => 'unknown');
    await waitUntil(() => broker.transactionStats()!.discarded === 1, 'the discard', 10_000);
    expect(checks).toEqual([0, 1, 2]);
    expect(bodies(await readTopic(admin, broker, DISCARD_TOPIC))).toEqual(['order-5']);
    await sleep(ALL_CHECKS_OVER_MS);
    expect(await readTopic(admin, broker, TOPIC)).toEqual([]);
    expect(checks.length).toBe(3);
    // Every check and the discard are op records in the CommitLog.
    expect((await readTopic(admin, broker, OP_TOPIC)).map((m) => m.tags)).toEqual(['k', 'k', 'k', 'd']);
  });

  it('a producer that dies before its END: another producer of the group answers the check', async () => {
    const { c, broker, admin } = await cluster();
    const other = clients.producer(c.ns, { topics: [TOPIC], checker: () => 'commit' });
    await other.register();
    const dying = clients.producer(c.ns, { checker: () => 'rollback' });
    const r = await dying.sendTransactional(TOPIC, { body: 'order-6' }, () => {
      dying.kill();
      return 'commit';
    });
    expect(r.outcome).toBe('UNKNOWN');
    expect(r.endError).toBeDefined();
    await waitUntil(() => broker.transactionStats()!.committed === 1, 'the commit through the other producer', 5000);
    await sleep(ALL_CHECKS_OVER_MS);
    expect(bodies(await readTopic(admin, broker, TOPIC))).toEqual(['order-6']);
  });

  it('a producer process killed (SIGKILL) between its half message and its END: another producer of the group commits on check', async () => {
    const { c, broker, admin } = await cluster();
    const other = clients.producer(c.ns, { topics: [TOPIC], checker: (ch) => (ch.message.body.toString() === 'order-10' ? 'commit' : 'rollback') });
    await other.register();
    const child = spawnTs(CHILD, [c.ns, TOPIC, GROUP, 'order-10']);
    try {
      await waitUntil(() => child.lines.some((l) => l.startsWith('half ')), 'the child to store its half message', 20_000);
      child.child.kill('SIGKILL');
      expect((await child.exited).signal).toBe('SIGKILL');
    } finally {
      if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill('SIGKILL');
    }
    await waitUntil(() => broker.transactionStats()!.committed === 1, 'the commit through the other producer', 5000);
    await sleep(ALL_CHECKS_OVER_MS);
    expect(bodies(await readTopic(admin, broker, TOPIC))).toEqual(['order-10']);
  });

  it('a duplicate END (twice in a row, and two at once) writes one message and answers the same outcome', async () => {
    const { c, broker, admin } = await cluster();
    const p = clients.producer(c.ns);
    await p.sendTransactional(TOPIC, { body: 'order-7' }, () => 'unknown');
    const half = (await readTopic(admin, broker, HALF_TOPIC))[0]!;
    const raw = await RequestClient.connect(broker.addr);
    try {
      const end = async () => {
        const f = await raw.call(Opcode.EndTransaction, encodeEndTransaction({ group: GROUP, halfPhysicalOffset: half.physicalOffset, halfQueueOffset: half.queueOffset, action: TransactionAction.Commit, fromCheck: false }), 5000);
        expect(f.status).toBe(Status.Ok);
        return decodeEndTransactionResponse(f.body);
      };
      const [a, b] = await Promise.all([end(), end()]);
      const third = await end();
      expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
      expect(third).toMatchObject({ outcome: TransactionOutcome.Committed, duplicate: true, queueOffset: a.queueOffset, physicalOffset: a.physicalOffset });
      expect(b).toMatchObject({ outcome: TransactionOutcome.Committed, queueOffset: a.queueOffset });
      // A rollback after the commit changes nothing: it answers how the transaction ended.
      const f = await raw.call(Opcode.EndTransaction, encodeEndTransaction({ group: GROUP, halfPhysicalOffset: half.physicalOffset, halfQueueOffset: half.queueOffset, action: TransactionAction.Rollback, fromCheck: false }), 5000);
      expect(decodeEndTransactionResponse(f.body)).toMatchObject({ outcome: TransactionOutcome.Committed, duplicate: true });
      // An END naming something that is not a half message of the group is refused, and the broker serves on.
      const bad = await raw.call(Opcode.EndTransaction, encodeEndTransaction({ group: 'other-group', halfPhysicalOffset: half.physicalOffset, halfQueueOffset: half.queueOffset, action: TransactionAction.Commit, fromCheck: false }), 5000).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(InvalidRequestError);
      const wrong = await raw.call(Opcode.EndTransaction, encodeEndTransaction({ group: GROUP, halfPhysicalOffset: half.physicalOffset + 1, halfQueueOffset: half.queueOffset, action: TransactionAction.Commit, fromCheck: false }), 5000).catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(InvalidRequestError);
    } finally {
      raw.close();
    }
    await sleep(ALL_CHECKS_OVER_MS);
    expect(bodies(await readTopic(admin, broker, TOPIC))).toEqual(['order-7']);
    expect(broker.transactionStats()).toMatchObject({ committed: 1, pending: 0 });
  });

  it('a check answered while the late END is on its way: one message', async () => {
    const { c, broker, admin } = await cluster();
    const p = clients.producer(c.ns, { checker: () => 'commit' });
    const r = await p.sendTransactional(TOPIC, { body: 'order-8' }, async (): Promise<'commit'> => {
      // Slower than the first check: the checker commits first, then this END arrives.
      await waitUntil(() => broker.transactionStats()!.committed === 1, 'the check to commit', 5000);
      return 'commit';
    });
    expect(r).toMatchObject({ outcome: 'COMMITTED', duplicate: true });
    await sleep(ALL_CHECKS_OVER_MS);
    expect(bodies(await readTopic(admin, broker, TOPIC))).toEqual(['order-8']);
  });

  it('a check answered rollback, then the late END says commit: it stays rolled back, and the END says so', async () => {
    const { c, broker, admin } = await cluster();
    const p = clients.producer(c.ns, { checker: () => 'rollback' });
    const r = await p.sendTransactional(TOPIC, { body: 'order-9' }, async (): Promise<'commit'> => {
      await waitUntil(() => broker.transactionStats()!.rolledBack === 1, 'the check to roll back', 5000);
      return 'commit';
    });
    expect(r).toMatchObject({ localState: 'commit', outcome: 'ROLLED_BACK', duplicate: true });
    await sleep(ALL_CHECKS_OVER_MS);
    expect(await readTopic(admin, broker, TOPIC)).toEqual([]);
  });

  it('no SEND to the broker\'s transaction topics (a forged half message)', async () => {
    const { c } = await cluster();
    const plain = new Producer({ namesrv: c.ns });
    try {
      // Not routed: the name servers never hear of them.
      expect(await rejectionOf(plain.queues(HALF_TOPIC))).toBeInstanceOf(NoRouteError);
      const mq = (await plain.queues(TOPIC))[0]!;
      for (const topic of [HALF_TOPIC, OP_TOPIC]) {
        expect(await rejectionOf(plain.sendToQueue({ ...mq, topic, queueId: 0 }, [{ body: 'forged' }]))).toBeInstanceOf(InvalidRequestError);
      }
    } finally {
      plain.shutdown();
    }
  });
});
