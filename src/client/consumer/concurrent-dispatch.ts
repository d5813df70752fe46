// Unordered consumption: any queue with buffered messages may have several
// batches in the handler at once. A failed batch goes to the broker's retry
// (clustering) or runs again in place (broadcasting: no shared retry topic).
import { ConsumeMode } from '../../protocol/index.js';
import { Dispatch } from './dispatch.js';
import type { Batch, ProcessQueue } from './process-queue.js';

export class ConcurrentDispatch extends Dispatch {
  protected ready(pq: ProcessQueue): boolean {
    return !pq.dropped;
  }

  protected failed(batch: Batch): Promise<void> {
    return this.core.o.mode === ConsumeMode.Broadcasting ? this.retry.inPlace(batch) : this.retry.sendBack(batch);
  }
}
