// Checks a ConsumeQueue entry against the CommitLog record it points at: the
// log is the truth, and at open an index entry counts only if the record it
// names is there (a message, at that offset, of that size, topic, queue and
// queue offset). Entries pointing below the oldest kept segment cannot be
// checked (retention took the record) and are taken as they are if plausible.
import { CorruptStoreError, readU64 } from '../common/index.js';
import type { CommitLog } from './commitlog/index.js';
import { MESSAGE_MAGIC, OFF_BODY, OFF_BODY_LENGTH, OFF_MAGIC, OFF_PHYSICAL_OFFSET, OFF_QUEUE_ID, OFF_QUEUE_OFFSET, RECORD_OVERHEAD } from '../message/index.js';

export class EntryCheck {
  readonly #log: CommitLog;
  readonly #head = Buffer.allocUnsafe(OFF_BODY);
  readonly #topic = Buffer.allocUnsafe(256);

  constructor(log: CommitLog) {
    this.#log = log;
  }

  /** Whether the entry (physicalOffset, size) at `queueOffset` of topic/queueId names its record. */
  matches(topic: Buffer, queueId: number, queueOffset: number, physicalOffset: number, size: number): boolean {
    const log = this.#log;
    if (!Number.isSafeInteger(physicalOffset) || size < RECORD_OVERHEAD + topic.length || size > log.maxRecordSize) return false;
    if (physicalOffset < log.minOffset) return true;
    if (physicalOffset + size > log.fileEndOffset) return false;
    const head = this.#head;
    try {
      if (log.read(physicalOffset, head, 0, OFF_BODY) < OFF_BODY) return false;
    } catch (err) {
      throw new CorruptStoreError(`reading the record at ${physicalOffset} failed`, { cause: err });
    }
    if (head.readUInt32BE(0) !== size || head.readUInt32BE(OFF_MAGIC) !== MESSAGE_MAGIC) return false;
    if (readU64(head, OFF_PHYSICAL_OFFSET) !== physicalOffset || head.readUInt32BE(OFF_QUEUE_ID) !== queueId) return false;
    if (readU64(head, OFF_QUEUE_OFFSET) !== queueOffset) return false;
    const topicAt = OFF_BODY + head.readUInt32BE(OFF_BODY_LENGTH);
    if (topicAt + 1 + topic.length > size) return false;
    const t = this.#topic;
    if (log.read(physicalOffset + topicAt, t, 0, 1 + topic.length) < 1 + topic.length || t[0] !== topic.length) return false;
    return t.subarray(1, 1 + topic.length).equals(topic);
  }
}
