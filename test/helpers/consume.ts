// Helpers for tests of the clients against real brokers: short client
// timings, tracking of clients so that none outlives its test, a collector
// that records every delivery a handler sees, and assignment checks.
import { afterEach } from 'vitest';
import { Admin, Consumer, Producer, type ConsumerOptions, type MessageHandler, type MessageQueue, type ProducerOptions, type ReceivedMessage } from '../../src/client/index.js';
import { sleep } from './wait.js';

/** Client timings matching the shortened broker timings of useCluster(). */
export const FAST_CLIENT = {
  heartbeatIntervalMs: 300,
  rebalanceIntervalMs: 500,
  commitIntervalMs: 100,
  pollTimeoutMs: 1000,
} as const;

export interface Clients {
  producer(namesrv: string, options?: Partial<ProducerOptions>): Producer;
  /** A consumer with FAST_CLIENT timings (overridable). */
  consumer(options: ConsumerOptions): Consumer;
  admin(namesrv: string): Admin;
}

/**
 * Registers an afterEach that shuts down every client created through the
 * returned factory (a safety net: tests also shut down in finally blocks).
 * Call after useCluster() so that clients go before the brokers (after-hooks
 * run in reverse order of registration).
 */
export function useClients(): Clients {
  const closers: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch {
        // already shut down, or its broker is gone: nothing left to release
      }
    }
  });
  return {
    producer(namesrv, options = {}) {
      const p = new Producer({ namesrv, ...options });
      closers.push(() => p.shutdown());
      return p;
    },
    consumer(options) {
      const c = new Consumer({ ...FAST_CLIENT, ...options });
      closers.push(() => c.shutdown());
      return c;
    },
    admin(namesrv) {
      const a = new Admin({ namesrv });
      closers.push(() => a.close());
      return a;
    },
  };
}

/** What a handler saw of one message (copied out of the frame). */
export interface Delivery {
  consumer: string;
  body: string;
  topic: string;
  storeTopic: string;
  brokerName: string;
  queueId: number;
  queueOffset: number;
  tags: string | undefined;
  keys: string[];
  properties: Record<string, string>;
  reconsumeTimes: number;
  messageId: string;
  at: number;
}

/** `brokerName/queueId`: a queue of one topic. */
export function queueKey(q: { brokerName: string; queueId: number }): string {
  return `${q.brokerName}/${q.queueId}`;
}

/** Records every message handed to the handlers it makes. */
export class Collector {
  readonly deliveries: Delivery[] = [];
  /** Deliveries per body. */
  readonly counts = new Map<string, number>();

  /** A handler recording each message under `consumer`; `then` runs after recording (its result is returned). */
  handler(consumer = 'consumer', then?: MessageHandler): MessageHandler {
    return (messages, ctx) => {
      const at = Date.now();
      for (const m of messages) this.record(consumer, m, at);
      return then?.(messages, ctx);
    };
  }

  record(consumer: string, m: ReceivedMessage, at = Date.now()): Delivery {
    const body = m.body.toString('utf8');
    const d: Delivery = {
      consumer,
      body,
      topic: m.topic,
      storeTopic: m.storeTopic,
      brokerName: m.brokerName,
      queueId: m.queueId,
      queueOffset: m.queueOffset,
      tags: m.tags,
      keys: m.keys,
      properties: { ...m.properties },
      reconsumeTimes: m.reconsumeTimes,
      messageId: m.messageId,
      at,
    };
    this.deliveries.push(d);
    this.counts.set(body, (this.counts.get(body) ?? 0) + 1);
    return d;
  }

  get distinct(): number {
    return this.counts.size;
  }

  /** Deliveries beyond the first of each body. */
  get duplicates(): number {
    return this.deliveries.length - this.counts.size;
  }

  /** Bodies of `expected` not delivered yet. */
  missing(expected: Iterable<string>): string[] {
    const out: string[] = [];
    for (const b of expected) if (!this.counts.has(b)) out.push(b);
    return out;
  }

  /** Waits until every body of `expected` was delivered at least once. */
  async waitForAll(expected: readonly string[] | Set<string>, timeoutMs = 15_000, what = 'every message'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const missing = this.missing(expected);
      if (missing.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${missing.length} not delivered, e.g. ${missing.slice(0, 5).join(', ')}`);
      }
      await sleep(20);
    }
  }

  /** Offsets delivered per queue (`brokerName/queueId`), in delivery order. */
  offsetsByQueue(filter: (d: Delivery) => boolean = () => true): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const d of this.deliveries) {
      if (!filter(d)) continue;
      const k = queueKey(d);
      const list = out.get(k) ?? [];
      list.push(d.queueOffset);
      out.set(k, list);
    }
    return out;
  }
}

/** Polls `check` (returning a problem, or undefined when fine) until it holds `stableChecks` times in a row. */
export async function waitStable(check: () => string | undefined, what: string, timeoutMs = 10_000, stableChecks = 3, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let ok = 0;
  let problem: string | undefined;
  for (;;) {
    problem = check();
    ok = problem === undefined ? ok + 1 : 0;
    if (ok >= stableChecks) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${problem ?? 'not stable'}`);
    await sleep(intervalMs);
  }
}

/** Queue keys of a consumer's assignment on one topic, sorted. */
export function assignedKeys(assignment: readonly MessageQueue[], topic: string): string[] {
  return assignment
    .filter((q) => q.topic === topic)
    .map(queueKey)
    .sort();
}

/**
 * What RocketMQ's averagely allocation gives each member (by sorted client id)
 * of `queues` (in route order: broker name, then queue id), written out
 * independently of src/client/allocate.ts.
 */
export function expectedSplit(queues: readonly MessageQueue[], clientIds: readonly string[]): Map<string, string[]> {
  const members = [...clientIds].sort();
  const ordered = [...queues].sort((a, b) => (a.brokerName === b.brokerName ? a.queueId - b.queueId : a.brokerName < b.brokerName ? -1 : 1));
  const out = new Map<string, string[]>();
  let at = 0;
  members.forEach((id, i) => {
    const size = Math.floor(ordered.length / members.length) + (i < ordered.length % members.length ? 1 : 0);
    out.set(id, ordered.slice(at, at + size).map(queueKey).sort());
    at += size;
  });
  return out;
}
