// Queue allocation for clustering consumers: every member computes the same
// split from the same sorted lists. Queues are divided evenly; the remainder
// goes to the first members in sorted order (RocketMQ's averagely strategy).
// Pure, so it is tested on its own.

/** The slice of `queues` (already in a stable order) that member `me` of `members` (sorted) owns. */
export function allocateAveragely<T>(queues: readonly T[], members: readonly string[], me: string): T[] {
  const index = members.indexOf(me);
  if (index < 0 || queues.length === 0) return [];
  const n = queues.length;
  const m = members.length;
  const base = Math.floor(n / m);
  const extra = n % m;
  const size = base + (index < extra ? 1 : 0);
  const start = index * base + Math.min(index, extra);
  return queues.slice(start, start + size);
}
