import { Command, Option } from 'commander'
import { runDevnet } from '../../chains/devnet/devnet.js'
import { formatDevnetReport, runDevnetNetwork } from '../devnet/network.js'

/**
 * Adds `liqnet devnet`: the whole network on one machine (anvil chains with the real protocol contracts, the
 * relayer, n node processes, the price path and a report), or the chains alone with `--nodes 0`.
 */
export function registerDevnet(program: Command): void {
  program
    .command('devnet')
    .description(
      "Start the scenario's anvil chains on 127.0.0.1 and deploy Morpho Blue, Aave V3, Uniswap V2, LayerZero V2 and the " +
        'settlement hub and spokes (or reload them from dumped state); start the devnet relayer and one `liqnet start` ' +
        "process per operator; play the scenario's price path; print a report of the liquidations (bad debt, price impact, " +
        'time from the shock to each receipt on the hub); then stay up until SIGINT/SIGTERM (or exit with --exit). ' +
        'With --nodes 0: the chains alone.',
    )
    .option('--scenario <file>', 'scenario file (YAML or JSON; schema in docs/scenario.md)', 'scenarios/devnet/default.yaml')
    .option('--state-dir <dir>', 'where the deployment file, dumped chain state, relayer cursor and node directories are kept', '.devnet')
    .option('--fresh', 'ignore dumped state and deploy from nothing', false)
    .addOption(new Option('--nodes <n>', "node processes to run (0 = chains only); default: the scenario's network.operators").argParser((v) => {
      if (!/^\d+$/.test(v)) throw new Error('--nodes must be a whole number')
      return Number(v)
    }))
    .option('--json', 'print the report as one JSON object on stdout (progress stays on stderr)', false)
    .option('--exit', 'stop everything once the report is printed', false)
    .addOption(new Option('--kill-at-shock <i>', 'kill node i (SIGKILL) at the shock, to watch the others settle without it').argParser((v) => {
      if (!/^\d+$/.test(v)) throw new Error('--kill-at-shock must be a node index')
      return Number(v)
    }))
    .option('--play-price-path', "with --nodes 0: play the scenario's price path once the chains are up", false)
    .action(async (opts: { scenario: string; stateDir: string; fresh: boolean; nodes?: number; json: boolean; exit: boolean; killAtShock?: number; playPricePath: boolean }) => {
      if (opts.nodes === 0) {
        await runDevnet({ scenario: opts.scenario, stateDir: opts.stateDir, fresh: opts.fresh, playPricePath: opts.playPricePath })
        return
      }
      await runDevnetNetwork({
        scenario: opts.scenario,
        stateDir: opts.stateDir,
        fresh: opts.fresh,
        nodes: opts.nodes,
        exitAfterReport: opts.exit,
        killAtShock: opts.killAtShock,
        log: (l) => process.stderr.write(l + '\n'),
        onReport: (r) => {
          if (opts.json) process.stdout.write(JSON.stringify(r) + '\n')
          else process.stdout.write(formatDevnetReport(r) + '\n')
        },
      })
    })
}
