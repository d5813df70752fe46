// The workers room's door: what runs in the producer and consumer threads
// (piscina tasks, loaded by file URL) and what they share with the
// coordinator: the claim body, the shared arrays, the reports they post.
export type { ProducerTask } from './producer-task.js';
export type { ConsumerTask } from './consumer-task.js';
export { USER_ID_BASE, userIndexOf, userPermutation } from './claim.js';
export { MIN_RETRY_US } from './send-retry.js';
export { ACK_FAILED, ACK_NONE, ACK_OK, CONTROL_ABORT, CONTROL_DROPPED, CONTROL_FOREIGN, createSharedRunState, type SharedRunState } from './shared-state.js';
export type { ConsumerInterval, ConsumerOutcome, PhaseFigures, ProducerInterval, ProducerOutcome, WorkerCommand, WorkerEvent } from './worker-reports.js';

/**
 * The task files piscina loads in each thread, next to this door (so they
 * resolve from dist/ as compiled: the harness runs from dist/ only).
 */
export const PRODUCER_TASK_FILE = new URL('./producer-task.js', import.meta.url).href;
export const CONSUMER_TASK_FILE = new URL('./consumer-task.js', import.meta.url).href;
// The claim body codec, shared with the activity service (src/activity), which produces the same claims over HTTP.
export { CLAIM_HEADER_BYTES, CLAIM_MAGIC, claimTemplate, decodeClaim, writeClaimHeader, type Claim } from './claim.js';
