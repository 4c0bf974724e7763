/**
 * `liqnet simulate --scenario FILE [--json] [--out DIR]`: runs the stress simulator on one scenario and prints the
 * three strategies' figures (a table, or one JSON object with `--json`); with `--out`, writes `<name>.json` and
 * `<name>.svg` (the chart) into DIR.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { loadScenario } from '../simulate/scenario.js'
import { runSimulation, STRATEGIES, type SimulationReport } from '../simulate/run.js'
import { renderChart } from '../simulate/svg.js'

export type SimulateOptions = { scenario: string; json?: boolean; out?: string }

/** The JSON printed by `--json`: one entry per strategy with figures in debt-asset units and in USD. */
export function simulationJson(r: SimulationReport): Record<string, unknown> {
  const entry = (k: (typeof STRATEGIES)[number]) => {
    const s = r[k]
    return {
      badDebt: s.badDebt,
      slippage: s.slippage,
      incentivePaid: s.incentivePaid,
      cascades: s.cascades,
      totalLoss: s.totalLoss,
      liquidations: s.liquidations,
      auctions: s.auctions,
      unit: r.debtAsset,
      units: s.units,
      usd: s.usd,
      finalPoolPricesUsd: s.finalPoolPricesUsd,
    }
  }
  return { scenario: r.scenario, steps: r.steps, debtAsset: r.debtAsset, collateralAsset: r.collateralAsset, naive: entry('naive'), independent: entry('independent'), liqnet: entry('liqnet') }
}

/** Runs one simulation as the CLI does; returns what it printed. */
export function runSimulateCommand(opts: SimulateOptions, print: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): SimulationReport {
  const report = runSimulation(loadScenario(opts.scenario))
  if (opts.out) {
    mkdirSync(opts.out, { recursive: true })
    writeFileSync(join(opts.out, `${report.scenario}.json`), `${JSON.stringify({ ...simulationJson(report), fairPriceSeriesUsd: report.fairPriceSeriesUsd, priceSeriesUsd: Object.fromEntries(STRATEGIES.map((k) => [k, report[k].priceSeriesUsd])) }, null, 2)}\n`)
    writeFileSync(join(opts.out, `${report.scenario}.svg`), renderChart(report))
  }
  if (opts.json) {
    print(JSON.stringify(simulationJson(report)))
    return report
  }
  print(`scenario ${report.scenario}: ${report.description}`)
  print(`figures in ${report.debtAsset} (USD with --json)`)
  print(['strategy', 'badDebt', 'slippage', 'incentivePaid', 'cascades', 'badDebt+slippage'].map((h) => h.padStart(18)).join(''))
  for (const k of STRATEGIES) {
    const s = report[k]
    print([k, s.badDebt.toFixed(2), s.slippage.toFixed(2), s.incentivePaid.toFixed(2), String(s.cascades), s.totalLoss.toFixed(2)].map((c) => c.padStart(18)).join(''))
  }
  if (opts.out) print(`wrote ${join(opts.out, `${report.scenario}.json`)} and ${join(opts.out, `${report.scenario}.svg`)}`)
  return report
}

/** Adds `simulate --scenario FILE [--json] [--out DIR]` to the CLI. */
export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('Run the liquidation stress simulator: naive, independent and liqnet strategies on one scenario')
    .requiredOption('--scenario <file>', 'scenario file (scenarios/sim/*.yaml; see docs/simulate.md)')
    .option('--json', 'print one JSON object with an entry per strategy')
    .option('--out <dir>', 'write <name>.json and <name>.svg (chart) into this directory')
    .action((opts: SimulateOptions) => {
      runSimulateCommand(opts)
    })
}
