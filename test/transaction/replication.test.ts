// Transactions under sync replication: the committed message (and its op
// record) is on the slave before the END is acknowledged SEND_OK, as a SEND
// waits; with the slave gone, the END says the slave did not confirm.
import { describe, expect, it } from 'vitest';
import { useCluster } from '../helpers/cluster.js';
import { waitUntil } from '../helpers/wait.js';
import { bodies, FAST_TX, QUEUES, readTopic, TOPIC, useTxClients } from './tx-helpers.js';

describe('transactions under sync replication', () => {
  const startCluster = useCluster();
  const clients = useTxClients();

  it('a committed message is on the slave before the commit is acknowledged', async () => {
    const c = await startCluster({ topics: { [TOPIC]: QUEUES }, broker: { ...FAST_TX, replicationMode: 'sync', slaveTimeoutMs: 1000 } });
    const master = c.brokers[0]!;
    const slave = await c.startBroker({ brokerName: master.config.brokerName, role: 'slave', masterHaAddr: master.haAddr!, replicationMode: 'async' });
    await waitUntil(() => master.stats().ha !== undefined && 'slaveConnected' in master.stats().ha! && (master.stats().ha as { slaveConnected: boolean }).slaveConnected, 'the slave to connect', 10_000);
    const admin = clients.admin(c.ns);
    const p = clients.producer(c.ns);
    for (let i = 0; i < 5; i++) {
      let slaveHadItAtEnd = false;
      const r = await p.sendTransactional(TOPIC, { body: `sync-${i}` }, () => 'commit');
      // Read in the same turn as the answer: nothing could have arrived since.
      slaveHadItAtEnd = slave.store.writtenOffset >= master.store.writtenOffset;
      expect(r).toMatchObject({ outcome: 'COMMITTED', status: 'SEND_OK' });
      expect(slaveHadItAtEnd).toBe(true);
    }
    expect(bodies(await readTopic(admin, master, TOPIC))).toEqual(['sync-0', 'sync-1', 'sync-2', 'sync-3', 'sync-4']);
    // Without a slave the END cannot be confirmed: it says so (the message is committed on the master).
    await c.stopBroker(slave);
    const r = await p.sendTransactional(TOPIC, { body: 'no-slave' }, () => 'commit');
    expect(r.outcome).toBe('COMMITTED');
    expect(['SLAVE_NOT_AVAILABLE', 'SLAVE_TIMEOUT']).toContain(r.status);
  });
});
