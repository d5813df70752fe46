// What a send answers: the broker's acknowledgement of one batch, or of one
// message of a batch the producer coalesced (send batching), with the message
// ids derived from the broker's physical offsets only when asked for.
import { encodeMessageId } from '../common/index.js';
import { parseAddress } from '../net/index.js';
import type { SendStatus } from './broker-api.js';

export interface SendResult {
  status: SendStatus;
  topic: string;
  brokerName: string;
  queueId: number;
  /** Queue offset of the first message; a batch's offsets are consecutive. */
  queueOffset: number;
  count: number;
  storeTimestamp: number;
  /** Id of the first (or only) message. */
  readonly messageId: string;
  /** Ids of every message of the batch, in order. */
  readonly messageIds: string[];
}

export class SendResultImpl implements SendResult {
  #ids: string[] | undefined;
  /**
   * `first`: where this result's messages start in `physicalOffsets` (a
   * coalesced send's caller gets its own slice of the batch's answer without
   * a copy of the offsets).
   */
  constructor(
    readonly status: SendStatus,
    readonly topic: string,
    readonly brokerName: string,
    readonly queueId: number,
    readonly queueOffset: number,
    readonly count: number,
    readonly storeTimestamp: number,
    readonly addr: string,
    readonly physicalOffsets: readonly number[],
    readonly first = 0,
  ) {}

  /** The result of message `i` of this batch alone: as a send of that one message would have answered. */
  one(i: number): SendResultImpl {
    return new SendResultImpl(this.status, this.topic, this.brokerName, this.queueId, this.queueOffset + i, 1, this.storeTimestamp, this.addr, this.physicalOffsets, this.first + i);
  }

  get messageIds(): string[] {
    if (this.#ids === undefined) {
      const { host, port } = parseAddress(this.addr);
      const ids = new Array<string>(this.count);
      for (let i = 0; i < this.count; i++) ids[i] = encodeMessageId(host, port, this.physicalOffsets[this.first + i]!);
      this.#ids = ids;
    }
    return this.#ids;
  }

  get messageId(): string {
    return this.messageIds[0]!;
  }

  toJSON(): object {
    return { status: this.status, topic: this.topic, brokerName: this.brokerName, queueId: this.queueId, queueOffset: this.queueOffset, count: this.count, messageIds: this.messageIds };
  }
}
