import { loadScenario } from './node/simulate/scenario.js'
import { runSimulation } from './node/simulate/run.js'
const t0 = performance.now()
const r = runSimulation(loadScenario(process.argv[2]))
for (const k of ['naive', 'independent', 'liqnet'] as const) { const x = r[k]; console.log(k.padEnd(12), 'bad', x.badDebt.toFixed(0).padStart(10), 'slip', x.slippage.toFixed(0).padStart(10), 'inc', x.incentivePaid.toFixed(0).padStart(9), 'casc', x.cascades, 'liq', x.liquidations, 'auc', x.auctions, 'loss', x.totalLoss.toFixed(0), 'minP', Math.min(...x.priceSeriesUsd).toFixed(0)) }
console.log('ms', (performance.now() - t0).toFixed(0))
