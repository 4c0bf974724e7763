import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  createPublicClient,
  defineChain,
  encodeAbiParameters,
  encodePacked,
  getContractAddress,
  keccak256,
  parseEther,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from 'viem'
import { http } from 'viem'
import { getArtifact } from '../../contracts/artifacts.js'
import {
  aavePoolAbi,
  devnetERC20Abi,
  devnetPriceFeedAbi,
  endpointV2Abi,
  morphoAbi,
  simpleMessageLibAbi,
  uniswapV2FactoryAbi,
  uniswapV2PairAbi,
  positionSeederAbi,
} from '../../contracts/out/abis.js'
import { BaseError } from '../../protocol/errors.js'
import { accountOf, borrowerKey, DEPLOYER_KEY, LIQUIDATOR_KEY, RELAYER_KEY } from './accounts.js'
import { dumpStateJson, setBlockTime, startAnvil, type Anvil } from './anvil.js'
import { deployAaveV3 } from './deploy/aave.js'
import { deploySettlement } from './deploy/settlement.js'
import { devnetOperatorKeys, quorumOf } from './operators.js'
import { type PipelineContext, TxPipeline } from './deploy/common.js'
import {
  loadScenario,
  morphoMarketName,
  morphoOraclePrice,
  parseScenario,
  toUnits,
  toUsd1e8,
  toWad,
  uniswapV2PairName,
  type PriceStep,
  type Scenario,
  type ScenarioChain,
} from './scenario.js'
import type { ChainDeployment, Devnet, DevnetBulkSeed, DevnetBulkSeeded, DevnetChain, MarketParams, StartDevnetOptions } from './types.js'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '..', '..')

/** Canonical Multicall3 address; the devnet plants Aggregate3's runtime code there. */
export const MULTICALL3_ADDRESS: Address = '0xcA11bde05977b3631167028862bE2a173976CA11'
/** ETH given to every scenario borrower. */
const BORROWER_ETH = parseEther('1000')
/** Version of the deployment procedure; bump to invalidate every state dump. */
const DEPLOY_FORMAT = 1
/** A state dump older than this is not reloaded: interest would have run for that long on reload. */
const MAX_DUMP_AGE_MS = 24 * 3600 * 1000

/** The devnet could not be started or deployed. */
export class DevnetStartError extends BaseError {
  override name = 'DevnetStartError'
  constructor(shortMessage: string, params: { cause?: unknown; details?: string; metaMessages?: string[] } = {}) {
    super(shortMessage, params)
  }
}

/** A helper was called with a symbol, market or chain the devnet does not have. */
export class DevnetLookupError extends BaseError {
  override name = 'DevnetLookupError'
  constructor(what: string, name: string, known: string[]) {
    super(`Unknown ${what} "${name}".`, { metaMessages: [`Known: ${known.join(', ') || 'none'}.`] })
  }
}

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

function viemChain(c: { name: string; chainId: number }, rpcUrl: string): Chain {
  return defineChain({
    id: c.chainId,
    name: c.name,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
    contracts: { multicall3: { address: MULTICALL3_ADDRESS } },
  })
}

/** A viem public client for a devnet chain (HTTP, short polling, Multicall3 known). */
export function devnetClient(chain: Pick<DevnetChain, 'name' | 'chainId' | 'rpcUrl'>, opts: { batch?: boolean } = {}): PublicClient {
  return createPublicClient({
    chain: viemChain(chain, chain.rpcUrl),
    // Long timeout: receipts of bulk-seeding transactions carry thousands of logs (seeders use batch: false,
    // so each such receipt comes in its own response, under viem's 10 MB limit).
    transport: http(chain.rpcUrl, { batch: opts.batch === false ? false : { batchSize: 50, wait: 0 }, retryCount: 0, timeout: 120_000 }),
    pollingInterval: 20,
  }) as PublicClient
}

/** A transaction pipeline from `from`, an account the node holds (dev account, or impersonated). */
function pipeline(client: PublicClient, from: Address): Promise<TxPipeline> {
  return new TxPipeline({ client, account: { address: from, type: 'json-rpc' } }).init()
}

// ---------------------------------------------------------------------------
// State key
// ---------------------------------------------------------------------------

function listFiles(dir: string, exts: string[]): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...listFiles(p, exts))
    else if (exts.some((x) => e.name.endsWith(x))) out.push(p)
  }
  return out.sort()
}

const DEPLOY_CODE = ['devnet.ts', 'accounts.ts', 'anvil.ts', 'scenario.ts', 'operators.ts']

/**
 * Hash keying a state dump: the validated scenario, the contract build
 * (`contracts/out/.build-hash`), and the devnet deployment code itself.
 */
export function stateKey(scenario: Scenario, bulk?: DevnetBulkSeed): string {
  const h = createHash('sha256')
  h.update(`format ${DEPLOY_FORMAT}\n`)
  h.update(JSON.stringify(scenario))
  if (bulk && ((bulk.morpho?.length ?? 0) > 0 || (bulk.aave?.length ?? 0) > 0)) h.update(toJson(bulk))
  const buildHash = join(repoRoot, 'contracts', 'out', '.build-hash')
  h.update(existsSync(buildHash) ? readFileSync(buildHash) : 'no-build-hash')
  // The code that decides what gets deployed (not every file of the folder: the relayer and others may live here).
  const code = [...DEPLOY_CODE.map((f) => join(here, f)), ...listFiles(join(here, 'deploy'), ['.ts'])]
  for (const f of code) {
    h.update(f.slice(here.length))
    h.update(existsSync(f) ? readFileSync(f) : '')
  }
  return h.digest('hex')
}

// ---------------------------------------------------------------------------
// Deployment file
// ---------------------------------------------------------------------------

type Manifest = {
  format: number
  key: string
  scenario: string
  createdAt: string
  chains: { name: string; chainId: number; eid: number; stateFile: string; deployment: ChainDeployment }[]
  bulk: DevnetBulkSeeded
}

function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)
}

const BIGINT_FIELDS = new Set(['startBlock', 'lltv'])
function fromJson<T>(text: string): T {
  return JSON.parse(text, (k, v) => (BIGINT_FIELDS.has(k) && typeof v === 'string' ? BigInt(v) : v)) as T
}

/** Shape of deployments.json (bigints as decimal strings). */
export type DeploymentFile = {
  scenario: string
  coldStart: boolean
  startedAt: string
  chains: Record<
    string,
    {
      chainId: number
      eid: number
      rpcUrl: string
      wsUrl: string
      pid: number
      blockTimeMs: number
      deployment: ChainDeployment
      /** Devnet accounts; the keys are public dev keys, worthless elsewhere. */
      accounts: {
        deployer: { address: Address; privateKey: Hex }
        liquidator: { address: Address; privateKey: Hex }
        relayer: { address: Address; privateKey: Hex }
        borrowers: Record<string, { address: Address; privateKey: Hex }>
      }
    }
  >
}

/**
 * Reads a deployments.json written by `startDevnet` (bigints restored).
 * @throws DevnetStartError when missing or unreadable.
 */
export function readDeploymentFile(path: string): DeploymentFile {
  try {
    return fromJson<DeploymentFile>(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new DevnetStartError(`Cannot read the deployment file ${path}.`, { cause: err, metaMessages: ['Start the devnet first: npm run devnet'] })
  }
}

function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, text)
  renameSync(tmp, path)
}

// ---------------------------------------------------------------------------
// Deployment of one chain
// ---------------------------------------------------------------------------

const deployer = () => accountOf(DEPLOYER_KEY)
const liquidator = () => accountOf(LIQUIDATOR_KEY)
const relayer = () => accountOf(RELAYER_KEY)

function marketId(p: MarketParams): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'address' }, { type: 'address' }, { type: 'address' }, { type: 'address' }, { type: 'uint256' }],
      [p.loanToken, p.collateralToken, p.oracle, p.irm, p.lltv],
    ),
  )
}

const marketParamsTuple = (p: MarketParams) => ({ loanToken: p.loanToken, collateralToken: p.collateralToken, oracle: p.oracle, irm: p.irm, lltv: p.lltv })

async function deployChain(anvil: Anvil, c: ScenarioChain, allEids: number[], log: (s: string) => void): Promise<Omit<ChainDeployment, 'settlement'>> {
  const client = devnetClient({ name: c.name, chainId: c.chainId, rpcUrl: anvil.rpcUrl })
  const me = deployer().address
  const t0 = performance.now()
  const step = (what: string) => log(`[${c.name}] ${what} (${((performance.now() - t0) / 1000).toFixed(2)} s)`)

  // Multicall3 at its canonical address.
  await anvil.request('anvil_setCode', [MULTICALL3_ADDRESS, getArtifact('Aggregate3').deployedBytecode])

  const tx = await pipeline(client, me)

  // Tokens and USD feeds.
  const tokens: ChainDeployment['tokens'] = {}
  const priceFeeds: ChainDeployment['priceFeeds'] = {}
  for (const t of c.tokens) {
    tokens[t.symbol] = { address: tx.deploy('DevnetERC20', [`${t.symbol} (devnet)`, t.symbol, t.decimals], { gas: 2_000_000n, label: `deploy token ${t.symbol}` }), decimals: t.decimals }
  }
  for (const t of c.tokens) {
    priceFeeds[t.symbol] = tx.deploy('DevnetPriceFeed', [`${t.symbol} / USD`, toUsd1e8(t.priceUsd)], { gas: 2_000_000n, label: `deploy ${t.symbol} / USD feed` })
  }
  const tokenOf = (s: string) => tokens[s]!
  const decimalsOf = (s: string) => tokens[s]!.decimals

  // LayerZero: EndpointV2 + SimpleMessageLib, default libraries for every other EID.
  const endpoint = tx.deploy('EndpointV2', [c.eid, me], { label: 'deploy EndpointV2' })
  const messageLib = tx.deploy('SimpleMessageLib', [endpoint, me], { label: 'deploy SimpleMessageLib' })
  tx.call({ address: endpoint, abi: endpointV2Abi, functionName: 'registerLibrary', args: [messageLib] })
  for (const eid of allEids) {
    if (eid === c.eid) continue
    tx.call({ address: endpoint, abi: endpointV2Abi, functionName: 'setDefaultSendLibrary', args: [eid, messageLib], label: `setDefaultSendLibrary(${eid})` })
    tx.call({ address: endpoint, abi: endpointV2Abi, functionName: 'setDefaultReceiveLibrary', args: [eid, messageLib, 0n], label: `setDefaultReceiveLibrary(${eid})` })
  }
  tx.call({ address: messageLib, abi: simpleMessageLibAbi, functionName: 'setWhitelistCaller', args: [relayer().address] })

  // Morpho Blue, IrmMock, markets with MorphoFeedOracle, liquidity.
  let morpho: ChainDeployment['morpho']
  const createMarketIdx: Record<string, number> = {}
  if (c.morpho) {
    const address = tx.deploy('Morpho', [me], { label: 'deploy Morpho' })
    const irm = tx.deploy('IrmMock', [], { label: 'deploy IrmMock' })
    tx.call({ address, abi: morphoAbi, functionName: 'enableIrm', args: [irm] })
    for (const lltv of new Set(c.morpho.markets.map((m) => m.lltv))) {
      tx.call({ address, abi: morphoAbi, functionName: 'enableLltv', args: [toWad(lltv)], label: `enableLltv(${lltv})` })
    }
    morpho = { address, irm, markets: {} }
    for (const m of c.morpho.markets) {
      const name = morphoMarketName(m)
      const oracle = tx.deploy('MorphoFeedOracle', [priceFeeds[m.collateral], priceFeeds[m.loan], decimalsOf(m.collateral), decimalsOf(m.loan)], {
        gas: 2_000_000n,
        label: `deploy MorphoFeedOracle ${name}`,
      })
      const params: MarketParams = { loanToken: tokenOf(m.loan).address, collateralToken: tokenOf(m.collateral).address, oracle, irm, lltv: toWad(m.lltv) }
      createMarketIdx[name] = tx.queued
      tx.call({ address, abi: morphoAbi, functionName: 'createMarket', args: [marketParamsTuple(params)], label: `createMarket ${name}` })
      morpho.markets[name] = { id: marketId(params), params, oracle, startBlock: 0n }
      const supply = toUnits(m.supply, decimalsOf(m.loan))
      if (supply > 0n) {
        tx.call({ address: params.loanToken, abi: devnetERC20Abi, functionName: 'mint', args: [me, supply], label: `mint ${m.loan}` })
        tx.call({ address: params.loanToken, abi: devnetERC20Abi, functionName: 'approve', args: [address, supply], label: `approve ${m.loan} to Morpho` })
        tx.call({ address, abi: morphoAbi, functionName: 'supply', args: [marketParamsTuple(params), supply, 0n, me, '0x'], label: `supply ${m.supply} ${m.loan} to ${name}` })
      }
    }
  }

  // Uniswap V2 factory and pairs (reserves minted straight into the pair, then `mint`).
  let uniswapV2: ChainDeployment['uniswapV2']
  let factoryIdx = -1
  if (c.uniswapV2) {
    factoryIdx = tx.queued
    const factory = tx.deploy('UniswapV2Factory', [me], { label: 'deploy UniswapV2Factory' })
    const pairCode = getArtifact('UniswapV2Pair').bytecode
    uniswapV2 = { factory, startBlock: 0n, pairs: {} }
    for (const p of c.uniswapV2.pairs) {
      const name = uniswapV2PairName(p)
      const [a, b] = [tokenOf(p.tokens[0]).address, tokenOf(p.tokens[1]).address]
      const [token0, token1] = a.toLowerCase() < b.toLowerCase() ? [a, b] : [b, a]
      const pair = getContractAddress({ opcode: 'CREATE2', from: factory, salt: keccak256(encodePacked(['address', 'address'], [token0, token1])), bytecode: pairCode })
      tx.call({ address: factory, abi: uniswapV2FactoryAbi, functionName: 'createPair', args: [a, b], label: `createPair ${name}` })
      p.tokens.forEach((sym, k) => {
        tx.call({ address: tokenOf(sym).address, abi: devnetERC20Abi, functionName: 'mint', args: [pair, toUnits(p.reserves[k], decimalsOf(sym))], label: `mint ${sym} into ${name}` })
      })
      tx.call({ address: pair, abi: uniswapV2PairAbi, functionName: 'mint', args: [me], label: `mint liquidity of ${name}` })
      uniswapV2.pairs[name] = { address: pair, token0, token1 }
    }
  }

  const receipts = await tx.flush()
  for (const [name, idx] of Object.entries(createMarketIdx)) morpho!.markets[name].startBlock = receipts[idx].blockNumber
  if (uniswapV2) uniswapV2.startBlock = receipts[factoryIdx].blockNumber
  step(`${receipts.length} transactions: tokens, feeds, LayerZero, Morpho, Uniswap V2`)

  // Aave V3 (contracts/deploy/aave.ts), then liquidity.
  let aave: ChainDeployment['aave']
  if (c.aave) {
    // The deployer is an anvil dev account, unlocked in the node: sent as a JSON-RPC account
    // (eth_sendTransaction, no signing in Node), like every other set-up transaction here.
    const ctx: PipelineContext = {
      client: createPublicClient({ transport: http(anvil.rpcUrl, { retryCount: 0 }), pollingInterval: 10 }) as PublicClient,
      account: { address: me, type: 'json-rpc' },
    }
    const d = await deployAaveV3(ctx, {
      reserves: c.aave.reserves.map((r) => ({
        symbol: r.symbol,
        asset: tokenOf(r.symbol).address,
        decimals: decimalsOf(r.symbol),
        priceFeed: priceFeeds[r.symbol],
        ltvBps: r.ltvBps,
        liquidationThresholdBps: r.liquidationThresholdBps,
        liquidationBonusBps: r.liquidationBonusBps,
        borrowingEnabled: r.borrowingEnabled,
      })),
    })
    aave = { pool: d.pool, addressesProvider: d.addressesProvider, oracle: d.oracle, dataProvider: d.dataProvider, startBlock: d.startBlock, reserves: d.reserves }
    const lp = await pipeline(client, me)
    for (const r of c.aave.reserves) {
      const amount = toUnits(r.supply, decimalsOf(r.symbol))
      if (amount === 0n) continue
      const asset = tokenOf(r.symbol).address
      lp.call({ address: asset, abi: devnetERC20Abi, functionName: 'mint', args: [me, amount], label: `mint ${r.symbol}` })
      lp.call({ address: asset, abi: devnetERC20Abi, functionName: 'approve', args: [d.pool, amount], label: `approve ${r.symbol} to Aave` })
      lp.call({ address: d.pool, abi: aavePoolAbi, functionName: 'supply', args: [asset, amount, me, 0], label: `supply ${r.supply} ${r.symbol} to Aave` })
    }
    await lp.flush()
    step('Aave V3 deployed and supplied')
  }

  const deployment: Omit<ChainDeployment, 'settlement'> = {
    multicall3: MULTICALL3_ADDRESS,
    tokens,
    priceFeeds,
    ...(morpho ? { morpho } : {}),
    ...(aave ? { aave } : {}),
    ...(uniswapV2 ? { uniswapV2 } : {}),
    layerzero: { endpoint, sendLib: messageLib, receiveLib: messageLib, eid: c.eid },
  }

  // Borrowers: their own accounts (impersonated for set-up), real protocol calls.
  if (c.borrowers.length > 0) {
    await openScenarioPositions(anvil, client, c, deployment)
    step(`${c.borrowers.length} borrowers with their positions`)
  }
  return deployment
}

async function openScenarioPositions(anvil: Anvil, client: PublicClient, c: ScenarioChain, d: Omit<ChainDeployment, 'settlement'>): Promise<void> {
  const decimalsOf = (s: string) => d.tokens[s]!.decimals
  const accounts = c.borrowers.map((b) => accountOf(borrowerKey(b.name)).address)
  await anvil.batch(
    accounts.flatMap((a) => [
      { method: 'anvil_setBalance', params: [a, `0x${BORROWER_ETH.toString(16)}`] },
      { method: 'anvil_impersonateAccount', params: [a] },
    ]),
  )
  try {
    const senders = await Promise.all(accounts.map((a) => pipeline(client, a)))
    c.borrowers.forEach((b, bi) => {
      const tx = senders[bi]
      const who = accounts[bi]
      for (const pos of b.positions) {
        if (pos.protocol === 'morpho') {
          const m = d.morpho!.markets[pos.market]
          const morpho = d.morpho!.address
          const coll = toUnits(pos.collateral, decimalsOf(c.morpho!.markets.find((x) => morphoMarketName(x) === pos.market)!.collateral))
          const loanSym = c.morpho!.markets.find((x) => morphoMarketName(x) === pos.market)!.loan
          const borrow = toUnits(pos.borrow, decimalsOf(loanSym))
          const p = marketParamsTuple(m.params)
          tx.call({ address: m.params.collateralToken, abi: devnetERC20Abi, functionName: 'mint', args: [who, coll], gas: 200_000n, label: `${b.name}: mint collateral` })
          tx.call({ address: m.params.collateralToken, abi: devnetERC20Abi, functionName: 'approve', args: [morpho, coll], gas: 100_000n, label: `${b.name}: approve collateral` })
          tx.call({ address: morpho, abi: morphoAbi, functionName: 'supplyCollateral', args: [p, coll, who, '0x'], gas: 500_000n, label: `${b.name}: supplyCollateral ${pos.market}` })
          if (borrow > 0n) tx.call({ address: morpho, abi: morphoAbi, functionName: 'borrow', args: [p, borrow, 0n, who, who], gas: 500_000n, label: `${b.name}: borrow ${pos.borrow} ${loanSym} in ${pos.market}` })
        } else {
          const pool = d.aave!.pool
          for (const [sym, amt] of Object.entries(pos.collateral)) {
            const asset = d.tokens[sym].address
            const units = toUnits(amt, decimalsOf(sym))
            tx.call({ address: asset, abi: devnetERC20Abi, functionName: 'mint', args: [who, units], gas: 200_000n, label: `${b.name}: mint ${sym}` })
            tx.call({ address: asset, abi: devnetERC20Abi, functionName: 'approve', args: [pool, units], gas: 100_000n, label: `${b.name}: approve ${sym}` })
            tx.call({ address: pool, abi: aavePoolAbi, functionName: 'supply', args: [asset, units, who, 0], gas: 1_000_000n, label: `${b.name}: Aave supply ${amt} ${sym}` })
          }
          for (const [sym, amt] of Object.entries(pos.borrow)) {
            tx.call({ address: pool, abi: aavePoolAbi, functionName: 'borrow', args: [d.tokens[sym].address, toUnits(amt, decimalsOf(sym)), 2n, 0, who], gas: 1_500_000n, label: `${b.name}: Aave borrow ${amt} ${sym}` })
          }
        }
      }
    })
    // All borrowers' transactions in one block: automine off, send, mine once.
    await anvil.request('evm_setAutomine', [false])
    try {
      await Promise.all(senders.map((s) => s.sent()))
      await anvil.request('evm_mine')
    } finally {
      await anvil.request('evm_setAutomine', [true])
    }
    await Promise.all(senders.map((s) => s.flush()))
  } finally {
    await anvil.batch(accounts.map((a) => ({ method: 'anvil_stopImpersonatingAccount', params: [a] }))).catch(() => undefined)
  }
}

// ---------------------------------------------------------------------------
// Settlement (hub + spokes, chains/devnet/deploy/settlement.ts)
// ---------------------------------------------------------------------------

/**
 * Deploys the settlement contracts of the scenario's network: the hub on `network.hub` (default: the first chain),
 * a spoke on every other chain, operators = devnetOperatorKeys(network.operators), quorum 2f+1.
 */
async function deployNetworkSettlement(
  scenario: Scenario,
  anvils: Anvil[],
  base: Omit<ChainDeployment, 'settlement'>[],
  log: (s: string) => void,
): Promise<ChainDeployment[]> {
  const t0 = performance.now()
  const net = scenario.network
  const operators = devnetOperatorKeys(net.operators).map((k) => k.address)
  const records = await deploySettlement({
    chains: scenario.chains.map((c, i) => ({
      name: c.name,
      eid: c.eid,
      client: devnetClient({ name: c.name, chainId: c.chainId, rpcUrl: anvils[i].rpcUrl }),
      endpoint: base[i].layerzero.endpoint,
      ...(base[i].aave
        ? { aave: { addressesProvider: base[i].aave!.addressesProvider, assets: Object.keys(base[i].aave!.reserves).map((sym) => base[i].tokens[sym].address) } }
        : {}),
      setBalance: async (address, wei) => {
        await anvils[i].request('anvil_setBalance', [address, `0x${wei.toString(16)}`])
      },
    })),
    hub: net.hub ?? scenario.chains[0].name,
    owner: deployer().address,
    operators,
    quorum: quorumOf(net.operators),
    legGas: net.legGas,
    receiptGas: net.receiptGas,
    spokeWei: toUnits(net.spokeEth, 18),
  })
  // Working capital: every settlement contract holds `network.floatUsd` of each token. A leg whose planned sales
  // do not cover its repayment (the planner holds part of the seized collateral for later rounds) pays the rest
  // from it; the held collateral goes to the reserve (docs/settlement.md, "Working capital").
  const floatUsd1e8 = toUsd1e8(net.floatUsd)
  if (floatUsd1e8 > 0n) {
    await Promise.all(
      scenario.chains.map(async (c, i) => {
        const record = records[c.name]
        const holder = record.hub ?? record.spoke
        if (!holder) return
        const tx = await new TxPipeline({ client: devnetClient({ name: c.name, chainId: c.chainId, rpcUrl: anvils[i].rpcUrl }), account: deployer() }).init()
        for (const t of c.tokens) {
          const amount = (floatUsd1e8 * 10n ** BigInt(t.decimals)) / toUsd1e8(t.priceUsd)
          tx.call({ address: base[i].tokens[t.symbol].address, abi: devnetERC20Abi, functionName: 'mint', args: [holder, amount], label: `float ${t.symbol}` })
        }
        await tx.flush()
      }),
    )
  }
  log(`settlement: hub on ${net.hub ?? scenario.chains[0].name}, ${scenario.chains.length - 1} spoke(s), ${operators.length} operators, quorum ${quorumOf(net.operators)} (${((performance.now() - t0) / 1000).toFixed(2)} s)`)
  return scenario.chains.map((c, i) => ({ ...base[i], settlement: records[c.name] }))
}

// ---------------------------------------------------------------------------
// startDevnet
// ---------------------------------------------------------------------------

function resolveScenario(s: StartDevnetOptions['scenario']): Scenario {
  return typeof s === 'string' ? loadScenario(s) : parseScenario(s)
}

function buildChain(anvil: Anvil, c: ScenarioChain, deployment: ChainDeployment): DevnetChain {
  const borrowers: Record<string, ReturnType<typeof accountOf>> = {}
  for (const b of c.borrowers) borrowers[b.name] = accountOf(borrowerKey(b.name))
  return {
    name: c.name,
    chainId: c.chainId,
    eid: c.eid,
    rpcUrl: anvil.rpcUrl,
    wsUrl: anvil.wsUrl,
    pid: anvil.pid,
    blockTimeMs: c.blockTimeMs,
    deployment,
    accounts: { deployer: deployer(), liquidator: liquidator(), relayer: relayer(), borrowers },
  }
}

const anvilsOf = new WeakMap<DevnetChain, Anvil>()

/**
 * Starts one anvil per scenario chain and deploys the scenario on each, or
 * reloads a state dump of the same scenario + contract build (keyed by
 * {@link stateKey}) when one exists and `fresh` is not set.
 *
 * Writes `<stateDir>/deployments.json` and logs one JSON line,
 * `{"devnetColdStartSeconds": x}` or `{"devnetWarmStartSeconds": x}`.
 * The chains keep running until `stop()`; they are killed if this process exits.
 *
 * @throws ScenarioFileError / InvalidScenarioError for a bad scenario,
 *         AnvilStartError, ContractRevertError (a set-up transaction reverted, decoded; `target` names it), TransactionFailedError,
 *         ArtifactNotFoundError when `npm run build:contracts` was not run.
 * @example const devnet = await startDevnet({ scenario: 'scenarios/devnet/test.yaml' }); ...; await devnet.stop()
 */
export async function startDevnet(opts: StartDevnetOptions): Promise<Devnet> {
  const t0 = performance.now()
  const log = opts.log ?? (() => {})
  const scenario = resolveScenario(opts.scenario)
  const stateDir = resolve(opts.stateDir ?? '.devnet')
  const key = stateKey(scenario, opts.bulk)
  if (opts.bulk) checkBulk(scenario, opts.bulk)
  const dumpDir = join(stateDir, 'state', `${scenario.name}-${key.slice(0, 16)}`)
  const manifestPath = join(dumpDir, 'manifest.json')

  const anvils: Anvil[] = []
  const stopDrivers: (() => void)[] = []
  const stopAll = async () => {
    stopDrivers.forEach((s) => s())
    await Promise.all(anvils.map((a) => a.stop()))
  }

  let chains: DevnetChain[] | undefined
  let coldStart = true
  let bulk: DevnetBulkSeeded = { morpho: [], aave: [] }
  try {
    // Warm start: reload the dump.
    if (!opts.fresh && existsSync(manifestPath)) {
      let manifest: Manifest | undefined
      try {
        manifest = fromJson<Manifest>(readFileSync(manifestPath, 'utf8'))
      } catch {
        log(`devnet: unreadable ${manifestPath}; deploying from nothing`)
      }
      const fresh = manifest !== undefined && Date.now() - Date.parse(manifest.createdAt) < MAX_DUMP_AGE_MS
      const complete =
        manifest !== undefined &&
        manifest.key === key &&
        manifest.format === DEPLOY_FORMAT &&
        scenario.chains.every((c) => manifest!.chains.some((m) => m.name === c.name && existsSync(join(dumpDir, m.stateFile))))
      if (manifest && fresh && complete) {
        try {
          const saved = scenario.chains.map((c) => manifest.chains.find((m) => m.name === c.name)!)
          const started = await Promise.all(scenario.chains.map((c, i) => startChainAnvil(c, join(dumpDir, saved[i].stateFile))))
          anvils.push(...started)
          chains = scenario.chains.map((c, i) => buildChain(started[i], c, saved[i].deployment))
          // Sanity check: the reloaded chain holds our contracts.
          const codes = await Promise.all(chains.map((c, i) => started[i].request<Hex>('eth_getCode', [c.deployment.layerzero.endpoint, 'latest'])))
          if (codes.some((code) => !code || code === '0x')) throw new DevnetStartError('the reloaded state lacks the deployed contracts')
          coldStart = false
          bulk = manifest.bulk ?? bulk
          log(`devnet: reloaded ${scenario.name} from ${dumpDir}`)
        } catch (err) {
          log(`devnet: cannot reload the state dump (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); deploying from nothing`)
          await stopAll()
          anvils.length = 0
          chains = undefined
        }
      } else if (manifest && !fresh) {
        log(`devnet: state dump older than ${MAX_DUMP_AGE_MS / 3600_000} h; deploying from nothing`)
      }
    }

    // Cold start: deploy everything, then dump.
    if (!chains) {
      coldStart = true
      const started = await Promise.all(scenario.chains.map((c) => startChainAnvil(c)))
      anvils.push(...started)
      log(`devnet: ${started.length} anvil chains up (${((performance.now() - t0) / 1000).toFixed(2)} s): ${scenario.chains.map((c, i) => `${c.name}@${started[i].rpcUrl}`).join(', ')}`)
      const eids = scenario.chains.map((c) => c.eid)
      const base = await Promise.all(scenario.chains.map((c, i) => deployChain(started[i], c, eids, log)))
      const deployments = await deployNetworkSettlement(scenario, started, base, log)
      chains = scenario.chains.map((c, i) => buildChain(started[i], c, deployments[i]))
      if (opts.bulk) bulk = await seedBulk(chains, opts.bulk, log)
      // Dump, keyed by the scenario + build hash.
      // Files are replaced atomically and the manifest goes last, so a concurrent start never reads a half dump.
      mkdirSync(dumpDir, { recursive: true })
      const states = await Promise.all(started.map((a) => dumpStateJson(a)))
      const manifest: Manifest = {
        format: DEPLOY_FORMAT,
        key,
        scenario: scenario.name,
        createdAt: new Date().toISOString(),
        chains: scenario.chains.map((c, i) => ({ name: c.name, chainId: c.chainId, eid: c.eid, stateFile: `${c.name}.json`, deployment: deployments[i] })),
        bulk,
      }
      scenario.chains.forEach((c, i) => writeAtomic(join(dumpDir, `${c.name}.json`), states[i]))
      writeAtomic(manifestPath, toJson(manifest))
      pruneOldDumps(join(stateDir, 'state'), scenario.name, dumpDir)
    }

    // Block time as the scenario says (deployment ran with automine).
    for (let i = 0; i < chains.length; i++) {
      const c = scenario.chains[i]
      if (c.automine && c.blockTimeMs > 0) continue // mixed mining set on the command line
      stopDrivers.push(await setBlockTime(anvils[i], c.blockTimeMs))
    }
  } catch (err) {
    await stopAll()
    throw err
  }

  const deploymentFile = join(stateDir, 'deployments.json')
  const file: DeploymentFile = {
    scenario: scenario.name,
    coldStart,
    startedAt: new Date().toISOString(),
    chains: Object.fromEntries(
      chains.map((c) => [
        c.name,
        {
          chainId: c.chainId,
          eid: c.eid,
          rpcUrl: c.rpcUrl,
          wsUrl: c.wsUrl,
          pid: c.pid,
          blockTimeMs: c.blockTimeMs,
          deployment: c.deployment,
          accounts: {
            deployer: { address: deployer().address, privateKey: DEPLOYER_KEY },
            liquidator: { address: liquidator().address, privateKey: LIQUIDATOR_KEY },
            relayer: { address: relayer().address, privateKey: RELAYER_KEY },
            borrowers: Object.fromEntries(scenario.chains.find((s) => s.name === c.name)!.borrowers.map((b) => [b.name, { address: accountOf(borrowerKey(b.name)).address, privateKey: borrowerKey(b.name) }])),
          },
        },
      ]),
    ),
  }
  writeAtomic(deploymentFile, toJson(file))
  chains.forEach((c, i) => anvilsOf.set(c, anvils[i]))

  const startSeconds = Math.round((performance.now() - t0) / 10) / 100
  log(JSON.stringify(coldStart ? { devnetColdStartSeconds: startSeconds } : { devnetWarmStartSeconds: startSeconds }))

  let stopped: Promise<void> | undefined
  return {
    chains,
    scenario,
    coldStart,
    startSeconds,
    deploymentFile,
    bulk,
    stop: () => (stopped ??= stopAll()),
  }
}

function checkBulk(scenario: Scenario, bulk: DevnetBulkSeed): void {
  for (const m of bulk.morpho ?? []) {
    const c = scenario.chains.find((x) => x.name === m.chain)
    if (!c) throw new DevnetLookupError('chain in bulk.morpho', m.chain, scenario.chains.map((x) => x.name))
    const names = (c.morpho?.markets ?? []).map(morphoMarketName)
    if (!names.includes(m.market)) throw new DevnetLookupError(`Morpho market on chain ${c.name} in bulk.morpho`, m.market, names)
  }
  for (const a of bulk.aave ?? []) {
    const c = scenario.chains.find((x) => x.name === a.chain)
    if (!c) throw new DevnetLookupError('chain in bulk.aave', a.chain, scenario.chains.map((x) => x.name))
    if (!c.aave) throw new DevnetLookupError(`Aave deployment in bulk.aave`, a.chain, scenario.chains.filter((x) => x.aave).map((x) => x.name))
  }
}

async function seedBulk(chains: DevnetChain[], bulk: DevnetBulkSeed, log: (s: string) => void): Promise<DevnetBulkSeeded> {
  const out: DevnetBulkSeeded = { morpho: [], aave: [] }
  const byName = (n: string) => chains.find((c) => c.name === n)!
  // Chains in parallel, seedings of one chain in sequence (one deployer nonce stream per chain).
  await Promise.all(
    chains.map(async (c) => {
      for (const m of bulk.morpho ?? []) {
        if (m.chain !== c.name) continue
        const { chain: _c, market, count, ...o } = m
        const r = await seedMorphoBorrowers(byName(m.chain), market, count, o)
        out.morpho.push({ chain: m.chain, market, borrowers: r.borrowers })
        log(`[${c.name}] ${count} bulk Morpho borrowers in ${market} (${r.seconds.toFixed(2)} s)`)
      }
      for (const a of bulk.aave ?? []) {
        if (a.chain !== c.name) continue
        const { chain: _c, count, ...o } = a
        const r = await seedAaveUsers(byName(a.chain), count, o)
        out.aave.push({ chain: a.chain, borrowers: r.borrowers })
        log(`[${c.name}] ${count} bulk Aave users (${r.seconds.toFixed(2)} s)`)
      }
    }),
  )
  // Keep the order asked.
  const order = <T extends { chain: string }>(asked: { chain: string }[] | undefined, got: T[], same: (a: any, b: T) => boolean) =>
    (asked ?? []).map((a) => got.splice(got.findIndex((g) => same(a, g)), 1)[0])
  return {
    morpho: order(bulk.morpho, out.morpho, (a, b) => a.chain === b.chain && a.market === b.market),
    aave: order(bulk.aave, out.aave, (a, b) => a.chain === b.chain),
  }
}

function startChainAnvil(c: ScenarioChain, loadState?: string): Promise<Anvil> {
  return startAnvil({
    chainId: c.chainId,
    loadState,
    ...(c.automine && c.blockTimeMs > 0 ? { blockTimeMs: c.blockTimeMs, mixedMining: true } : {}),
  })
}

/** Keeps the newest dump of a scenario only. */
function pruneOldDumps(root: string, scenarioName: string, keep: string): void {
  if (!existsSync(root)) return
  for (const e of readdirSync(root, { withFileTypes: true })) {
    const p = join(root, e.name)
    if (e.isDirectory() && e.name.startsWith(`${scenarioName}-`) && /^[0-9a-f]{16}$/.test(e.name.slice(scenarioName.length + 1)) && p !== keep) {
      rmSync(p, { recursive: true, force: true })
    }
  }
}

// ---------------------------------------------------------------------------
// Helpers for tests, benchmarks and the price path
// ---------------------------------------------------------------------------

function chainClient(chain: DevnetChain, opts: { batch?: boolean } = {}): PublicClient {
  return devnetClient(chain, opts)
}

const deployerQueues = new WeakMap<DevnetChain, Promise<unknown>>()

/**
 * Runs `fn` once every earlier deployer job on `chain` has finished: each job reads the
 * deployer's nonce once and counts locally, so two must not interleave.
 */
function withDeployer<T>(chain: DevnetChain, fn: () => Promise<T>): Promise<T> {
  const prev = deployerQueues.get(chain) ?? Promise.resolve()
  const run = prev.then(fn, fn)
  deployerQueues.set(chain, run.catch(() => undefined))
  return run
}

function sendFromDeployer(chain: DevnetChain, build: (s: TxPipeline) => void): Promise<TransactionReceipt[]> {
  return withDeployer(chain, async () => {
    const s = await pipeline(chainClient(chain), chain.accounts.deployer.address)
    build(s)
    return s.flush()
  })
}

/**
 * Sets the USD price (1e8-scaled) of `symbol` on `chain`: one `setAnswer` on
 * its DevnetPriceFeed, which both AaveOracle and every MorphoFeedOracle using
 * the symbol read, so Aave and Morpho prices move together. Resolves once mined.
 *
 * @throws DevnetLookupError for an unknown symbol; ContractRevertError if the feed refuses (price ≤ 0).
 */
export async function setPriceUsd(chain: DevnetChain, symbol: string, priceUsd1e8: bigint): Promise<void> {
  const feed = chain.deployment.priceFeeds[symbol]
  if (!feed) throw new DevnetLookupError(`token symbol on chain ${chain.name}`, symbol, Object.keys(chain.deployment.priceFeeds))
  await sendFromDeployer(chain, (s) =>
    s.call({ address: feed, abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [priceUsd1e8], gas: 200_000n, label: `setAnswer ${symbol} = ${priceUsd1e8}` }),
  )
}

/**
 * Applies price steps at once (ignoring `atSeconds`): each step sets its symbol's price on its chain, or on every
 * chain listing the symbol. The steps of one chain are sent together (consecutive nonces, in step order), so they
 * land in the same block when the chain mines on an interval.
 * @returns per chain touched, the block of its last price update and when (ms since epoch) its receipt was seen.
 */
export async function applyPriceSteps(devnet: Pick<Devnet, 'chains'>, steps: readonly PriceStep[]): Promise<{ chain: string; blockNumber: bigint; minedAt: number }[]> {
  const perChain = new Map<DevnetChain, PriceStep[]>()
  for (const step of steps)
    for (const c of devnet.chains.filter((c) => (step.chain ? c.name === step.chain : step.symbol in c.deployment.priceFeeds))) {
      if (!c.deployment.priceFeeds[step.symbol]) throw new DevnetLookupError(`token symbol on chain ${c.name}`, step.symbol, Object.keys(c.deployment.priceFeeds))
      perChain.set(c, [...(perChain.get(c) ?? []), step])
    }
  return Promise.all(
    [...perChain].map(async ([chain, own]) => {
      const receipts = await sendFromDeployer(chain, (s) => {
        for (const step of own) {
          const price = toUsd1e8(step.priceUsd)
          s.call({ address: chain.deployment.priceFeeds[step.symbol], abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [price], gas: 200_000n, label: `setAnswer ${step.symbol} = ${price}` })
        }
      })
      return { chain: chain.name, blockNumber: receipts.at(-1)!.blockNumber, minedAt: Date.now() }
    }),
  )
}

/**
 * Plays the scenario's price path in real time: step k is applied
 * `atSeconds` after the call. Resolves when the last step is applied;
 * stops early (resolving) when `signal` aborts.
 */
export async function playPricePath(devnet: Pick<Devnet, 'chains' | 'scenario'>, opts: { signal?: AbortSignal; log?: (line: string) => void } = {}): Promise<void> {
  const start = performance.now()
  for (const step of devnet.scenario.pricePath) {
    const wait = step.atSeconds * 1000 - (performance.now() - start)
    if (wait > 0) {
      const aborted = await new Promise<boolean>((res) => {
        const t = setTimeout(() => res(false), wait)
        opts.signal?.addEventListener('abort', () => (clearTimeout(t), res(true)), { once: true })
      })
      if (aborted) return
    }
    if (opts.signal?.aborted) return
    await applyPriceSteps(devnet, [step])
    opts.log?.(`price path t=${step.atSeconds}s: ${step.symbol} = $${step.priceUsd}${step.chain ? ` on ${step.chain}` : ''}${step.note ? ` (${step.note})` : ''}`)
  }
}

const seeders = new WeakMap<DevnetChain, Promise<Address>>()

/** The chain's PositionSeeder (deployed on first use). */
async function positionSeeder(chain: DevnetChain): Promise<Address> {
  let p = seeders.get(chain)
  if (!p) {
    p = withDeployer(chain, async () => {
      const s = await pipeline(chainClient(chain), chain.accounts.deployer.address)
      const address = s.deploy('PositionSeeder', [], { gas: 8_000_000n })
      await s.flush()
      return address
    })
    seeders.set(chain, p)
    p.catch(() => seeders.delete(chain))
  }
  return p
}

/** Options of {@link seedMorphoBorrowers}. */
export type SeedMorphoBorrowersOptions = {
  /** Collateral per borrower, collateral base units. @default one whole token */
  collateral?: bigint
  /** Borrow of the first and the last borrower as a fraction of the LLTV limit at the current price, bps. @default 5000 and 9500 */
  minLtvOfLltvBps?: number
  maxLtvOfLltvBps?: number
  /** Borrowers per transaction. @default 400 */
  chunkSize?: number
}

/** Result of a bulk seeding. */
export type SeedResult = { borrowers: Address[]; transactions: number; seconds: number; gasUsed: bigint }

/**
 * Opens `n` Morpho Blue borrower positions in `market` with the PositionSeeder
 * (one MorphoBorrower contract per borrower, real supplyCollateral + borrow;
 * borrows spread linearly so the LTVs span [min, max] of the LLTV), after
 * supplying the loan liquidity they need. For the scan benchmark.
 *
 * @throws DevnetLookupError for an unknown market; ContractRevertError on a revert.
 */
export async function seedMorphoBorrowers(chain: DevnetChain, market: string, n: number, opts: SeedMorphoBorrowersOptions = {}): Promise<SeedResult> {
  const t0 = performance.now()
  const morpho = chain.deployment.morpho
  const m = morpho?.markets[market]
  if (!morpho || !m) throw new DevnetLookupError(`Morpho market on chain ${chain.name}`, market, Object.keys(morpho?.markets ?? {}))
  const client = chainClient(chain, { batch: false })
  const decimalsOf = (a: Address) => Object.values(chain.deployment.tokens).find((t) => t.address.toLowerCase() === a.toLowerCase())!.decimals
  const collateral = opts.collateral ?? 10n ** BigInt(decimalsOf(m.params.collateralToken))
  const price = (await client.readContract({ address: m.oracle, abi: [{ type: 'function', name: 'price', stateMutability: 'view', inputs: [], outputs: [{ type: 'uint256' }] }] as const, functionName: 'price' })) as bigint
  const maxBorrow = (((collateral * price) / 10n ** 36n) * m.params.lltv) / 10n ** 18n
  const borrowMin = (maxBorrow * BigInt(opts.minLtvOfLltvBps ?? 5000)) / 10_000n
  const borrowMax = (maxBorrow * BigInt(opts.maxLtvOfLltvBps ?? 9500)) / 10_000n
  const seeder = await positionSeeder(chain)
  const chunk = opts.chunkSize ?? 400
  const receipts = await withDeployer(chain, async () => {
    const s = await pipeline(client, chain.accounts.deployer.address)
    const p = marketParamsTuple(m.params)
    s.call({ address: seeder, abi: positionSeederAbi, functionName: 'supplyMorphoLiquidity', args: [morpho.address, p, borrowMax * BigInt(n) + 1n, chain.accounts.deployer.address], gas: 1_000_000n })
    for (let first = 0; first < n; first += chunk) {
      const count = Math.min(chunk, n - first)
      s.call({
        address: seeder,
        abi: positionSeederAbi,
        functionName: 'seedMorpho',
        args: [{ morpho: morpho.address, marketParams: p, firstIndex: BigInt(first), count: BigInt(count), total: BigInt(n), collateral, borrowMin, borrowMax, receiver: chain.accounts.deployer.address }],
        gas: BigInt(count) * 450_000n + 200_000n,
        label: `seedMorpho ${first}..${first + count - 1}`,
      })
    }
    return s.flush()
  })
  return collectSeeded(receipts, 'MorphoBorrowerCreated', t0)
}

/** Options of {@link seedAaveUsers}. */
export type SeedAaveUsersOptions = {
  /** Collateral reserve symbol. @default the first reserve with ltvBps > 0 */
  collateral?: string
  /** Debt reserve symbol. @default the first other reserve with borrowing enabled */
  debt?: string
  /** Collateral per user, base units. @default one whole token */
  collateralAmount?: bigint
  /** Borrow of the first and last user as a fraction of the LTV limit at current prices, bps. @default 5000 and 9500 */
  minLtvOfLimitBps?: number
  maxLtvOfLimitBps?: number
  /** Users per transaction. @default 200 */
  chunkSize?: number
}

/**
 * Opens `n` Aave V3 user positions (one AaveBorrower contract each: supply
 * collateral, variable borrow) with the PositionSeeder, after supplying the
 * debt liquidity they need. For the scan benchmark.
 *
 * @throws DevnetLookupError when the chain has no Aave or no such reserve; ContractRevertError on a revert.
 */
export async function seedAaveUsers(chain: DevnetChain, n: number, opts: SeedAaveUsersOptions = {}): Promise<SeedResult> {
  const t0 = performance.now()
  const aave = chain.deployment.aave
  if (!aave) throw new DevnetLookupError(`Aave deployment on chain`, chain.name, [])
  const client = chainClient(chain, { batch: false })
  const dataAbi = [
    { type: 'function', name: 'getReserveConfigurationData', stateMutability: 'view', inputs: [{ type: 'address' }], outputs: [{ type: 'uint256' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'bool' }, { type: 'bool' }, { type: 'bool' }, { type: 'bool' }, { type: 'bool' }] },
  ] as const
  const symbols = Object.keys(aave.reserves)
  const configs = await Promise.all(symbols.map((sym) => client.readContract({ address: aave.dataProvider, abi: dataAbi, functionName: 'getReserveConfigurationData', args: [chain.deployment.tokens[sym].address] })))
  const cfg = (sym: string) => configs[symbols.indexOf(sym)]
  const collSym = opts.collateral ?? symbols.find((s) => cfg(s)[1] > 0n)
  const debtSym = opts.debt ?? symbols.find((s) => s !== collSym && cfg(s)[6])
  if (!collSym || !(collSym in aave.reserves)) throw new DevnetLookupError(`Aave collateral reserve on chain ${chain.name}`, String(collSym), symbols)
  if (!debtSym || !(debtSym in aave.reserves)) throw new DevnetLookupError(`Aave debt reserve on chain ${chain.name}`, String(debtSym), symbols)
  const coll = chain.deployment.tokens[collSym]
  const debt = chain.deployment.tokens[debtSym]
  const collateralAmount = opts.collateralAmount ?? 10n ** BigInt(coll.decimals)
  const oracleAbi = [{ type: 'function', name: 'getAssetPrice', stateMutability: 'view', inputs: [{ type: 'address' }], outputs: [{ type: 'uint256' }] }] as const
  const [pc, pd] = await Promise.all([coll.address, debt.address].map((a) => client.readContract({ address: aave.oracle, abi: oracleAbi, functionName: 'getAssetPrice', args: [a] })))
  // Borrow limit: collateral value × LTV, in debt units.
  const limit = (collateralAmount * pc * cfg(collSym)[1] * 10n ** BigInt(debt.decimals)) / (10n ** BigInt(coll.decimals) * 10_000n * pd)
  const borrowMin = (limit * BigInt(opts.minLtvOfLimitBps ?? 5000)) / 10_000n
  const borrowMax = (limit * BigInt(opts.maxLtvOfLimitBps ?? 9500)) / 10_000n
  const seeder = await positionSeeder(chain)
  const chunk = opts.chunkSize ?? 200
  const receipts = await withDeployer(chain, async () => {
    const s = await pipeline(client, chain.accounts.deployer.address)
    s.call({ address: seeder, abi: positionSeederAbi, functionName: 'supplyAaveLiquidity', args: [aave.pool, debt.address, borrowMax * BigInt(n) + 1n, chain.accounts.deployer.address], gas: 1_000_000n })
    for (let first = 0; first < n; first += chunk) {
      const count = Math.min(chunk, n - first)
      s.call({
        address: seeder,
        abi: positionSeederAbi,
        functionName: 'seedAave',
        args: [{ pool: aave.pool, collateralAsset: coll.address, debtAsset: debt.address, firstIndex: BigInt(first), count: BigInt(count), total: BigInt(n), collateral: collateralAmount, borrowMin, borrowMax, receiver: chain.accounts.deployer.address }],
        gas: BigInt(count) * 1_200_000n + 200_000n,
        label: `seedAave ${first}..${first + count - 1}`,
      })
    }
    return s.flush()
  })
  return collectSeeded(receipts, 'AaveBorrowerCreated', t0)
}

function collectSeeded(receipts: TransactionReceipt[], eventName: 'MorphoBorrowerCreated' | 'AaveBorrowerCreated', t0: number): SeedResult {
  const topic = keccak256(new TextEncoder().encode(`${eventName}(uint256,address,uint256,uint256)`))
  const borrowers: Address[] = []
  let gasUsed = 0n
  for (const r of receipts) {
    gasUsed += r.gasUsed
    for (const l of r.logs) {
      if (l.topics[0] === topic) borrowers.push(`0x${l.data.slice(26, 66)}` as Address)
    }
  }
  return { borrowers, transactions: receipts.length, seconds: (performance.now() - t0) / 1000, gasUsed }
}

/** The Morpho oracle price (1e36-scaled) the devnet's MorphoFeedOracle gives for USD prices (1e8). */
export { morphoOraclePrice }

// ---------------------------------------------------------------------------
// CLI entry point
// ---------------------------------------------------------------------------

/** Options of {@link runDevnet} (`npm run devnet`). */
export type RunDevnetOptions = {
  /** @default 'scenarios/devnet/default.yaml' */
  scenario?: string
  /** @default '.devnet' */
  stateDir?: string
  fresh?: boolean
  /** Play the scenario's price path once the devnet is up. @default false */
  playPricePath?: boolean
  /** @default console.log */
  log?: (line: string) => void
  /** Stops the devnet when aborted (besides SIGINT/SIGTERM). */
  signal?: AbortSignal
}

/**
 * Starts the devnet, prints progress and a summary, stays up until SIGINT or
 * SIGTERM (or `signal`), then stops every chain by PID. Resolves after the stop.
 */
export async function runDevnet(opts: RunDevnetOptions = {}): Promise<void> {
  const log = opts.log ?? ((l: string) => console.log(l))
  const devnet = await startDevnet({ scenario: opts.scenario ?? join(repoRoot, 'scenarios', 'devnet', 'default.yaml'), stateDir: opts.stateDir, fresh: opts.fresh, log })
  for (const c of devnet.chains) {
    const d = c.deployment
    log(
      `${c.name}: chainId ${c.chainId}, EID ${c.eid}, ${c.rpcUrl} (pid ${c.pid}, block time ${c.blockTimeMs ? `${c.blockTimeMs} ms` : 'automine'})` +
        `\n  tokens: ${Object.entries(d.tokens).map(([s, t]) => `${s} ${t.address}`).join(', ')}` +
        (d.morpho ? `\n  Morpho Blue ${d.morpho.address}: ${Object.keys(d.morpho.markets).join(', ')}` : '') +
        (d.aave ? `\n  Aave V3 pool ${d.aave.pool}: ${Object.keys(d.aave.reserves).join(', ')}` : '') +
        (d.uniswapV2 ? `\n  Uniswap V2 factory ${d.uniswapV2.factory}: ${Object.keys(d.uniswapV2.pairs).join(', ')}` : '') +
        `\n  LayerZero EndpointV2 ${d.layerzero.endpoint}, SimpleMessageLib ${d.layerzero.sendLib}` +
        `\n  settlement: ${d.settlement.hub ? `LiquidationHub ${d.settlement.hub}` : `LiquidationSpoke ${d.settlement.spoke}`} (${d.settlement.operators.length} operators, quorum ${d.settlement.quorum}, reserve ${d.settlement.reserve})` +
        `\n  borrowers: ${Object.keys(c.accounts.borrowers).length}`,
    )
  }
  log(`deployments: ${devnet.deploymentFile}`)
  log('devnet up; Ctrl-C to stop')
  const ac = new AbortController()
  const onSignal = () => ac.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  opts.signal?.addEventListener('abort', onSignal, { once: true })
  try {
    if (opts.playPricePath && devnet.scenario.pricePath.length > 0) void playPricePath(devnet, { signal: ac.signal, log }).catch((err) => log(`price path failed: ${err instanceof Error ? err.message : String(err)}`))
    await new Promise<void>((res) => (ac.signal.aborted ? res() : ac.signal.addEventListener('abort', () => res(), { once: true })))
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    log('stopping devnet')
    await devnet.stop()
    log(`stopped pids ${devnet.chains.map((c) => c.pid).join(', ')}`)
  }
}

/** The anvil process behind a devnet chain (for mining control in tests). */
export function anvilOf(chain: DevnetChain): Anvil | undefined {
  return anvilsOf.get(chain)
}
