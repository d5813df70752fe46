// Public door of broker/: the broker service and its configuration.
export { Broker, type BrokerStats, type BrokerLogger } from './broker.js';
export type { TimerStats } from './timer/index.js';
export { BROKER_DEFAULTS, resolveBrokerConfig, type BrokerConfig, type ResolvedBrokerConfig } from './broker-config.js';
