// Waiting helpers: sleep, and poll a condition until it holds or a deadline passes.
import type { MessageStore } from '../../src/store/index.js';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One turn of the event loop (lets setImmediate callbacks such as the store's dispatch run). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export async function waitUntil(condition: () => boolean, what = 'condition', timeoutMs = 10_000, intervalMs = 2): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Waits until every acknowledged write of the store is visible to readers
 * (dispatched into the ConsumeQueues): puts resolve before the dispatcher runs.
 */
export async function waitDispatched(store: MessageStore, timeoutMs = 10_000): Promise<void> {
  await waitUntil(
    () => {
      const s = store.stats();
      const confirmed = s.flushMode === 'sync' ? s.flushedOffset : s.writtenOffset;
      return s.pendingPuts === 0 && s.dispatchedOffset >= confirmed;
    },
    'the store to dispatch every acknowledged write',
    timeoutMs,
    1,
  );
}
