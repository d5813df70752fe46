// Typed errors: one class per failure, each with a stable literal `code` that
// callers (and, later, wire statuses) can switch on, a default message, and the
// original `cause` kept for diagnosis.

export interface MetaqErrorOptions {
  cause?: unknown;
}

/** Base class of every error metaq throws on purpose. */
export class MetaqError extends Error {
  readonly code: string = 'METAQ_ERROR';
  constructor(message: string, options?: MetaqErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidConfigError extends MetaqError {
  override readonly code = 'METAQ_INVALID_CONFIG';
  constructor(message = 'invalid configuration', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

export class InvalidTopicError extends MetaqError {
  override readonly code = 'METAQ_INVALID_TOPIC';
  constructor(message = 'invalid topic name', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

export class UnknownTopicError extends MetaqError {
  override readonly code = 'METAQ_UNKNOWN_TOPIC';
  constructor(message = 'unknown topic', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

export class UnknownQueueError extends MetaqError {
  override readonly code = 'METAQ_UNKNOWN_QUEUE';
  constructor(message = 'unknown queue id', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

export class InvalidMessageError extends MetaqError {
  override readonly code = 'METAQ_INVALID_MESSAGE';
  constructor(message = 'invalid message', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

export class MessageTooLargeError extends MetaqError {
  override readonly code = 'METAQ_MESSAGE_TOO_LARGE';
  constructor(message = 'message body exceeds the maximum message size', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** Disk use passed the high-water mark: writes are refused until space is freed. */
export class DiskFullError extends MetaqError {
  override readonly code = 'METAQ_DISK_FULL';
  constructor(message = 'disk use is above the high-water mark; writes are refused', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** A write of CommitLog bytes into the page cache failed; the batch was not stored. */
export class StoreWriteError extends MetaqError {
  override readonly code = 'METAQ_STORE_WRITE_FAILED';
  constructor(message = 'writing to the commit log failed', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** fdatasync failed: the batch may not be durable, so it is never acknowledged. */
export class FlushError extends MetaqError {
  override readonly code = 'METAQ_FLUSH_FAILED';
  constructor(message = 'flushing the commit log to disk failed', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** The store stopped taking writes after an IO failure it cannot vouch for. */
export class StoreUnavailableError extends MetaqError {
  override readonly code = 'METAQ_STORE_UNAVAILABLE';
  constructor(message = 'the store refuses writes after an earlier IO failure; restart it', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

export class StoreClosedError extends MetaqError {
  override readonly code = 'METAQ_STORE_CLOSED';
  constructor(message = 'the store is closed', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** Another live process holds the store directory. */
export class StoreLockedError extends MetaqError {
  override readonly code = 'METAQ_STORE_LOCKED';
  constructor(message = 'the store directory is in use by another process', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** On-disk data that cannot be made sense of, outside the tail that recovery may cut. */
export class CorruptStoreError extends MetaqError {
  override readonly code = 'METAQ_STORE_CORRUPT';
  constructor(message = 'the store data is corrupt', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** A store's sync record (what its fdatasyncs covered, for fault injection) is missing, torn or not one. */
export class SyncRecordError extends MetaqError {
  override readonly code = 'METAQ_SYNC_RECORD_INVALID';
  constructor(message = 'the sync record cannot be read', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** The store's own bookkeeping broke an invariant (a bug, not bad input or bad data). */
export class StoreStateError extends MetaqError {
  override readonly code = 'METAQ_STORE_STATE';
  constructor(message = 'the store reached an inconsistent internal state', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** A slave's log holds a tail its master never had; the slave cuts it before replicating on. */
export class ReplicaDivergedError extends MetaqError {
  override readonly code = 'METAQ_REPLICA_DIVERGED';
  constructor(message = "the replica's log diverged from the master's", options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/**
 * A slave's log ends before the oldest data its master keeps (retention
 * deleted what it still needed): it resets its log to start at the master's
 * oldest kept offset and copies on from there.
 */
export class ReplicaBehindRetentionError extends MetaqError {
  override readonly code = 'METAQ_REPLICA_BEHIND_RETENTION';
  constructor(message = "the replica's log ends before the oldest data its master keeps", options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/**
 * A master that may hold less than its slave takes no writes: it has not yet
 * heard from its slave since it started (sync replication), it is copying the
 * slave's longer log back, or its log diverged from data its slave confirmed.
 * The message names the way out.
 */
export class MasterBehindSlaveError extends MetaqError {
  override readonly code = 'METAQ_MASTER_BEHIND_SLAVE';
  constructor(message = 'this master may hold less than its slave and takes no writes until it has caught up', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** A master refused a slave's handshake: another slave is replicating, or this one cannot keep the promise the master's modes make. */
export class SlaveRefusedError extends MetaqError {
  override readonly code = 'METAQ_SLAVE_REFUSED';
  constructor(message = 'the master refused this slave', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

export class InvalidMessageIdError extends MetaqError {
  override readonly code = 'METAQ_INVALID_MESSAGE_ID';
  constructor(message = 'malformed message id', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

// ---- wire and client errors ----

/** A frame that cannot be parsed: bad header, truncated body, bad field. */
export class MalformedFrameError extends MetaqError {
  override readonly code = 'METAQ_MALFORMED_FRAME';
  constructor(message = 'malformed frame', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** A frame longer than the receiver's max frame size. */
export class FrameTooLargeError extends MetaqError {
  override readonly code = 'METAQ_FRAME_TOO_LARGE';
  constructor(message = 'frame exceeds the maximum frame size', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** A request whose opcode the receiver does not know. */
export class UnknownOpcodeError extends MetaqError {
  override readonly code = 'METAQ_UNKNOWN_OPCODE';
  constructor(message = 'unknown opcode', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

export class ConnectError extends MetaqError {
  override readonly code = 'METAQ_CONNECT_FAILED';
  constructor(message = 'could not connect', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** The connection closed while the request was in flight (its outcome is unknown). */
export class ConnectionClosedError extends MetaqError {
  override readonly code = 'METAQ_CONNECTION_CLOSED';
  constructor(message = 'connection closed', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** No response within the request timeout (its outcome is unknown). */
export class RequestTimeoutError extends MetaqError {
  override readonly code = 'METAQ_REQUEST_TIMEOUT';
  constructor(message = 'request timed out', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** The name server knows no broker serving the topic. */
export class NoRouteError extends MetaqError {
  override readonly code = 'METAQ_NO_ROUTE';
  constructor(message = 'no route to the topic', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** The broker is starting, stopping or otherwise refusing service. */
export class ServiceUnavailableError extends MetaqError {
  override readonly code = 'METAQ_SERVICE_UNAVAILABLE';
  constructor(message = 'service not available', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** The thing asked for (a message, an offset) does not exist. */
export class NotFoundError extends MetaqError {
  override readonly code = 'METAQ_NOT_FOUND';
  constructor(message = 'not found', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** A committed offset outside the queue's [minOffset, maxOffset]: the request applied nothing. */
export class OffsetOutOfRangeError extends MetaqError {
  override readonly code = 'METAQ_OFFSET_OUT_OF_RANGE';
  constructor(message = "offset outside the queue's range", options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** A client named one of the broker's own groups (their names start with '%'), which only the broker writes. */
export class InternalGroupError extends MetaqError {
  override readonly code = 'METAQ_INTERNAL_GROUP';
  constructor(message = 'the group is internal to the broker; clients cannot write it', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** A delayed send whose delay or delivery time is refused (negative, not an integer, beyond the broker's maxDelayMs): nothing was stored. */
export class InvalidDelayError extends MetaqError {
  override readonly code = 'METAQ_INVALID_DELAY';
  constructor(message = 'invalid delay', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** The server failed in a way it did not classify; the message says how. */
export class InternalServerError extends MetaqError {
  override readonly code = 'METAQ_INTERNAL_ERROR';
  constructor(message = 'internal server error', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** The client (producer, consumer) was used after shutdown or before start. */
export class ClientStateError extends MetaqError {
  override readonly code = 'METAQ_CLIENT_STATE';
  constructor(message = 'client is not running', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** A well-formed frame whose fields make no sense (a negative count, an empty group). */
export class InvalidRequestError extends MetaqError {
  override readonly code = 'METAQ_INVALID_REQUEST';
  constructor(message = 'invalid request', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** The peer did not prove who it is (no credentials, a wrong secret, an unknown name): the connection is closed. */
export class AuthenticationError extends MetaqError {
  override readonly code = 'METAQ_UNAUTHENTICATED';
  constructor(message = 'authentication failed', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/** The peer is authenticated, but its credential's role does not allow this request. */
export class AccessDeniedError extends MetaqError {
  override readonly code = 'METAQ_ACCESS_DENIED';
  constructor(message = 'access denied', options?: MetaqErrorOptions) {
    super(message, options);
  }
}

/**
 * A configured limit refused the request (connections, requests in flight,
 * held pulls, topics, groups, key-lookup work...). `limit` names it, as in
 * the broker's stats and docs/SECURITY.md; the server keeps serving others.
 */
export class LimitExceededError extends MetaqError {
  override readonly code = 'METAQ_LIMIT_EXCEEDED';
  readonly limit: string;
  /** The message reads "limit <limit>: <detail>", which a client parses back into `limit`. */
  constructor(limit: string, detail = 'exceeded', options?: MetaqErrorOptions) {
    super(detail.startsWith(`limit ${limit}`) ? detail : `limit ${limit}: ${detail}`, options);
    this.limit = limit;
  }
}
