// The activity service against a name server and broker that have accounts:
// with the producer credential its claims are acknowledged; without one no
// claim is ever answered 200 (the refusal is an operator's problem, 500).
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/index.js';
import { NameServer } from '../../src/namesrv/index.js';
import { FAST_BROKER } from '../helpers/cluster.js';
import { credentialOf, writeAccounts } from '../helpers/credentials.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { claim, readTopic, useActivityServices } from './activity-helpers.js';

const TOPIC = 'LOTTERY_CLAIM';
const ACCOUNTS = [
  { name: 'ops', role: 'admin' },
  { name: 'shop', role: 'producer' },
  { name: 'broker-a-acct', role: 'broker', brokerNames: ['broker-a'] },
] as const;

describe('the activity service on secured brokers', () => {
  const tempDir = useTempDirs('activity-auth');
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });
  const start = useActivityServices();

  it('produces with its credential, and never answers 200 without one', async () => {
    const file = writeAccounts(tempDir(), ACCOUNTS);
    const ns = await NameServer.start({ port: 0, brokerExpiryMs: 5000, credentialsFile: file });
    closers.push(() => ns.close());
    const broker = await Broker.start(
      { ...FAST_BROKER, brokerName: 'broker-a', port: 0, haPort: 0, namesrvAddrs: [ns.addr], topics: { [TOPIC]: 1 }, credentialsFile: file, credential: credentialOf('broker-a-acct'), store: { dir: tempDir(), segmentSize: 16 * 1024 * 1024 } },
      { warn: () => undefined },
    );
    closers.push(() => broker.close());

    const open = await start({ namesrv: ns.addr, workers: 1, producer: { requestTimeoutMs: 1000, retries: 0 } });
    const refused = await claim(open.url, { userId: 1 });
    expect(refused.status, refused.text).toBe(500);
    expect(refused.body.error).toMatch(/AUTH|ACCESS/);

    const s = await start({ namesrv: ns.addr, workers: 1, credential: credentialOf('shop') });
    const ok = await claim(s.url, { userId: 2 });
    expect(ok.status, ok.text).toBe(200);
    const messages = await readTopic(ns.addr, TOPIC, 0, credentialOf('ops'));
    expect(messages.map((m) => m.claim.userId)).toEqual([2]);
  });
});
