// The scenario room's door: the model of a load run (phases of a rate curve,
// consumer capacity, topology, thresholds) with its arithmetic, and the
// lookup and validation of scenarios/<name>.ts.
export * from './scenario.js';
export * from './fault-spec.js';
export { loadScenario, listScenarios, checkScenario } from './scenarios.js';
