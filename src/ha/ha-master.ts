// The master side of replication: a server on the HA port. A slave
// handshakes (the master finds where their logs agree and has a diverged
// slave truncate), then the master pushes raw CommitLog bytes from there,
// keeping up to a window of bytes in flight, and the slave reports how far it
// holds the log. Under sync replication those reports release the waiting
// sends and cap what readers on the master may see while the slave is
// available. The master also tells the slave how far its own log is durable
// (HA_DURABLE), and the slave serves readers no further. A slave that fell
// behind what the master keeps is dropped and told to re-sync; no slave can
// take the master down.
import { InvalidRequestError, ReplicaBehindRetentionError } from '../common/index.js';
import { RequestServer, type Handler, type RequestContext } from '../net/index.js';
import {
  decodeHaHandshake,
  decodeOffset,
  encodeHaDataHead,
  encodeHaHandshakeReply,
  encodeHaResyncReply,
  encodeOffset,
  encodeText,
  HaAction,
  Opcode,
  type HaHandshake,
  type HaHandshakeReply,
  type HaResyncReply,
} from '../protocol/index.js';
import type { ReplicaLog } from '../store/index.js';
import { ReplicaWaiters, type ReplicaOutcome } from './replica-waiters.js';

export type ReplicationMode = 'sync' | 'async';

export interface HaMasterOptions {
  /** The master's log (MessageStore.replicaLog). */
  log: ReplicaLog;
  host: string;
  port: number;
  maxFrameSize: number;
  mode: ReplicationMode;
  /** How long a send waits for the slave under sync replication. */
  slaveTimeoutMs: number;
  /** A slave further behind than this is not waited for (SLAVE_NOT_AVAILABLE). */
  maxLagBytes: number;
  /** The consumer offset table, sent to the slave every `offsetsIntervalMs`. */
  offsets: () => Record<string, Record<string, number>>;
  offsetsIntervalMs: number;
  /** What went wrong with a slave (logged; the master carries on). */
  onError?: (err: unknown) => void;
}

/** Bytes pushed and not yet confirmed: enough to keep the pipe full, bounded so a slow slave cannot fill memory. */
const WINDOW_BYTES = 16 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;

interface Session {
  ctx: RequestContext;
  /** Where the next push starts. */
  pushOffset: number;
  /** What the slave reported holding. */
  acked: number;
  /** The last durable offset of this master told to the slave (HA_DURABLE). */
  durableSent: number;
}

export interface HaMasterStats {
  mode: ReplicationMode;
  slaveConnected: boolean;
  writtenOffset: number;
  replicatedOffset: number;
  slaveLagBytes: number;
  slaveLagMs: number;
  sendsWaitingForSlave: number;
  readersCappedBySlave: boolean;
  slaveResyncs: number;
}

export class HaMaster {
  readonly #o: HaMasterOptions;
  readonly #server: RequestServer;
  readonly #waiters = new ReplicaWaiters();
  readonly #unsubscribe: () => void;
  readonly #unsubscribeFlushed: () => void;
  readonly #offsetsTimer: NodeJS.Timeout;
  #session: Session | undefined;
  #pumping = false;
  /** What any slave confirmed last: survives reconnects, caps readers under sync replication. */
  #replicated: number;
  /** (written offset, time) of recent writes, for the lag in time. */
  #writes: { offset: number; at: number }[] = [];
  /** Sync replication: readers are held at the slave's confirmed offset (see #applyLimit). */
  #capped = false;
  /** Slaves told to re-sync because they fell behind what this master keeps. */
  #resyncs = 0;

  private constructor(o: HaMasterOptions, server: RequestServer) {
    this.#o = o;
    this.#server = server;
    this.#replicated = o.log.writtenOffset;
    // No slave yet: readers see what this master made durable (no cap until one is available).
    this.#unsubscribe = o.log.onWritten((offset) => {
      if (this.#session === undefined) return;
      if (this.#writes.length < MAX_WRITE_SAMPLES) this.#writes.push({ offset, at: Date.now() });
      this.#pump();
      // A slave that falls too far behind stops holding readers back.
      this.#applyLimit();
    });
    // Called before the flushed appends are acknowledged: the slave hears "durable here" first.
    this.#unsubscribeFlushed = o.log.onFlushed(() => {
      const s = this.#session;
      if (s !== undefined) this.#sendDurable(s);
    });
    this.#offsetsTimer = setInterval(() => this.#sendOffsets(), o.offsetsIntervalMs);
    this.#offsetsTimer.unref();
  }

  static async start(o: HaMasterOptions): Promise<HaMaster> {
    let master: HaMaster | undefined;
    const handlers = new Map<number, Handler>([
      [Opcode.HaHandshake, (f, ctx) => ({ body: encodeHaHandshakeReply(master!.#handshake(decodeHaHandshake(f.body), ctx)) })],
      [Opcode.HaResync, () => ({ body: encodeHaResyncReply(master!.#resync()) })],
      [
        Opcode.HaReport,
        (f, ctx) => {
          master!.#report(decodeOffset(f.body), ctx);
          return {};
        },
      ],
    ]);
    const server = await RequestServer.listen({ host: o.host, port: o.port, maxFrameSize: o.maxFrameSize, handlers });
    master = new HaMaster(o, server);
    return master;
  }

  get port(): number {
    return this.#server.port;
  }

  /**
   * Under sync replication, resolves when the slave holds the log up to
   * `end` ('confirmed'), or says why not. Under async replication, at once.
   */
  waitForSlave(end: number): Promise<ReplicaOutcome> | ReplicaOutcome {
    if (this.#o.mode === 'async') return 'confirmed';
    const s = this.#session;
    if (s === undefined) return 'no-slave';
    if (s.acked >= end) return 'confirmed';
    if (this.#o.log.writtenOffset - s.acked > this.#o.maxLagBytes) return 'no-slave';
    return this.#waiters.wait(end, this.#o.slaveTimeoutMs);
  }

  stats(): HaMasterStats {
    const written = this.#o.log.writtenOffset;
    const s = this.#session;
    const acked = s?.acked ?? this.#replicated;
    const behind = this.#writes.find((w) => w.offset > acked);
    return {
      mode: this.#o.mode,
      slaveConnected: s !== undefined,
      writtenOffset: written,
      replicatedOffset: acked,
      slaveLagBytes: Math.max(0, written - acked),
      slaveLagMs: behind === undefined ? 0 : Date.now() - behind.at,
      sendsWaitingForSlave: this.#waiters.waiting,
      readersCappedBySlave: this.#capped,
      slaveResyncs: this.#resyncs,
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#offsetsTimer);
    this.#unsubscribe();
    this.#unsubscribeFlushed();
    this.#waiters.close();
    await this.#server.close();
  }

  /** Finds where the slave's log stops agreeing with this one. */
  #handshake(h: HaHandshake, ctx: RequestContext): HaHandshakeReply {
    const log = this.#o.log;
    if (h.segmentSize !== log.segmentSize) {
      throw new InvalidRequestError(`slave segment size ${h.segmentSize} differs from the master's ${log.segmentSize}: offsets would not line up`);
    }
    if (h.maxOffset < log.minOffset) {
      // Retention deleted what this slave needs next: it starts its log again from the oldest kept offset.
      this.#resyncs++;
      this.#o.onError?.(
        new ReplicaBehindRetentionError(`slave log ends at ${h.maxOffset}, before the oldest data this master keeps (${log.minOffset}): the slave resets its log and copies from there`),
      );
      return { action: HaAction.Reset, offset: log.minOffset };
    }
    const written = log.writtenOffset;
    // The newest of the slave's records that this log holds identically: everything up to its end agrees.
    let agreed: number | undefined;
    for (let i = h.records.length - 1; i >= 0 && agreed === undefined; i--) {
      const r = h.records[i]!;
      const mine = log.recordSignatureAt(r.offset);
      if (mine !== undefined && mine.size === r.size && mine.crc === r.crc) agreed = r.offset + r.size;
    }
    let target: number;
    if (h.records.length === 0) {
      target = Math.min(h.maxOffset, written);
    } else if (agreed === undefined) {
      // None of these agree: drop them all and compare older ones next time.
      target = h.records[0]!.offset;
    } else {
      // Past the last agreeing record there may be a segment's blank marker on both sides.
      target = agreed < h.maxOffset && this.#blankTo(agreed) === h.maxOffset ? h.maxOffset : agreed;
    }
    if (target < h.maxOffset) return { action: HaAction.Truncate, offset: target };
    if (h.maxOffset > written) return { action: HaAction.Truncate, offset: written };
    // One slave at a time: a new handshake replaces the old session.
    if (this.#session !== undefined && this.#session.ctx !== ctx) this.#dropSession();
    this.#session = { ctx, pushOffset: h.maxOffset, acked: h.maxOffset, durableSent: 0 };
    ctx.onClose(() => {
      if (this.#session?.ctx === ctx) this.#dropSession();
    });
    this.#report(h.maxOffset, ctx);
    return { action: HaAction.Stream, offset: h.maxOffset };
  }

  /** If a blank marker starts at `offset`, the segment end it points to. */
  #blankTo(offset: number): number | undefined {
    const chunk = this.#o.log.readLog(offset, 1);
    return chunk !== undefined && chunk.bytes.length === 8 && chunk.nextOffset !== offset + 8 ? chunk.nextOffset : undefined;
  }

  /** A slave that fell behind retention asks where to start again: the oldest kept offset, and each queue there. */
  #resync(): HaResyncReply {
    const offset = this.#o.log.minOffset;
    return { offset, queues: this.#o.log.queueStarts(offset) };
  }

  #dropSession(): void {
    this.#session = undefined;
    this.#writes = [];
    this.#waiters.failAll('no-slave');
    this.#applyLimit();
  }

  /**
   * Sync replication's read limit: while a slave is available (connected and
   * no more than maxLagBytes behind, i.e. while sends wait for it) readers
   * see nothing it has not confirmed; otherwise they see what this master
   * made durable. A cap below what readers already see just holds them until
   * the slave passes it.
   */
  #applyLimit(): void {
    if (this.#o.mode !== 'sync') return;
    const s = this.#session;
    const available = s !== undefined && this.#o.log.writtenOffset - s.acked <= this.#o.maxLagBytes;
    if (available) this.#o.log.setVisibilityLimit(s.acked);
    else if (this.#capped) this.#o.log.setVisibilityLimit(undefined);
    this.#capped = available;
  }

  /** Tells the slave how far this master's own log is durable (flushed under sync flush, written under async). */
  #sendDurable(s: Session): void {
    const durable = this.#o.log.localConfirmedOffset;
    if (durable <= s.durableSent || s.ctx.closed) return;
    s.durableSent = durable;
    s.ctx.notify(Opcode.HaDurable, encodeOffset(durable));
  }

  /** Gives up on a slave that cannot be served (its position deleted by retention, or a read failed); it reconnects. */
  #abandon(s: Session, err: unknown): void {
    const log = this.#o.log;
    this.#o.onError?.(
      s.pushOffset < log.minOffset
        ? new ReplicaBehindRetentionError(`the slave needs log offset ${s.pushOffset}, but this master keeps only from ${log.minOffset}: dropping it; it re-syncs when it reconnects`, { cause: err })
        : err,
    );
    this.#dropSession();
    s.ctx.close();
  }

  #report(offset: number, ctx: RequestContext): void {
    const s = this.#session;
    if (s === undefined || s.ctx !== ctx) return;
    if (offset > s.acked) s.acked = offset;
    if (s.acked > this.#replicated) this.#replicated = s.acked;
    let n = 0;
    while (n < this.#writes.length && this.#writes[n]!.offset <= s.acked) n++;
    if (n > 0) this.#writes.splice(0, n);
    if (this.#o.mode === 'sync') {
      this.#waiters.confirmed(s.acked);
      this.#applyLimit();
    }
    this.#pump();
  }

  /** Pushes log bytes while the window allows. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    const s = this.#session;
    try {
      while (s !== undefined && this.#session === s && !s.ctx.closed && s.pushOffset - s.acked < WINDOW_BYTES) {
        const chunk = this.#o.log.readLog(s.pushOffset, CHUNK_BYTES);
        if (chunk === undefined) break;
        s.ctx.notify(Opcode.HaData, [encodeHaDataHead(chunk.offset), chunk.bytes]);
        s.pushOffset = chunk.nextOffset;
      }
      if (s !== undefined && this.#session === s) this.#sendDurable(s);
    } catch (err) {
      // Runs inside the write path's listener and the report handler: a slave's trouble must never reach them.
      if (s !== undefined && this.#session === s) this.#abandon(s, err);
      else this.#o.onError?.(err);
    } finally {
      this.#pumping = false;
    }
  }

  #sendOffsets(): void {
    const s = this.#session;
    if (s !== undefined && !s.ctx.closed) s.ctx.notify(Opcode.HaOffsets, encodeText(JSON.stringify(this.#o.offsets())));
  }
}

/** Bounds the lag-in-time samples (a slave far behind just reports the oldest). */
const MAX_WRITE_SAMPLES = 100_000;
