import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Command, Option } from 'commander'
import YAML from 'yaml'
import { getAddress, type Address } from 'viem'
import { addConfigOptions, configFlagsOf } from '../config/cli.js'
import { flagsLayer, loadConfig, mergeConfig } from '../config/load.js'
import {
  decryptKeystore,
  encryptKeystore,
  generateOperatorKey,
  readKeystoreFile,
  writeKeystoreFile,
  type KdfStrength,
} from '../keystore/keystore.js'
import { resolvePassword, type PasswordPrompt } from '../keystore/password.js'
import { createOperatorSigner } from '../../protocol/signing/envelope.js'
import { loadOrCreatePeerKey } from '../p2p/keys.js'

/** File names `liqnet init` writes inside its directory. */
export const initFiles = { config: 'liqnet.yaml', keystore: 'keystore.json', peerKey: 'peer.key', dataDir: 'data' } as const

export type InitOptions = {
  /** Directory to create the node in. */
  dir: string
  passwordFile?: string
  /** Replace an existing keystore and config file. @default false */
  force?: boolean
  /** @default 'standard' */
  kdf?: KdfStrength
  /** Dotted config keys to write into the config file, `{ 'api.port': '9001' }` (validated). */
  overrides?: Record<string, string | string[]>
  env?: Record<string, string | undefined>
  prompt?: PasswordPrompt | false
}

export type InitResult = {
  operator: Address
  peerId: string
  configFile: string
  keystoreFile: string
  peerKeyFile: string
  /** What was written this time (an existing keystore, peer key or config is kept unless forced). */
  created: { keystore: boolean; peerKey: boolean; config: boolean }
}

/**
 * Creates a node directory: an operator key in an encrypted keystore, a libp2p peer key, a config
 * file with sensible defaults (and the given overrides) and the data directory. Idempotent: an
 * existing keystore is never overwritten without `force`; it is unlocked instead, so a wrong
 * password fails here, and missing files are added.
 *
 * @throws ConfigError (bad overrides), PasswordError, WrongPasswordError, KeystoreReadError, PeerKeyError
 */
export async function initNode(o: InitOptions): Promise<InitResult> {
  const dir = resolve(o.dir)
  const configFile = join(dir, initFiles.config)
  const keystoreFile = join(dir, initFiles.keystore)
  const peerKeyFile = join(dir, initFiles.peerKey)
  // Validate the overrides before touching anything.
  const overrides = flagsLayer(o.overrides ?? {})
  loadConfig({ flags: o.overrides ?? {}, cwd: dir })
  await mkdir(join(dir, initFiles.dataDir), { recursive: true })

  const src = { passwordFile: o.passwordFile, env: o.env ?? {}, prompt: o.prompt }
  let operator: Address
  const keystoreExists = existsSync(keystoreFile)
  if (keystoreExists && !o.force) {
    const password = await resolvePassword(src)
    operator = createOperatorSigner(await decryptKeystore(await readKeystoreFile(keystoreFile), password, keystoreFile)).address
  } else {
    const password = await resolvePassword(src, { confirm: true })
    const key = generateOperatorKey()
    await writeKeystoreFile(keystoreFile, await encryptKeystore(key, password, { kdf: o.kdf }), { force: o.force })
    operator = createOperatorSigner(key).address
  }
  operator = getAddress(operator)

  const peerKeyExists = existsSync(peerKeyFile)
  const peerId = peerIdFromPrivateKey(await loadOrCreatePeerKey(peerKeyFile)).toString()

  const configExists = existsSync(configFile)
  // A new keystore makes an old config's operator address stale: rewrite it too.
  const writeConfig = !configExists || !!o.force || !keystoreExists
  if (writeConfig) {
    const base = {
      operator: { keystore: initFiles.keystore, address: operator },
      dataDir: initFiles.dataDir,
      p2p: { listen: ['/ip4/127.0.0.1/tcp/9000'], peerKey: initFiles.peerKey, peers: [] },
      chains: [],
      network: { operators: [operator] },
      api: { host: '127.0.0.1', port: 8080 },
      metrics: { host: '127.0.0.1', port: 9464 },
      log: { level: 'info' },
    }
    const doc = mergeConfig(base, overrides.values)
    const header =
      `# liqnet node ${operator} (peer ${peerId}).\n` +
      '# Every key, its default and its environment variable: `liqnet start --help` and docs/operator.md.\n' +
      '# Add the chains to follow under `chains:` and the other operators under `network.operators` and `p2p.peers`.\n'
    await writeFile(configFile, header + YAML.stringify(doc), { mode: 0o600 })
    // Check what was written loads.
    loadConfig({ file: configFile })
  }
  return {
    operator,
    peerId,
    configFile,
    keystoreFile,
    peerKeyFile,
    created: { keystore: !keystoreExists || !!o.force, peerKey: !peerKeyExists, config: writeConfig },
  }
}

/** Adds `liqnet init`. */
export function registerInit(program: Command): void {
  const cmd = program
    .command('init')
    .description(
      'Create a node directory: an operator key in an encrypted Web3 Secret Storage (v3) keystore, a libp2p peer key, ' +
        `a config file (${initFiles.config}) with sensible defaults and the data directory. An existing keystore is never ` +
        'overwritten without --force: it is unlocked instead (a wrong password fails) and missing files are added. ' +
        'Password from --password-file, else LIQNET_KEYSTORE_PASSWORD, else a prompt. Dotted flags are written into the config file.',
    )
    .requiredOption('--dir <dir>', 'node directory to create (or complete)')
    .option('--password-file <file>', 'file holding the keystore password (one trailing newline ignored)')
    .option('--force', 'replace an existing keystore and config file', false)
    .addOption(new Option('--kdf <strength>', 'scrypt strength of the keystore').choices(['standard', 'light', 'insecure-test']).default('standard'))
    .option('--json', 'print the result as one JSON object', false)
  addConfigOptions(cmd, { configFile: false })
  cmd.action(async (opts: Record<string, unknown> & { dir: string; passwordFile?: string; force: boolean; kdf: KdfStrength; json: boolean }) => {
    const r = await initNode({ dir: opts.dir, passwordFile: opts.passwordFile, force: opts.force, kdf: opts.kdf, overrides: configFlagsOf(opts), env: process.env })
    if (opts.json) {
      process.stdout.write(JSON.stringify(r) + '\n')
      return
    }
    const verb = (b: boolean) => (b ? 'created' : 'kept')
    process.stdout.write(
      [
        `operator  ${r.operator}`,
        `peer id   ${r.peerId}`,
        `keystore  ${r.keystoreFile} (${verb(r.created.keystore)})`,
        `peer key  ${r.peerKeyFile} (${verb(r.created.peerKey)})`,
        `config    ${r.configFile} (${verb(r.created.config)})`,
        `next: add chains and peers to the config, then \`liqnet start --config ${r.configFile}\``,
      ].join('\n') + '\n',
    )
  })
}
