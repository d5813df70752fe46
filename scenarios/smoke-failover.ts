// The smoke run with a master that dies and comes back, for CI: two broker
// groups (processes), broker-a's master SIGKILLed in the peak and started
// again 3 s later. The producers fail over to broker-b and re-send what
// failed; the consumers read broker-a's backlog from its slave meanwhile.
// Nothing acknowledged may be lost, every ticket issued once. The outage
// shows in the latency, which this run does not judge: what it proves is
// that a failure costs no claim.
import type { Scenario } from '../src/harness/index.js';
import { parseFault } from '../src/harness/index.js';
import { scenario as smoke } from './smoke.js';

export const scenario: Scenario = {
  ...smoke,
  name: 'smoke-failover',
  description: 'smoke on two broker groups with broker-a\'s master killed at 6 s and restarted at 9 s, for CI',
  topology: { ...smoke.topology, isolation: 'process', brokerGroups: 2 },
  faults: [parseFault('kill-master@6'), parseFault('restart-master@9')],
  thresholds: {
    ...smoke.thresholds,
    // Failover keeps taking claims: the peak still acknowledges most of what it offers.
    minAckedRatio: 0.8,
    maxSendP99Ms: undefined,
  },
};
