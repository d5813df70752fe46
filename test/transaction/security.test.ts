// Transactions on a broker with accounts: a producer account ends and
// answers transactions of its own topics; one scoped to other topics can
// neither store a half message there nor end someone else's (ACCESS_DENIED);
// a consumer account cannot use the transaction requests at all.
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/index.js';
import { AccessDeniedError } from '../../src/common/index.js';
import { TransactionProducer } from '../../src/client/index.js';
import { NameServer } from '../../src/namesrv/index.js';
import { RequestClient } from '../../src/net/index.js';
import { encodeEndTransaction, encodeProducerRegistration, Opcode, TransactionAction } from '../../src/protocol/index.js';
import { HALF_TOPIC } from '../../src/broker/transaction/index.js';
import { FAST_BROKER } from '../helpers/cluster.js';
import { credentialOf, writeAccounts } from '../helpers/credentials.js';
import { rejectionOf } from '../helpers/errors.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { FAST_TX, GROUP, TOPIC } from './tx-helpers.js';

const OTHER = 'TxOther';
const ACCOUNTS = [
  { name: 'ops', role: 'admin' },
  { name: 'shop', role: 'producer', topics: [TOPIC] },
  { name: 'elsewhere', role: 'producer', topics: [OTHER] },
  { name: 'lottery', role: 'consumer' },
  { name: 'broker-a-acct', role: 'broker', brokerNames: ['broker-a'] },
] as const;

describe('transactions and accounts', () => {
  const tempDir = useTempDirs('tx-auth');
  const closers: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  it('a producer ends its own topics\' transactions only; a consumer may not use them', async () => {
    const file = writeAccounts(tempDir(), ACCOUNTS);
    const ns = await NameServer.start({ port: 0, brokerExpiryMs: 5000, credentialsFile: file });
    closers.push(() => ns.close());
    const broker = await Broker.start(
      { ...FAST_BROKER, ...FAST_TX, transactionTimeoutMs: 30_000, brokerName: 'broker-a', port: 0, haPort: 0, namesrvAddrs: [ns.addr], topics: { [TOPIC]: 1, [OTHER]: 1 }, credentialsFile: file, credential: credentialOf('broker-a-acct'), store: { dir: tempDir(), segmentSize: 16 * 1024 * 1024 } },
      { warn: () => undefined },
    );
    closers.push(() => broker.close());
    const shop = new TransactionProducer({ namesrv: ns.addr, group: GROUP, checker: () => 'unknown', credential: credentialOf('shop') });
    closers.push(() => shop.shutdown());
    const left = await shop.sendTransactional(TOPIC, { body: 'left open' }, () => 'unknown');
    expect((await shop.sendTransactional(TOPIC, { body: 'ok' }, () => 'commit')).outcome).toBe('COMMITTED');
    expect(await rejectionOf(shop.sendTransactional(OTHER, { body: 'not mine' }, () => 'commit'))).toBeInstanceOf(AccessDeniedError);

    const halfOffset = Number(left.transactionId.split(':')[1]);
    const half = broker.store.getMessageByOffset(halfOffset)!;
    expect(half.topic).toBe(HALF_TOPIC);
    const end = encodeEndTransaction({ group: GROUP, halfPhysicalOffset: halfOffset, halfQueueOffset: half.queueOffset, action: TransactionAction.Commit, fromCheck: true });
    const elsewhere = await RequestClient.connect(broker.addr, { credential: credentialOf('elsewhere') });
    closers.push(() => elsewhere.close());
    expect(await rejectionOf(elsewhere.call(Opcode.EndTransaction, end, 5000))).toBeInstanceOf(AccessDeniedError);
    const consumer = await RequestClient.connect(broker.addr, { credential: credentialOf('lottery') });
    closers.push(() => consumer.close());
    expect(await rejectionOf(consumer.call(Opcode.EndTransaction, end, 5000))).toBeInstanceOf(AccessDeniedError);
    expect(await rejectionOf(consumer.call(Opcode.RegisterProducer, encodeProducerRegistration({ clientId: 'c', group: GROUP }), 5000))).toBeInstanceOf(AccessDeniedError);
    expect(broker.transactionStats()).toMatchObject({ pending: 1, committed: 1 });
  });
});
