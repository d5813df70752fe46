// The activity service's options, their defaults and their check: unknown
// keys and out-of-range values are InvalidConfigErrors naming the option.
// The resolved options travel to every worker over the cluster's IPC channel
// (never the environment or the command line: they may carry a credential).
import { availableParallelism } from 'node:os';
import { InvalidConfigError } from '../common/index.js';
import type { Credential, ProducerOptions } from '../client/index.js';

/** The Producer options the service passes through (the service sets namesrv and credential itself). */
export type ActivityProducerOptions = Omit<ProducerOptions, 'namesrv' | 'credential'>;

export interface ActivityServiceOptions {
  /** Name server addresses (host:port), as a list or a ';'-separated string. Required. */
  namesrv: string | readonly string[];
  /** Topic the claims go to. Default LOTTERY_CLAIM (the double12 scenario's). */
  topic?: string;
  /** Activity id of a request that names none (written in the claim's text). Default double12. */
  activity?: string;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Port to listen on; 0 picks a free one. Default 8080. */
  port?: number;
  /** Worker processes serving HTTP (cluster). Default: the machine's available parallelism. */
  workers?: number;
  /** The account the producers present to secured brokers (from a file or the environment, never a flag). */
  credential?: Credential;
  /** Producer options for every worker's producer (timeouts, retries, TLS; batching once the Producer has it). */
  producer?: ActivityProducerOptions;
  /** Run nonce written in every claim header (the harness's verifier ignores other runs' claims). Default 0. */
  claimNonce?: number;
  /** Claim message body bytes (at least the 32-byte claim header). Default 128 (double12's). */
  bodySize?: number;
  /** Largest request body accepted; a larger one is answered 413. Default 1024 bytes. */
  maxBodyBytes?: number;
  /** Claims one worker holds open at once (answering, forwarding, sending); past it 503. Default 4096. */
  maxInFlight?: number;
  /** Acknowledged users one worker's record keeps (the oldest is forgotten past it). Default 1,000,000. */
  recordCapacity?: number;
  /** Seconds a 503 answer's Retry-After asks the client to wait. Default 1. */
  retryAfterSec?: number;
  /** Time a request may take, headers and body included, before the server drops it (node:http requestTimeout). Default 10,000 ms. */
  requestTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this. Default 5,000 ms. */
  keepAliveTimeoutMs?: number;
  /** Dead workers forked again at most this many times within a minute (past it a dead worker stays down); 0: never. Default 10. */
  maxRestartsPerMinute?: number;
}

export type ResolvedActivityOptions = Required<Omit<ActivityServiceOptions, 'credential' | 'namesrv'>> & {
  namesrv: string[];
  credential?: Credential;
};

export const ACTIVITY_DEFAULTS = {
  topic: 'LOTTERY_CLAIM',
  activity: 'double12',
  host: '127.0.0.1',
  port: 8080,
  claimNonce: 0,
  bodySize: 128,
  maxBodyBytes: 1024,
  maxInFlight: 4096,
  recordCapacity: 1_000_000,
  retryAfterSec: 1,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxRestartsPerMinute: 10,
} as const;

const KEYS = ['namesrv', 'topic', 'activity', 'host', 'port', 'workers', 'credential', 'producer', 'claimNonce', 'bodySize', 'maxBodyBytes', 'maxInFlight', 'recordCapacity', 'retryAfterSec', 'requestTimeoutMs', 'keepAliveTimeoutMs', 'maxRestartsPerMinute'];

/** The Producer options the service knows (`batching` defaults on: see producerOptionsFor in claim-sender.ts). */
const PRODUCER_KEYS = ['requestTimeoutMs', 'routeRefreshMs', 'clientId', 'tls', 'retries', 'batching'];

const CLAIM_HEADER_BYTES = 32;
const MAX_WORKERS = 256;
const ACTIVITY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export function resolveActivityOptions(o: ActivityServiceOptions): ResolvedActivityOptions {
  if (o === null || typeof o !== 'object') throw new InvalidConfigError('activity service options must be an object');
  for (const k of Object.keys(o)) if (!KEYS.includes(k)) throw new InvalidConfigError(`activity service: unknown option ${JSON.stringify(k)} (known: ${[...KEYS].sort().join(', ')})`);
  const d = ACTIVITY_DEFAULTS;
  const namesrv = (typeof o.namesrv === 'string' ? o.namesrv.split(';') : [...(o.namesrv ?? [])]).map((s) => s.trim()).filter((s) => s !== '');
  if (namesrv.length === 0) throw new InvalidConfigError('activity service: namesrv is required (host:port of at least one name server)');
  const topic = o.topic ?? d.topic;
  if (typeof topic !== 'string' || topic === '') throw new InvalidConfigError('activity service: topic must be a non-empty string');
  const activity = o.activity ?? d.activity;
  if (typeof activity !== 'string' || !ACTIVITY_ID.test(activity)) throw new InvalidConfigError(`activity service: activity must be 1 to 64 of [A-Za-z0-9_.-], got ${JSON.stringify(activity)}`);
  const host = o.host ?? d.host;
  if (typeof host !== 'string' || host === '') throw new InvalidConfigError('activity service: host must be a non-empty string');
  const producer = o.producer ?? {};
  if (producer === null || typeof producer !== 'object') throw new InvalidConfigError('activity service: producer must be an object of Producer options');
  for (const k of Object.keys(producer)) if (!PRODUCER_KEYS.includes(k)) throw new InvalidConfigError(`activity service: unknown producer option ${JSON.stringify(k)} (known: ${PRODUCER_KEYS.join(', ')})`);
  return {
    namesrv,
    topic,
    activity,
    host,
    port: int('port', o.port, d.port, 0, 65535),
    workers: int('workers', o.workers, defaultWorkers(), 1, MAX_WORKERS),
    ...(o.credential !== undefined ? { credential: o.credential } : {}),
    producer,
    claimNonce: int('claimNonce', o.claimNonce, d.claimNonce, 0, 0xffff_ffff),
    bodySize: int('bodySize', o.bodySize, d.bodySize, CLAIM_HEADER_BYTES, 4 * 1024 * 1024),
    maxBodyBytes: int('maxBodyBytes', o.maxBodyBytes, d.maxBodyBytes, 64, 1024 * 1024),
    maxInFlight: int('maxInFlight', o.maxInFlight, d.maxInFlight, 1, 1_000_000),
    recordCapacity: int('recordCapacity', o.recordCapacity, d.recordCapacity, 1, 100_000_000),
    retryAfterSec: int('retryAfterSec', o.retryAfterSec, d.retryAfterSec, 1, 3600),
    requestTimeoutMs: int('requestTimeoutMs', o.requestTimeoutMs, d.requestTimeoutMs, 100, 600_000),
    keepAliveTimeoutMs: int('keepAliveTimeoutMs', o.keepAliveTimeoutMs, d.keepAliveTimeoutMs, 100, 600_000),
    maxRestartsPerMinute: int('maxRestartsPerMinute', o.maxRestartsPerMinute, d.maxRestartsPerMinute, 0, 1000),
  };
}

/** Every core the process may use: the service is the box's front door. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(MAX_WORKERS, availableParallelism()));
}

function int(name: string, v: unknown, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw new InvalidConfigError(`activity service: ${name} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  return v;
}
