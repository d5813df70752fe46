// The master side of replication: a server on the HA port. A slave
// handshakes (the master finds where their logs agree and has a diverged
// slave truncate), then the master pushes raw CommitLog bytes from there,
// keeping up to a window of bytes in flight, and the slave reports how far it
// holds the log. Under sync replication those reports release the waiting
// sends and cap what readers on the master may see.
import { InvalidRequestError } from '../common/index.js';
import { RequestServer, type Handler, type RequestContext } from '../net/index.js';
import {
  decodeHaHandshake,
  decodeOffset,
  encodeHaDataHead,
  encodeHaHandshakeReply,
  encodeText,
  HaAction,
  Opcode,
  type HaHandshake,
  type HaHandshakeReply,
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
}

export interface HaMasterStats {
  mode: ReplicationMode;
  slaveConnected: boolean;
  writtenOffset: number;
  replicatedOffset: number;
  slaveLagBytes: number;
  slaveLagMs: number;
  sendsWaitingForSlave: number;
}

export class HaMaster {
  readonly #o: HaMasterOptions;
  readonly #server: RequestServer;
  readonly #waiters = new ReplicaWaiters();
  readonly #unsubscribe: () => void;
  readonly #offsetsTimer: NodeJS.Timeout;
  #session: Session | undefined;
  #pumping = false;
  /** What any slave confirmed last: survives reconnects, caps readers under sync replication. */
  #replicated: number;
  /** (written offset, time) of recent writes, for the lag in time. */
  #writes: { offset: number; at: number }[] = [];

  private constructor(o: HaMasterOptions, server: RequestServer) {
    this.#o = o;
    this.#server = server;
    this.#replicated = o.log.writtenOffset;
    // Sync replication: readers see what existed before this start (nothing can be done
    // about its past), and from then on only what the slave confirmed.
    if (o.mode === 'sync') o.log.setVisibilityLimit(this.#replicated);
    this.#unsubscribe = o.log.onWritten((offset) => {
      if (this.#session === undefined) return;
      if (this.#writes.length < MAX_WRITE_SAMPLES) this.#writes.push({ offset, at: Date.now() });
      this.#pump();
    });
    this.#offsetsTimer = setInterval(() => this.#sendOffsets(), o.offsetsIntervalMs);
    this.#offsetsTimer.unref();
  }

  static async start(o: HaMasterOptions): Promise<HaMaster> {
    let master: HaMaster | undefined;
    const handlers = new Map<number, Handler>([
      [Opcode.HaHandshake, (f, ctx) => ({ body: encodeHaHandshakeReply(master!.#handshake(decodeHaHandshake(f.body), ctx)) })],
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
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#offsetsTimer);
    this.#unsubscribe();
    this.#waiters.close();
    await this.#server.close();
  }

  /** Finds where the slave's log stops agreeing with this one. */
  #handshake(h: HaHandshake, ctx: RequestContext): HaHandshakeReply {
    const log = this.#o.log;
    if (h.segmentSize !== log.segmentSize) {
      throw new InvalidRequestError(`slave segment size ${h.segmentSize} differs from the master's ${log.segmentSize}: offsets would not line up`);
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
    if (h.maxOffset < log.minOffset) {
      throw new InvalidRequestError(`slave log ends at ${h.maxOffset}, before the oldest data the master keeps: reset the slave's store`);
    }
    // One slave at a time: a new handshake replaces the old session.
    if (this.#session !== undefined && this.#session.ctx !== ctx) this.#dropSession();
    this.#session = { ctx, pushOffset: h.maxOffset, acked: h.maxOffset };
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

  #dropSession(): void {
    this.#session = undefined;
    this.#writes = [];
    this.#waiters.failAll('no-slave');
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
      this.#o.log.setVisibilityLimit(this.#replicated);
    }
    this.#pump();
  }

  /** Pushes log bytes while the window allows. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      const s = this.#session;
      while (s !== undefined && this.#session === s && !s.ctx.closed && s.pushOffset - s.acked < WINDOW_BYTES) {
        const chunk = this.#o.log.readLog(s.pushOffset, CHUNK_BYTES);
        if (chunk === undefined) break;
        s.ctx.notify(Opcode.HaData, [encodeHaDataHead(chunk.offset), chunk.bytes]);
        s.pushOffset = chunk.nextOffset;
      }
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
