import { Command } from 'commander'
import { runDevnet } from '../../chains/devnet/devnet.js'

/** Adds `liqnet devnet`: local anvil chains with the real protocol contracts deployed and wired. */
export function registerDevnet(program: Command): void {
  program
    .command('devnet')
    .description(
      'Start the scenario\'s anvil chains on 127.0.0.1, deploy Morpho Blue, Aave V3, Uniswap V2 and LayerZero V2 ' +
        '(or reload them from dumped state), write the deployment file, and stay up until SIGINT/SIGTERM.',
    )
    .option('--scenario <file>', 'scenario file (YAML or JSON; schema in docs/scenario.md)', 'scenarios/devnet/default.yaml')
    .option('--state-dir <dir>', 'where the deployment file and dumped chain state are kept', '.devnet')
    .option('--fresh', 'ignore dumped state and deploy from nothing', false)
    .option('--play-price-path', "play the scenario's price path once the chains are up", false)
    .action(async (opts: { scenario: string; stateDir: string; fresh: boolean; playPricePath: boolean }) => {
      await runDevnet({ scenario: opts.scenario, stateDir: opts.stateDir, fresh: opts.fresh, playPricePath: opts.playPricePath })
    })
}
