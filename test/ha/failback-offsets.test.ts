// Consumer offsets across a master's failure and return. The master (a child
// process) is killed; a consumer group then reads everything from the slave
// and commits there. The master is restarted on its directory and ports: it
// must end up holding the group's progress (here through the slave's offsets
// handed back when the restarted master takes its slave back), or an
// operator's drain check (committed against max offset, asked of the master)
// never completes and a rebalance re-delivers what was consumed on the slave.
// Commits made on the slave after that hand-back reach the master through the
// consumer itself (it commits afresh when its reads move back): the
// smoke-failover scenario in CI exercises that timing (its drain waited for
// ever without it).
import { describe, expect, it } from 'vitest';
import type { MessageQueue } from '../../src/client/index.js';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { haBrokerConfig, masterHa, useBrokerProcesses, useLocalBrokers, waitForAsync } from './ha-helpers.js';

const TOPIC = 'HaFailbackOffsets';
const QUEUES = 2;
const BROKER = 'ha-failback';
const GROUP = 'failback';
const MESSAGES = 200;

describe('consumer offsets when a master fails and comes back', () => {
  const tempDir = useTempDirs('ha-failback');
  const cluster = useCluster();
  const startProcess = useBrokerProcesses();
  const startLocal = useLocalBrokers();
  const clients = useClients();

  it('what the group committed on the slave while the master was down reaches the master once reads are back on it', async () => {
    const c = await cluster({ brokers: 0 });
    const admin = clients.admin(c.ns);
    const masterDir = tempDir();
    const base = { ns: c.ns, brokerName: BROKER, topics: { [TOPIC]: QUEUES }, replicationMode: 'sync' as const, flushMode: 'sync' as const };
    let master = await startProcess(haBrokerConfig({ ...base, dir: masterDir, role: 'master' }));
    const ports = { port: Number(master.addr.split(':')[1]), haPort: Number(master.haAddr!.split(':')[1]) };
    await startLocal(haBrokerConfig({ ...base, dir: tempDir(), role: 'slave', masterHaAddr: master.haAddr! }));
    await waitForAsync(async () => masterHa(await admin.stats(master.addr)).slaveConnected, 'the slave to connect', 10_000, 50);
    const producer = clients.producer(c.ns);
    for (let i = 0; i < MESSAGES; i++) expect((await producer.send(TOPIC, { body: `m${i}` })).status).toBe('SEND_OK');
    const queues: MessageQueue[] = await admin.queues(TOPIC);

    // The master dies before the group reads anything: every read and commit goes to the slave.
    await master.kill('SIGKILL');
    const got = new Set<string>();
    const consumer = clients.consumer({ namesrv: c.ns, group: GROUP });
    consumer.subscribe(TOPIC);
    await consumer.start((msgs) => {
      for (const m of msgs) got.add(m.body.toString());
    });
    await waitForAsync(() => got.size === MESSAGES, `all ${MESSAGES} messages consumed from the slave`, 20_000, 20);
    const slaveAddr = queues[0]!.slaveAddr!;
    await waitForAsync(
      async () => (await Promise.all(queues.map(async (q) => ((await admin.committedOffset(GROUP, { ...q, addr: slaveAddr })) ?? 0) >= (await admin.queueOffsets({ ...q, addr: slaveAddr })).maxOffset))).every(Boolean),
      'the group to commit everything on the slave',
      10_000,
      50,
    );

    master = await startProcess({ ...haBrokerConfig({ ...base, dir: masterDir, role: 'master' }), ...ports });
    // Reads go back to the master within the consumer's retry delay (5 s) and a poll; then its commits land there.
    const onMaster = async (): Promise<number[]> => Promise.all(queues.map(async (q) => (await admin.committedOffset(GROUP, { ...q, addr: master.addr })) ?? -1));
    const max = await Promise.all(queues.map(async (q) => (await admin.queueOffsets({ ...q, addr: master.addr })).maxOffset));
    await waitForAsync(async () => (await onMaster()).every((o, i) => o >= max[i]!), `the master to hold the group's offsets ${JSON.stringify(max)}`, 20_000, 100).catch(async (err: unknown) => {
      throw new Error(`${(err as Error).message}; it holds ${JSON.stringify(await onMaster())}`);
    });
    expect(got.size).toBe(MESSAGES);
  }, 90_000);
});
