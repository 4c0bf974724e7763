/**
 * The `liqnet` command line. Each sub-command lives in its own module and is
 * registered here; `liqnet --help` and `liqnet <command> --help` list every
 * option with its default.
 */
import { Command, Option } from 'commander'
import { BaseError } from '../../protocol/errors.js'

type Register = (program: Command) => void
/**
 * Sub-commands, loaded on demand: `liqnet start` imports only the daemon's modules, not the devnet's or the
 * simulator's (start-up CPU matters with several nodes on one machine). `liqnet --help` loads them all.
 */
const commands: Record<string, () => Promise<Register>> = {
  devnet: async () => (await import('./devnet.js')).registerDevnet,
  observe: async () => (await import('./observe.js')).registerObserve,
  simulate: async () => (await import('./simulate.js')).registerSimulate,
  init: async () => (await import('./init.js')).registerInit,
  start: async () => (await import('./start.js')).registerStart,
  status: async () => (await import('./status.js')).registerStatus,
  protection: async () => (await import('./protection.js')).registerProtection,
}

/** The program with every sub-command, or only `only` when given (and known). */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command()
    .name('liqnet')
    .description('Node software of the liqnet cross-chain liquidation coordination network.')
    .version('0.1.0')
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true })
  program.addOption(new Option('--log-level <level>', 'minimum log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'))
  const names = only !== undefined && only in commands ? [only] : Object.keys(commands)
  for (const register of await Promise.all(names.map((n) => commands[n]()))) register(program)
  return program
}

async function main(): Promise<void> {
  try {
    // The first argument that is not an option names the sub-command (global options may come first).
    const sub = process.argv.slice(2).find((a, i, all) => !a.startsWith('-') && all[i - 1] !== '--log-level')
    await (await buildProgram(sub)).parseAsync(process.argv)
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
