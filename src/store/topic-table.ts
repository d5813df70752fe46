// The topics a store knows: name, queue count, the append-side next queue
// offset of each queue and each queue's ConsumeQueue. Persisted as a small
// JSON file (not on any hot path), replaced atomically on every change: at
// once (`create`), or coalesced off the event loop (`createDurably`, for
// creations requested over the wire; see topic-file.ts).
import fs from 'node:fs';
import path from 'node:path';
import { InvalidTopicError, UnknownQueueError, UnknownTopicError } from '../common/index.js';
import { ConsumeQueue } from './consume-queue.js';
import type { DirectorySyncs } from './directory-syncs.js';
import type { FdCache } from './fd-cache.js';
import { TopicFile } from './topic-file.js';
import { MAX_TOPIC_LENGTH } from '../message/index.js';

/** Topic names double as directory names: no dots, no slashes. */
const TOPIC_NAME = /^[A-Za-z0-9_%|-]+$/;
export const MAX_QUEUES_PER_TOPIC = 4096;
const TOPICS_FILE = 'topics.json';

export interface TopicState {
  readonly name: string;
  readonly bytes: Buffer;
  queueCount: number;
  /** Queue offset the next appended message of each queue gets. */
  readonly nextOffsets: number[];
  readonly queues: ConsumeQueue[];
}

export function validateTopicName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidTopicError('topic name must be a non-empty string');
  if (name.length > MAX_TOPIC_LENGTH) {
    throw new InvalidTopicError(`topic name is ${name.length} characters long; the maximum is ${MAX_TOPIC_LENGTH}`);
  }
  if (!TOPIC_NAME.test(name)) {
    throw new InvalidTopicError(`topic name ${JSON.stringify(name)} has characters outside [A-Za-z0-9_%|-]`);
  }
}

export function validateQueueCount(queueCount: unknown): asserts queueCount is number {
  if (typeof queueCount !== 'number' || !Number.isInteger(queueCount) || queueCount < 1 || queueCount > MAX_QUEUES_PER_TOPIC) {
    throw new InvalidTopicError(`queue count must be an integer in [1, ${MAX_QUEUES_PER_TOPIC}], got ${String(queueCount)}`);
  }
}

export class TopicTable {
  readonly #configDir: string;
  readonly #queueRoot: string;
  readonly #fds: FdCache;
  readonly #entriesPerFile: number;
  readonly #dirSyncs: DirectorySyncs;
  readonly #topics = new Map<string, TopicState>();
  readonly #file: TopicFile;

  constructor(configDir: string, queueRoot: string, fds: FdCache, entriesPerFile: number, dirSyncs: DirectorySyncs) {
    this.#configDir = configDir;
    this.#queueRoot = queueRoot;
    this.#fds = fds;
    this.#entriesPerFile = entriesPerFile;
    this.#dirSyncs = dirSyncs;
    this.#file = new TopicFile(path.join(configDir, TOPICS_FILE), () => this.#serialize());
    for (const dir of [configDir, queueRoot]) {
      const first = fs.mkdirSync(dir, { recursive: true });
      if (first !== undefined) dirSyncs.addCreated(first, dir);
    }
  }

  /** Loads topics.json and every queue's bounds. */
  load(): void {
    const file = path.join(this.#configDir, TOPICS_FILE);
    if (!fs.existsSync(file)) return;
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { topics?: Array<{ name: string; queueCount: number }> };
    for (const t of parsed.topics ?? []) this.#ensure(t.name, t.queueCount);
  }

  get size(): number {
    return this.#topics.size;
  }

  all(): IterableIterator<TopicState> {
    return this.#topics.values();
  }

  get(name: string): TopicState | undefined {
    return this.#topics.get(name);
  }

  require(name: string): TopicState {
    const t = this.#topics.get(name);
    if (t !== undefined) return t;
    validateTopicName(name);
    throw new UnknownTopicError(`topic ${JSON.stringify(name)} does not exist; create it first`);
  }

  requireQueue(name: string, queueId: number): TopicState {
    const t = this.require(name);
    if (!Number.isInteger(queueId) || queueId < 0 || queueId >= t.queueCount) {
      throw new UnknownQueueError(`topic ${name} has queues 0..${t.queueCount - 1}; queue id ${String(queueId)} does not exist`);
    }
    return t;
  }

  queue(name: string, queueId: number): ConsumeQueue | undefined {
    return this.#topics.get(name)?.queues[queueId];
  }

  /** Creates a topic, or grows its queue count; never shrinks one. Persists the table now (synchronously). */
  create(name: string, queueCount: number): TopicState {
    validateTopicName(name);
    validateQueueCount(queueCount);
    const before = this.#topics.get(name)?.queueCount;
    const t = this.#ensure(name, queueCount);
    if (before !== t.queueCount) {
      this.#file.changed();
      this.#file.writeNow();
    }
    return t;
  }

  /**
   * Creates a topic, or grows its queue count, in memory at once; settles once
   * a durable topics.json holds it (and every change before it). Creations of
   * one burst share a write, done off the event loop. Also waits when the
   * topic already exists but a write of it is still pending or failed.
   */
  createDurably(name: string, queueCount: number): Promise<void> {
    validateTopicName(name);
    validateQueueCount(queueCount);
    const before = this.#topics.get(name)?.queueCount;
    const t = this.#ensure(name, queueCount);
    if (before !== t.queueCount) this.#file.changed();
    return this.#file.durable();
  }

  /** Whether every topic in memory is in a durable topics.json (a checkpoint vouches only for those). */
  get isDurable(): boolean {
    return this.#file.isDurable;
  }

  /** Settles when every topic so far is durable. */
  durable(): Promise<void> {
    return this.#file.durable();
  }

  /** Waits for a coalesced write in progress (closing). */
  settle(): Promise<void> {
    return this.#file.settle();
  }

  /** Coalesced topics.json writes so far. */
  get coalescedWrites(): number {
    return this.#file.writes;
  }

  #serialize(): string {
    const topics = [...this.#topics.values()].map((t) => ({ name: t.name, queueCount: t.queueCount }));
    return JSON.stringify({ topics }, null, 2);
  }

  #ensure(name: string, queueCount: number): TopicState {
    let t = this.#topics.get(name);
    if (t === undefined) {
      t = { name, bytes: Buffer.from(name, 'latin1'), queueCount: 0, nextOffsets: [], queues: [] };
      this.#topics.set(name, t);
    }
    for (let q = t.queueCount; q < queueCount; q++) {
      const cq = new ConsumeQueue(name, q, path.join(this.#queueRoot, name, String(q)), this.#entriesPerFile, this.#fds, this.#dirSyncs);
      cq.load();
      t.queues.push(cq);
      t.nextOffsets.push(cq.maxOffset);
    }
    t.queueCount = Math.max(t.queueCount, queueCount);
    return t;
  }
}
