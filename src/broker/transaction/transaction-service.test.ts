// The transaction service over a real store (no broker, no network): half
// messages past the pending bound are refused with LimitExceededError and
// taken again once some ended; the half message's checks (what it may carry,
// where it may go) refuse bad requests before anything is written.
import { describe, expect, it } from 'vitest';
import { InvalidMessageError, InvalidRequestError, LimitExceededError, UnknownQueueError, UnknownTopicError } from '../../common/index.js';
import { TransactionAction, type DecodedTransactionHalf } from '../../protocol/index.js';
import { MessageStore } from '../../store/index.js';
import { ConsumerOffsets } from '../consumer-offsets.js';
import { useTempDirs } from '../../../test/helpers/temp-dir.js';
import { waitDispatched } from '../../../test/helpers/wait.js';
import { HALF_TOPIC, TransactionService } from './index.js';

const TOPIC = 'T';

function half(body: string, extra: Partial<DecodedTransactionHalf['send']> = {}, properties?: Record<string, string>): DecodedTransactionHalf {
  return { group: 'g', send: { topic: TOPIC, queueId: 0, messages: [{ body: Buffer.from(body), tags: undefined, keys: undefined, properties, flag: 0, bornTimestamp: Date.now() }], ...extra } };
}

describe('TransactionService', () => {
  const tempDir = useTempDirs('tx-service');

  it('refuses half messages past maxPending until one ends; refuses bad ones before writing', async () => {
    const dir = tempDir();
    const store = await MessageStore.open({ dir, segmentSize: 1 << 20, maxMessageSize: 4096 });
    const errors: string[] = [];
    const tx = new TransactionService({
      store,
      offsets: new ConsumerOffsets(dir),
      brokerName: 'b',
      transactionTimeoutMs: 60_000,
      transactionCheckIntervalMs: 60_000,
      transactionCheckMax: 1,
      producerTimeoutMs: 60_000,
      waitForSlave: () => 'confirmed',
      onError: (m) => errors.push(m),
      maxPending: 2,
    });
    try {
      store.createTopic(TOPIC, 2);
      const a = await tx.putHalf(half('a'));
      await tx.putHalf(half('b'));
      await waitDispatched(store);
      expect(() => tx.putHalf(half('c'))).toThrow(LimitExceededError);
      const end = await tx.end({ group: 'g', halfPhysicalOffset: a.physicalOffsets[0]!, halfQueueOffset: a.queueOffset, action: TransactionAction.Rollback, fromCheck: false }, () => undefined);
      expect(end.duplicate).toBe(false);
      await tx.putHalf(half('c'));

      const before = store.maxOffset(HALF_TOPIC, 0);
      expect(() => tx.putHalf(half('x', { topic: 'nope' }))).toThrow(UnknownTopicError);
      expect(() => tx.putHalf(half('x', { queueId: 2 }))).toThrow(UnknownQueueError);
      expect(() => tx.putHalf(half('x', { topic: HALF_TOPIC }))).toThrow(InvalidRequestError);
      expect(() => tx.putHalf(half('x', {}, { REAL_TOPIC: 'elsewhere' }))).toThrow(InvalidMessageError);
      expect(() => tx.putHalf({ ...half('x'), group: 'bad group' })).toThrow(InvalidRequestError);
      await waitDispatched(store);
      expect(store.maxOffset(HALF_TOPIC, 0)).toBe(before);
      expect(tx.stats()).toMatchObject({ pending: 2, rolledBack: 1 });
      expect(errors).toEqual([]);
    } finally {
      tx.close();
      await store.close();
    }
  });
});
