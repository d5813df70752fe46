// Door of client/consumer/: the Consumer facade, its options and handler types.
export { Consumer } from './consumer.js';
export { CONSUMER_DEFAULTS, type ConsumerOptions } from './consumer-options.js';
export type { MessageHandler, ConsumeResult, ConsumeContext } from './message-handler.js';
