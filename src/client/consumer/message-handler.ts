// What the user's handler receives and answers.
import type { ReceivedMessage } from '../received-message.js';
import type { MessageQueue } from '../topic-routes.js';

export type ConsumeResult = 'success' | 'retry';

export interface ConsumeContext {
  queue: MessageQueue;
}

/** Returns 'retry' (or throws) to have the batch re-delivered later; anything else is success. */
export type MessageHandler = (messages: ReceivedMessage[], ctx: ConsumeContext) => ConsumeResult | void | Promise<ConsumeResult | void>;
