// Public door of ha/: master/slave replication of the CommitLog.
export { HaMaster, HA_REPORT_REFUSAL, type HaMasterOptions, type HaMasterStats, type ReplicationMode, type WriteHold } from './ha-master.js';
export { HaSlave, type HaSlaveOptions, type HaSlaveStats } from './ha-slave.js';
export type { ReplicaOutcome } from './replica-waiters.js';
