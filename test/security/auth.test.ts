// Authentication and authorization over real TCP: a broker and a name server
// with accounts. A peer without credentials, with a wrong secret or an
// unknown name is refused (UNAUTHENTICATED) and its connection closed; a
// role that may not make a request (a producer creating a topic, a consumer
// committing for another group) is refused (ACCESS_DENIED); a connection
// that never authenticates is closed after the timeout; a client never
// trusts a server that cannot prove it knows the secret. Everyone else
// keeps being served, and every refusal is counted.
import { describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/index.js';
import { AccessDeniedError, AuthenticationError } from '../../src/common/index.js';
import { Admin, Producer } from '../../src/client/index.js';
import { NameServer } from '../../src/namesrv/index.js';
import { RequestClient, RequestServer, type Handler } from '../../src/net/index.js';
import { encodeAuthProofReply, encodeCommitOffsets, encodeSendRequest, Opcode, Status } from '../../src/protocol/index.js';
import { randomBytes } from 'node:crypto';
import { FAST_BROKER } from '../helpers/cluster.js';
import { credentialOf, secretFor, writeAccounts } from '../helpers/credentials.js';
import { rejectionOf } from '../helpers/errors.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { RawConn } from '../broker/fixtures/bad-input-wire-raw.js';
import { afterEach } from 'vitest';

const TOPIC = 'AuthT';
const quiet = { warn: () => undefined };

const ACCOUNTS = [
  { name: 'ops', role: 'admin' },
  { name: 'shop', role: 'producer' },
  { name: 'lottery', role: 'consumer', groups: ['g1'] },
  { name: 'broker-a-acct', role: 'broker', brokerNames: ['broker-a'] },
  { name: 'replica-a', role: 'replica' },
] as const;

describe('authentication and roles', () => {
  const tempDir = useTempDirs('auth');
  const closers: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  async function secured(authTimeoutMs?: number): Promise<{ ns: NameServer; broker: Broker; file: string }> {
    const dir = tempDir();
    const file = writeAccounts(dir, ACCOUNTS);
    const ns = await NameServer.start({ port: 0, brokerExpiryMs: 5000, credentialsFile: file });
    closers.push(() => ns.close());
    const broker = await Broker.start(
      { ...FAST_BROKER, brokerName: 'broker-a', port: 0, haPort: 0, namesrvAddrs: [ns.addr], topics: { [TOPIC]: 2 }, credentialsFile: file, credential: credentialOf('broker-a-acct'), authTimeoutMs, store: { dir: tempDir(), segmentSize: 16 * 1024 * 1024 } },
      quiet,
    );
    closers.push(() => broker.close());
    return { ns, broker, file };
  }

  it('refuses no credentials, a wrong secret and an unknown name, closes those connections, and keeps serving the others', async () => {
    const { ns, broker } = await secured();
    const producer = new Producer({ namesrv: ns.addr, credential: credentialOf('shop') });
    closers.push(() => producer.shutdown());
    expect((await producer.send(TOPIC, { body: 'before' })).status).toBe('SEND_OK');

    // No credentials at all: a raw SEND on a fresh connection.
    const raw = await RawConn.open(broker.addr);
    closers.push(() => raw.destroy());
    raw.request(Opcode.Send, 7, encodeSendRequest({ topic: TOPIC, queueId: 0, messages: [{ body: Buffer.from('sneaky') }] }));
    expect(await raw.waitClosed(3000), 'the connection is closed').toBe(true);
    expect(raw.frames.map((f) => f.status)).toEqual([Status.Unauthenticated]);
    expect(raw.frames[0]!.message).toMatch(/authenticated/);

    // A wrong secret, an unknown name: AuthenticationError from connect, saying what failed.
    const wrong = await rejectionOf(RequestClient.connect(broker.addr, { credential: { name: 'shop', secret: 'not-the-secret-of-shop!' } }));
    expect(wrong).toBeInstanceOf(AuthenticationError);
    expect((wrong as Error).message).toMatch(/unknown name or wrong secret/);
    const unknown = await rejectionOf(RequestClient.connect(broker.addr, { credential: { name: 'nobody', secret: secretFor('nobody') } }));
    expect(unknown).toBeInstanceOf(AuthenticationError);

    // A client without credentials: refused by the name server first.
    const anonymous = new Producer({ namesrv: ns.addr });
    closers.push(() => anonymous.shutdown());
    const anon = await rejectionOf(anonymous.send(TOPIC, { body: 'x' }));
    console.log(`anonymous producer: ${(anon as Error).name}: ${(anon as Error).message}`);
    expect(anon).toBeInstanceOf(AuthenticationError);

    // The replica account is not taken on the client port.
    const replicaHere = await rejectionOf(RequestClient.connect(broker.addr, { credential: credentialOf('replica-a') }));
    expect(replicaHere).toBeInstanceOf(AccessDeniedError);

    // Everyone else carries on.
    expect((await producer.send(TOPIC, { body: 'after' })).status).toBe('SEND_OK');
    const refusals = broker.stats().refusals ?? {};
    console.log(`broker refusals ${JSON.stringify(refusals)}, name server refusals ${JSON.stringify(ns.stats().refusals)}`);
    expect(refusals.unauthenticated).toBeGreaterThanOrEqual(3);
    expect(refusals.accessDenied).toBeGreaterThanOrEqual(1);
    expect(ns.stats().refusals.unauthenticated).toBeGreaterThanOrEqual(1);
  });

  it('refuses a producer creating a topic and a consumer committing for another group, and keeps their connections', async () => {
    const { ns, broker } = await secured();
    const asProducer = new Admin({ namesrv: ns.addr, credential: credentialOf('shop') });
    closers.push(() => asProducer.close());
    const create = await rejectionOf(asProducer.createTopic('NewTopic', 2, [broker.addr]));
    expect(create).toBeInstanceOf(AccessDeniedError);
    expect((create as Error).message).toMatch(/"shop" \(producer\) may not send CreateTopic/);

    const consumer = await RequestClient.connect(broker.addr, { credential: credentialOf('lottery') });
    closers.push(() => consumer.close());
    const other = await rejectionOf(consumer.call(Opcode.CommitOffsets, encodeCommitOffsets({ group: 'g2', entries: [{ topic: TOPIC, queueId: 0, offset: 0 }] }), 3000));
    expect(other).toBeInstanceOf(AccessDeniedError);
    expect((other as Error).message).toMatch(/may not commit offsets for group "g2"/);
    // Its own group: fine, on the same connection (a refusal of a request does not close it).
    await consumer.call(Opcode.CommitOffsets, encodeCommitOffsets({ group: 'g1', entries: [{ topic: TOPIC, queueId: 0, offset: 0 }] }), 3000);
    expect(consumer.closed).toBe(false);
    // A consumer may not send.
    expect(await rejectionOf(consumer.call(Opcode.Send, encodeSendRequest({ topic: TOPIC, queueId: 0, messages: [{ body: Buffer.from('x') }] }), 3000))).toBeInstanceOf(AccessDeniedError);

    const admin = new Admin({ namesrv: ns.addr, credential: credentialOf('ops') });
    closers.push(() => admin.close());
    await admin.createTopic('NewTopic', 2, [broker.addr]);
    expect(broker.store.queueCount('NewTopic')).toBe(2);
    expect((await admin.stats(broker.addr)).refusals?.accessDenied).toBe(3);
  });

  it('closes a connection that does not authenticate within the timeout', async () => {
    const { broker } = await secured(300);
    const idle = await RawConn.open(broker.addr);
    closers.push(() => idle.destroy());
    const t0 = Date.now();
    expect(await idle.waitClosed(3000)).toBe(true);
    console.log(`idle unauthenticated connection closed after ${Date.now() - t0} ms`);
    expect(broker.stats().refusals?.unauthenticated).toBe(1);
  });

  it('a client with a credential refuses an open server and one that cannot prove it knows the secret', async () => {
    const open = await RequestServer.listen({ host: '127.0.0.1', port: 0, maxFrameSize: 1 << 20, handlers: new Map() });
    closers.push(() => open.close());
    const e1 = await rejectionOf(RequestClient.connect(`127.0.0.1:${open.port}`, { credential: credentialOf('shop') }));
    expect(e1).toBeInstanceOf(AuthenticationError);
    expect((e1 as Error).message).toMatch(/does not authenticate/);

    // An impostor: answers the handshake, accepts any proof, cannot make its own.
    const handlers = new Map<number, Handler>([
      [Opcode.AuthHello, () => ({ body: randomBytes(32) })],
      [Opcode.AuthProof, () => ({ body: encodeAuthProofReply({ role: 'replica', serverProof: randomBytes(32) }) })],
    ]);
    const fake = await RequestServer.listen({ host: '127.0.0.1', port: 0, maxFrameSize: 1 << 20, handlers });
    closers.push(() => fake.close());
    const e2 = await rejectionOf(RequestClient.connect(`127.0.0.1:${fake.port}`, { credential: credentialOf('replica-a') }));
    expect(e2).toBeInstanceOf(AuthenticationError);
    expect((e2 as Error).message).toMatch(/could not prove it knows its secret/);
  });
});
