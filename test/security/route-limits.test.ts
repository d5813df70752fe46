// The name server's limits, over TCP: 256 registrations of one topic (its
// route's count is a u8: the 256th would make GET_ROUTE of that topic
// unencodable for everyone), brokers beyond maxBrokers, a registration
// listing more than maxTopicsPerRegistration topics. Each refusal is a
// LimitExceededError naming its limit, nothing of it is applied, it is
// counted in the name server's stats, and GET_ROUTE keeps working.
import { afterEach, describe, expect, it } from 'vitest';
import { LimitExceededError } from '../../src/common/index.js';
import { RequestClient } from '../../src/net/index.js';
import { NameServer, type NameServerConfig } from '../../src/namesrv/index.js';
import { BrokerRole, decodeRoute, decodeText, encodeRegisterBroker, encodeTopic, Opcode, type TopicInfo } from '../../src/protocol/index.js';
import { rejectionOf } from '../helpers/errors.js';

const TIMEOUT_MS = 10_000;
const SHARED = 'Shared';

describe('name server limits', () => {
  const started: { ns: NameServer; client: RequestClient }[] = [];
  afterEach(async () => {
    for (const s of started.splice(0)) {
      s.client.close();
      await s.ns.close();
    }
  });

  async function start(config: NameServerConfig = {}): Promise<{ ns: NameServer; client: RequestClient }> {
    const ns = await NameServer.start({ port: 0, ...config });
    const client = await RequestClient.connect(ns.addr);
    const s = { ns, client };
    started.push(s);
    return s;
  }

  function register(client: RequestClient, i: number, topics: TopicInfo[]): Promise<unknown> {
    return client.call(Opcode.RegisterBroker, encodeRegisterBroker({ brokerName: `b-${i}`, addr: `10.0.${i >> 8}.${i & 255}:10911`, role: BrokerRole.Master, topics }), TIMEOUT_MS);
  }

  async function refusals(client: RequestClient): Promise<Record<string, number>> {
    const stats = JSON.parse(decodeText((await client.call(Opcode.BrokerStats, undefined, TIMEOUT_MS)).body)) as { refusals: Record<string, number> };
    return stats.refusals;
  }

  it('the 256th registration of a topic is refused with a clear error; GET_ROUTE keeps answering its 255 entries', async () => {
    const { client } = await start();
    for (let i = 0; i < 255; i++) await register(client, i, [{ topic: SHARED, queueCount: 4 }, { topic: `own-${i}`, queueCount: 1 }]);
    const err = await rejectionOf(register(client, 255, [{ topic: SHARED, queueCount: 4 }, { topic: 'own-255', queueCount: 1 }]));
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as LimitExceededError).limit).toBe('maxRouteEntriesPerTopic');
    expect((err as Error).message).toMatch(/topic "Shared" already has 255 route entries/);

    const route = decodeRoute((await client.call(Opcode.GetRoute, encodeTopic(SHARED), TIMEOUT_MS)).body);
    expect(route.length).toBe(255);
    expect(route.some((b) => b.brokerName === 'b-255')).toBe(false);
    // All or nothing: the refused broker's other topic was not registered either.
    expect((await rejectionOf(client.call(Opcode.GetRoute, encodeTopic('own-255'), TIMEOUT_MS))) as Error).toHaveProperty('code', 'METAQ_NO_ROUTE');
    expect(decodeRoute((await client.call(Opcode.GetRoute, encodeTopic('own-7'), TIMEOUT_MS)).body).map((b) => b.brokerName)).toEqual(['b-7']);
    // A registered broker refreshing its registration is not a new entry: it passes.
    await register(client, 3, [{ topic: SHARED, queueCount: 8 }]);
    expect(await refusals(client)).toEqual({ maxRouteEntriesPerTopic: 1 });
  });

  it('brokers beyond maxBrokers and registrations beyond maxTopicsPerRegistration are refused and counted', async () => {
    const { client } = await start({ maxBrokers: 3, maxTopicsPerRegistration: 10 });
    for (let i = 0; i < 3; i++) await register(client, i, [{ topic: SHARED, queueCount: 1 }]);
    const fourth = await rejectionOf(register(client, 3, [{ topic: SHARED, queueCount: 1 }]));
    expect((fourth as LimitExceededError).limit).toBe('maxBrokers');
    const wide = await rejectionOf(register(client, 0, Array.from({ length: 11 }, (_, t) => ({ topic: `t-${t}`, queueCount: 1 }))));
    expect((wide as LimitExceededError).limit).toBe('maxTopicsPerRegistration');
    // The refused refresh left b-0's registration as it was.
    expect(decodeRoute((await client.call(Opcode.GetRoute, encodeTopic(SHARED), TIMEOUT_MS)).body).map((b) => b.brokerName)).toEqual(['b-0', 'b-1', 'b-2']);
    expect(await refusals(client)).toEqual({ maxBrokers: 1, maxTopicsPerRegistration: 1 });
  });

  it('rejects limits outside their range at start', async () => {
    expect(await rejectionOf(NameServer.start({ port: 0, maxRouteEntriesPerTopic: 256 }))).toHaveProperty('code', 'METAQ_INVALID_CONFIG');
    expect(await rejectionOf(NameServer.start({ port: 0, maxBrokers: 0 }))).toHaveProperty('code', 'METAQ_INVALID_CONFIG');
  });
});
