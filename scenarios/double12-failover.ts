// Double 12 with two broker groups, for failover: the same sale as
// double12, spread over broker-a and broker-b behind one name server, as
// child processes that faults can kill. It lists no fault of its own: add
// them on the command line, e.g.
//   npm run scenario double12-failover -- --fault kill-master@50 --fault restart-master@65
// and the producers fail over to the other group while broker-a is down.
import type { Scenario } from '../src/harness/index.js';
import { scenario as double12 } from './double12.js';

export const scenario: Scenario = {
  ...double12,
  name: 'double12-failover',
  description: 'Double 12 on two broker groups (processes): add --fault to see what a failure costs',
  topology: { ...double12.topology, isolation: 'process', brokerGroups: 2 },
};
