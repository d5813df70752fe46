// The limits a framed server (broker, name server, replication port) puts on
// its connections, so that no one peer can exhaust the process: how many it
// serves, how many requests of one connection it works on at once, how much
// output it queues for one socket, and how long a frame begun may stall. The
// option names are the config keys; each refusal is counted in the server's
// RefusalCounters under the limit's name in LIMIT (docs/SECURITY.md, "Limits").
import { checkInteger } from '../common/index.js';

export interface ConnectionLimits {
  /** Connections served at once; one more is answered LimitExceeded (request id 0) and closed. */
  maxConnections: number;
  /** Requests of one connection answered asynchronously and still pending; at the limit its next requests are not read until one is answered. */
  maxInFlightPerConnection: number;
  /** Bytes queued for one connection's socket above which its requests are not read (and answers waiting for room, like woken long polls, wait) until the queue drains. */
  outputHighWaterBytes: number;
  /** A frame begun (header or body) that gets no further byte for this long closes the connection; 0 turns the check off. */
  partialFrameTimeoutMs: number;
}

export const CONNECTION_LIMIT_DEFAULTS: Readonly<ConnectionLimits> = {
  maxConnections: 10_000,
  // Far above what a pipelining producer keeps in flight through a 3 s replication stall at full rate.
  maxInFlightPerConnection: 65_536,
  // Two of the largest pull answers (8 MiB) and then some.
  outputHighWaterBytes: 16 * 1024 * 1024,
  partialFrameTimeoutMs: 30_000,
};

/** The counter (and LimitExceededError.limit) of each limit. */
export const LIMIT = {
  connections: 'connections',
  /** Counted each time a connection's reading is paused because it reached maxInFlightPerConnection. */
  inFlight: 'requestsInFlight',
  /** Counted each time a connection's reading is paused because its queued output passed outputHighWaterBytes. */
  output: 'outputBytes',
  partialFrame: 'partialFrameTimeout',
} as const;

/** The smallest high-water mark: above the socket's own (16 KiB), so a write past it always ends in a 'drain'. */
const MIN_OUTPUT_HIGH_WATER_BYTES = 64 * 1024;

/** Throws InvalidConfigError naming the first bad limit (`where` prefixes the key, e.g. "name server "). */
export function checkConnectionLimits(c: ConnectionLimits, where = ''): ConnectionLimits {
  checkInteger(`${where}maxConnections`, c.maxConnections);
  checkInteger(`${where}maxInFlightPerConnection`, c.maxInFlightPerConnection);
  checkInteger(`${where}outputHighWaterBytes`, c.outputHighWaterBytes, MIN_OUTPUT_HIGH_WATER_BYTES);
  checkInteger(`${where}partialFrameTimeoutMs`, c.partialFrameTimeoutMs, 0);
  return c;
}

/** Just the connection limits of a larger config (a broker's or a name server's). */
export function connectionLimitsOf(c: ConnectionLimits): ConnectionLimits {
  return {
    maxConnections: c.maxConnections,
    maxInFlightPerConnection: c.maxInFlightPerConnection,
    outputHighWaterBytes: c.outputHighWaterBytes,
    partialFrameTimeoutMs: c.partialFrameTimeoutMs,
  };
}
