// One op record of the op topic: what happened to one half message, named by
// its queue offset in the half topic. The kind is the record's tag, the body
// ASCII: "<halfQueueOffset>", and for a commit
// "<halfQueueOffset> <queueId> <queueOffset> <physicalOffset>" (where the
// committed message is, so a duplicate END after a restart can say so).

export const OpKind = {
  Commit: 'c',
  Rollback: 'r',
  Discard: 'd',
  /** A check was sent (or attempted with no producer online): the count survives a restart. */
  Check: 'k',
} as const;
export type OpKind = (typeof OpKind)[keyof typeof OpKind];

export interface CommittedAt {
  queueId: number;
  queueOffset: number;
  physicalOffset: number;
}

export interface OpRecord {
  kind: OpKind;
  halfQueueOffset: number;
  committed: CommittedAt | undefined;
}

const KINDS = new Set<string>(Object.values(OpKind));
/** One offset, or four numbers (a commit's): decimal digits only. */
const OP_BODY = /^\d{1,16}( \d{1,16}){0,3}$/;

export function encodeOpBody(halfQueueOffset: number, committed?: CommittedAt): Buffer {
  const s = committed === undefined ? String(halfQueueOffset) : `${halfQueueOffset} ${committed.queueId} ${committed.queueOffset} ${committed.physicalOffset}`;
  return Buffer.from(s, 'ascii');
}

/** The op record, or undefined for a record that is not one (skipped, never fatal: the log is what it is). */
export function parseOpRecord(tags: string | undefined, body: Uint8Array): OpRecord | undefined {
  if (tags === undefined || !KINDS.has(tags)) return undefined;
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('ascii');
  if (!OP_BODY.test(text)) return undefined;
  const parts = text.split(' ').map(Number);
  if (!parts.every((n) => Number.isSafeInteger(n))) return undefined;
  const kind = tags as OpKind;
  if (parts.length === 1) return { kind, halfQueueOffset: parts[0]!, committed: undefined };
  if (parts.length === 4 && kind === OpKind.Commit) return { kind, halfQueueOffset: parts[0]!, committed: { queueId: parts[1]!, queueOffset: parts[2]!, physicalOffset: parts[3]! } };
  return undefined;
}
