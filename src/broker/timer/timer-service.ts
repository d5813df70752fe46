// The broker's one scheduler of delayed messages: public delayed sends
// (TIMER_DELAY_MS / TIMER_DELIVER_MS) and re-deliveries (SEND_BACK) alike.
// RocketMQ 5's timer (TimerLog + TimerWheel, per-second slots, linked
// records, enqueue and dequeue checkpoints) is the model, on the store's own
// parts (docs/STORAGE.md, "Delayed messages"):
//
// - Storing: a delayed message is written at once to TIMER_TOPIC (one queue,
//   send order), its destination in properties (REAL_TOPIC, REAL_QID) and its
//   due time both in TIMER_DELIVER_MS and in the record's tagsCode, so the
//   timer reads it from the record head without decoding. It is a CommitLog
//   record like any other: SEND_OK means what the flush mode says, and it
//   replicates.
// - Enqueue: the timer follows TIMER_TOPIC and adds each message to the wheel
//   (timer-wheel.ts: one slot per second, first and last offset) and its
//   chain link to disk (timer-links.ts). Nothing per message stays in memory.
// - Dequeue: the cursor second's chain is walked into a list of offsets (in
//   send order); each message is copied to its real queue once due (never
//   before), in that order; then the cursor moves on. It leaves a second only
//   once every message stored before that second ended is in the wheel, so a
//   message is always in the slot of its own second.
// - Progress: cursor second, last offset delivered in it, the CommitLog
//   offset at that moment and an offset below which all is delivered
//   (timer-checkpoint.ts), written twice a second, never ahead of what the
//   CommitLog holds durably. Every delivered copy carries its TIMER_TOPIC
//   offset (TIMER_OFFSET).
// - Recovery: the wheel and links are rebuilt from TIMER_TOPIC (from
//   scanFrom); a message is delivered if its second is before the cursor, or
//   is the cursor's and at most slotDone, or if a copy carrying its offset
//   lies in the CommitLog after the checkpoint's log offset (scanned once at
//   start): so a crash between a delivery and its checkpoint delivers nothing
//   twice, and nothing is lost or early.
import { join } from 'node:path';
import {
  InvalidMessageError,
  InvalidTopicError,
  MetaqError,
  PROPERTY_ORIGIN_MESSAGE_ID,
  PROPERTY_REAL_QUEUE_ID,
  PROPERTY_REAL_TOPIC,
  PROPERTY_TIMER_DELAY_MS,
  PROPERTY_TIMER_DELIVER_MS,
  PROPERTY_TIMER_OFFSET,
  SCHEDULE_TOPIC,
  TIMER_TOPIC,
  UnknownQueueError,
  UnknownTopicError,
  encodeMessageId,
  readU64,
} from '../../common/index.js';
import { MESSAGE_MAGIC, OFF_MAGIC, OFF_QUEUE_OFFSET, OFF_STORE_TIMESTAMP, OFF_TAGS_CODE, OFF_TOTAL_SIZE } from '../../message/index.js';
import { decodeRecord, decodeRecords, type DecodedMessage, type MessageStore, type PutResult, type StoreMessage } from '../../store/index.js';
import type { WireMessage } from '../../protocol/index.js';
import { deliverAtOf } from './delay.js';
import { readTimerCheckpoint, writeTimerCheckpoint, type TimerCheckpoint } from './timer-checkpoint.js';
import { TimerLinks } from './timer-links.js';
import { TimerWheel } from './timer-wheel.js';

const SEC_MS = 1000;
/** Slots beyond maxDelayMs: room for the cursor to fall behind (a broker down for a while) before enqueue must wait. */
const WHEEL_MARGIN_SEC = 3600;
/** Messages read from TIMER_TOPIC per step (enqueue, recovery). */
const READ_BATCH = 1024;
const READ_BYTES = 4 * 1024 * 1024;
/** Messages copied to their real queues per step; one await per step. */
const DELIVER_BATCH = 512;
/** How often progress is written (and the link files below it deleted). */
const CHECKPOINT_INTERVAL_MS = 500;
/** After a failed delivery (store full, closing), try again later rather than spin. */
const RETRY_AFTER_ERROR_MS = 1000;
/** The cursor waits for a message it has not read yet (stored, not visible): look again this soon. */
const WAIT_FOR_ENQUEUE_MS = 10;
/** The CommitLog is read in chunks of this size when recovery looks for deliveries after the checkpoint. */
const LOG_SCAN_BYTES = 4 * 1024 * 1024;
/** Progress points waiting for the CommitLog's flush. */
const MAX_PROGRESS_KEPT = 4096;
const TIMER_OFFSET_MARK = Buffer.from(`${PROPERTY_TIMER_OFFSET}\x01`, 'latin1');
/** Properties the timer sets, never taken from a client nor carried to a delivered copy. */
const TIMER_PROPERTIES = new Set([PROPERTY_TIMER_DELAY_MS, PROPERTY_TIMER_DELIVER_MS, PROPERTY_TIMER_OFFSET, PROPERTY_REAL_TOPIC, PROPERTY_REAL_QUEUE_ID]);

/**
 * Where older brokers' retry service left off in SCHEDULE_TOPIC (one queue
 * per delay level): what is still waiting there is moved into the timer once,
 * at start.
 */
export interface LegacySchedule {
  /** The delay of each level (the broker's retryDelaysMs; the last repeats). */
  delaysMs: readonly number[];
  /** How far a level was moved (the %SCHEDULE% group's offset), if ever. */
  committed(level: number): number | undefined;
  commit(level: number, offset: number): void;
}

export interface TimerServiceOptions {
  store: MessageStore;
  /** Where the checkpoint and the link files live (the store's directory/timer). */
  dir: string;
  maxDelayMs: number;
  /** The store's retention: a waiting message older than this is deleted (warned about at start). */
  retentionMs: number;
  storeHost: string;
  storePort: number;
  onError: (err: unknown) => void;
  legacy?: LegacySchedule;
}

/** A message a SEND hands over, as the protocol decodes it. */
export type TimerSendMessage = WireMessage;

export interface TimerStats {
  /** Messages waiting in the wheel. */
  pending: number;
  /** Copied to their real queues since start. */
  delivered: number;
  /** Due messages whose real topic or queue is gone, or whose record retention deleted: dropped. */
  dropped: number;
  /** The second being delivered. */
  cursorSec: number;
}

/** One moment of delivery progress, kept until the CommitLog holds its deliveries durably. */
interface Progress {
  cursorSec: number;
  slotDone: number;
  logOffset: number;
  scanFrom: number;
}

export class TimerService {
  readonly #o: TimerServiceOptions;
  readonly #store: MessageStore;
  readonly #wheel: TimerWheel;
  readonly #links: TimerLinks;
  /** Next TIMER_TOPIC offset to add to the wheel. */
  #enqOff: number;
  /** Store time (s) of the message the enqueue had to leave for now (due too far ahead of the cursor for the wheel). */
  #heldStoreSec: number | undefined;
  /**
   * Puts to TIMER_TOPIC in the order they began, with the time their due
   * times were taken from and (once resolved) the offset past them; dropped
   * from the front once enqueued. The cursor leaves a second only when none
   * that began before the second ended is left.
   */
  readonly #puts: { startedAt: number; end: number }[] = [];
  #cursorSec: number;
  #slotDone: number;
  /** The cursor second's messages (offsets, send order) and how many are done. */
  #cur = new Float64Array(1024);
  #curLen = 0;
  #curPos = 0;
  #curLoaded = false;
  /** Offsets known delivered out of the usual order (recovery's log scan; a batch after a failed put). */
  readonly #deliveredAhead = new Set<number>();
  /** A lower bound of scanFrom, computed before any progress taken since. */
  #scanFromBound: number;
  readonly #progress: Progress[] = [];
  #lastWritten: Progress | undefined;
  #writing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #kickAgain = false;
  /** The checkpoint this run started from: what it says was delivered is never enqueued again. */
  readonly #recovered: TimerCheckpoint | undefined;
  #closed = false;
  readonly #migrating: Promise<void>;
  readonly #checkpointTimer: NodeJS.Timeout;
  readonly #unsubscribe: () => void;
  #pending = 0;
  #delivered = 0;
  #dropped = 0;

  constructor(o: TimerServiceOptions) {
    this.#o = o;
    const store = o.store;
    this.#store = store;
    if (store.queueCount(TIMER_TOPIC) === undefined) store.createTopic(TIMER_TOPIC, 1);
    if (o.retentionMs < o.maxDelayMs) o.onError(new MetaqError(`store.retentionMs ${o.retentionMs} is shorter than maxDelayMs ${o.maxDelayMs}: messages delayed longer than retention are deleted before they are due`));
    this.#wheel = new TimerWheel(Math.ceil(o.maxDelayMs / SEC_MS) + WHEEL_MARGIN_SEC);
    this.#links = new TimerLinks(join(o.dir, 'links'));
    const cp = readTimerCheckpoint(o.dir);
    const min = store.minOffset(TIMER_TOPIC, 0);
    this.#cursorSec = cp?.cursorSec ?? Math.floor(Date.now() / SEC_MS);
    this.#slotDone = cp?.slotDone ?? -1;
    this.#enqOff = Math.max(cp?.scanFrom ?? min, min);
    this.#recovered = cp;
    if (cp !== undefined) this.#findDeliveredAfter(cp.logOffset);
    this.#enqueue();
    this.#scanFromBound = this.#wheel.minFirst(this.#enqOff);
    this.#lastWritten = cp;
    this.#unsubscribe = store.onArrival((topic) => {
      if (topic === TIMER_TOPIC) this.#enqueue();
    });
    this.#checkpointTimer = setInterval(() => this.#checkpoint(), CHECKPOINT_INTERVAL_MS);
    this.#checkpointTimer.unref();
    this.#kick();
    this.#migrating = this.#migrateLegacy().catch((err: unknown) => this.#o.onError(err));
  }

  stats(): TimerStats {
    return { pending: this.#pending, delivered: this.#delivered, dropped: this.#dropped, cursorSec: this.#cursorSec };
  }

  /** Refuses sends that would write the timer's own topic directly. */
  static checkSendTopic(topic: string): void {
    if (topic === TIMER_TOPIC) throw new InvalidTopicError(`topic ${TIMER_TOPIC} is the broker's own: send with a delay instead`);
  }

  /**
   * A SEND's batch, if the timer takes it: delayed messages (every message of
   * the batch, or none, carries a delay) are stored in TIMER_TOPIC; timer
   * properties a client may not set are dropped. Undefined: an ordinary
   * batch, for the store as it is.
   */
  send(topic: string, queueId: number, messages: readonly TimerSendMessage[]): Promise<PutResult> | undefined {
    let delayed = 0;
    let reserved = false;
    for (const m of messages) {
      const p = m.properties;
      if (p === undefined) continue;
      if (p[PROPERTY_TIMER_DELAY_MS] !== undefined || p[PROPERTY_TIMER_DELIVER_MS] !== undefined) delayed++;
      else if (p[PROPERTY_TIMER_OFFSET] !== undefined) reserved = true;
    }
    if (delayed === 0 && !reserved) return undefined;
    try {
      if (delayed === 0) return this.#store.put(topic, queueId, messages.map((m) => ({ ...m, properties: withoutTimerProperties(m.properties) })));
      if (delayed !== messages.length) throw new InvalidMessageError(`a batch is delayed as a whole: ${delayed} of its ${messages.length} messages carry a delay`);
      this.#requireQueue(topic, queueId);
      const now = Date.now();
      const out = messages.map((m) => this.#waiting(m, topic, queueId, deliverAtOf(m.properties, now, this.#o.maxDelayMs)!, 0));
      return this.#put(out, now).then((r) => ({ ...r, topic, queueId }));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The broker's own delayed delivery (a re-delivery): `message` goes to `topic`/`queueId` after `delayMs`. */
  scheduleIn(topic: string, queueId: number, message: StoreMessage, delayMs: number): Promise<PutResult> {
    const now = Date.now();
    return this.#put([this.#waiting(message, topic, queueId, now + delayMs, message.reconsumeTimes ?? 0)], now);
  }

  /** Stops delivering and writes the last progress whose deliveries are durable. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    clearInterval(this.#checkpointTimer);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running;
    await this.#migrating;
    await this.#writing;
    this.#checkpoint();
    await this.#writing;
    this.#links.close();
  }

  /**
   * Moves what older brokers left waiting in SCHEDULE_TOPIC into the timer,
   * due when it would have been (at once if that is past), then marks the
   * level moved. A crash between a move and its mark (persisted with the
   * consumer offsets) moves those messages again: at least once, as the old
   * retry service was.
   */
  async #migrateLegacy(): Promise<void> {
    const l = this.#o.legacy;
    const store = this.#store;
    const levels = store.queueCount(SCHEDULE_TOPIC);
    if (l === undefined || levels === undefined) return;
    for (let level = 0; level < levels; level++) {
      const delay = l.delaysMs[Math.min(level, l.delaysMs.length - 1)]!;
      let offset = l.committed(level) ?? store.minOffset(SCHEDULE_TOPIC, level);
      for (;;) {
        if (this.#closed) return;
        const got = store.getMessages(SCHEDULE_TOPIC, level, offset, READ_BATCH, READ_BYTES);
        if (got.status === 'OFFSET_MOVED') {
          offset = got.nextOffset;
          continue;
        }
        if (got.status !== 'FOUND') break;
        const now = Date.now();
        const out: StoreMessage[] = [];
        for (const m of decodeRecords(got.records)) {
          const topic = m.properties[PROPERTY_REAL_TOPIC];
          const n = topic === undefined ? undefined : store.queueCount(topic);
          if (n === undefined) continue;
          out.push(this.#waiting(m, topic!, Number(m.properties[PROPERTY_REAL_QUEUE_ID] ?? 0) % n, Math.max(now, m.storeTimestamp + delay), m.reconsumeTimes));
        }
        if (out.length > 0) await this.#put(out, now);
        offset = got.nextOffset;
        l.commit(level, offset);
      }
    }
  }

  #requireQueue(topic: string, queueId: number): void {
    TimerService.checkSendTopic(topic);
    const n = this.#store.queueCount(topic);
    if (n === undefined) throw new UnknownTopicError(`topic ${JSON.stringify(topic)} does not exist`);
    if (!(queueId < n)) throw new UnknownQueueError(`topic ${JSON.stringify(topic)} has ${n} queues; there is no queue ${queueId}`);
  }

  /** The TIMER_TOPIC record of a message due at `due` for `topic`/`queueId`. */
  #waiting(m: TimerSendMessage, topic: string, queueId: number, due: number, reconsumeTimes: number): StoreMessage {
    const properties = withoutTimerProperties(m.properties);
    properties[PROPERTY_REAL_TOPIC] = topic;
    properties[PROPERTY_REAL_QUEUE_ID] = String(queueId);
    properties[PROPERTY_TIMER_DELIVER_MS] = String(due);
    return { body: m.body, tags: m.tags, keys: m.keys, flag: m.flag, bornTimestamp: m.bornTimestamp, reconsumeTimes, properties, tagsCode: due };
  }

  /** Every put to TIMER_TOPIC goes through here; `now` is the time its due times were taken from (none is before it). */
  #put(messages: StoreMessage[], now: number): Promise<PutResult> {
    const entry = { startedAt: now, end: -1 };
    let p: Promise<PutResult>;
    try {
      p = this.#store.put(TIMER_TOPIC, 0, messages);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#puts.push(entry);
    return p.then(
      (r) => {
        entry.end = r.queueOffset + r.count;
        return r;
      },
      (err: unknown) => {
        entry.end = 0;
        throw err;
      },
    );
  }

  /**
   * Adds what TIMER_TOPIC holds past #enqOff to the wheel, but messages the
   * checkpoint of the start says were delivered (those stored since are all
   * due at or after its cursor, at offsets past its slotDone: never skipped).
   */
  #enqueue(): void {
    const recovering = this.#recovered;
    if (this.#closed) return;
    if (this.#heldStoreSec !== undefined) return;
    const store = this.#store;
    for (;;) {
      const got = store.getMessages(TIMER_TOPIC, 0, this.#enqOff, READ_BATCH, READ_BYTES);
      if (got.status === 'OFFSET_MOVED') {
        this.#o.onError(new MetaqError(`delayed messages ${this.#enqOff}..${got.nextOffset - 1} were deleted by retention before they were due`));
        this.#dropped += got.nextOffset - this.#enqOff;
        this.#enqOff = got.nextOffset;
        continue;
      }
      if (got.status !== 'FOUND') return;
      const buf = got.records;
      const first = this.#enqOff;
      const links = Buffer.allocUnsafe(got.count * 8);
      let n = 0;
      let addedToCursor = false;
      for (let at = 0; at < buf.length; at += buf.readUInt32BE(at + OFF_TOTAL_SIZE)) {
        const offset = readU64(buf, at + OFF_QUEUE_OFFSET);
        let sec = Math.floor(readU64(buf, at + OFF_TAGS_CODE) / SEC_MS);
        let prev = -1;
        if (recovering === undefined || !this.#deliveredBefore(recovering, offset, sec)) {
          // Never earlier than the cursor: only when the wheel was rebuilt without a checkpoint (a copied store).
          if (sec < this.#cursorSec) sec = this.#cursorSec;
          if (sec - this.#cursorSec >= this.#wheel.size) {
            this.#heldStoreSec = Math.floor(readU64(buf, at + OFF_STORE_TIMESTAMP) / SEC_MS);
            break;
          }
          prev = this.#wheel.add(sec, offset);
          this.#pending++;
          if (sec === this.#cursorSec && this.#curLoaded) {
            this.#pushCur(offset);
            addedToCursor = true;
          }
        }
        links.writeDoubleLE(prev, n * 8);
        n++;
        this.#enqOff = offset + 1;
      }
      if (n > 0) this.#links.write(first, links.subarray(0, n * 8));
      if (addedToCursor) this.#kick();
      if (this.#heldStoreSec !== undefined) return;
    }
  }

  #deliveredBefore(cp: TimerCheckpoint, offset: number, sec: number): boolean {
    if (this.#deliveredAhead.delete(offset)) return true;
    return sec < cp.cursorSec || (sec === cp.cursorSec && offset <= cp.slotDone);
  }

  /** Recovery: the TIMER_TOPIC offsets of copies in the CommitLog past `from` (delivered after the checkpoint). */
  #findDeliveredAfter(from: number): void {
    const store = this.#store;
    const log = store.replicaLog;
    let offset = Math.max(from, store.stats().minOffset);
    for (;;) {
      const chunk = log.readLog(offset, LOG_SCAN_BYTES);
      if (chunk === undefined) return;
      const buf = chunk.bytes;
      let at = 0;
      while (at + 8 <= buf.length) {
        const size = buf.readUInt32BE(at + OFF_TOTAL_SIZE);
        if (buf.readUInt32BE(at + OFF_MAGIC) !== MESSAGE_MAGIC || size === 0 || at + size > buf.length) break;
        const rec = buf.subarray(at, at + size);
        if (rec.includes(TIMER_OFFSET_MARK)) {
          const m = decodeRecord(buf, at);
          const v = m.properties[PROPERTY_TIMER_OFFSET];
          if (m.topic !== TIMER_TOPIC && v !== undefined) this.#deliveredAhead.add(Number(v));
        }
        at += size;
      }
      // Whole records only; past a segment's blank tail, the next segment.
      offset = chunk.nextOffset;
    }
  }

  #pushCur(offset: number): void {
    if (this.#curLen === this.#cur.length) {
      const grown = new Float64Array(this.#cur.length * 2);
      grown.set(this.#cur);
      this.#cur = grown;
    }
    this.#cur[this.#curLen++] = offset;
  }

  /** Walks the cursor second's chain into #cur, oldest first, past slotDone. */
  #loadCur(): void {
    this.#curLen = 0;
    this.#curPos = 0;
    for (let o = this.#wheel.last(this.#cursorSec); o >= 0 && o > this.#slotDone; o = this.#links.read(o)) this.#pushCur(o);
    this.#cur.subarray(0, this.#curLen).reverse();
    this.#curLoaded = true;
  }

  #kick(): void {
    if (this.#closed) return;
    if (this.#running !== undefined) {
      this.#kickAgain = true;
      return;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#running = this.#deliverDue().then(
      (waitMs) => this.#ran(waitMs),
      (err: unknown) => {
        if (!this.#closed) this.#o.onError(err);
        this.#ran(RETRY_AFTER_ERROR_MS);
      },
    );
  }

  #ran(waitMs: number): void {
    this.#running = undefined;
    if (this.#closed) return;
    if (this.#kickAgain) {
      this.#kickAgain = false;
      this.#kick();
      return;
    }
    this.#timer = setTimeout(() => this.#kick(), waitMs);
  }

  /** Delivers what is due; returns how long to sleep (an enqueue into the cursor second wakes it sooner). */
  async #deliverDue(): Promise<number> {
    for (;;) {
      if (this.#closed) return 0;
      if (!this.#curLoaded) this.#loadCur();
      const now = Date.now();
      if (this.#curPos < this.#curLen) {
        const waitMs = await this.#deliverBatch(now);
        if (waitMs !== undefined) return waitMs;
        continue;
      }
      const end = (this.#cursorSec + 1) * SEC_MS;
      if (now < end) return end - now;
      if (!this.#mayLeaveCursor()) return WAIT_FOR_ENQUEUE_MS;
      this.#wheel.clear(this.#cursorSec);
      this.#cursorSec++;
      this.#slotDone = -1;
      this.#curLoaded = false;
      this.#noteProgress();
      if (this.#heldStoreSec !== undefined) {
        this.#heldStoreSec = undefined;
        this.#enqueue();
      }
    }
  }

  /**
   * Every message that may be due in the cursor second is in the wheel: every
   * put that began before the second ended (a later one's due times are all
   * later) has resolved and been enqueued. (While the enqueue waits for room,
   * what it has not read was stored after the held one.)
   */
  #mayLeaveCursor(): boolean {
    if (this.#heldStoreSec !== undefined) return this.#cursorSec + 1 < this.#heldStoreSec;
    const puts = this.#puts;
    while (puts.length > 0 && puts[0]!.end >= 0 && puts[0]!.end <= this.#enqOff) puts.shift();
    return puts.length === 0 || puts[0]!.startedAt >= (this.#cursorSec + 1) * SEC_MS;
  }

  /** Copies the next due messages of the cursor second, in order; returns a wait if the next one is not due. */
  async #deliverBatch(now: number): Promise<number | undefined> {
    const store = this.#store;
    const batch: { offset: number; m: DecodedMessage }[] = [];
    let waitMs: number | undefined;
    while (this.#curPos < this.#curLen && batch.length < DELIVER_BATCH) {
      const offset = this.#cur[this.#curPos]!;
      if (this.#deliveredAhead.delete(offset)) {
        this.#curPos++;
        this.#slotDone = offset;
        this.#pending--;
        continue;
      }
      const got = store.getMessages(TIMER_TOPIC, 0, offset, 1, READ_BYTES);
      if (got.status !== 'FOUND') {
        this.#o.onError(new MetaqError(`delayed message ${offset} is gone from ${TIMER_TOPIC} (${got.status}); dropped`));
        this.#dropped++;
        this.#curPos++;
        this.#slotDone = offset;
        this.#pending--;
        continue;
      }
      const due = readU64(got.records, OFF_TAGS_CODE);
      if (due > now) {
        waitMs = due - now;
        break;
      }
      batch.push({ offset, m: decodeRecord(got.records, 0) });
      this.#curPos++;
    }
    if (batch.length > 0) await this.#deliver(batch);
    return waitMs;
  }

  /** Puts each message in its real queue (consecutive ones of one queue in one put), in order, and notes the progress. */
  async #deliver(batch: { offset: number; m: DecodedMessage }[]): Promise<void> {
    const store = this.#store;
    const puts: { last: number; offsets: number[]; done: Promise<unknown>; dropped: boolean }[] = [];
    let i = 0;
    while (i < batch.length) {
      const { m } = batch[i]!;
      const topic = m.properties[PROPERTY_REAL_TOPIC] ?? '';
      const queueId = Number(m.properties[PROPERTY_REAL_QUEUE_ID] ?? 0);
      const offsets: number[] = [];
      const messages: StoreMessage[] = [];
      while (i < batch.length && batch[i]!.m.properties[PROPERTY_REAL_TOPIC] === topic && Number(batch[i]!.m.properties[PROPERTY_REAL_QUEUE_ID] ?? 0) === queueId) {
        offsets.push(batch[i]!.offset);
        messages.push(this.#copy(batch[i]!.m, batch[i]!.offset));
        i++;
      }
      const n = store.queueCount(topic);
      if (n === undefined || !(queueId < n)) {
        this.#o.onError(new MetaqError(`delayed messages for ${JSON.stringify(topic)} queue ${queueId}, which does not exist (any more): dropped`));
        this.#dropped += offsets.length;
        puts.push({ last: offsets[offsets.length - 1]!, offsets, done: Promise.resolve(), dropped: true });
        continue;
      }
      let done: Promise<unknown>;
      try {
        done = store.put(topic, queueId, messages);
      } catch (err) {
        done = Promise.reject(err);
      }
      puts.push({ last: offsets[offsets.length - 1]!, offsets, done, dropped: false });
    }
    const settled = await Promise.allSettled(puts.map((p) => p.done));
    // Progress goes as far as the first failure; later puts that succeeded are remembered as delivered.
    let failure: unknown;
    for (let k = 0; k < puts.length; k++) {
      const s = settled[k]!;
      const p = puts[k]!;
      if (failure === undefined && s.status === 'fulfilled') {
        this.#slotDone = p.last;
        if (!p.dropped) this.#delivered += p.offsets.length;
        this.#pending -= p.offsets.length;
        continue;
      }
      if (s.status === 'rejected') {
        failure ??= s.reason;
        continue;
      }
      for (const o of p.offsets) this.#deliveredAhead.add(o);
    }
    if (failure !== undefined) {
      // Back to the first undelivered message of the cursor second.
      this.#curLoaded = false;
      this.#noteProgress();
      throw failure;
    }
    this.#noteProgress();
  }

  /** The delivered copy: the user's message as sent, with its TIMER_TOPIC offset and the id the producer was given. */
  #copy(m: DecodedMessage, offset: number): StoreMessage {
    const properties = withoutTimerProperties(m.properties);
    delete properties.TAGS;
    delete properties.KEYS;
    properties[PROPERTY_TIMER_OFFSET] = String(offset);
    properties[PROPERTY_ORIGIN_MESSAGE_ID] ??= encodeMessageId(this.#o.storeHost, this.#o.storePort, m.physicalOffset);
    return { body: m.body, tags: m.tags, keys: m.keys, properties, flag: m.flag, bornTimestamp: m.bornTimestamp, reconsumeTimes: m.reconsumeTimes };
  }

  #noteProgress(): void {
    // While nothing becomes durable (a failing disk), the oldest are given up: only newer ones can be written anyway.
    if (this.#progress.length >= MAX_PROGRESS_KEPT) this.#progress.shift();
    this.#progress.push({ cursorSec: this.#cursorSec, slotDone: this.#slotDone, logOffset: this.#store.writtenOffset, scanFrom: this.#scanFromBound });
  }

  /** Writes the newest progress whose deliveries the CommitLog holds durably; drops link files below it. */
  #checkpoint(): void {
    if (this.#writing !== undefined) return;
    const flushed = this.#store.stats().flushedOffset;
    let pick: Progress | undefined;
    let k = 0;
    while (k < this.#progress.length && this.#progress[k]!.logOffset <= flushed) pick = this.#progress[k++];
    this.#progress.splice(0, k);
    // Computed now, used by progress taken from now on: scanFrom only grows.
    this.#scanFromBound = this.#wheel.minFirst(this.#enqOff);
    if (pick === undefined) return;
    const last = this.#lastWritten;
    if (last !== undefined && last.cursorSec === pick.cursorSec && last.slotDone === pick.slotDone && last.scanFrom === pick.scanFrom) return;
    this.#writing = writeTimerCheckpoint(this.#o.dir, pick).then(
      () => {
        this.#writing = undefined;
        this.#lastWritten = pick;
        if (!this.#closed) this.#links.dropBelow(pick.scanFrom);
      },
      (err: unknown) => {
        this.#writing = undefined;
        this.#o.onError(err);
      },
    );
  }
}

/** A copy of `properties` without the timer's own. */
function withoutTimerProperties(properties: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (properties === undefined) return out;
  for (const [k, v] of Object.entries(properties)) if (!TIMER_PROPERTIES.has(k)) out[k] = v;
  return out;
}
