// Public door of broker/metrics/: the monitor (rates, lag, alert rules) and
// the Prometheus metrics of a broker.
export { BrokerMonitor, MAX_QUEUE_ENTRIES, type MonitorSources } from './broker-monitor.js';
export { brokerMetrics } from './broker-metrics.js';
export { checkAlertRules, MAX_ALERT_RULES, type AlertRule, type AlertKind, type ResolvedAlertRule } from './alert-rules.js';
