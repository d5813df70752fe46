// Transactions across broker restarts: an END after a restart commits the
// half message stored before it; the check service resumes where it was
// (check counts kept, ended transactions never ended again, nothing
// re-committed, nothing lost); and a half message whose committed message was
// written just before a crash, without its op record, is not committed twice.
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { commitKey, HALF_TOPIC } from '../../src/broker/transaction/index.js';
import type { LocalTransactionState } from '../../src/client/index.js';
import { useCluster, type TestCluster } from '../helpers/cluster.js';
import { sleep, waitUntil } from '../helpers/wait.js';
import { bodies, FAST_TX, QUEUES, readTopic, TOPIC, useTxClients } from './tx-helpers.js';

describe('transactions across broker restarts', () => {
  const startCluster = useCluster();
  const clients = useTxClients();

  /** Stops the broker cleanly and starts it again on its directory, name and port. */
  async function restart(c: TestCluster, b: Broker, config: Parameters<TestCluster['startBroker']>[0] = {}): Promise<Broker> {
    const port = b.port;
    const name = b.config.brokerName;
    const dir = await c.stopBroker(b);
    return c.startBroker({ ...config, dir, port, brokerName: name });
  }

  it('a half message stored before a restart is committed by the END sent after it', async () => {
    const slowChecks = { ...FAST_TX, transactionTimeoutMs: 30_000 };
    const c = await startCluster({ topics: { [TOPIC]: QUEUES }, broker: slowChecks });
    let broker = c.brokers[0]!;
    const admin = clients.admin(c.ns);
    let checks = 0;
    const p = clients.producer(c.ns, { checker: () => (checks++, 'rollback') });
    const r = await p.sendTransactional(TOPIC, { body: 'across-restart' }, async (): Promise<LocalTransactionState> => {
      broker = await restart(c, broker);
      return 'commit';
    });
    expect(r).toMatchObject({ outcome: 'COMMITTED', duplicate: false });
    expect(bodies(await readTopic(admin, broker, TOPIC))).toEqual(['across-restart']);
    // Once more: the commit is not repeated by a second open.
    broker = await restart(c, broker);
    expect(bodies(await readTopic(admin, broker, TOPIC))).toEqual(['across-restart']);
    expect(broker.transactionStats()).toMatchObject({ pending: 0 });
    expect(checks).toBe(0);
  });

  it('the check service resumes after a restart: counts kept, ended transactions stay ended, nothing re-committed or lost', async () => {
    const config = { ...FAST_TX, transactionCheckMax: 6 };
    const c = await startCluster({ topics: { [TOPIC]: QUEUES }, broker: config });
    let broker = c.brokers[0]!;
    const admin = clients.admin(c.ns);
    let answer: LocalTransactionState = 'unknown';
    const seen: number[] = [];
    const p = clients.producer(c.ns, { topics: [TOPIC], checker: (ch) => (seen.push(ch.checkTimes), answer) });
    // The pending one first: the two ended after it lie past the check service's progress, so only their op records say they ended.
    await p.sendTransactional(TOPIC, { body: 'committed-on-check' }, () => 'unknown');
    await p.sendTransactional(TOPIC, { body: 'committed-now' }, () => 'commit');
    await p.sendTransactional(TOPIC, { body: 'rolled-back-now' }, () => 'rollback');
    await waitUntil(() => seen.length >= 2, 'two checks', 5000);
    broker = await restart(c, broker, config);
    await p.register();
    expect(broker.transactionStats()).toMatchObject({ pending: 1 });
    const before = seen.length;
    answer = 'commit';
    await waitUntil(() => broker.transactionStats()!.committed === 1, 'the commit on check after the restart', 5000);
    // The count went on from where it was: the first check after the restart is not check 0.
    expect(seen[before]).toBe(before);
    expect(bodies(await readTopic(admin, broker, TOPIC))).toEqual(['committed-now', 'committed-on-check']);
    const checksSoFar = seen.length;
    broker = await restart(c, broker, config);
    await sleep(300 + 6 * 300 + 1000);
    expect(broker.transactionStats()).toMatchObject({ pending: 0, committed: 0, rolledBack: 0, discarded: 0, checks: 0 });
    expect(seen.length).toBe(checksSoFar);
    expect(bodies(await readTopic(admin, broker, TOPIC))).toEqual(['committed-now', 'committed-on-check']);
    expect((await readTopic(admin, broker, HALF_TOPIC)).length).toBe(3);
  });

  it('committed message written, op record lost (a crash between them): the check\'s answer does not commit it again', async () => {
    const c = await startCluster({ topics: { [TOPIC]: QUEUES }, broker: { ...FAST_TX, transactionTimeoutMs: 30_000 } });
    let broker = c.brokers[0]!;
    const admin = clients.admin(c.ns);
    const p = clients.producer(c.ns, { topics: [TOPIC], checker: () => 'commit' });
    const r = await p.sendTransactional(TOPIC, { body: 'crashed-mid-commit' }, () => 'unknown');
    const half = (await readTopic(admin, broker, HALF_TOPIC))[0]!;
    // What the commit wrote first, as the crash left it: the message with its commit key, no op record.
    await broker.store.put(TOPIC, r.queueId, [{ body: Buffer.from('crashed-mid-commit'), keys: [commitKey(half.physicalOffset)] }]);
    broker = await restart(c, broker, { ...FAST_TX });
    await p.register();
    await waitUntil(() => broker.transactionStats()!.committed === 1, 'the check to end it', 5000);
    await sleep(1500);
    expect(bodies(await readTopic(admin, broker, TOPIC))).toEqual(['crashed-mid-commit']);
  });
});
