// Monitoring against real brokers, a real name server and real clients on
// 127.0.0.1: a consumer that stalls makes its group's lag grow in messages
// and in time (the broker's figures, over BROKER_STATS), an alert rule fires
// and is logged, `metaq stats --check` (the built command) exits 1 naming it,
// and after the consumer catches up the rule resolves and --check exits 0;
// GET /metrics on the broker and the name server answers Prometheus text
// holding the same figures; `metaq stats --namesrv` lists every broker.
import http from 'node:http';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Broker, type BrokerConfig } from '../../src/broker/index.js';
import { NameServer } from '../../src/namesrv/index.js';
import { Admin, Consumer, Producer } from '../../src/client/index.js';
import { FAST_BROKER } from '../helpers/cluster.js';
import { FAST_CLIENT } from '../helpers/consume.js';
import { metaq, MAIN } from '../helpers/metaq-cli.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { sleep } from '../helpers/wait.js';
import fs from 'node:fs';

const TOPIC = 'Orders';
const QUEUES = 2;
const GROUP = 'billing';
const FIRST = 6;
const STALLED = 20;

const ALERTS: BrokerConfig['alerts'] = [
  { name: 'billing-backlog', kind: 'groupLagMessages', group: GROUP, above: 10 },
  { name: 'billing-late', kind: 'groupLagSeconds', group: GROUP, above: 1 },
  { name: 'disk-never', kind: 'diskUsedRatio', above: 0.9999 },
];

const closers: (() => Promise<unknown>)[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  for (const d of dirs.splice(0)) removeDir(d);
});

beforeAll(() => {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
});

async function waitFor(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

function get(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    }).on('error', reject);
  });
}

/** Prometheus text: sample name and labels -> value. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m === null) throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

async function setup(): Promise<{ ns: NameServer; a: Broker; b: Broker; logs: string[] }> {
  const ns = await NameServer.start({ port: 0, brokerExpiryMs: 5000, metricsPort: 0 });
  closers.push(() => ns.close());
  const logs: string[] = [];
  const start = async (name: string, extra: Partial<BrokerConfig>): Promise<Broker> => {
    const dir = makeTempDir('monitor');
    dirs.push(dir);
    const b = await Broker.start(
      { ...FAST_BROKER, brokerName: name, port: 0, haPort: 0, namesrvAddrs: [ns.addr], topics: { [TOPIC]: QUEUES }, monitorIntervalMs: 200, ...extra, store: { dir, segmentSize: 16 * 1024 * 1024 } },
      { warn: (line) => logs.push(line) },
    );
    closers.push(() => b.close());
    return b;
  };
  const a = await start('broker-a', { alerts: ALERTS, metricsPort: 0 });
  // broker-b serves another topic only: the name server routes Orders to broker-a alone.
  const b = await start('broker-b', { topics: { Other: 1 } });
  return { ns, a, b, logs };
}

describe('metaq stats, alerts and /metrics', () => {
  it('shows a stalled group\'s lag growing in messages and seconds; a rule fires, --check fails, then both resolve', async () => {
    const { ns, a, logs } = await setup();
    const admin = new Admin({ namesrv: ns.addr });
    closers.push(async () => admin.close());
    await admin.waitForRoute(TOPIC);
    const producer = new Producer({ namesrv: ns.addr });
    closers.push(async () => producer.shutdown());
    let stalled = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let consumed = 0;
    const consumer = new Consumer({ ...FAST_CLIENT, namesrv: ns.addr, group: GROUP, concurrency: 1, batchSize: 1 });
    closers.push(() => consumer.shutdown());
    // A failed assertion must not leave the handler stalled (the consumer's shutdown waits for it).
    closers.push(async () => release());
    consumer.subscribe(TOPIC);
    await consumer.start(async (msgs) => {
      if (stalled) await gate;
      consumed += msgs.length;
    });

    // Phase 1: the group consumes and commits; no lag.
    for (let i = 0; i < FIRST; i++) await producer.send(TOPIC, { body: `m${i}` });
    const lagOf = async (): Promise<{ messages: number; ms: number } | undefined> => {
      await a.refreshMonitor();
      const t = (await admin.stats(a.addr)).monitor!.groupTotals.find((g) => g.group === GROUP);
      return t === undefined ? undefined : { messages: t.lagMessages, ms: t.lagMs };
    };
    await waitFor(async () => consumed >= FIRST && (await lagOf())?.messages === 0 && (await admin.stats(a.addr)).monitor!.groupLags.filter((l) => l.group === GROUP).length === QUEUES, 'the first messages consumed and committed on both queues');
    expect(await lagOf()).toEqual({ messages: 0, ms: 0 });
    let check = await metaq(['stats', '--namesrv', ns.addr, '--check']);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain('OK: 3 alert rule(s) on 2 broker(s), none firing');

    // Phase 2: the consumer stalls; the backlog grows and ages.
    stalled = true;
    for (let i = 0; i < STALLED; i++) await producer.send(TOPIC, { body: `s${i}` });
    const sentAt = Date.now();
    await sleep(1500);
    const lag = await lagOf();
    // The stalled message is not committed: every message sent since is lag.
    expect(lag!.messages).toBe(STALLED);
    expect(lag!.ms).toBeGreaterThanOrEqual(1400);
    expect(lag!.ms).toBeLessThanOrEqual(Date.now() - sentAt + 1000);
    const stats = await admin.stats(a.addr);
    const m = stats.monitor!;
    expect(m.queues.filter((q) => q.topic === TOPIC).reduce((n, q) => n + q.maxOffset, 0)).toBe(FIRST + STALLED);
    expect(m.groupLags.filter((l) => l.group === GROUP).reduce((n, l) => n + l.lagMessages, 0)).toBe(STALLED);
    expect(m.msgsIn).toBeGreaterThanOrEqual(FIRST + STALLED);
    expect(m.msgsOut).toBeGreaterThanOrEqual(FIRST);
    expect(m.commitLogBytes).toBeGreaterThan(0);
    expect(m.diskTotalBytes).toBeGreaterThan(m.diskFreeBytes);
    expect(stats.groups.find((g) => g.group === GROUP)!.members).toHaveLength(1);
    const firing = m.alerts.filter((x) => x.firing).map((x) => x.name).sort();
    expect(firing).toEqual(['billing-backlog', 'billing-late']);
    expect(logs.filter((l) => /alert billing-late FIRING on broker broker-a: groupLagSeconds of group billing is [\d.]+, above 1/.test(l))).toHaveLength(1);
    expect(logs.filter((l) => /alert billing-backlog FIRING/.test(l))).toHaveLength(1);

    check = await metaq(['stats', '--namesrv', ns.addr, '--check']);
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/FIRING billing-backlog on broker-a \(127\.0\.0\.1:\d+\): groupLagMessages of group billing is 20, above 10/);
    expect(check.stderr).toMatch(/FIRING billing-late on broker-a/);

    // The table shows the lag in messages and seconds, with the consumer owning each queue.
    const table = await metaq(['stats', '--broker', a.addr]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`${GROUP}\\s+clustering\\s+1\\s+${STALLED}\\s+\\d+\\.\\d`));
    expect(table.stdout).toMatch(/billing-late\s+groupLagSeconds\s+billing\s+1\s+0\s+[\d.]+\s+FIRING/);

    // Phase 3: the consumer catches up; the rules resolve.
    release();
    await waitFor(async () => (await lagOf())?.messages === 0, 'the backlog consumed and committed');
    await a.refreshMonitor();
    expect((await admin.stats(a.addr)).monitor!.alerts.filter((x) => x.firing)).toEqual([]);
    expect(logs.filter((l) => /alert billing-late RESOLVED on broker broker-a/.test(l))).toHaveLength(1);
    check = await metaq(['stats', '--namesrv', ns.addr, '--check']);
    expect(check.code, check.stderr).toBe(0);
  });

  it('serves the same figures on GET /metrics of the broker and the name server', async () => {
    const { ns, a } = await setup();
    const admin = new Admin({ namesrv: ns.addr });
    closers.push(async () => admin.close());
    await admin.waitForRoute(TOPIC);
    const queues = await admin.queues(TOPIC);
    await admin.commitOffset(GROUP, queues[0]!, 0);
    const producer = new Producer({ namesrv: ns.addr });
    closers.push(async () => producer.shutdown());
    await producer.sendToQueue(queues[0]!, [{ body: 'x' }, { body: 'y' }, { body: 'z' }]);
    await sleep(1100);
    await a.refreshMonitor();

    const res = await get(`http://${a.metricsAddr}/metrics`);
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/plain');
    const metrics = parseMetrics(res.body);
    const b = 'broker="broker-a"';
    expect(metrics.get(`metaq_queue_max_offset{${b},topic="${TOPIC}",queue="0"}`)).toBe(3);
    expect(metrics.get(`metaq_group_lag_messages{${b},group="${GROUP}"}`)).toBe(3);
    expect(metrics.get(`metaq_group_lag_seconds{${b},group="${GROUP}"}`)).toBeGreaterThanOrEqual(1);
    expect(metrics.get(`metaq_group_queue_lag_messages{${b},group="${GROUP}",topic="${TOPIC}",queue="0"}`)).toBe(3);
    expect(metrics.get(`metaq_alert_firing{${b},alert="billing-late",kind="groupLagSeconds",group="${GROUP}"}`)).toBe(1);
    expect(metrics.get(`metaq_alert_firing{${b},alert="billing-backlog",kind="groupLagMessages",group="${GROUP}"}`)).toBe(0);
    expect(metrics.get(`metaq_broker_messages_in_total{${b}}`)).toBeGreaterThanOrEqual(3);
    expect(metrics.get(`metaq_disk_used_ratio{${b}}`)).toBeGreaterThan(0);
    expect(metrics.get(`metaq_broker_info{${b},role="master",flush_mode="async"}`)).toBe(1);
    expect((await get(`http://${a.metricsAddr}/other`)).status).toBe(404);

    const nsText = await get(`http://${ns.metricsAddr}/metrics`);
    expect(nsText.status).toBe(200);
    const nsMetrics = parseMetrics(nsText.body);
    expect(nsMetrics.get('metaq_namesrv_brokers')).toBe(2);
    expect([...nsMetrics.keys()].filter((k) => k.startsWith('metaq_namesrv_broker_topics{')).map((k) => /broker="([^"]+)"/.exec(k)![1]).sort()).toEqual(['broker-a', 'broker-b']);
  });

  it('lists every broker of a name server, as JSON', async () => {
    const { ns } = await setup();
    const out = await metaq(['stats', '--namesrv', ns.addr, '--json']);
    expect(out.code, out.stderr).toBe(0);
    const j = JSON.parse(out.stdout) as { brokers: { brokerName: string; monitor: { queues: { topic: string }[] } }[]; unreachable: unknown[] };
    expect(j.brokers.map((b) => b.brokerName).sort()).toEqual(['broker-a', 'broker-b']);
    expect(j.brokers.find((b) => b.brokerName === 'broker-a')!.monitor.queues.filter((q) => q.topic === TOPIC)).toHaveLength(QUEUES);
    expect(j.unreachable).toEqual([]);
    const bad = await metaq(['stats', '--broker', '127.0.0.1:1', '--check']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('UNREACHABLE 127.0.0.1:1');
  });
});
