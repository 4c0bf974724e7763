/**
 * The `liqnet` command line. Each sub-command lives in its own module and is
 * registered here; `liqnet --help` and `liqnet <command> --help` list every
 * option with its default.
 */
import { Command, Option } from 'commander'
import { BaseError } from '../../protocol/errors.js'
import { registerDevnet } from './devnet.js'
import { registerInit } from './init.js'
import { registerObserve } from './observe.js'
import { registerSimulate } from './simulate.js'
import { registerStart } from './start.js'
import { registerStatus } from './status.js'

export function buildProgram(): Command {
  const program = new Command()
    .name('liqnet')
    .description('Node software of the liqnet cross-chain liquidation coordination network.')
    .version('0.1.0')
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true })
  program.addOption(new Option('--log-level <level>', 'minimum log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'))
  registerDevnet(program)
  registerObserve(program)
  registerSimulate(program)
  registerInit(program)
  registerStart(program)
  registerStatus(program)
  return program
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv)
  } catch (err) {
    if (err instanceof BaseError) {
      process.stderr.write(`${err.name}: ${err.message}\n`)
    } else {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    }
    process.exitCode = 1
  }
}

await main()
