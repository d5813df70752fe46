// The slave side of replication: connects to the master's HA port,
// handshakes (truncating a tail the master never had), then appends the raw
// CommitLog bytes the master pushes at the same offsets, checked record by
// record, and reports how far it holds the log after each append and every
// second. Reconnects after any failure; catching up starts from its own end.
import { ReplicaDivergedError } from '../common/index.js';
import { RequestClient } from '../net/index.js';
import {
  decodeHaData,
  decodeHaHandshakeReply,
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

export interface HaSlaveStats {
  connected: boolean;
  masterHaAddr: string;
  /** How far this slave holds the master's log (confirmed locally). */
  replicatedOffset: number;
  truncations: number;
}

export class HaSlave {
  readonly #o: HaSlaveOptions;
  #client: RequestClient | undefined;
  #closed = false;
  #confirmed = 0;
  #truncations = 0;
  #retry: NodeJS.Timeout | undefined;
  readonly #report: NodeJS.Timeout;
  /** Set when this connection's stream broke (a bad chunk): further chunks are ignored until reconnect. */
  #broken = false;

  constructor(o: HaSlaveOptions) {
    this.#o = o;
    this.#confirmed = o.log.localConfirmedOffset;
    this.#report = setInterval(() => this.#sendReport(), o.reportIntervalMs);
    this.#report.unref();
    void this.#connect();
  }

  stats(): HaSlaveStats {
    return { connected: this.#client !== undefined && !this.#client.closed, masterHaAddr: this.#o.masterHaAddr, replicatedOffset: this.#confirmed, truncations: this.#truncations };
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
      this.#o.onError(new ReplicaDivergedError(`replica log diverged from the master's: truncating from ${log.writtenOffset} to ${reply.offset}`));
      log.truncateLog(reply.offset);
      this.#truncations++;
      this.#confirmed = Math.min(this.#confirmed, reply.offset);
    }
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
