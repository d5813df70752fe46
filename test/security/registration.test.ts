// Name server registrations belong to the broker that holds the name
// (issue 14, finding 2). On an open name server anyone can register
// `broker-a` at another address (sending every producer there) or remove
// its registration: shown first, as the fault. With accounts, only a broker
// account whose brokerNames include the name registers it, and only the
// account that registered an entry refreshes or removes it.
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/index.js';
import { AccessDeniedError } from '../../src/common/index.js';
import { NameServer } from '../../src/namesrv/index.js';
import { RequestClient } from '../../src/net/index.js';
import { BrokerRole, decodeRoute, encodeBrokerIdentity, encodeRegisterBroker, encodeTopic, Opcode, type BrokerRoute } from '../../src/protocol/index.js';
import type { Credential } from '../../src/security/index.js';
import { FAST_BROKER } from '../helpers/cluster.js';
import { credentialOf, writeAccounts } from '../helpers/credentials.js';
import { rejectionOf } from '../helpers/errors.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitForAsync } from '../ha/ha-helpers.js';

const TOPIC = 'RegT';
const ROGUE_ADDR = '10.9.9.9:10911';
const quiet = { warn: () => undefined };

describe('broker registration ownership', () => {
  const tempDir = useTempDirs('auth-reg');
  const closers: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  async function setUp(secured: boolean): Promise<{ ns: NameServer; broker: Broker; connect: (c?: Credential) => Promise<RequestClient> }> {
    const file = writeAccounts(tempDir(), [
      { name: 'reader', role: 'producer' },
      { name: 'acct-a', role: 'broker', brokerNames: ['broker-a'] },
      { name: 'acct-a2', role: 'broker', brokerNames: ['broker-a'] },
      { name: 'acct-b', role: 'broker', brokerNames: ['broker-b'] },
    ]);
    const ns = await NameServer.start({ port: 0, brokerExpiryMs: 30_000, credentialsFile: secured ? file : undefined });
    closers.push(() => ns.close());
    const broker = await Broker.start(
      { ...FAST_BROKER, registerIntervalMs: 60_000, brokerName: 'broker-a', port: 0, haPort: 0, namesrvAddrs: [ns.addr], topics: { [TOPIC]: 4 }, credential: secured ? credentialOf('acct-a') : undefined, store: { dir: tempDir(), segmentSize: 16 * 1024 * 1024 } },
      quiet,
    );
    closers.push(() => broker.close());
    const connect = async (c?: Credential): Promise<RequestClient> => {
      const client = await RequestClient.connect(ns.addr, { credential: secured ? c : undefined });
      closers.push(() => client.close());
      return client;
    };
    return { ns, broker, connect };
  }

  async function route(client: RequestClient): Promise<BrokerRoute[]> {
    return decodeRoute((await client.call(Opcode.GetRoute, encodeTopic(TOPIC), 3000)).body);
  }

  const forged = encodeRegisterBroker({ brokerName: 'broker-a', addr: ROGUE_ADDR, role: BrokerRole.Master, topics: [{ topic: TOPIC, queueCount: 4 }] });

  it('open name server (the fault): a stranger registers broker-a elsewhere and removes the real registration', async () => {
    const { broker, connect } = await setUp(false);
    const stranger = await connect();
    await waitForAsync(async () => (await route(stranger)).length === 1, 'the real registration', 5000, 20);
    await stranger.call(Opcode.RegisterBroker, forged, 3000);
    await stranger.call(Opcode.UnregisterBroker, encodeBrokerIdentity({ brokerName: 'broker-a', addr: broker.addr }), 3000);
    const after = await route(stranger);
    console.log(`open name server, route after the forgery: ${JSON.stringify(after)}`);
    expect(after.map((r) => r.addr)).toEqual([ROGUE_ADDR]);
  });

  it('secured name server: a forged registration and unregistration are refused, the real route unchanged', async () => {
    const { ns, broker, connect } = await setUp(true);
    const reader = await connect(credentialOf('reader'));
    await waitForAsync(async () => (await route(reader)).length === 1, 'the real registration', 5000, 20);
    const before = await route(reader);

    // Another broker's account: may not register or remove broker-a at all.
    const b = await connect(credentialOf('acct-b'));
    const reg = await rejectionOf(b.call(Opcode.RegisterBroker, forged, 3000));
    expect(reg).toBeInstanceOf(AccessDeniedError);
    expect((reg as Error).message).toMatch(/may not register broker name "broker-a"/);
    const unreg = await rejectionOf(b.call(Opcode.UnregisterBroker, encodeBrokerIdentity({ brokerName: 'broker-a', addr: broker.addr }), 3000));
    expect(unreg).toBeInstanceOf(AccessDeniedError);

    // An account that may hold the name, but not the one that registered this entry: may not refresh or remove it.
    const a2 = await connect(credentialOf('acct-a2'));
    const refresh = await rejectionOf(a2.call(Opcode.RegisterBroker, encodeRegisterBroker({ brokerName: 'broker-a', addr: broker.addr, role: BrokerRole.Master, topics: [] }), 3000));
    expect(refresh).toBeInstanceOf(AccessDeniedError);
    expect((refresh as Error).message).toMatch(/account "acct-a" registered it/);
    expect(await rejectionOf(a2.call(Opcode.UnregisterBroker, encodeBrokerIdentity({ brokerName: 'broker-a', addr: broker.addr }), 3000))).toBeInstanceOf(AccessDeniedError);

    // A producer may read routes but not register.
    expect(await rejectionOf(reader.call(Opcode.RegisterBroker, forged, 3000))).toBeInstanceOf(AccessDeniedError);

    const after = await route(reader);
    expect(after).toEqual(before);
    expect(after.map((r) => r.addr)).toEqual([broker.addr]);
    console.log(`secured name server refusals ${JSON.stringify(ns.stats().refusals)}`);
    expect(ns.stats().refusals.accessDenied).toBe(5);
  });
});
