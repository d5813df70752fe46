// One subscribed topic: its tags as the broker filters them (by tag hash) and
// the exact filter the consumer applies to what it pulled.
export interface Subscription {
  topic: string;
  tags: string[];
  /** Exact client-side filter (the broker filters by tag hash). */
  accepts: (tags: string | undefined) => boolean;
}

/** Subscription tags: '*' (every message), 'a || b', or a list. */
export function subscription(topic: string, tags: string | readonly string[] | undefined): Subscription {
  const list = parseTags(tags);
  const set = new Set(list);
  return { topic, tags: list, accepts: set.size === 0 ? () => true : (t) => t !== undefined && set.has(t) };
}

function parseTags(tags: string | readonly string[] | undefined): string[] {
  if (tags === undefined) return [];
  const list = typeof tags === 'string' ? tags.split('||') : [...tags];
  const clean = list.map((t) => t.trim()).filter((t) => t !== '');
  return clean.includes('*') ? [] : clean;
}
