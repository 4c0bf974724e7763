/**
 * `liqnet start --config FILE`: loads and validates the configuration, unlocks the operator keystore, loads the
 * peer key, and runs the node (node/daemon) until SIGTERM or SIGINT, which stop it gracefully (exit code 0).
 * A bad config, a wrong password or a port in use end the start with one line on stderr and exit code 1.
 */
import { Command } from 'commander'
import { addConfigOptions, loadConfigFromCli } from '../config/cli.js'
import { startDaemon, type Daemon } from '../daemon/daemon.js'
import { resolvePassword } from '../keystore/password.js'
import { unlockOperatorKey } from '../keystore/keystore.js'
import { createLogger } from '../log/index.js'
import { loadOrCreatePeerKey } from '../p2p/keys.js'

/** Adds `liqnet start`. */
export function registerStart(program: Command): void {
  const cmd = program
    .command('start')
    .description(
      'Run a liqnet node: follow the configured chains, publish signed snapshots, gossip with the other operators, ' +
        'agree on liquidation plans (QBFT), submit certified plans to the hub and track their legs, and serve the ' +
        'risk-feed API, metrics, /healthz and /readyz. SIGTERM or SIGINT stops it gracefully (exit 0). ' +
        'The keystore password comes from operator.passwordFile, else LIQNET_KEYSTORE_PASSWORD, else a prompt.',
    )
  addConfigOptions(cmd)
  cmd.action(async (opts: Record<string, unknown>) => {
    const { config } = loadConfigFromCli(opts)
    const globalLevel = (program.opts() as { logLevel?: string }).logLevel
    const level = opts['log.level'] === undefined && process.env.LIQNET_LOG__LEVEL === undefined && globalLevel && globalLevel !== 'info' ? globalLevel : config.log.level
    const log = createLogger({ level: level as typeof config.log.level })
    const password = await resolvePassword({ passwordFile: config.operator.passwordFile, env: process.env })
    const operator = await unlockOperatorKey(config.operator.keystore, password, config.operator.address ? { expectedAddress: config.operator.address as `0x${string}` } : {})
    const peerKey = await loadOrCreatePeerKey(config.p2p.peerKey)
    const daemon: Daemon = await startDaemon({ config, operatorKey: operator, peerKey, log })
    await new Promise<void>((resolve) => {
      let stopping = false
      const onSignal = (signal: NodeJS.Signals) => {
        if (stopping) return
        stopping = true
        log.info({ signal }, 'shutting down')
        daemon
          .stop()
          .catch((err) => {
            log.error({ err }, 'shutdown failed')
            process.exitCode = 1
          })
          .finally(resolve)
      }
      process.once('SIGTERM', onSignal)
      process.once('SIGINT', onSignal)
    })
    // Whatever handle a library left open must not keep a stopped node alive.
    setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref()
  })
}
