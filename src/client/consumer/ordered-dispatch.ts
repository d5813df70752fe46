// Ordered consumption: one batch of a queue in the handler at a time, in
// queue order; a failed batch runs again in place after a pause (a send-back
// would let later messages overtake it), and goes to the dead-letter topic
// once it used up its re-deliveries.
import { Dispatch } from './dispatch.js';
import type { Batch, ProcessQueue } from './process-queue.js';

export class OrderedDispatch extends Dispatch {
  protected ready(pq: ProcessQueue): boolean {
    return !pq.dropped && pq.inFlight === 0 && Date.now() >= pq.suspendedUntil;
  }

  protected failed(batch: Batch): Promise<void> {
    return this.retry.inPlace(batch);
  }
}
