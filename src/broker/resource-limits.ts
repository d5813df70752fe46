// The broker's resource limits: how many topics, queues per topic and
// consumer groups clients may make it keep, how many groups one heartbeat may
// name, and how much one lookup by key may read and answer. Each refusal is a
// LimitExceededError named after its config key and counted under that name
// in the broker's RefusalCounters (BROKER_STATS refusals; docs/SECURITY.md).
import { checkInteger, DLQ_TOPIC_PREFIX, InvalidConfigError, LimitExceededError, RETRY_TOPIC_PREFIX, type RefusalCounters } from '../common/index.js';
import { MAX_QUEUES_PER_TOPIC } from '../store/index.js';

export interface ResourceLimitsConfig {
  /** Topics the broker holds, every kind (its own schedule, retry and dead-letter topics included). Default 4096. */
  maxTopics?: number;
  /** Queues one topic may have (CREATE_TOPIC, config). Default 256; at most 4096. */
  maxQueuesPerTopic?: number;
  /** Consumer groups the broker knows (each may get a retry and a dead-letter topic). Default 1024. */
  maxGroups?: number;
  /** Groups one HEARTBEAT may name. Default 16. */
  maxGroupsPerHeartbeat?: number;
  /** QUERY_BY_KEY answers at most this many messages, whatever maxCount asks. Default 256. */
  maxKeyQueryCount?: number;
  /** Index slots and entries one QUERY_BY_KEY may read before it answers what it found (status Truncated). Default 4096. */
  maxKeyLookupCandidates?: number;
}

export const RESOURCE_LIMIT_DEFAULTS = {
  maxTopics: 4096,
  maxQueuesPerTopic: 256,
  maxGroups: 1024,
  maxGroupsPerHeartbeat: 16,
  maxKeyQueryCount: 256,
  maxKeyLookupCandidates: 4096,
};

export type ResolvedResourceLimits = typeof RESOURCE_LIMIT_DEFAULTS;

/** The largest value a u16 maxCount field can ask for. */
const MAX_WIRE_COUNT = 0xffff;
/** One topic's entry in REGISTER_BROKER: topic str8 (at most 1 + 127 bytes) and queueCount u32. */
export const MAX_REGISTERED_TOPIC_BYTES = 1 + 127 + 4;
/** REGISTER_BROKER's fixed fields: brokerName str8, addr str8, role u8, topicCount u32. */
export const REGISTRATION_HEAD_BYTES = 256 + 256 + 1 + 4;

/** How many topics a registration can list within one frame body of `frameBodyBytes`. */
export function topicsFittingOneRegistration(frameBodyBytes: number): number {
  return Math.max(1, Math.floor((frameBodyBytes - REGISTRATION_HEAD_BYTES) / MAX_REGISTERED_TOPIC_BYTES));
}

/**
 * Checks the limits of a resolved broker config (the keys are the broker's;
 * unknown keys are caught there). maxTopics, when not given, is its default
 * or fewer: as many as one registration frame can list.
 */
export function checkResourceLimits(c: ResolvedResourceLimits, frameBodyBytes: number, maxTopicsGiven: boolean): void {
  if (!maxTopicsGiven) c.maxTopics = Math.min(c.maxTopics, topicsFittingOneRegistration(frameBodyBytes));
  checkInteger('maxTopics', c.maxTopics);
  checkInteger('maxQueuesPerTopic', c.maxQueuesPerTopic, 1, MAX_QUEUES_PER_TOPIC);
  checkInteger('maxGroups', c.maxGroups);
  checkInteger('maxGroupsPerHeartbeat', c.maxGroupsPerHeartbeat, 1, 255);
  checkInteger('maxKeyQueryCount', c.maxKeyQueryCount, 1, MAX_WIRE_COUNT);
  checkInteger('maxKeyLookupCandidates', c.maxKeyLookupCandidates);
  // The registration lists every topic: with maxTopics of them it must still fit one frame.
  const registration = REGISTRATION_HEAD_BYTES + c.maxTopics * MAX_REGISTERED_TOPIC_BYTES;
  if (registration > frameBodyBytes) {
    throw new InvalidConfigError(
      `maxTopics ${c.maxTopics} lets the registration sent to name servers reach ${registration} bytes, more than a frame of maxFrameSize carries (${frameBodyBytes}): lower maxTopics or raise maxFrameSize`,
    );
  }
}

/** Groups named by the broker's own retry and dead-letter topics: known from before a restart. */
export function groupsOfTopics(topics: Iterable<string>): string[] {
  const out: string[] = [];
  for (const t of topics) {
    if (t.startsWith(RETRY_TOPIC_PREFIX)) out.push(t.slice(RETRY_TOPIC_PREFIX.length));
    else if (t.startsWith(DLQ_TOPIC_PREFIX)) out.push(t.slice(DLQ_TOPIC_PREFIX.length));
  }
  return out;
}

/** What the limits need to know of the store. */
export interface TopicCounts {
  readonly topicCount: number;
  queueCount(topic: string): number | undefined;
}

export class ResourceLimits {
  readonly #c: ResolvedResourceLimits;
  readonly #refusals: RefusalCounters;
  readonly #topics: TopicCounts;
  /** Groups admitted so far (heartbeats, SEND_BACK), and those known from the broker's own topics at start. */
  readonly #groups = new Set<string>();

  constructor(c: ResolvedResourceLimits, topics: TopicCounts, refusals: RefusalCounters, knownGroups: Iterable<string>) {
    this.#c = c;
    this.#topics = topics;
    this.#refusals = refusals;
    for (const g of knownGroups) this.#groups.add(g);
  }

  get groupCount(): number {
    return this.#groups.size;
  }

  /**
   * Checks that creating (or growing) `topics`, each to `queueCount` queues,
   * stays within maxTopics and maxQueuesPerTopic; throws (and counts) if not.
   * All or nothing: nothing is created here.
   */
  admitTopics(topics: readonly string[], queueCount: number): void {
    let fresh = 0;
    for (const t of topics) {
      const existing = this.#topics.queueCount(t);
      if (queueCount > this.#c.maxQueuesPerTopic && queueCount > (existing ?? 0)) {
        throw this.#refuse('maxQueuesPerTopic', `topic ${JSON.stringify(t)} may have at most ${this.#c.maxQueuesPerTopic} queues on this broker, ${queueCount} were asked for`);
      }
      if (existing === undefined) fresh++;
    }
    if (fresh > 0 && this.#topics.topicCount + fresh > this.#c.maxTopics) {
      throw this.#refuse('maxTopics', `this broker holds ${this.#topics.topicCount} topics, at most ${this.#c.maxTopics}; ${topics.length === 1 ? `topic ${JSON.stringify(topics[0])}` : `${fresh} more topics`} refused (existing topics keep working)`);
    }
  }

  /**
   * Admits the groups one request names (a heartbeat, or a SEND_BACK's one):
   * at most maxGroupsPerHeartbeat of them, and new ones only while the broker
   * knows fewer than maxGroups. All or nothing; known groups always pass.
   */
  admitGroups(groups: readonly string[], perRequestLimit = true): void {
    if (perRequestLimit && groups.length > this.#c.maxGroupsPerHeartbeat) {
      throw this.#refuse('maxGroupsPerHeartbeat', `a heartbeat may name at most ${this.#c.maxGroupsPerHeartbeat} groups, this one names ${groups.length}`);
    }
    const fresh = new Set(groups.filter((g) => !this.#groups.has(g)));
    if (fresh.size === 0) return;
    if (this.#groups.size + fresh.size > this.#c.maxGroups) {
      throw this.#refuse('maxGroups', `this broker knows ${this.#groups.size} consumer groups, at most ${this.#c.maxGroups}; new group ${JSON.stringify([...fresh][0])} refused (known groups keep working)`);
    }
    for (const g of fresh) this.#groups.add(g);
  }

  /** maxCount of a QUERY_BY_KEY, as served: at least 1, at most maxKeyQueryCount. */
  keyQueryCount(asked: number): number {
    return Math.min(Math.max(1, asked), this.#c.maxKeyQueryCount);
  }

  get maxKeyLookupCandidates(): number {
    return this.#c.maxKeyLookupCandidates;
  }

  /** Counts a bound that cut an answer short without refusing it (QUERY_BY_KEY, status Truncated). */
  countTruncation(limit: string): void {
    this.#refusals.count(limit);
  }

  #refuse(limit: keyof ResolvedResourceLimits, detail: string): LimitExceededError {
    this.#refusals.count(limit);
    return new LimitExceededError(limit, detail);
  }
}
