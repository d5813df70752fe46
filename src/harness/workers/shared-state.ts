// Memory shared by the coordinator and every producer and consumer worker
// (SharedArrayBuffers, so the loss check needs no message traffic):
//   control   Int32 fields, indices named below
//   acked     one byte per message index: ACK_* (written by its producer only)
//   received  one byte per message index: how often consumers received it (saturates)
//   ledger    one byte per user: the lottery system's idempotency record (0 -> 1 once)
//   issued    one byte per user: tickets actually issued (more than 1 = a double issue; saturates)
// Message indices and user indices both run over 0..total-1 (claim.ts).

/** control[CONTROL_DROP_LEFT]: messages the consumers must still skip (--inject-drop). */
export const CONTROL_DROP_LEFT = 0;
/** control[CONTROL_DROPPED]: messages skipped so far. */
export const CONTROL_DROPPED = 1;
/** control[CONTROL_FOREIGN]: bodies that were not this run's claims. */
export const CONTROL_FOREIGN = 2;
/** control[CONTROL_ABORT]: 1 once the run is aborted (the generators stop offering). */
export const CONTROL_ABORT = 3;
/** control[CONTROL_DOUBLE_ISSUE_LEFT]: claims the lottery must still handle a second time without its idempotency check (--inject-double-issue). */
export const CONTROL_DOUBLE_ISSUE_LEFT = 4;
/** control[CONTROL_DOUBLE_ISSUED]: claims handled a second time that way so far. */
export const CONTROL_DOUBLE_ISSUED = 5;
const CONTROL_FIELDS = 6;

export const ACK_NONE = 0;
export const ACK_OK = 1;
export const ACK_FAILED = 2;

/** A received counter stops here so that a byte never wraps to 0 (that would hide a reception). */
export const RECEIVED_SATURATED = 255;

export interface SharedRunState {
  control: SharedArrayBuffer;
  acked: SharedArrayBuffer;
  received: SharedArrayBuffer;
  ledger: SharedArrayBuffer;
  issued: SharedArrayBuffer;
}

/** A ticket counter stops here so that a byte never wraps to 0. */
export const ISSUED_SATURATED = 255;

export function createSharedRunState(totalMessages: number, injectDrop: number, injectDoubleIssue = 0): SharedRunState {
  const control = new SharedArrayBuffer(CONTROL_FIELDS * Int32Array.BYTES_PER_ELEMENT);
  new Int32Array(control)[CONTROL_DROP_LEFT] = injectDrop;
  new Int32Array(control)[CONTROL_DOUBLE_ISSUE_LEFT] = injectDoubleIssue;
  return {
    control,
    acked: new SharedArrayBuffer(totalMessages),
    received: new SharedArrayBuffer(totalMessages),
    ledger: new SharedArrayBuffer(totalMessages),
    issued: new SharedArrayBuffer(totalMessages),
  };
}
