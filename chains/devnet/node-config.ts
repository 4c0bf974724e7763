/**
 * Node configurations for the operators of a running devnet (devnet only): one directory per operator with
 * its config file (`liqnet.yaml`, read by `liqnet start --config`), its operator keystore (the devnet operator
 * key `devnetOperatorKeys(n)[i]`, encrypted with the fast `insecure-test` KDF), the keystore password in a file,
 * and a deterministic libp2p peer key. Ports are free ones on 127.0.0.1; every operator is a direct gossipsub peer
 * of every other, and each pair is dialled from one side (the lower index keeps the higher one connected).
 * The chains carry everything the network description needs (EID, tokens, Morpho markets, the Aave pool, Uniswap
 * V2 pairs, hub or spoke, LayerZero endpoint), taken from each chain's deployment.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { hexToBytes, keccak256, parseEther, toHex, type Address } from 'viem'
import YAML from 'yaml'
import { encryptKeystore, writeKeystoreFile } from '../../node/keystore/keystore.js'
import { peerKeyFromSeed } from '../../node/p2p/keys.js'
import { BaseError } from '../../protocol/errors.js'
import { anvilOf } from './devnet.js'
import { devnetOperatorKeys } from './operators.js'
import { getFreePort } from './ports.js'
import type { DevnetChain } from './types.js'

/** Options of {@link writeDevnetNodeConfigs}. */
export type DevnetNodeConfigOptions = {
  /** Number of operators (the hub's operator set must be `devnetOperatorKeys(n)`). @default the hub's set size */
  operators?: number
  /** Directory that receives `node0/`, `node1/`, ... */
  dir: string
  /** Keystore password written to each node's `password.txt`. @default 'devnet' */
  password?: string
  /** New-head polling interval of every chain, ms. @default 200 */
  pollingIntervalMs?: number
  /** Consensus: idle height interval, ms. @default 250 */
  heightIntervalMs?: number
  /** Settlement: transmitters' stagger, ms. @default 2000 */
  staggerMs?: number
  /** Settlement tracker poll, ms. @default 250 */
  settlementPollMs?: number
  /** Log level of the nodes. @default 'info' */
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'
  /** Extra config merged over each node's (shallow per section). */
  extra?: (index: number) => Record<string, unknown>
}

/** One operator's files and ports. */
export type DevnetNodeConfig = {
  index: number
  dir: string
  configPath: string
  passwordFile: string
  operator: Address
  peerId: string
  ports: { p2p: number; api: number; metrics: number }
  /** The config written (as parsed YAML). */
  config: Record<string, unknown>
}

export class DevnetNodeConfigError extends BaseError {
  override name = 'DevnetNodeConfigError'
  constructor(what: string) {
    super(`Cannot write the devnet node configs: ${what}.`, { metaMessages: ['Start the devnet with its settlement contracts (scenario `network` section).'] })
  }
}

/** The configured chain (node/config chainConfigSchema) of one devnet chain. */
export function devnetChainConfig(c: DevnetChain, pollingIntervalMs = 200): Record<string, unknown> {
  const d = c.deployment
  const markets = d.morpho ? Object.values(d.morpho.markets) : []
  return {
    name: c.name,
    chainId: c.chainId,
    rpcUrls: [c.rpcUrl],
    // New heads over anvil's WebSocket: no head polling while it answers.
    ...(c.wsUrl ? { wsUrls: [c.wsUrl] } : {}),
    eid: c.eid,
    ...(d.settlement?.hub ? { hub: d.settlement.hub } : {}),
    ...(d.settlement?.spoke ? { spoke: d.settlement.spoke } : {}),
    endpoint: d.layerzero.endpoint,
    timeoutMs: 5_000,
    retryCount: 1,
    pollingIntervalMs,
    tokens: Object.fromEntries(Object.entries(d.tokens).map(([s, t]) => [s, { address: t.address, decimals: t.decimals }])),
    ...(d.morpho && markets.length
      ? { morpho: { address: d.morpho.address, markets: markets.map((m) => m.id), fromBlock: Number(markets.reduce((a, m) => (m.startBlock < a ? m.startBlock : a), markets[0].startBlock)) } }
      : {}),
    ...(d.aave ? { aave: { pool: d.aave.pool, dataProvider: d.aave.dataProvider, oracle: d.aave.oracle, fromBlock: Number(d.aave.startBlock) } } : {}),
    ...(d.uniswapV2 && Object.keys(d.uniswapV2.pairs).length ? { uniswapV2: { pairs: Object.values(d.uniswapV2.pairs).map((p) => p.address) } } : {}),
  }
}

/**
 * Writes one node directory per operator of the devnet and returns where everything is.
 * @throws DevnetNodeConfigError when the devnet has no hub
 */
export async function writeDevnetNodeConfigs(chains: readonly DevnetChain[], o: DevnetNodeConfigOptions): Promise<DevnetNodeConfig[]> {
  const hubChain = chains.find((c) => c.deployment.settlement?.hub)
  if (!hubChain) throw new DevnetNodeConfigError('no LiquidationHub deployed')
  const registered = hubChain.deployment.settlement.operators
  const n = o.operators ?? registered.length
  const keys = devnetOperatorKeys(n)
  for (const k of keys)
    if (!registered.some((r) => r.toLowerCase() === k.address.toLowerCase())) throw new DevnetNodeConfigError(`operator ${k.address} is not registered on the hub`)
  const password = o.password ?? 'devnet'
  const dir = resolve(o.dir)
  const members = await Promise.all(
    keys.map(async (k, i) => {
      const peerKey = await peerKeyFromSeed(hexToBytes(keccak256(toHex(`liqnet/devnet/peer/${k.address.toLowerCase()}`))))
      const peerId = peerIdFromPrivateKey(peerKey).toString()
      const ports = { p2p: await getFreePort(), api: await getFreePort(), metrics: await getFreePort() }
      return { i, k, peerKey, peerId, ports, addr: `/ip4/127.0.0.1/tcp/${ports.p2p}/p2p/${peerId}` }
    }),
  )
  const chainConfigs = chains.map((c) => devnetChainConfig(c, o.pollingIntervalMs ?? 200))
  const out: DevnetNodeConfig[] = []
  for (const m of members) {
    const nodeDir = join(dir, `node${m.i}`)
    await mkdir(nodeDir, { recursive: true })
    const passwordFile = join(nodeDir, 'password.txt')
    await writeFile(passwordFile, password + '\n', { mode: 0o600 })
    await writeKeystoreFile(join(nodeDir, 'keystore.json'), await encryptKeystore(hexToBytes(m.k.privateKey), password, { kdf: 'insecure-test' }), { force: true })
    await writeFile(join(nodeDir, 'peer.key'), privateKeyToProtobuf(m.peerKey), { mode: 0o600 })
    const extra = o.extra?.(m.i) ?? {}
    const base: Record<string, Record<string, unknown> | unknown> = {
      operator: { keystore: 'keystore.json', address: m.k.address, passwordFile: 'password.txt' },
      dataDir: 'data',
      p2p: {
        listen: [`/ip4/127.0.0.1/tcp/${m.ports.p2p}`],
        peers: members.filter((x) => x.i > m.i).map((x) => x.addr),
        directPeers: members.filter((x) => x.i !== m.i).map((x) => x.addr),
        peerKey: 'peer.key',
        redialIntervalMs: 250,
      },
      chains: chainConfigs,
      network: { operators: [...registered], hubChainId: hubChain.chainId, hub: hubChain.deployment.settlement.hub },
      consensus: { heightIntervalMs: o.heightIntervalMs ?? 250 },
      settlement: { staggerMs: o.staggerMs ?? 2000, pollMs: o.settlementPollMs ?? 250 },
      api: { host: '127.0.0.1', port: m.ports.api },
      metrics: { host: '127.0.0.1', port: m.ports.metrics },
      log: { level: o.logLevel ?? 'info' },
    }
    for (const [k, v] of Object.entries(extra))
      base[k] = typeof v === 'object' && v !== null && !Array.isArray(v) && typeof base[k] === 'object' ? { ...(base[k] as object), ...v } : v
    const configPath = join(nodeDir, 'liqnet.yaml')
    await writeFile(configPath, YAML.stringify(base))
    out.push({ index: m.i, dir: nodeDir, configPath, passwordFile, operator: m.k.address, peerId: m.peerId, ports: m.ports, config: base })
  }
  return out
}

/**
 * Gives every operator `ether` on every chain (anvil_setBalance): transmitters pay gas and LayerZero fees on the hub.
 * Chains not started by this process (no anvil handle) are left alone.
 */
export async function fundDevnetOperators(chains: readonly DevnetChain[], operators: readonly Address[], ether = '100'): Promise<void> {
  await Promise.all(
    chains.map((c) => anvilOf(c)?.batch(operators.map((a) => ({ method: 'anvil_setBalance', params: [a, toHex(parseEther(ether))] })))),
  )
}
