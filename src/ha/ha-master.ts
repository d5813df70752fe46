// The master side of replication: a server on the HA port. A slave
// handshakes (the master finds where their logs agree: a slave that is behind
// streams from its end; a master that is behind copies the slave's longer log
// back before it takes writes again; a slave never gives up what it
// confirmed), then the master pushes raw CommitLog bytes from there, keeping
// up to a window of bytes in flight, and the slave reports how far it holds
// the log durably. Under sync replication those reports release the waiting
// sends and cap what readers on the master may see while the slave is
// available. The master also tells the slave how far its own log is durable
// (HA_DURABLE), and the slave serves readers no further. One slave at a time;
// a slave that fell behind what the master keeps is told to re-sync; no slave
// can take the master down: a report beyond what was pushed to the slave
// closes its session (it would release sync sends and lift readers' limit on
// the word of a peer that holds nothing), and the push stops while the
// slave's socket is congested (a slave that does not read holds a bounded
// amount of the master's memory).
import { InvalidRequestError, MasterBehindSlaveError, ReplicaBehindRetentionError, SlaveRefusedError, type RefusalCounters } from '../common/index.js';
import { CONNECTION_LIMIT_DEFAULTS, RequestServer, type ConnectionLimits, type Handler, type RequestContext, type ServerTls } from '../net/index.js';
import { crc32 } from 'node:zlib';
import {
  decodeHaCatchUp,
  decodeHaHandshake,
  decodeOffset,
  decodeText,
  encodeHaDataHead,
  encodeHaHandshakeReply,
  encodeHaResyncReply,
  encodeOffset,
  encodeText,
  HaAction,
  Opcode,
  type HaHandshake,
  type HaHandshakeReply,
  type HaMasterView,
  type HaResyncReply,
  type WriteHold,
} from '../protocol/index.js';

export type { WriteHold };
import type { ReplicaLog } from '../store/index.js';
import type { Authenticator } from '../security/index.js';
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
  /**
   * The consumer offset table a slave sends after copying its log back to
   * this master (a replaced disk loses the master's): applied once the master
   * has the slave's log and takes writes again.
   */
  onOffsets: (snapshot: Record<string, Record<string, number>>) => void;
  /**
   * A slave session silent (no report) for longer than this is taken for dead
   * when another slave handshakes: its connection is closed and the newcomer
   * accepted. Until then a second slave is refused.
   */
  slaveSilenceMs: number;
  /** Serve the replication port over TLS; default plain TCP. */
  tls?: ServerTls;
  /** The replication port's connection limits (default CONNECTION_LIMIT_DEFAULTS); its output high-water mark also paces the push. */
  limits?: ConnectionLimits;
  /** Replica accounts this port takes (none: open, as on a loopback-only broker). */
  authenticator?: Authenticator;
  authTimeoutMs?: number;
  /** Where refusals are counted (the broker's): the connection limits', HA_REPORT_LIMIT, failed TLS handshakes, refused handshakes. */
  refusals?: RefusalCounters;
}

/** Counter of reports beyond what was pushed to the slave (each closes its session). */
export const HA_REPORT_REFUSAL = 'haReportBeyondPushed';

/** Bytes pushed and not yet confirmed: enough to keep the pipe full, bounded so a slow slave cannot fill memory. */
const WINDOW_BYTES = 16 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;
/** The replication socket's least output high-water mark: above what an honest slave can have unread. */
const PUSH_HIGH_WATER_BYTES = 2 * WINDOW_BYTES;

interface Session {
  ctx: RequestContext;
  /** Where the next push starts. */
  pushOffset: number;
  /** What the slave reported holding durably. */
  acked: number;
  /** The last durable offset of this master told to the slave (HA_DURABLE). */
  durableSent: number;
  /** When the slave was last heard from (handshake or report). */
  heardAt: number;
  /** The push stopped on a congested socket and waits for it to drain. */
  waitingForRoom: boolean;
}

/**
 * Why the master refuses writes of its own: `unverified`, sync replication and
 * no slave has told it yet whether its log is shorter than the slave's;
 * `behind`, it is copying the slave's longer log back; `diverged`, its log
 * differs from data its slave confirmed (the operator must choose).
 */
/** The master's replication figures, as BROKER_STATS carries them. */
export type HaMasterStats = HaMasterView;

/** Way out named in a write hold's error. */
const HOLD_ADVICE = 'start (or reconnect) its slave; to run this master without its slave, restart it with async replication (docs/ARCHITECTURE.md, "Replication")';

function unverifiedMessage(log: ReplicaLog): string {
  return `master has not heard from its slave since it started and does not know yet whether its log (${log.writtenOffset} bytes) is shorter than the slave's: it takes no writes until then; ${HOLD_ADVICE}`;
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
  #hold: WriteHold = 'none';
  /** The connection copying the slave's log back to this master (a CatchUp handshake). */
  #catchUp: RequestContext | undefined;
  /** Whether records were copied back from a slave since the last hold began. */
  #caughtUp = false;
  #slavesRefused = 0;
  /** The consumer offsets a catching-up slave sent, applied at the release of the hold. */
  #offsetsBack: Record<string, Record<string, number>> | undefined;

  private constructor(o: HaMasterOptions, server: RequestServer) {
    this.#o = o;
    this.#server = server;
    this.#replicated = o.log.writtenOffset;
    // No slave yet: readers see what this master made durable (no cap until one is available).
    // Sync replication: after a power cut or with a new disk this log may be shorter than the
    // slave's, whose tail was acknowledged; new writes would reuse its queue offsets. Only the
    // slave's handshake tells, so writes wait for it.
    if (o.mode === 'sync') this.#holdWrites('unverified', unverifiedMessage(o.log));
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
    // Held before the first await: nothing (a retry's put, say) may slip in while the port opens.
    if (o.mode === 'sync') o.log.holdWrites(new MasterBehindSlaveError(unverifiedMessage(o.log)));
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
      [Opcode.HaCatchUp, async (f, ctx) => ({ body: encodeOffset(await master!.#catchUpAppend(f.body, ctx)) })],
      [
        Opcode.HaOffsets,
        (f, ctx) => {
          master!.#offsetsFromSlave(f.body, ctx);
          return {};
        },
      ],
    ]);
    // An honest slave never has more than the window (and a chunk) unread: the socket's mark sits above it, so only a slave that does not read is paced by it.
    const limits = o.limits ?? CONNECTION_LIMIT_DEFAULTS;
    const server = await RequestServer.listen({
      host: o.host,
      port: o.port,
      maxFrameSize: o.maxFrameSize,
      handlers,
      tls: o.tls,
      limits: { ...limits, outputHighWaterBytes: Math.max(limits.outputHighWaterBytes, PUSH_HIGH_WATER_BYTES) },
      refusals: o.refusals,
      authenticator: o.authenticator,
      authTimeoutMs: o.authTimeoutMs,
    });
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
      writesHeld: this.#hold,
      slavesRefused: this.#slavesRefused,
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#offsetsTimer);
    this.#unsubscribe();
    this.#unsubscribeFlushed();
    this.#waiters.close();
    await this.#server.close();
  }

  /**
   * Finds where the slave's log stops agreeing with this one and what to do
   * about it. A slave never gives up what it confirmed (its durable offset):
   * only a tail past it may be truncated. A slave that holds more than this
   * master is copied back (CatchUp) before the master takes writes again.
   */
  #handshake(h: HaHandshake, ctx: RequestContext): HaHandshakeReply {
    const log = this.#o.log;
    if (h.segmentSize !== log.segmentSize) {
      throw new InvalidRequestError(`slave segment size ${h.segmentSize} differs from the master's ${log.segmentSize}: offsets would not line up`);
    }
    this.#checkOneSlave(ctx);
    if (this.#o.mode === 'sync' && log.flushMode === 'sync' && h.flushMode !== 'sync') {
      this.#refuse(
        `this master flushes and replicates synchronously, so SEND_OK promises a message is on disk on both brokers; this slave flushes ${h.flushMode}ly and cannot keep that promise: start the slave with sync flush`,
      );
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
    if (target < h.maxOffset) {
      // Past `target` the slave holds bytes this log does not hold identically.
      if (target >= h.durableOffset) return { action: HaAction.Truncate, offset: target }; // never confirmed: may go
      if (h.maxOffset > written && this.#isPrefixOfSlave(h)) return this.#startCatchUp(h, ctx);
      if (this.#hold === 'unverified' || this.#hold === 'behind') this.#holdWrites('diverged', `master log differs from what its slave confirmed (the slave holds ${h.durableOffset} bytes durably, the logs agree up to at most ${target}): it takes no writes; make one broker's store a copy of the other's (docs/ARCHITECTURE.md, "Replication")`);
      this.#refuse(
        `the slave's log differs from this master's from ${target} on, and the slave confirmed everything up to ${h.durableOffset}: it keeps its log, nothing acknowledged is dropped; make one broker's store a copy of the other's (docs/ARCHITECTURE.md, "Replication")`,
      );
    }
    // This log holds everything the slave holds: whatever the master was waiting for is settled.
    if (this.#hold === 'unverified' || this.#hold === 'behind' || this.#hold === 'diverged') this.#releaseWrites(h);
    // The handshake's decoder keeps durableOffset <= maxOffset, and Stream starts at or below this log's end: acked <= pushOffset from here on.
    this.#session = { ctx, pushOffset: h.maxOffset, acked: h.durableOffset, heardAt: Date.now(), durableSent: 0, waitingForRoom: false };
    ctx.onClose(() => {
      if (this.#session?.ctx === ctx) this.#dropSession();
    });
    this.#report(h.durableOffset, ctx);
    return { action: HaAction.Stream, offset: h.maxOffset };
  }

  /** One slave per master: a second is refused while the first is alive; one silent too long is taken for dead. */
  #checkOneSlave(ctx: RequestContext): void {
    const s = this.#session;
    if (s !== undefined && s.ctx !== ctx && !s.ctx.closed) {
      const silentMs = Date.now() - s.heardAt;
      if (silentMs <= this.#o.slaveSilenceMs) {
        this.#refuse(`another slave (${s.ctx.remote}) is replicating from this master (heard from ${silentMs} ms ago): one slave per master, this one (${ctx.remote}) is refused`);
      }
      // Half-open: the old slave has been silent past the limit; its connection goes.
      const old = s.ctx;
      this.#dropSession();
      old.close();
    }
    const c = this.#catchUp;
    if (c !== undefined && c !== ctx && !c.closed) this.#refuse(`another slave (${c.remote}) is copying its log back to this master: one slave per master, this one (${ctx.remote}) is refused`);
  }

  #refuse(message: string): never {
    this.#slavesRefused++;
    throw new SlaveRefusedError(message);
  }

  /**
   * Whether this log, shorter than the slave's, may be a prefix of it: every
   * slave record below its end is held identically here. (The slave checks
   * this log's newest record against its own before copying anything back.)
   */
  #isPrefixOfSlave(h: HaHandshake): boolean {
    const log = this.#o.log;
    for (const r of h.records) {
      if (r.offset >= log.writtenOffset) continue;
      const mine = log.recordSignatureAt(r.offset);
      if (mine === undefined || mine.size !== r.size || mine.crc !== r.crc) return false;
    }
    return true;
  }

  /** This master is behind its slave: writes wait while the slave copies its log back (HA_CATCH_UP). */
  #startCatchUp(h: HaHandshake, ctx: RequestContext): HaHandshakeReply {
    const log = this.#o.log;
    const written = log.writtenOffset;
    this.#holdWrites('behind', `master log ends at ${written}, its slave holds ${h.durableOffset} bytes it confirmed: the master is copying them back from the slave and takes writes again once it has them all`);
    this.#catchUp = ctx;
    ctx.onClose(() => {
      if (this.#catchUp === ctx) this.#catchUp = undefined;
    });
    const newest = log.lastRecordSignatures(1)[0];
    return newest === undefined ? { action: HaAction.CatchUp, offset: written } : { action: HaAction.CatchUp, offset: written, masterRecord: newest };
  }

  /** HA_CATCH_UP: appends a chunk of the slave's log (checked record by record); answers this log's new end. */
  async #catchUpAppend(body: Buffer, ctx: RequestContext): Promise<number> {
    if (this.#catchUp !== ctx) throw new InvalidRequestError('HA_CATCH_UP is taken only after a CatchUp handshake on the same connection');
    const { offset, bytes } = decodeHaCatchUp(body);
    // No chunk CRC here: each record's CRC is checked (a rare path, and the slave's disk is not vouched for).
    await this.#o.log.appendReplicated(offset, bytes);
    this.#caughtUp = true;
    return this.#o.log.writtenOffset;
  }

  /** HA_OFFSETS from the slave copying its log back: kept until the hold is released. */
  #offsetsFromSlave(body: Buffer, ctx: RequestContext): void {
    if (this.#catchUp !== ctx) throw new InvalidRequestError('HA_OFFSETS from a slave is taken only after a CatchUp handshake on the same connection');
    let snapshot: unknown;
    try {
      snapshot = JSON.parse(decodeText(body));
    } catch (err) {
      throw new InvalidRequestError('HA_OFFSETS: not a JSON offset table', { cause: err });
    }
    if (typeof snapshot !== 'object' || snapshot === null) throw new InvalidRequestError('HA_OFFSETS: not a JSON offset table');
    this.#offsetsBack = snapshot as Record<string, Record<string, number>>;
  }

  #holdWrites(hold: Exclude<WriteHold, 'none'>, message: string): void {
    if (this.#hold !== hold) this.#caughtUp = false;
    this.#hold = hold;
    this.#o.log.holdWrites(new MasterBehindSlaveError(message));
  }

  /**
   * The slave's handshake shows this log holds all it holds. Records copied
   * back from it become this store's own (queue offsets included) before the
   * first write is taken.
   */
  #releaseWrites(h: HaHandshake): void {
    const log = this.#o.log;
    if (this.#caughtUp) {
      // What the slave holds durably may be read at once. (A slave still flushing what it copied
      // back: the log cannot be adopted yet, adoptReplicated throws, the slave handshakes again.)
      if (h.durableOffset > this.#replicated) this.#replicated = h.durableOffset;
      if (this.#o.mode === 'sync') {
        log.setVisibilityLimit(this.#replicated);
        // #applyLimit lifts this cap if the slave is not available after all.
        this.#capped = true;
      }
      log.adoptReplicated();
    }
    // Consumer offsets come after the messages they point into, never before.
    const offsets = this.#offsetsBack;
    this.#offsetsBack = undefined;
    if (offsets !== undefined) this.#o.onOffsets(offsets);
    this.#catchUp = undefined;
    this.#caughtUp = false;
    this.#hold = 'none';
    log.holdWrites(undefined);
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
    // On a congested socket it waits: the next one sent (the pump's, once it drains) carries the newest.
    if (durable <= s.durableSent || s.ctx.closed || s.ctx.congested) return;
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
    if (offset > s.pushOffset) {
      // The slave cannot hold what it was never sent: whatever it is, its word releases no send and lifts no limit.
      this.#o.refusals?.count(HA_REPORT_REFUSAL);
      this.#o.onError?.(
        new SlaveRefusedError(`slave ${ctx.remote} reported holding the log up to ${offset}, but was sent only up to ${s.pushOffset} (this master's log ends at ${this.#o.log.writtenOffset}): its session is closed`),
      );
      this.#dropSession();
      ctx.close();
      return;
    }
    s.heardAt = Date.now();
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

  /** Pushes log bytes while the window and the slave's socket allow. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    const s = this.#session;
    try {
      while (s !== undefined && this.#session === s && !s.ctx.closed && s.pushOffset - s.acked < WINDOW_BYTES) {
        if (s.ctx.congested) {
          // The socket holds more than its high-water mark: read nothing more of the log until it drains.
          if (!s.waitingForRoom) {
            s.waitingForRoom = true;
            s.ctx.whenWritable(() => {
              s.waitingForRoom = false;
              this.#pump();
              return 0;
            });
          }
          break;
        }
        const chunk = this.#o.log.readLog(s.pushOffset, CHUNK_BYTES);
        if (chunk === undefined) break;
        // One CRC per chunk: the slave checks it instead of each record's (ARCHITECTURE.md, "Checking replicated bytes").
        s.ctx.notify(Opcode.HaData, [encodeHaDataHead(chunk.offset, crc32(chunk.bytes)), chunk.bytes]);
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
    // Skipped while the slave does not take what it is sent: the next one carries the whole table anyway.
    if (s !== undefined && !s.ctx.closed && !s.ctx.congested) s.ctx.notify(Opcode.HaOffsets, encodeText(JSON.stringify(this.#o.offsets())));
  }
}

/** Bounds the lag-in-time samples (a slave far behind just reports the oldest). */
const MAX_WRITE_SAMPLES = 100_000;
