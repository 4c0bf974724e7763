/** The liquidation stress simulator: scenarios, the three strategies, reports and charts. */
export { loadScenario, parseScenario, scenarioSchema, ScenarioError, type Scenario } from './scenario.js'
export { runSimulation, STRATEGIES, type SimulationReport, type StrategyReport, type StrategyName } from './run.js'
export { renderChart } from './svg.js'
