// Queue locks for ordered consumption: a queue of a group is processed by at
// most one client at a time. A client locks the queues it was allocated
// before consuming them and releases them after finishing in-flight work, so
// a rebalance hands a queue over without overlap. A lock lapses if not
// renewed (a client that died without unlocking).
import type { QueueRef } from '../protocol/index.js';

interface Lock {
  clientId: string;
  expiresAt: number;
}

function key(q: QueueRef): string {
  return `${q.topic}:${q.queueId}`;
}

export class QueueLocks {
  readonly #groups = new Map<string, Map<string, Lock>>();

  /** Locks (or renews) what is free or already ours; returns the queues now held by `clientId`. */
  lock(group: string, clientId: string, queues: readonly QueueRef[], now: number, timeoutMs: number): QueueRef[] {
    let g = this.#groups.get(group);
    if (g === undefined) {
      g = new Map();
      this.#groups.set(group, g);
    }
    const held: QueueRef[] = [];
    for (const q of queues) {
      const k = key(q);
      const l = g.get(k);
      if (l === undefined || l.clientId === clientId || l.expiresAt <= now) {
        g.set(k, { clientId, expiresAt: now + timeoutMs });
        held.push(q);
      }
    }
    return held;
  }

  unlock(group: string, clientId: string, queues: readonly QueueRef[]): void {
    const g = this.#groups.get(group);
    if (g === undefined) return;
    for (const q of queues) {
      const k = key(q);
      if (g.get(k)?.clientId === clientId) g.delete(k);
    }
  }

  /** Releases every lock of a client that left the group. */
  releaseAll(group: string, clientId: string): void {
    const g = this.#groups.get(group);
    if (g === undefined) return;
    for (const [k, l] of g) if (l.clientId === clientId) g.delete(k);
  }
}
