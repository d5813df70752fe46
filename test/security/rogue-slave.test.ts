// A stranger on a sync master's replication port (issue 14, finding 1),
// with brokers in real processes as the finding used them. A master and its
// slave run, messages are stored, the slave is killed: sends answer
// SLAVE_NOT_AVAILABLE. Then a stranger connects to the replication port,
// handshakes at offset 0 and reports offset 2^50. On an open master (the
// fault, shown first) it receives the stored message bodies; its report, which
// made the next send answer SEND_OK with no replica anywhere, is now refused
// by the master's report check (test/ha/rogue-slave.test.ts shows that check
// on its own), which holds for any peer. On a master with accounts
// it is refused (UNAUTHENTICATED), its connection closed, it gets no message
// bytes, and the next send is still SLAVE_NOT_AVAILABLE; a valid account of
// another role is refused too: only a replica credential replicates.
import { afterEach, describe, expect, it } from 'vitest';
import { AccessDeniedError } from '../../src/common/index.js';
import { Admin, Producer, type BrokerStats } from '../../src/client/index.js';
import { NameServer } from '../../src/namesrv/index.js';
import { RequestClient } from '../../src/net/index.js';
import { encodeFrame, encodeHaHandshake, encodeOffset, FrameFlag, Opcode, Status } from '../../src/protocol/index.js';
import { credentialOf, writeAccounts } from '../helpers/credentials.js';
import { rejectionOf } from '../helpers/errors.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep } from '../helpers/wait.js';
import { RawConn } from '../broker/fixtures/bad-input-wire-raw.js';
import { HA_STORE, haBrokerConfig, masterHa, useBrokerProcesses, waitForAsync } from '../ha/ha-helpers.js';

const TOPIC = 'RogueT';
const BROKER = 'broker-a';
const PAYLOAD = 'confidential-order-';
const HUGE_OFFSET = 2 ** 50;

describe('a rogue slave on the replication port', () => {
  const tempDir = useTempDirs('rogue');
  const startProcess = useBrokerProcesses();
  const closers: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  async function scenario(secured: boolean): Promise<{ gotPayload: boolean; dataBytes: number; rogue: RawConn; statusAfter: string; stats: BrokerStats; haAddr: string }> {
    const file = writeAccounts(tempDir(), [
      { name: 'ops', role: 'admin' },
      { name: 'shop', role: 'producer' },
      { name: 'acct-a', role: 'broker', brokerNames: [BROKER] },
      { name: 'replica-a', role: 'replica' },
    ]);
    const ns = await NameServer.start({ port: 0, brokerExpiryMs: 5000, credentialsFile: secured ? file : undefined });
    closers.push(() => ns.close());
    const auth = (extra: object): object => (secured ? { credentialsFile: file, credential: credentialOf('acct-a'), ...extra } : {});
    const base = { ns: ns.addr, brokerName: BROKER, topics: { [TOPIC]: 1 }, replicationMode: 'sync' as const, slaveTimeoutMs: 1000 };
    const master = await startProcess({ ...haBrokerConfig({ ...base, dir: tempDir(), role: 'master' }), ...auth({}) });
    const slave = await startProcess({ ...haBrokerConfig({ ...base, dir: tempDir(), role: 'slave', masterHaAddr: master.haAddr }), ...(secured ? { credential: credentialOf('acct-a'), replicaCredential: credentialOf('replica-a') } : {}) });
    const admin = new Admin({ namesrv: ns.addr, credential: secured ? credentialOf('ops') : undefined });
    closers.push(() => admin.close());
    const producer = new Producer({ namesrv: ns.addr, credential: secured ? credentialOf('shop') : undefined });
    closers.push(() => producer.shutdown());
    await waitForAsync(async () => masterHa(await admin.stats(master.addr)).slaveConnected, 'the slave to connect', 20_000, 50);
    const mq = { topic: TOPIC, brokerName: BROKER, addr: master.addr, queueId: 0 };
    for (let i = 0; i < 20; i++) expect((await producer.sendToQueue(mq, [{ body: `${PAYLOAD}${i}` }])).status).toBe('SEND_OK');

    await slave.kill('SIGKILL');
    await waitForAsync(async () => !masterHa(await admin.stats(master.addr)).slaveConnected, 'the master to notice the slave is gone', 10_000, 50);
    expect((await producer.sendToQueue(mq, [{ body: 'no-slave' }])).status).toBe('SLAVE_NOT_AVAILABLE');

    // The stranger: handshake at offset 0, then "I hold everything up to 2^50".
    const rogue = await RawConn.open(master.haAddr!);
    closers.push(() => rogue.destroy());
    rogue.request(Opcode.HaHandshake, 1, encodeHaHandshake({ maxOffset: 0, durableOffset: 0, segmentSize: HA_STORE.segmentSize, flushMode: 'sync', records: [] }));
    rogue.write(encodeFrame({ opcode: Opcode.HaReport, flags: FrameFlag.Oneway, requestId: 0, status: 0 }, encodeOffset(HUGE_OFFSET)));
    await rogue.waitFor(() => rogue.isClosed || rogue.frames.some((f) => f.opcode === Opcode.HaData), 3000);
    await sleep(300);
    const data = rogue.frames.filter((f) => f.opcode === Opcode.HaData);
    const dataBytes = data.reduce((n, f) => n + f.body.length, 0);
    const gotPayload = data.some((f) => f.body.includes(PAYLOAD));
    const statusAfter = (await producer.sendToQueue(mq, [{ body: 'after-the-rogue' }])).status;
    const stats = await admin.stats(master.addr);
    console.log(`${secured ? 'secured' : 'open'} master: rogue got ${data.length} HA_DATA frames (${dataBytes} bytes, message bodies: ${gotPayload}), answers ${JSON.stringify(rogue.frames.filter((f) => f.opcode !== Opcode.HaData && f.opcode !== Opcode.HaDurable && f.opcode !== Opcode.HaOffsets).map((f) => [f.opcode, f.status, f.message]))}, closed ${rogue.isClosed || rogue.ended}; next send ${statusAfter}; refusals ${JSON.stringify(stats.refusals)}`);
    return { gotPayload, dataBytes, rogue, statusAfter, stats, haAddr: master.haAddr! };
  }

  it('open master (the fault): the stranger downloads the log; only the report check keeps its 2^50 report from releasing sends', async () => {
    const r = await scenario(false);
    expect(r.gotPayload).toBe(true);
    // Without the report check (a report beyond what was pushed closes the session) this was SEND_OK with no replica anywhere.
    expect(r.statusAfter).toBe('SLAVE_NOT_AVAILABLE');
    expect(r.stats.refusals?.haReportBeyondPushed).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('master with accounts: the stranger is refused, gets no bytes, and sends stay SLAVE_NOT_AVAILABLE', async () => {
    const r = await scenario(true);
    expect(r.dataBytes).toBe(0);
    expect(r.gotPayload).toBe(false);
    expect(await r.rogue.waitClosed(3000)).toBe(true);
    expect(r.rogue.frames.map((f) => [f.opcode, f.status])).toEqual([[Opcode.HaHandshake, Status.Unauthenticated]]);
    expect(r.statusAfter).toBe('SLAVE_NOT_AVAILABLE');
    expect(r.stats.refusals?.unauthenticated).toBeGreaterThanOrEqual(1);
    // A valid account of another role may not replicate either.
    const notReplica = await rejectionOf(RequestClient.connect(r.haAddr, { credential: credentialOf('shop') }));
    expect(notReplica).toBeInstanceOf(AccessDeniedError);
    expect((notReplica as Error).message).toMatch(/takes only replica accounts/);
  }, 60_000);
});
