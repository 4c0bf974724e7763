/**
 * The node configuration: one zod schema, its defaults, and the inferred types.
 *
 * Every section maps onto the options of one module: `p2p` onto `P2POptions` (node/p2p/host.ts),
 * `gossip` onto `ValidatorOptions` (node/gossip/validator.ts), `store` onto `StorePruneOptions`
 * (node/store/store.ts), `publish` onto `PublisherOptions` (node/publish/publisher.ts), `chains`
 * onto `ChainClientOptions` (chains/evm/client.ts) and the readers, `api` and `metrics` onto the
 * risk-feed and metrics servers. Defaults come from the same constants those modules export.
 *
 * `consensus` and `settlement` are open sections: unknown keys there are kept for the modules that
 * read them (they validate their own fields).
 *
 * Units: times in ms (`...Ms`) or seconds (`...Seconds`), health factors WAD (1e18) written as
 * decimal strings, block numbers as integers.
 */
import { z } from 'zod'
import { defaultChainClientOptions } from '../../chains/evm/client.js'
import { defaultValidatorOptions } from '../gossip/validator.js'
import { defaultP2POptions } from '../p2p/host.js'
import { defaultStorePruneOptions } from '../store/store.js'

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 20-byte 0x-hex address')
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte 0x-hex id')
const httpUrl = z.string().regex(/^https?:\/\/\S+$/, 'expected an http(s):// URL')
const wsUrl = z.string().regex(/^wss?:\/\/\S+$/, 'expected a ws(s):// URL')
const multiaddrString = z.string().regex(/^\/(ip4|ip6|dns|dns4|dns6)\/\S+$/, 'expected a multiaddr, e.g. /ip4/127.0.0.1/tcp/9000')
const peerAddr = z.string().regex(/^\/\S+\/p2p\/\w+$/, 'expected a multiaddr ending in /p2p/<peerId>')
const host = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}$|^[0-9a-fA-F:]+$|^localhost$/, 'expected an IP address, e.g. 127.0.0.1')
const port = z.number().int().min(0).max(65535)
const blockNumber = z.number().int().min(0)
const wad = z.string().regex(/^\d+$/, 'expected a WAD (1e18) integer written as a decimal string')
const positiveInt = z.number().int().positive()

/** Log levels of pino (node/log). */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const

export const chainConfigSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lower-case name: letters, digits, dashes').describe('chain name, used in logs, metrics and /readyz'),
    chainId: positiveInt.describe('EIP-155 chain id; checked against eth_chainId at start'),
    rpcUrls: z.array(httpUrl).min(1, 'give at least one RPC URL').describe('HTTP(S) JSON-RPC URLs, tried in order (fallback)'),
    wsUrls: z.array(wsUrl).default([]).describe('WebSocket URLs for new heads (optional)'),
    eid: positiveInt.optional().describe('LayerZero V2 endpoint id of this chain'),
    hub: address.optional().describe('LiquidationHub contract (on the hub chain)'),
    spoke: address.optional().describe('LiquidationSpoke contract'),
    endpoint: address.optional().describe('LayerZero V2 EndpointV2 of this chain (settlement tracking follows message GUIDs on it)'),
    settlementFromBlock: blockNumber.default(0).describe('first block scanned for the hub/spoke events (their deployment block)'),
    tokens: z
      .record(
        z.string().regex(/^[A-Za-z0-9._-]{1,32}$/, 'expected a token symbol, e.g. WETH'),
        z.object({ address: address.describe('ERC-20 contract'), decimals: z.number().int().min(0).max(36).describe('token decimals') }).strict(),
      )
      .default({})
      .describe('symbol → { address, decimals } of the tokens the network plans with (the same symbol names one asset on every chain)'),
    pollingIntervalMs: positiveInt.default(defaultChainClientOptions.pollingIntervalMs).describe('new-head polling interval when no WebSocket answers, ms'),
    timeoutMs: positiveInt.default(defaultChainClientOptions.timeoutMs).describe('per-URL request timeout, ms'),
    retryCount: z.number().int().min(0).default(defaultChainClientOptions.retryCount).describe('retries of the whole URL list'),
    morpho: z
      .object({
        address: address.describe('Morpho Blue contract'),
        markets: z.array(bytes32).min(1, 'give at least one market id').describe('market ids (bytes32) to follow'),
        fromBlock: blockNumber.default(0).describe('first block of borrower discovery'),
      })
      .strict()
      .optional(),
    aave: z
      .object({
        pool: address.describe('Aave V3 Pool'),
        dataProvider: address.describe('AaveProtocolDataProvider'),
        oracle: address.describe('AaveOracle'),
        fromBlock: blockNumber.default(0).describe('first block of user discovery'),
      })
      .strict()
      .optional(),
    uniswapV2: z
      .object({ pairs: z.array(address).min(1, 'give at least one pair').describe('Uniswap V2 pairs to follow') })
      .strict()
      .optional(),
  })
  .strict()

export const nodeConfigSchema = z
  .object({
    operator: z
      .object({
        keystore: z.string().min(1).default('keystore.json').describe('Web3 Secret Storage (v3) keystore of the operator key, relative to the config file'),
        address: address.optional().describe('operator address; when set, checked against the keystore'),
        passwordFile: z.string().min(1).optional().describe('file holding the keystore password (else LIQNET_KEYSTORE_PASSWORD, else a prompt)'),
      })
      .strict()
      .prefault({}),
    dataDir: z.string().min(1).default('data').describe('directory of the level store, relative to the config file'),
    p2p: z
      .object({
        listen: z.array(multiaddrString).min(1).default(['/ip4/127.0.0.1/tcp/9000']).describe('libp2p listen multiaddrs'),
        announce: z.array(multiaddrString).default([]).describe('multiaddrs announced to peers instead of the listen ones'),
        peers: z.array(peerAddr).default([]).describe('static peers: dialled at start, redialled, kept alive'),
        directPeers: z.array(peerAddr).default([]).describe('gossipsub explicit peers (the other operators)'),
        relay: z
          .enum(['direct', 'mesh'])
          .default(defaultP2POptions.relay)
          .describe('direct: every operator peers with every other; a node sends its own messages to all of them and relays nothing. mesh: gossipsub relaying mesh, for partial topologies'),
        bootstrap: z.array(peerAddr).default([]).describe('bootstrap peers (dialled once)'),
        peerKey: z.string().min(1).default('peer.key').describe('libp2p identity key file, relative to the config file'),
        redialIntervalMs: positiveInt.default(defaultP2POptions.redialIntervalMs).describe('redial period of disconnected static peers, ms'),
        inboundConnectionThreshold: positiveInt.default(defaultP2POptions.inboundConnectionThreshold).describe('inbound connections accepted per host per second'),
        maxConnections: positiveInt.default(defaultP2POptions.maxConnections).describe('most open connections'),
      })
      .strict()
      .prefault({}),
    chains: z.array(chainConfigSchema).default([]).describe('chains the node follows (a list; set from the file, or as JSON in LIQNET_CHAINS / --chains)'),
    network: z
      .object({
        operators: z.array(address).default([]).describe('addresses of the operator set'),
        quorum: positiveInt.optional().describe('signatures needed to certify a plan (default 2f+1, f = floor((n-1)/3))'),
        hubChainId: positiveInt.optional().describe('chain id of the hub chain (EIP-712 domain chainId)'),
        hub: address.optional().describe('hub contract (EIP-712 domain verifyingContract)'),
      })
      .strict()
      .prefault({}),
    gossip: z
      .object({
        maxAgeMs: positiveInt.default(defaultValidatorOptions.maxAgeMs).describe('oldest snapshot accepted, ms'),
        maxFutureMs: z.number().int().min(0).default(defaultValidatorOptions.maxFutureMs).describe('clock skew tolerated, ms'),
        maxBlocksAhead: z.number().int().min(0).default(defaultValidatorOptions.maxBlocksAhead).describe('blocks a snapshot may be ahead of our head'),
        maxBlocksBehind: z.number().int().min(0).default(defaultValidatorOptions.maxBlocksBehind).describe('blocks a snapshot may be behind our head'),
      })
      .strict()
      .prefault({}),
    store: z
      .object({
        maxAgeMs: positiveInt.default(defaultStorePruneOptions.maxAgeMs).describe('entries observed longer ago are pruned, ms'),
        maxAccounts: positiveInt.default(defaultStorePruneOptions.maxAccounts).describe('most account health entries kept'),
        maxHistoryBlocksPerScope: positiveInt.default(defaultStorePruneOptions.maxHistoryBlocksPerScope).describe('blocks of snapshot history kept per market or pair'),
        maxEvidence: positiveInt.default(defaultStorePruneOptions.maxEvidence).describe('most equivocation evidence records kept'),
        pruneIntervalMs: positiveInt.default(60_000).describe('pruning period, ms'),
        maxPricePoints: positiveInt.default(1024).describe('price history points kept per series (chain, asset, quote)'),
        accountFlushMs: z.number().int().min(0).default(5000).describe('per-account health rows are written behind, coalesced, at most this late (every read of them flushes first; a crash loses at most this much, refilled by the next snapshots), ms; 0 = write through'),
      })
      .strict()
      .prefault({}),
    publish: z
      .object({
        nearLiquidationHfWad: wad.default('1100000000000000000').describe('accounts at or below this health factor (WAD) are sent every block'),
        fullRefreshMs: positiveInt.default(60_000).describe('period of full refreshes (every account), ms'),
      })
      .strict()
      .prefault({}),
    consensus: z
      .looseObject({
        roundTimeoutBaseMs: positiveInt.default(1000).describe('QBFT round timer base: timeout(r) = base * 2^r, ms'),
        heightIntervalMs: z.number().int().min(0).default(1000).describe('while idle, how often the next height is tried (it starts when there is something to liquidate), ms; 0 = only on new snapshots'),
        replanCooldownMs: z.number().int().min(0).default(1000).describe('after a plan settles, the least time its accounts stay out of new proposals, ms; they also wait for a pinned block newer than the settlement'),
      })
      .prefault({})
      .describe('open section: other keys are validated by the consensus module'),
    settlement: z
      .looseObject({
        enabled: z.boolean().default(true).describe('submit certified plans to the hub and track their legs (needs network.hub and the chains\' hub/spoke)'),
        staggerMs: positiveInt.default(4000).describe('delay between transmitters\' turns for one plan (rank × staggerMs), ms'),
        pollMs: positiveInt.default(500).describe('settlement tracker polling interval, ms'),
      })
      .prefault({})
      .describe('open section: other keys are validated by the settlement module'),
    api: z
      .object({
        enabled: z.boolean().default(true).describe('serve the risk-feed API'),
        host: host.default('127.0.0.1').describe('bind address (keep loopback unless behind a proxy)'),
        port: port.default(8080).describe('port (0 = any free port)'),
        horizonSeconds: positiveInt.default(86_400).describe('horizon of the liquidation probability, seconds'),
        volatilityWindow: z.number().int().min(3).default(256).describe('price points in the realized-volatility window'),
        minVolatilitySamples: z.number().int().min(2).default(8).describe('fewest log returns for a volatility estimate (else probability is null)'),
        maxPageSize: positiveInt.default(1000).describe('most items per response page'),
        maxSubscribers: positiveInt.default(256).describe('most concurrent /v1/stream subscribers'),
        maxBufferedBytes: positiveInt.default(1_048_576).describe('bytes queued to one subscriber before it is dropped as slow'),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({
        enabled: z.boolean().default(true).describe('serve /metrics, /healthz and /readyz'),
        host: host.default('127.0.0.1').describe('bind address'),
        port: port.default(9464).describe('port (0 = any free port)'),
      })
      .strict()
      .prefault({}),
    log: z
      .object({ level: z.enum(logLevels).default('info').describe('minimum log level') })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const names = new Set<string>()
    const ids = new Set<number>()
    c.chains.forEach((chain, i) => {
      if (names.has(chain.name)) ctx.addIssue({ code: 'custom', path: ['chains', i, 'name'], message: `duplicate chain name "${chain.name}"` })
      if (ids.has(chain.chainId)) ctx.addIssue({ code: 'custom', path: ['chains', i, 'chainId'], message: `duplicate chainId ${chain.chainId}` })
      names.add(chain.name)
      ids.add(chain.chainId)
    })
    const ops = c.network.operators.map((a) => a.toLowerCase())
    if (new Set(ops).size !== ops.length) ctx.addIssue({ code: 'custom', path: ['network', 'operators'], message: 'operators must be distinct' })
    if (c.network.quorum !== undefined && ops.length && c.network.quorum > ops.length)
      ctx.addIssue({ code: 'custom', path: ['network', 'quorum'], message: `must be at most the number of operators (${ops.length})` })
    if (c.operator.address && ops.length && !ops.includes(c.operator.address.toLowerCase()))
      ctx.addIssue({ code: 'custom', path: ['operator', 'address'], message: 'is not in network.operators' })
    if (c.network.hubChainId !== undefined && c.chains.length && !ids.has(c.network.hubChainId))
      ctx.addIssue({ code: 'custom', path: ['network', 'hubChainId'], message: 'is not the chainId of any configured chain' })
  })

/** The validated node configuration (defaults applied). */
export type NodeConfig = z.output<typeof nodeConfigSchema>
/** What a config file, the environment or flags may give (every field optional where a default exists). */
export type NodeConfigInput = z.input<typeof nodeConfigSchema>
export type ChainConfig = z.output<typeof chainConfigSchema>

/** The configuration with every default and nothing else. */
export const defaultNodeConfig: NodeConfig = nodeConfigSchema.parse({})

/** Quorum of n operators: 2f+1 with f = floor((n-1)/3) (QBFT; see DESIGN.md). */
export function defaultQuorum(n: number): number {
  return 2 * Math.floor((n - 1) / 3) + 1
}
