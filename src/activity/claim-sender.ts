// Produces one user's claim message and turns the broker's answer into an
// allocation, or a ClaimRefusal saying why the claim was not acknowledged:
// anything but SEND_OK is a refusal, so the service never answers 200 for a
// claim the broker did not take. The claim body is the harness's claim
// record (harness/workers claim codec), keyed by the user id, so that the
// lottery consumers and the verifier read these claims as their own.
import { isRetryableSendError, Producer, type BatchingOptions, type ProducerOptions } from '../client/index.js';
import { LimitExceededError, MetaqError, NoRouteError } from '../common/index.js';
import { claimTemplate, writeClaimHeader } from '../harness/workers/index.js';
import type { Allocation } from './allocation-record.js';
import type { ResolvedActivityOptions } from './activity-options.js';

/** Why a claim was not acknowledged; `retryable` ones are answered 503 with Retry-After, the others 500. */
export class ClaimRefusal extends Error {
  constructor(
    readonly reason: string,
    readonly retryable: boolean,
    message: string,
  ) {
    super(message);
    this.name = 'ClaimRefusal';
  }
}

/** The claim header's producer field: the service is one producer to the lottery (message index = seq). */
const CLAIM_PRODUCER = 0;
/** Activity templates kept (one per activity id seen; beyond it a template is built per claim). */
const MAX_TEMPLATES = 64;

/**
 * The service's claims batch by default: every claim is one concurrent
 * single send, which the Producer coalesces per queue into one request
 * (docs/BENCHMARKS.md: at 256 concurrent callers about a third of the CPU
 * per message of one request per claim). `lingerMs: 0` waits for nothing
 * beyond the event-loop turn; `sticky`: a turn's claims make one batch, not
 * one per queue (claims have no order to keep; docs/BENCHMARKS.md, bench
 * activity); `producer.batching` overrides either, key by key.
 */
export const SERVICE_BATCHING: BatchingOptions = { lingerMs: 0, sticky: true };

/** The one place where a worker's Producer options are built; `onBatch` feeds the batch-size metric. */
export function producerOptionsFor(o: ResolvedActivityOptions, onBatch?: (messages: number) => void): ProducerOptions {
  const batching = { ...SERVICE_BATCHING, ...o.producer.batching, ...(onBatch === undefined ? {} : { onBatch }) };
  return { ...o.producer, batching, namesrv: o.namesrv, ...(o.credential !== undefined ? { credential: o.credential } : {}) };
}

export class ClaimSender {
  readonly #producer: Producer;
  readonly #o: ResolvedActivityOptions;
  readonly #templates = new Map<string, Buffer>();

  constructor(o: ResolvedActivityOptions, onBatch?: (messages: number) => void) {
    this.#o = o;
    this.#producer = new Producer(producerOptionsFor(o, onBatch));
  }

  /** Sends the claim; resolves with the allocation only on SEND_OK, else rejects with a ClaimRefusal. */
  async send(userId: number, activityId: string, seq: number, intendedUs: number): Promise<Allocation> {
    const body = Buffer.from(this.#template(activityId));
    writeClaimHeader(new DataView(body.buffer, body.byteOffset, body.byteLength), 0, this.#o.claimNonce, CLAIM_PRODUCER, seq, userId, intendedUs);
    let r;
    try {
      r = await this.#producer.send(this.#o.topic, { body, keys: String(userId) });
    } catch (err) {
      throw refusalOf(err);
    }
    if (r.status !== 'SEND_OK') throw new ClaimRefusal(r.status, true, `the broker stored the claim but answered ${r.status}: not acknowledged, scan again`);
    return { userId, activityId, seq, msgId: r.messageId, topic: r.topic, brokerName: r.brokerName, queueId: r.queueId, queueOffset: r.queueOffset };
  }

  close(): void {
    this.#producer.shutdown();
  }

  #template(activityId: string): Buffer {
    let t = this.#templates.get(activityId);
    if (t === undefined) {
      t = claimTemplate(this.#o.bodySize, activityId);
      if (this.#templates.size < MAX_TEMPLATES) this.#templates.set(activityId, t);
    }
    return t;
  }
}

/**
 * Failures where the broker side may take the claim a little later: 503 and
 * Retry-After. Those the producer itself retries on another queue, and two
 * more a user's later scan may get past: no route yet, a limit.
 */
function refusalOf(err: unknown): ClaimRefusal {
  const code = err instanceof MetaqError ? err.code : 'ERROR';
  const message = err instanceof Error ? err.message : String(err);
  const retryable = isRetryableSendError(err) || err instanceof NoRouteError || err instanceof LimitExceededError;
  return new ClaimRefusal(code, retryable, message);
}
