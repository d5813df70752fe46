// The first steps of a run: boot the system under test (or take the running
// servers of a remote run, and the modes they really run), then wait until
// the topic is routable and, with replication, the slave is connected.
import { Admin } from '../../client/index.js';
import { sleep } from '../../load/index.js';
import { readBrokerModes } from './broker-stats.js';
import type { RunContext } from './run-context.js';
import { startTopology } from './topology.js';
import { brokerGroups } from '../scenario/index.js';

/** Time for the topic's route to appear and the slave to connect before load starts. */
const SETTLE_TIMEOUT_MS = 30_000;
const SLAVE_POLL_MS = 50;
/** The harness follows the route closely: groups appear at boot, masters leave and come back under faults. */
const ADMIN_ROUTE_REFRESH_MS = 500;

export async function bootTopology(run: RunContext): Promise<void> {
  const s = run.scenario;
  const o = run.options;
  run.topology = await startTopology({
    isolation: run.isolation,
    flush: s.topology.flush,
    replication: s.topology.replication,
    segmentSize: s.topology.segmentSize,
    brokerGroups: brokerGroups(s),
    topic: run.topic,
    queues: s.queues,
    dataRoot: o.dataRoot,
    keepData: o.keepData,
    ...(o.remote !== undefined ? { remote: o.remote } : {}),
  });
  const credential = run.topology.credentials?.admin;
  run.admin = new Admin({ namesrv: run.topology.namesrv, routeRefreshMs: ADMIN_ROUTE_REFRESH_MS, ...(credential !== undefined ? { credential } : {}) });
}

export async function waitForRoute(run: RunContext): Promise<void> {
  const admin = run.admin!;
  const remote = run.options.remote;
  if (remote !== undefined) {
    // The running broker decides flush and replication: report what it does, not what was asked.
    const m = await readBrokerModes(admin, remote.brokers[0]!);
    const actual = { flush: m.flush, replication: m.slaveConnected ? m.replicationMode : ('none' as const) };
    const s = run.scenario;
    if (actual.flush !== s.topology.flush || actual.replication !== s.topology.replication) {
      run.progress.note(`the broker at ${remote.brokers[0]} runs flush ${actual.flush}, replication ${actual.replication}: the run reports those`);
    }
    run.scenario = { ...s, topology: { ...s.topology, ...actual } };
    await admin.createTopic(run.topic, s.queues, remote.brokers);
  }
  await waitForEveryGroup(run);
  if (run.isolation !== 'remote' && run.scenario.topology.replication !== 'none') {
    for (const master of run.topology!.brokerAddrs) await waitForSlave(admin, master);
  }
}

/** The route names the topic's queues on every broker group started (one group's route is not enough to spread load). */
async function waitForEveryGroup(run: RunContext): Promise<void> {
  const admin = run.admin!;
  const want = run.topology!.groups.map((g) => g.name);
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const queues = await admin.waitForRoute(run.topic, Math.max(1, deadline - Date.now()));
    const names = new Set(queues.filter((q) => q.writable !== false).map((q) => q.brokerName));
    if (want.every((n) => names.has(n))) return;
    if (Date.now() > deadline) throw new Error(`the route of ${run.topic} did not name every broker group within ${SETTLE_TIMEOUT_MS} ms (has ${[...names].join(', ')}; want ${want.join(', ')})`);
    await sleep(SLAVE_POLL_MS);
  }
}

async function waitForSlave(admin: Admin, master: string): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    if ((await readBrokerModes(admin, master)).slaveConnected) return;
    if (Date.now() > deadline) throw new Error(`the slave did not connect to the master ${master} within ${SETTLE_TIMEOUT_MS} ms`);
    await sleep(SLAVE_POLL_MS);
  }
}
