// What the service's primary process and its workers say to each other over
// the cluster IPC channel. Claims for a user another worker owns travel as
// batches (one IPC message per event-loop turn, not one per claim): worker
// -> primary -> owner, and the answers back the same way.
import type { ClaimRequest } from './claim-request.js';
import type { ResolvedActivityOptions } from './activity-options.js';

/** An answer to a claim, as the owner worker made it. */
export interface ClaimAnswer {
  status: number;
  body: Record<string, unknown>;
  /** Seconds, for a 503's Retry-After. */
  retryAfterSec?: number;
}

export interface ForwardItem {
  id: number;
  req: ClaimRequest;
}

export interface AnswerItem {
  id: number;
  answer: ClaimAnswer;
}

export type ToWorker =
  | { t: 'config'; index: number; options: ResolvedActivityOptions }
  | { t: 'fwd'; from: number; items: ForwardItem[] }
  | { t: 'ans'; items: AnswerItem[] }
  | { t: 'metrics'; id: number; text: string; contentType: string }
  /** Asks for the worker's metrics (as prom-client's JSON) for the merged exposition. */
  | { t: 'collect'; id: number }
  | { t: 'close' };

export type ToPrimary =
  /** The worker's IPC listener is installed: it can take its configuration (messages sent before are lost). */
  | { t: 'hello' }
  | { t: 'ready'; port: number }
  | { t: 'failed'; code: string; message: string }
  | { t: 'fwd'; to: number; items: ForwardItem[] }
  | { t: 'ans'; to: number; items: AnswerItem[] }
  | { t: 'metrics'; id: number }
  | { t: 'collected'; id: number; metrics: unknown[] };

/** The worker owning a user's allocation record: users are sharded by id. */
export function ownerOf(userId: number, workers: number): number {
  return userId % workers;
}
