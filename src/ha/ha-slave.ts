// The slave side of replication: connects to the master's HA port,
// handshakes (truncating a tail the master never had), then appends the raw
// CommitLog bytes the master pushes at the same offsets, checked record by
// record, and reports how far it holds the log after each append and every
// second. Reconnects after any failure; catching up starts from its own end.
// Readers here see nothing past what the master said its own log is durable
// up to (HA_DURABLE). A slave whose log ends before the oldest data the
// master keeps resets its log and copies on from there (a re-sync).
import { ReplicaBehindRetentionError, ReplicaDivergedError } from '../common/index.js';
import { RequestClient } from '../net/index.js';
import {
  decodeHaData,
  decodeHaHandshakeReply,
  decodeHaResyncReply,
  decodeOffset,
  decodeText,
  encodeHaHandshake,
  encodeOffset,
  HaAction,
  Opcode,
  type Frame,
} from '../protocol/index.js';
import type { ReplicaLog } from '../store/index.js';

export interface HaSlaveOptions {
  /** The slave's log (MessageStore.replicaLog). */
  log: ReplicaLog;
  /** host:port of the master's HA listener. */
  masterHaAddr: string;
  /** Consumer offsets from the master. */
  onOffsets: (snapshot: Record<string, Record<string, number>>) => void;
  onError: (err: unknown) => void;
  reportIntervalMs: number;
  reconnectDelayMs: number;
}

/** Record signatures sent per handshake round. */
const HANDSHAKE_RECORDS = 64;
const REQUEST_TIMEOUT_MS = 10_000;
/** A re-sync may first wait for a flush and zero-fill the new log's first segment. */
const RESYNC_TIMEOUT_MS = 60_000;
const EMPTY = Buffer.alloc(0);

export interface HaSlaveStats {
  connected: boolean;
  masterHaAddr: string;
  /** How far this slave holds the master's log (confirmed locally). */
  replicatedOffset: number;
  truncations: number;
  /** What the master said its own log is durable up to: readers here see nothing past it. */
  masterDurableOffset: number;
  /** Log resets because this slave fell behind what the master keeps. */
  resyncs: number;
}

export class HaSlave {
  readonly #o: HaSlaveOptions;
  #client: RequestClient | undefined;
  #closed = false;
  #confirmed = 0;
  #truncations = 0;
  #resyncs = 0;
  /** How far the master said its own log is durable: the read limit here. */
  #masterDurable: number;
  #retry: NodeJS.Timeout | undefined;
  readonly #report: NodeJS.Timeout;
  /** Set when this connection's stream broke (a bad chunk): further chunks are ignored until reconnect. */
  #broken = false;

  constructor(o: HaSlaveOptions) {
    this.#o = o;
    this.#confirmed = o.log.localConfirmedOffset;
    // What recovery found is already visible; anything appended from now on waits for the master's word.
    this.#masterDurable = this.#confirmed;
    o.log.setVisibilityLimit(this.#masterDurable);
    this.#report = setInterval(() => this.#sendReport(), o.reportIntervalMs);
    this.#report.unref();
    void this.#connect();
  }

  stats(): HaSlaveStats {
    return {
      connected: this.#client !== undefined && !this.#client.closed,
      masterHaAddr: this.#o.masterHaAddr,
      replicatedOffset: this.#confirmed,
      truncations: this.#truncations,
      masterDurableOffset: this.#masterDurable,
      resyncs: this.#resyncs,
    };
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#report);
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    this.#client?.close();
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    let client: RequestClient | undefined;
    try {
      client = await RequestClient.connect(this.#o.masterHaAddr, {
        onNotify: (f) => this.#onPush(f, client!),
        onClose: () => this.#scheduleReconnect(),
      });
      if (this.#closed) {
        client.close();
        return;
      }
      this.#broken = false;
      this.#client = client;
      await this.#handshake(client);
    } catch (err) {
      this.#o.onError(err);
      client?.close();
      this.#scheduleReconnect();
    }
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#retry !== undefined) return;
    this.#client = undefined;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      void this.#connect();
    }, this.#o.reconnectDelayMs);
    this.#retry.unref();
  }

  /** Compares logs until the master says where to stream from; truncates a diverged tail on the way. */
  async #handshake(client: RequestClient): Promise<void> {
    const log = this.#o.log;
    for (;;) {
      const body = encodeHaHandshake({ maxOffset: log.writtenOffset, segmentSize: log.segmentSize, records: log.lastRecordSignatures(HANDSHAKE_RECORDS) });
      const reply = decodeHaHandshakeReply((await client.call(Opcode.HaHandshake, body, REQUEST_TIMEOUT_MS)).body);
      if (reply.action === HaAction.Stream) {
        this.#confirmed = Math.min(this.#confirmed, log.writtenOffset);
        this.#sendReport();
        return;
      }
      if (reply.action === HaAction.Reset) {
        this.#o.onError(
          new ReplicaBehindRetentionError(`replica log ends at ${log.writtenOffset}, before the oldest data the master keeps (${reply.offset}): resetting it to copy on from there`),
        );
        const resync = decodeHaResyncReply((await client.call(Opcode.HaResync, EMPTY, RESYNC_TIMEOUT_MS)).body);
        await log.resetLog(resync.offset, resync.queues);
        this.#resyncs++;
        this.#confirmed = resync.offset;
        this.#lowerMasterDurable(resync.offset);
        continue;
      }
      this.#o.onError(new ReplicaDivergedError(`replica log diverged from the master's: truncating from ${log.writtenOffset} to ${reply.offset}`));
      log.truncateLog(reply.offset);
      this.#truncations++;
      this.#confirmed = Math.min(this.#confirmed, reply.offset);
      this.#lowerMasterDurable(reply.offset);
    }
  }

  /** The log was cut or reset at `offset`: what the master said of the old log no longer holds past it. */
  #lowerMasterDurable(offset: number): void {
    if (this.#masterDurable <= offset) return;
    this.#masterDurable = offset;
    this.#o.log.setVisibilityLimit(offset);
  }

  #onPush(f: Frame, client: RequestClient): void {
    if (client !== this.#client || this.#broken) return;
    if (f.opcode === Opcode.HaOffsets) {
      try {
        this.#o.onOffsets(JSON.parse(decodeText(f.body)) as Record<string, Record<string, number>>);
      } catch (err) {
        this.#o.onError(err);
      }
      return;
    }
    if (f.opcode === Opcode.HaDurable) {
      try {
        const durable = decodeOffset(f.body);
        if (durable > this.#masterDurable) {
          this.#masterDurable = durable;
          this.#o.log.setVisibilityLimit(durable);
        }
      } catch (err) {
        this.#o.onError(err);
      }
      return;
    }
    if (f.opcode !== Opcode.HaData) return;
    const { offset, bytes } = decodeHaData(f.body);
    // Appends are synchronous writes; their promises settle in order (at the flush in sync mode),
    // so chunks are not awaited one by one: one fdatasync can cover many.
    this.#o.log.appendReplicated(offset, bytes).then(
      (confirmed) => {
        if (confirmed > this.#confirmed) this.#confirmed = confirmed;
        this.#sendReport();
      },
      (err: unknown) => {
        // A chunk that does not fit (or a bad record): start over with a handshake.
        this.#broken = true;
        this.#o.onError(err);
        client.close();
      },
    );
  }

  #sendReport(): void {
    const c = this.#client;
    if (c !== undefined && !c.closed) c.notify(Opcode.HaReport, encodeOffset(this.#confirmed));
  }
}
