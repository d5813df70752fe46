// Public shapes of the message store's API.
import type { DecodedMessage } from '../message/index.js';

/** A message as a producer hands it to the store. */
export interface StoreMessage {
  body: Uint8Array;
  /** One tag, used for server-side filtering (by hash) and client-side filtering. */
  tags?: string;
  /** Business keys, indexed for query by key. */
  keys?: string | readonly string[];
  /** User properties (names and values must not contain \x01 or \x02). */
  properties?: Readonly<Record<string, string>>;
  /** User flag, stored as is. */
  flag?: number;
  /** When the producer created the message (ms since epoch); defaults to the store time. */
  bornTimestamp?: number;
  /** How many times the message was re-delivered (set by the broker for retries). */
  reconsumeTimes?: number;
  /** Stored in place of the tag hash (the broker's timer keeps a waiting message's due time there, readable without decoding). */
  tagsCode?: number;
}

export type FlushMode = 'sync' | 'async';

export interface PutResult {
  status: 'PUT_OK';
  topic: string;
  queueId: number;
  /** Queue offset of the first message; the batch's offsets are consecutive. */
  queueOffset: number;
  count: number;
  /** CommitLog offset of each message, in batch order. */
  physicalOffsets: number[];
  /** CommitLog offset just past the batch (what a replica must hold for it to be safe). */
  endOffset: number;
  storeTimestamp: number;
}

/**
 * Outcome of a read. Reads never throw for a bad position: the status says
 * what happened and `nextOffset` where to go.
 * - FOUND: `records` holds `count` raw records.
 * - NO_NEW_MESSAGE: offset == maxOffset, nothing yet.
 * - NO_MATCHED_MESSAGE: entries were scanned but the tag filter matched none.
 * - OFFSET_MOVED: offset < minOffset, the data was deleted by retention.
 * - OFFSET_OVERFLOW: offset > maxOffset.
 * - NO_SUCH_QUEUE: the topic or queue id does not exist.
 */
export type GetStatus = 'FOUND' | 'NO_NEW_MESSAGE' | 'NO_MATCHED_MESSAGE' | 'OFFSET_MOVED' | 'OFFSET_OVERFLOW' | 'NO_SUCH_QUEUE';

export interface GetResult {
  status: GetStatus;
  /** Concatenated raw CommitLog records, ready to send as they are. */
  records: Buffer;
  count: number;
  nextOffset: number;
  minOffset: number;
  maxOffset: number;
}

/** Called after the dispatcher made new messages of a queue visible. */
export type ArrivalListener = (topic: string, queueId: number, maxOffset: number) => void;

/** Raw CommitLog bytes for a replica: whole records from `offset` to `nextOffset`. */
export interface LogChunk {
  offset: number;
  bytes: Buffer;
  nextOffset: number;
}

/** A bounded lookup by key (MessageStore.queryKey). */
export interface KeyQueryResult {
  /** Messages of the topic carrying the key, newest first. */
  messages: DecodedMessage[];
  /** Index slots and entries read. */
  examined: number;
  /** The candidate budget ran out before every index file was searched: older matches may exist. */
  truncated: boolean;
}

/** Lookups by key so far (counters: diff two readings). */
export interface KeyLookupStats {
  lookups: number;
  /** Index slots and entries read, over all lookups. */
  examined: number;
  /** Lookups whose candidate budget ran out. */
  truncated: number;
}

/** Positions and counters of a store, for stats and tests. */
export interface StoreStats {
  flushMode: 'sync' | 'async';
  minOffset: number;
  appendOffset: number;
  writtenOffset: number;
  flushedOffset: number;
  dispatchedOffset: number;
  segments: number;
  topics: number;
  flushCycles: number;
  /** CommitLog segments ready beyond the one being written (zero-filled or recycled). */
  spareSegments: number;
  pendingPuts: number;
  openQueueFiles: number;
  diskFull: boolean;
  /**
   * Set once an fdatasync failed (commit log, ConsumeQueue, key index or
   * checkpoint): the failure ("CODE: message"). The store then refuses every
   * write with METAQ_STORE_UNAVAILABLE until it is reopened (and has verified
   * its tail); reads go on.
   */
  unavailable: string | undefined;
  /** The last dispatch failure (e.g. a full disk while writing ConsumeQueues), until a pass succeeds. */
  dispatchError: string | undefined;
  /** True when this open found an unclean stop and ran recovery over the tail. */
  recovered: boolean;
  /** True when recovery at open cut off bytes that were not valid records (a torn tail). */
  truncatedTail: boolean;
}
