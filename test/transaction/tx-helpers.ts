// Shared pieces of the transactional message tests: brokers with short check
// timings, transaction producers closed after each test, and what a topic
// (or one of the broker's transaction topics) holds, read through the wire.
import { afterEach } from 'vitest';
import type { Broker, BrokerConfig } from '../../src/broker/index.js';
import { Admin, TransactionProducer, type ReceivedMessage, type TransactionProducerOptions } from '../../src/client/index.js';
import { UnknownTopicError } from '../../src/common/index.js';
import { waitDispatched } from '../helpers/wait.js';

export const TOPIC = 'TxOrders';
export const QUEUES = 2;
export const GROUP = 'tx-group';
/** Check timings of these tests: first check 300 ms after the half message, then every 300 ms, 3 checks. */
export const FAST_TX: Partial<BrokerConfig> = { transactionTimeoutMs: 300, transactionCheckIntervalMs: 300, transactionCheckMax: 3 };

export function useTxClients(): {
  producer: (ns: string, options?: Partial<TransactionProducerOptions>) => TransactionProducer;
  admin: (ns: string) => Admin;
} {
  const producers: TransactionProducer[] = [];
  const admins: Admin[] = [];
  afterEach(async () => {
    for (const p of producers.splice(0)) await p.shutdown().catch(() => undefined);
    for (const a of admins.splice(0)) a.close();
  });
  return {
    producer: (ns, options = {}) => {
      const p = new TransactionProducer({ namesrv: ns, group: GROUP, checker: () => 'unknown', heartbeatIntervalMs: 200, routeRefreshMs: 200, ...options });
      producers.push(p);
      return p;
    },
    admin: (ns) => {
      const a = new Admin({ namesrv: ns });
      admins.push(a);
      return a;
    },
  };
}

/** Every message of every queue of `topic` on `broker` (empty when the topic does not exist). */
export async function readTopic(admin: Admin, broker: Broker, topic: string): Promise<ReceivedMessage[]> {
  await waitDispatched(broker.store);
  const out: ReceivedMessage[] = [];
  const queues = broker.store.queueCount(topic) ?? 0;
  for (let queueId = 0; queueId < queues; queueId++) {
    const mq = { topic, queueId, brokerName: broker.config.brokerName, addr: broker.addr };
    let offset = 0;
    for (;;) {
      let r;
      try {
        r = await admin.pull(mq, offset, { maxCount: 64, pollTimeoutMs: 0 });
      } catch (err) {
        if (err instanceof UnknownTopicError) return out;
        throw err;
      }
      if (r.messages.length === 0) break;
      out.push(...r.messages);
      offset = r.nextOffset;
    }
  }
  return out;
}

export function bodies(messages: readonly ReceivedMessage[]): string[] {
  return messages.map((m) => m.body.toString()).sort();
}
