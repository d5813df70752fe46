// The slave side of replication: connects to the master's HA port,
// handshakes (truncating a tail the master never had and it never confirmed;
// copying its log back to a master that is behind), then appends the raw
// CommitLog bytes the master pushes at the same offsets, checked chunk by
// chunk (the master's CRC of the chunk) and record by record (framing and
// position), and reports how far it holds the log durably after each append and
// every second. Reconnects after any failure; catching up starts from its own
// end. It never gives up what it confirmed, whatever a master answers.
// Readers here see nothing past what the master said its own log is durable
// up to (HA_DURABLE). A slave whose log ends before the oldest data the
// master keeps resets its log and copies on from there (a re-sync).
import { ReplicaBehindRetentionError, ReplicaDivergedError } from '../common/index.js';
import { RequestClient, type ClientTls } from '../net/index.js';
import {
  decodeHaData,
  decodeHaHandshakeReply,
  decodeHaResyncReply,
  decodeOffset,
  decodeText,
  encodeHaCatchUpHead,
  encodeHaHandshake,
  encodeOffset,
  encodeText,
  HaAction,
  Opcode,
  type Frame,
  type HaHandshakeReply,
  type HaSlaveView,
} from '../protocol/index.js';
import type { ReplicaLog } from '../store/index.js';
import type { Credential } from '../security/index.js';

export interface HaSlaveOptions {
  /** The slave's log (MessageStore.replicaLog). */
  log: ReplicaLog;
  /** host:port of the master's HA listener. */
  masterHaAddr: string;
  /** Consumer offsets from the master. */
  onOffsets: (snapshot: Record<string, Record<string, number>>) => void;
  /** This broker's consumer offset table, sent to a master this slave copied its log back to. */
  offsets: () => Record<string, Record<string, number>>;
  onError: (err: unknown) => void;
  reportIntervalMs: number;
  reconnectDelayMs: number;
  /** Connect to the master over TLS; default plain TCP. */
  tls?: ClientTls;
  /** The replica account presented to a master that has accounts. */
  credential?: Credential;
}

/** Record signatures sent per handshake round. */
const HANDSHAKE_RECORDS = 64;
const REQUEST_TIMEOUT_MS = 10_000;
/** A re-sync may first wait for a flush and zero-fill the new log's first segment. */
const RESYNC_TIMEOUT_MS = 60_000;
const EMPTY = Buffer.alloc(0);
/** Log bytes per HA_CATCH_UP request (a master that is behind copies the slave's log back). */
const CATCH_UP_CHUNK_BYTES = 1024 * 1024;

/** The slave's replication figures, as BROKER_STATS carries them. */
export type HaSlaveStats = HaSlaveView;

export class HaSlave {
  readonly #o: HaSlaveOptions;
  #client: RequestClient | undefined;
  #closed = false;
  #confirmed = 0;
  #truncations = 0;
  #resyncs = 0;
  /** How far the master said its own log is durable: the read limit here. */
  #masterDurable: number;
  /** The handshake on the current connection is done: the master streams. */
  #streaming = false;
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
      connected: this.#streaming && this.#client !== undefined && !this.#client.closed,
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
        tls: this.#o.tls,
        credential: this.#o.credential,
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
    this.#streaming = false;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      void this.#connect();
    }, this.#o.reconnectDelayMs);
    this.#retry.unref();
  }

  /**
   * Compares logs until the master says where to stream from; truncates a
   * tail it never confirmed, or copies its log back to a master that is behind.
   */
  async #handshake(client: RequestClient): Promise<void> {
    const log = this.#o.log;
    for (;;) {
      const body = encodeHaHandshake({
        maxOffset: log.writtenOffset,
        durableOffset: log.localConfirmedOffset,
        segmentSize: log.segmentSize,
        flushMode: log.flushMode,
        records: log.lastRecordSignatures(HANDSHAKE_RECORDS),
      });
      const reply = decodeHaHandshakeReply((await client.call(Opcode.HaHandshake, body, REQUEST_TIMEOUT_MS)).body);
      if (reply.action === HaAction.Stream) {
        this.#confirmed = Math.min(this.#confirmed, log.writtenOffset);
        this.#streaming = true;
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
      if (reply.action === HaAction.CatchUp) {
        await this.#copyBack(client, reply);
        continue;
      }
      // What this log confirmed may have been acknowledged to a producer: it stays, whatever the master says.
      const durable = log.localConfirmedOffset;
      if (reply.offset < durable) {
        throw new ReplicaDivergedError(`the master asks to truncate this replica's log to ${reply.offset}, below the ${durable} bytes it holds durably and confirmed: refused, the log is kept`);
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

  /** The master is behind this log: after checking it holds the master's newest record, sends it everything from its end. */
  async #copyBack(client: RequestClient, reply: HaHandshakeReply): Promise<void> {
    const log = this.#o.log;
    const m = reply.masterRecord;
    if (m !== undefined) {
      const mine = log.recordSignatureAt(m.offset);
      if (mine === undefined || mine.size !== m.size || mine.crc !== m.crc) {
        throw new ReplicaDivergedError(`the master (log end ${reply.offset}) asks for this replica's log, but its newest record at ${m.offset} is not this log's: the logs diverged; nothing copied, the log is kept`);
      }
    }
    this.#o.onError(new ReplicaDivergedError(`the master's log ends at ${reply.offset}, before this replica's (${log.writtenOffset}): copying it back to the master`));
    let offset = reply.offset;
    for (;;) {
      const chunk = log.readLog(offset, CATCH_UP_CHUNK_BYTES);
      if (chunk === undefined) break;
      const answer = await client.call(Opcode.HaCatchUp, [encodeHaCatchUpHead(chunk.offset), chunk.bytes], REQUEST_TIMEOUT_MS);
      const masterEnd = decodeOffset(answer.body);
      if (masterEnd !== chunk.nextOffset) throw new ReplicaDivergedError(`copying back: the master's log ends at ${masterEnd} after a chunk that ends at ${chunk.nextOffset}`);
      offset = chunk.nextOffset;
    }
    // The master lost its consumer offsets with its log: it gets this broker's copy of them.
    await client.call(Opcode.HaOffsets, encodeText(JSON.stringify(this.#o.offsets())), REQUEST_TIMEOUT_MS);
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
    const { offset, crc, bytes } = decodeHaData(f.body);
    // Appends are synchronous writes; their promises settle in order (at the flush in sync mode),
    // so chunks are not awaited one by one: one fdatasync can cover many.
    this.#o.log.appendReplicated(offset, bytes, crc).then(
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
