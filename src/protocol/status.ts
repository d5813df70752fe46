// Response statuses, and their mapping to and from typed errors. Numbers are
// part of the wire contract: never renumber, only add.
import { AccessDeniedError, AuthenticationError, DiskFullError, FlushError, FrameTooLargeError, InternalGroupError, InternalServerError, InvalidMessageError, InvalidMessageIdError, InvalidRequestError, InvalidDelayError, InvalidTopicError, LimitExceededError, MalformedFrameError, MasterBehindSlaveError, MessageTooLargeError, MetaqError, NoRouteError, NotFoundError, OffsetOutOfRangeError, ServiceUnavailableError, SlaveRefusedError, StoreClosedError, StoreUnavailableError, StoreWriteError, UnknownOpcodeError, UnknownQueueError, UnknownTopicError  } from '../common/index.js';

export const Status = {
  Ok: 0,
  // pull outcomes that are not errors (the body still carries the offsets)
  NoNewMessage: 1,
  NoMatchedMessage: 2,
  OffsetMoved: 3,
  OffsetOverflow: 4,
  /** Lookups (consumer offset, message) that found nothing. */
  NotFound: 5,
  // send outcomes under sync replication: stored on the master (body as for Ok), not confirmed by the slave
  /** The slave did not confirm within the timeout. */
  SlaveTimeout: 6,
  /** No slave connected, or it is too far behind to wait for. */
  SlaveNotAvailable: 7,
  /** QUERY_BY_KEY: a bound (index entries examined, response size) stopped the lookup; the records found so far follow (body as for Ok). */
  Truncated: 8,
  // errors: the body is a UTF-8 message
  MalformedFrame: 20,
  FrameTooLarge: 21,
  UnknownOpcode: 22,
  InvalidRequest: 23,
  UnknownTopic: 30,
  UnknownQueue: 31,
  InvalidTopic: 32,
  InvalidMessage: 33,
  MessageTooLarge: 34,
  /** A committed offset outside the queue's [minOffset, maxOffset]. */
  OffsetOutOfRange: 35,
  /** The request names one of the broker's own groups, which clients cannot write. */
  InternalGroup: 36,
  DiskFull: 40,
  StoreUnavailable: 41,
  ServiceUnavailable: 42,
  FlushFailed: 43,
  StoreWriteFailed: 44,
  /** A master that may hold less than its slave refuses writes until it has caught up. */
  MasterBehindSlave: 45,
  /** Replication port: the master refused this slave (another slave replicates, or its flush mode is too weak). */
  SlaveRefused: 46,
  NoRoute: 50,
  /** Security (docs/SECURITY.md): no or wrong credentials (the connection is then closed). */
  Unauthenticated: 51,
  /** The credential's role may not make this request. */
  AccessDenied: 52,
  /** A configured limit refused the request; the message names the limit. */
  LimitExceeded: 53,
  InternalError: 60,
  /** A delayed send's delay or delivery time was refused (negative, not an integer, over maxDelayMs); nothing stored. */
  InvalidDelay: 75,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

const NAMES = new Map<number, string>(Object.entries(Status).map(([k, v]) => [v, k]));

export function statusName(s: number): string {
  return NAMES.get(s) ?? `status ${s}`;
}

/** Statuses at or above this carry an error message as their body. */
export const FIRST_ERROR_STATUS = 20;

export function isErrorStatus(s: number): boolean {
  return s >= FIRST_ERROR_STATUS;
}

/** The status a server answers with for an error it caught. */
export function statusForError(err: unknown): Status {
  if (err instanceof MalformedFrameError) return Status.MalformedFrame;
  if (err instanceof FrameTooLargeError) return Status.FrameTooLarge;
  if (err instanceof UnknownOpcodeError) return Status.UnknownOpcode;
  if (err instanceof UnknownTopicError) return Status.UnknownTopic;
  if (err instanceof UnknownQueueError) return Status.UnknownQueue;
  if (err instanceof InvalidTopicError) return Status.InvalidTopic;
  if (err instanceof InvalidDelayError) return Status.InvalidDelay;
  if (err instanceof InvalidMessageError || err instanceof InvalidMessageIdError) return Status.InvalidMessage;
  if (err instanceof MessageTooLargeError) return Status.MessageTooLarge;
  if (err instanceof OffsetOutOfRangeError) return Status.OffsetOutOfRange;
  if (err instanceof InternalGroupError) return Status.InternalGroup;
  if (err instanceof DiskFullError) return Status.DiskFull;
  if (err instanceof StoreUnavailableError || err instanceof StoreClosedError) return Status.StoreUnavailable;
  if (err instanceof ServiceUnavailableError) return Status.ServiceUnavailable;
  if (err instanceof FlushError) return Status.FlushFailed;
  if (err instanceof StoreWriteError) return Status.StoreWriteFailed;
  if (err instanceof MasterBehindSlaveError) return Status.MasterBehindSlave;
  if (err instanceof SlaveRefusedError) return Status.SlaveRefused;
  if (err instanceof NoRouteError) return Status.NoRoute;
  if (err instanceof AuthenticationError) return Status.Unauthenticated;
  if (err instanceof AccessDeniedError) return Status.AccessDenied;
  if (err instanceof LimitExceededError) return Status.LimitExceeded;
  if (err instanceof NotFoundError) return Status.NotFound;
  if (err instanceof InvalidRequestError) return Status.InvalidRequest;
  return Status.InternalError;
}

/** The typed error a client raises for an error status. */
export function errorForStatus(status: number, message: string): MetaqError {
  switch (status) {
    case Status.MalformedFrame:
      return new MalformedFrameError(message);
    case Status.InvalidRequest:
      return new InvalidRequestError(message);
    case Status.FrameTooLarge:
      return new FrameTooLargeError(message);
    case Status.UnknownOpcode:
      return new UnknownOpcodeError(message);
    case Status.UnknownTopic:
      return new UnknownTopicError(message);
    case Status.UnknownQueue:
      return new UnknownQueueError(message);
    case Status.InvalidTopic:
      return new InvalidTopicError(message);
    case Status.InvalidDelay:
      return new InvalidDelayError(message);
    case Status.InvalidMessage:
      return new InvalidMessageError(message);
    case Status.MessageTooLarge:
      return new MessageTooLargeError(message);
    case Status.OffsetOutOfRange:
      return new OffsetOutOfRangeError(message);
    case Status.InternalGroup:
      return new InternalGroupError(message);
    case Status.DiskFull:
      return new DiskFullError(message);
    case Status.StoreUnavailable:
      return new StoreUnavailableError(message);
    case Status.ServiceUnavailable:
      return new ServiceUnavailableError(message);
    case Status.FlushFailed:
      return new FlushError(message);
    case Status.StoreWriteFailed:
      return new StoreWriteError(message);
    case Status.MasterBehindSlave:
      return new MasterBehindSlaveError(message);
    case Status.SlaveRefused:
      return new SlaveRefusedError(message);
    case Status.NoRoute:
      return new NoRouteError(message);
    case Status.NotFound:
      return new NotFoundError(message);
    case Status.Unauthenticated:
      return new AuthenticationError(message);
    case Status.AccessDenied:
      return new AccessDeniedError(message);
    case Status.LimitExceeded:
      return new LimitExceededError(limitNamed(message), message);
    default:
      return new InternalServerError(`${statusName(status)}: ${message}`);
  }
}

/** The limit's name from a LIMIT_EXCEEDED message ("[addr: ]limit <name>: ..."), or "unknown". */
function limitNamed(message: string): string {
  const m = /limit ([A-Za-z0-9_.-]+):/.exec(message);
  return m?.[1] ?? 'unknown';
}
