// TLS on every link, with real sockets on 127.0.0.1 and a self-signed
// certificate made here with openssl: a name server, a sync-replication master
// and its slave all over TLS (client ports, replication port, registrations);
// a producer's sends are confirmed by the slave and a consumer receives them.
// A client that does not trust the certificate (or checks another name) is
// refused with ConnectError; a plain-TCP client on a TLS port fails cleanly,
// is counted, and the server keeps serving others; a TLS client on a plain
// port gets ConnectError; bad certificate files are InvalidConfigErrors naming
// the path.
import fs from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSelfSignedCert, type SelfSignedCert } from '../../src/bench/index.js';
import { Broker, type BrokerConfig } from '../../src/broker/index.js';
import { Admin, Consumer, Producer, type ReceivedMessage } from '../../src/client/index.js';
import { ConnectError, ConnectionClosedError, InvalidConfigError, RefusalCounters } from '../../src/common/index.js';
import type { HaMasterStats } from '../../src/ha/index.js';
import { NameServer } from '../../src/namesrv/index.js';
import { loadClientTls, loadServerTls, RequestClient, RequestServer, TLS_HANDSHAKE_REFUSAL, TLS_HANDSHAKE_TIMEOUT_MS, type ClientTls } from '../../src/net/index.js';
import { Opcode } from '../../src/protocol/index.js';
import { FAST_BROKER } from '../helpers/cluster.js';
import { FAST_CLIENT } from '../helpers/consume.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep, waitUntil } from '../helpers/wait.js';

const TOPIC = 'TlsTopic';
const GROUP = 'tls-group';
const N = 200;
const quiet = { warn: () => undefined };

describe('TLS on client, replication and registration links', () => {
  const tempDir = useTempDirs('tls');
  const closers: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  });

  /** A self-signed certificate for 127.0.0.1/localhost, and another one nobody here trusts. */
  function certs(): { cert: SelfSignedCert; other: SelfSignedCert; dir: string } {
    const dir = tempDir();
    return { cert: makeSelfSignedCert(dir, 'server'), other: makeSelfSignedCert(dir, 'stranger'), dir };
  }

  async function startBroker(config: Partial<BrokerConfig> & { store?: BrokerConfig['store'] }): Promise<Broker> {
    const b = await Broker.start({ port: 0, haPort: 0, ...FAST_BROKER, ...config, store: config.store ?? { dir: tempDir(), segmentSize: 16 * 1024 * 1024 } }, quiet);
    closers.push(() => b.close());
    return b;
  }

  async function tlsCluster(cert: SelfSignedCert): Promise<{ ns: NameServer; master: Broker; slave: Broker }> {
    const server = { certFile: cert.certFile, keyFile: cert.keyFile };
    const trust = { caFile: cert.certFile };
    const ns = await NameServer.start({ port: 0, tls: server });
    closers.push(() => ns.close());
    const common = { namesrvAddrs: [ns.addr], namesrvTls: trust, tls: server, topics: { [TOPIC]: 2 } };
    const master = await startBroker({ ...common, brokerName: 'broker-tls', replicationMode: 'sync', haTls: server });
    const slave = await startBroker({ ...common, brokerName: 'broker-tls', role: 'slave', masterHaAddr: master.haAddr!, masterTls: trust });
    return { ns, master, slave };
  }

  it('a producer sends over TLS, sync replication over TLS confirms every send, a consumer over TLS receives them all', async () => {
    const { cert } = certs();
    const { ns, master, slave } = await tlsCluster(cert);
    await waitUntil(() => (master.stats().ha as HaMasterStats).slaveConnected, 'the slave connected over TLS');
    const tls = { caFile: cert.certFile };
    const producer = new Producer({ namesrv: ns.addr, tls });
    closers.push(() => producer.shutdown());
    const statuses = new Map<string, number>();
    for (let i = 0; i < N; i++) {
      const r = await producer.send(TOPIC, { body: `tls-${i}` });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    // SEND_OK under sync replication: the slave, over the TLS replication link, holds each one.
    expect(Object.fromEntries(statuses)).toEqual({ SEND_OK: N });
    expect((master.stats().ha as HaMasterStats).replicatedOffset).toBe(master.store.stats().writtenOffset);

    const got = new Set<string>();
    const consumer = new Consumer({ namesrv: ns.addr, group: GROUP, tls, ...FAST_CLIENT });
    closers.push(() => consumer.shutdown());
    consumer.subscribe(TOPIC);
    await consumer.start((messages: ReceivedMessage[]) => {
      for (const m of messages) got.add(m.body.toString());
      return 'success';
    });
    await waitUntil(() => got.size === N, `${N} messages consumed over TLS`, 20_000);

    // The slave serves reads over TLS too.
    const admin = new Admin({ tls });
    closers.push(() => admin.close());
    expect((await admin.stats(slave.addr)).role).toBe('slave');
  });

  it('a client that does not trust the certificate, or checks another name, is refused with ConnectError; the server serves the others', async () => {
    const { cert, other } = certs();
    const b = await startBroker({ tls: { certFile: cert.certFile, keyFile: cert.keyFile } });
    const refused = async (tls: ClientTls): Promise<ConnectError> => {
      const err = await RequestClient.connect(b.addr, { tls }).then(
        (c) => {
          c.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as Error).message).toMatch(/TLS handshake with 127\.0\.0\.1:\d+ failed/);
      expect((err as Error).cause).toBeInstanceOf(Error);
      return err as ConnectError;
    };
    // Node's public roots only: a self-signed certificate is not among them.
    expect((await refused(loadClientTls({}, 'tls'))).message).toMatch(/SELF_SIGNED/);
    // Another certificate as the CA.
    await refused(loadClientTls({ caFile: other.certFile }, 'tls'));
    // The right CA but another name than the certificate's.
    expect((await refused(loadClientTls({ caFile: cert.certFile, servername: 'orders.example.com' }, 'tls'))).message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
    // Through the clients: the producer gives up with the same typed error.
    const admin = new Admin({ tls: { caFile: other.certFile } });
    closers.push(() => admin.close());
    await expect(admin.stats(b.addr)).rejects.toBeInstanceOf(ConnectError);

    const trusted = await RequestClient.connect(b.addr, { tls: loadClientTls({ caFile: cert.certFile }, 'tls') });
    closers.push(() => trusted.close());
    expect((await trusted.call(Opcode.BrokerStats, undefined, 3000)).status).toBe(0);
  });

  it('a plain-TCP client on a TLS port fails cleanly and is counted; a TLS client on a plain port gets ConnectError; others keep being served', async () => {
    const { cert } = certs();
    const b = await startBroker({ tls: { certFile: cert.certFile, keyFile: cert.keyFile } });
    const tls = loadClientTls({ caFile: cert.certFile }, 'tls');
    const good = await RequestClient.connect(b.addr, { tls });
    closers.push(() => good.close());

    const plain = await RequestClient.connect(b.addr);
    closers.push(() => plain.close());
    // The frame is not a TLS ClientHello: the server drops the connection at once, the request fails typed.
    const refused = await plain.call(Opcode.BrokerStats, undefined, 5000).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(ConnectionClosedError);
    expect((refused as Error).message).toMatch(/without answering anything: if it serves TLS, connect with TLS options/);
    await waitUntil(() => b.stats().refusals?.[TLS_HANDSHAKE_REFUSAL] === 1, 'the failed handshake counted');
    expect((await good.call(Opcode.BrokerStats, undefined, 3000)).status).toBe(0);

    const plainBroker = await startBroker({});
    await expect(RequestClient.connect(plainBroker.addr, { tls, connectTimeoutMs: 5000 })).rejects.toThrow(/TLS handshake with .* failed/);
    expect((await good.call(Opcode.BrokerStats, undefined, 3000)).status).toBe(0);

    // A peer that connects and never starts its handshake does not hold the broker's close for the handshake timeout.
    const silent = connect({ host: '127.0.0.1', port: b.port });
    silent.on('error', () => undefined);
    await new Promise((resolve) => silent.once('connect', resolve));
    const closed = await Promise.race([b.close().then(() => 'closed'), sleep(TLS_HANDSHAKE_TIMEOUT_MS / 2).then(() => 'still closing')]);
    expect(closed).toBe('closed');
  });

  it('a peer that connects and never completes its handshake is dropped after the handshake timeout, and counted', async () => {
    const { cert } = certs();
    const refusals = new RefusalCounters();
    const HANDSHAKE_MS = 300;
    const server = await RequestServer.listen({ host: '127.0.0.1', port: 0, maxFrameSize: 1 << 20, handlers: new Map(), refusals, tls: loadServerTls(cert, 'tls', HANDSHAKE_MS) });
    closers.push(() => server.close());
    const silent = connect({ host: '127.0.0.1', port: server.port });
    silent.on('error', () => undefined);
    const closedAt = new Promise<number>((resolve) => silent.once('close', () => resolve(Date.now())));
    await new Promise((resolve) => silent.once('connect', resolve));
    const start = Date.now();
    // Well before the 10 s default and node's own 120 s: this server's timeout is 0.3 s.
    expect(await Promise.race([closedAt, sleep(5000).then(() => undefined)])).toBeGreaterThanOrEqual(start + HANDSHAKE_MS - 50);
    expect(refusals.get(TLS_HANDSHAKE_REFUSAL)).toBe(1);
  });

  it('a server that asks for client certificates (clientCaFile) takes a client presenting one and refuses one without', async () => {
    const { cert, other } = certs();
    const ns = await NameServer.start({ port: 0, tls: { certFile: cert.certFile, keyFile: cert.keyFile, clientCaFile: other.certFile } });
    closers.push(() => ns.close());
    const withCert = await RequestClient.connect(ns.addr, { tls: loadClientTls({ caFile: cert.certFile, certFile: other.certFile, keyFile: other.keyFile }, 'tls') });
    closers.push(() => withCert.close());
    expect((await withCert.call(Opcode.BrokerStats, undefined, 3000)).status).toBe(0);
    // Under TLS 1.3 the server checks the client's certificate after the client considers the handshake done:
    // the refusal arrives as the connection closing, before any request is answered.
    const refusal = RequestClient.connect(ns.addr, { tls: loadClientTls({ caFile: cert.certFile }, 'tls') }).then((c) => {
      closers.push(() => c.close());
      return c.call(Opcode.BrokerStats, undefined, 3000);
    });
    await expect(refusal).rejects.toThrow(/certificate required|closed/);
  });

  it('unreadable, non-PEM or mismatched certificate files, and typos in the options, are InvalidConfigErrors naming the file', async () => {
    const { cert, other, dir } = certs();
    const missing = path.join(dir, 'nope.pem');
    const notPem = path.join(dir, 'not.pem');
    fs.writeFileSync(notPem, 'hello');
    const cases: [() => unknown, RegExp][] = [
      [() => NameServer.start({ port: 0, tls: { certFile: missing, keyFile: cert.keyFile } }), /tls: cannot read the certificate file .*nope\.pem/],
      [() => NameServer.start({ port: 0, tls: { certFile: notPem, keyFile: cert.keyFile } }), /not\.pem is not PEM/],
      [() => NameServer.start({ port: 0, tls: { certFile: cert.certFile, keyFile: other.keyFile } }), /stranger-key\.pem does not belong to the certificate .*server-cert\.pem/],
      [() => NameServer.start({ port: 0, tls: { certFile: cert.keyFile, keyFile: cert.keyFile } }), /server-key\.pem is not a valid certificate/],
      [() => NameServer.start({ port: 0, tls: { certfile: cert.certFile, keyFile: cert.keyFile } as never }), /unknown option "certfile"/],
      [() => startBroker({ tls: { certFile: cert.certFile, keyFile: missing } }), /tls: cannot read the private key file .*nope\.pem/],
      [() => startBroker({ haTls: { certFile: cert.certFile, keyFile: cert.keyFile, clientCaFile: missing } }), /haTls: cannot read the CA file .*nope\.pem/],
      [() => startBroker({ namesrvTls: { caFile: notPem } }), /namesrvTls: the CA file .*not\.pem is not PEM/],
      [() => startBroker({ role: 'slave', masterHaAddr: '127.0.0.1:1', haTls: { certFile: cert.certFile, keyFile: cert.keyFile } }), /haTls is for masters/],
      [() => new Producer({ namesrv: '127.0.0.1:1', tls: { caFile: missing } }), /tls: cannot read the CA file .*nope\.pem/],
      [() => new Consumer({ namesrv: '127.0.0.1:1', group: GROUP, tls: { caFile: missing } }), /tls: cannot read the CA file/],
      [() => new Admin({ tls: { cafile: cert.certFile } as never }), /unknown option "cafile"/],
    ];
    for (const [attempt, message] of cases) {
      const err = await Promise.resolve().then(attempt).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, String(message)).toBeInstanceOf(InvalidConfigError);
      expect((err as Error).message).toMatch(message);
    }
  });
});
