import { type Address, encodeFunctionData, getAddress, type Hex, type Log, toFunctionSelector } from 'viem'
import { aaveOracleAbi, aavePoolAbi, aaveProtocolDataProviderAbi } from '../../contracts/out/abis.js'
import {
  closeFactorBps,
  decodeReserveConfiguration,
  isLiquidatable,
  maxDebtToCover,
  type AaveReserveConfiguration,
} from '../../protocol/risk/aave.js'
import { type ChainClient, readBlockRef } from '../evm/client.js'
import { ChainReadError, decodeRevert } from '../evm/errors.js'
import { checksumAddress } from '../evm/keccak.js'
import { addressOfLog, eventTopic, getLogsChunked, getRpcLogsChunked } from '../evm/logs.js'
import { type Call, multicallRaw, type MulticallOptions, readWords } from '../evm/multicall.js'
import type { AaveAccountHealth, AaveReservePosition, BlockRef } from '../types.js'

// ───────────────────────────── ABI pieces ─────────────────────────────

/** Pool events that change a user's position, with the topic carrying the user. */
export const AAVE_USER_EVENTS = (
  [
    ['Supply', 'onBehalfOf'],
    ['Borrow', 'onBehalfOf'],
    ['Repay', 'user'],
    ['Withdraw', 'user'],
    ['LiquidationCall', 'user'],
    ['ReserveUsedAsCollateralEnabled', 'user'],
    ['ReserveUsedAsCollateralDisabled', 'user'],
    ['UserEModeSet', 'user'],
  ] as const
).map(([name, param]) => ({ name, ...eventTopic(aavePoolAbi, name, param) }))

/** Supply and Borrow open positions: they discover users. */
const DISCOVERY_EVENTS = AAVE_USER_EVENTS.filter((e) => e.name === 'Supply' || e.name === 'Borrow')

const SEL = {
  getUserAccountData: toFunctionSelector('getUserAccountData(address)').slice(2),
  getUserConfiguration: toFunctionSelector('getUserConfiguration(address)').slice(2),
  getUserEMode: toFunctionSelector('getUserEMode(address)').slice(2),
  getUserReserveData: toFunctionSelector('getUserReserveData(address,address)').slice(2),
}

const pad = (a: Address) => a.slice(2).toLowerCase().padStart(64, '0')

// ───────────────────────────── types ─────────────────────────────

/** Addresses of an Aave V3 deployment. */
export type AaveDeployment = {
  pool: Address
  /** AaveProtocolDataProvider. */
  dataProvider: Address
  /** AaveOracle (prices in the base currency, USD 1e8 on V3 markets). */
  oracle: Address
  /** Block of the Pool's deployment, where user discovery starts. @default 0n */
  startBlock?: bigint
}

/** One reserve at one block. Percentages in bps; prices in the oracle's base currency. */
export type AaveReserveInfo = {
  asset: Address
  /** Reserve id: bit 2·id (borrowing) and 2·id+1 (collateral) of a user's configuration. */
  id: number
  aToken: Address
  stableDebtToken: Address
  variableDebtToken: Address
  /** Decoded configuration bitmap (`ReserveConfiguration`), via protocol/risk. */
  configuration: AaveReserveConfiguration
  /** `getReserveConfigurationData` (AaveProtocolDataProvider): the liquidation bonus, e.g. 10500. */
  liquidationBonusBps: bigint
  liquidationThresholdBps: bigint
  decimals: number
  usageAsCollateralEnabled: boolean
  /** `AaveOracle.getAssetsPrices`, base currency units. */
  priceBase: bigint
}

/** Options of {@link readAaveAccounts}. */
export type AaveReadOptions = MulticallOptions & {
  /** Keep users without debt. @default false */
  includeDebtFree?: boolean
  /**
   * Per-reserve balances (`getUserReserveData` for each reserve the user's configuration flags):
   * `'all'` for every user with debt, `'liquidatable'` only for users below health factor 1, `'none'` never.
   * @default 'all'
   */
  reserveDetail?: 'all' | 'liquidatable' | 'none'
}

// ───────────────────────────── discovery ─────────────────────────────

/**
 * Discovers Aave V3 users from the Pool's `Supply` and `Borrow` events (the `onBehalfOf` topic),
 * with chunked `eth_getLogs`.
 *
 * @returns distinct users (checksummed), in order of first appearance.
 * @throws RpcUnavailableError, LogRangeRefusedError
 */
export async function discoverAaveUsers(
  client: ChainClient,
  params: { pool: Address; fromBlock?: bigint; toBlock: bigint; chunkSize?: bigint; signal?: AbortSignal },
): Promise<Address[]> {
  const logs = await getRpcLogsChunked(client, {
    address: params.pool,
    topics: [DISCOVERY_EVENTS.map((e) => e.topic0)],
    fromBlock: params.fromBlock ?? 0n,
    toBlock: params.toBlock,
    chunkSize: params.chunkSize,
    signal: params.signal,
  })
  const seen = new Set<string>()
  const out: Address[] = []
  for (const log of logs) {
    const u = userOfLog(log)
    if (u && !seen.has(u)) {
      seen.add(u)
      out.push(checksumAddress(u))
    }
  }
  return out
}

/** The user an Aave Pool event is about (lowercase), or undefined for other logs. */
export function userOfLog(log: Pick<Log, 'topics'>): Address | undefined {
  return addressOfLog(AAVE_USER_EVENTS, log)
}

// ───────────────────────────── reserves ─────────────────────────────

/**
 * Reads every reserve of the Pool at one block: `getReservesList`, then per reserve
 * `getReserveData` (id, tokens, configuration bitmap decoded with protocol/risk) and the data
 * provider's `getReserveConfigurationData` (liquidation bonus and threshold), and the oracle's
 * `getAssetsPrices`.
 *
 * @throws RpcUnavailableError, ChainReadError (a read reverted: the cause is the decoded revert).
 */
export async function readAaveReserves(
  client: ChainClient,
  deployment: AaveDeployment,
  block: BlockRef,
  options: MulticallOptions = {},
): Promise<AaveReserveInfo[]> {
  const opts = { ...options, blockNumber: block.blockNumber }
  let assets: readonly Address[]
  try {
    assets = await client.readContract({ address: deployment.pool, abi: aavePoolAbi, functionName: 'getReservesList', blockNumber: block.blockNumber })
  } catch (err) {
    throw new ChainReadError(`Aave Pool ${deployment.pool}: getReservesList failed.`, { chainId: block.chainId, cause: err })
  }
  if (assets.length === 0) return []
  const calls: Call[] = []
  for (const asset of assets) {
    calls.push({ target: deployment.pool, callData: encodeFunctionData({ abi: aavePoolAbi, functionName: 'getReserveData', args: [asset] }), gas: 60_000n })
    calls.push({
      target: deployment.dataProvider,
      callData: encodeFunctionData({ abi: aaveProtocolDataProviderAbi, functionName: 'getReserveConfigurationData', args: [asset] }),
      gas: 80_000n,
    })
  }
  calls.push({ target: deployment.oracle, callData: encodeFunctionData({ abi: aaveOracleAbi, functionName: 'getAssetsPrices', args: [assets] }), gas: 100_000n * BigInt(assets.length) })
  const words: bigint[][] = new Array(calls.length)
  await multicallRaw(
    client,
    calls,
    (i, ok, hex, s, e) => {
      if (!ok) {
        const what = i === calls.length - 1 ? 'AaveOracle.getAssetsPrices' : i % 2 ? 'getReserveConfigurationData' : 'Pool.getReserveData'
        throw new ChainReadError(`Aave ${what} failed at block ${block.blockNumber}.`, {
          chainId: block.chainId,
          cause: decodeRevert(`0x${hex.slice(s, e)}` as Hex, [...aavePoolAbi, ...aaveOracleAbi], { functionName: what }),
        })
      }
      words[i] = readWords(hex, s, (e - s) / 64)
    },
    opts,
  )
  const prices = words[calls.length - 1].slice(2) // bytes-encoded uint256[]: offset, length, values
  return assets.map((asset, k) => {
    const rd = words[2 * k]
    const cfg = words[2 * k + 1]
    const configuration = decodeReserveConfiguration(rd[0])
    return {
      asset: getAddress(asset),
      id: Number(rd[7]),
      aToken: wordToAddress(rd[8]),
      stableDebtToken: wordToAddress(rd[9]),
      variableDebtToken: wordToAddress(rd[10]),
      configuration,
      decimals: Number(cfg[0]),
      liquidationThresholdBps: cfg[2],
      liquidationBonusBps: cfg[3],
      usageAsCollateralEnabled: cfg[5] === 1n,
      priceBase: prices[k],
    }
  })
}

function wordToAddress(w: bigint): Address {
  return getAddress(`0x${w.toString(16).padStart(40, '0')}`)
}

// ───────────────────────────── accounts ─────────────────────────────

/** Result of {@link readAaveAccounts}. */
export type AaveScan = { block: BlockRef; reserves: AaveReserveInfo[]; accounts: AaveAccountHealth[] }

/**
 * Reads and evaluates Aave V3 users at one block:
 * 1. reserves ({@link readAaveReserves});
 * 2. per user, with Multicall3: `getUserAccountData` (totals, average liquidation threshold,
 *    health factor), `getUserConfiguration` (which reserves it uses), `getUserEMode`;
 * 3. per user with debt and per reserve its configuration flags: the data provider's
 *    `getUserReserveData` (aToken balance, stable + variable debt).
 * The verdict, the close factor (50%, or 100% at health factor ≤ 0.95) and each debt reserve's
 * max debt to cover come from protocol/risk (mirroring `ValidationLogic.validateLiquidationCall`
 * and `LiquidationLogic._calculateDebt`); each reserve's liquidation bonus is the reserve's
 * (`getReserveConfigurationData`), or the user's eMode category's when the reserve is in it.
 *
 * @throws RpcUnavailableError, ChainReadError, ContractRevertError
 */
export async function readAaveAccounts(
  client: ChainClient,
  params: { deployment: AaveDeployment; users: readonly Address[]; blockNumber?: bigint; block?: BlockRef; reserves?: AaveReserveInfo[] },
  options: AaveReadOptions = {},
): Promise<AaveScan> {
  const { deployment, users } = params
  const block = params.block ?? (await readBlockRef(client, params.blockNumber))
  const opts = { ...options, blockNumber: block.blockNumber }
  const reserves = params.reserves ?? (await readAaveReserves(client, deployment, block, options))

  // Round 2: account data, configuration, eMode.
  const calls: Call[] = new Array(users.length * 3)
  for (let i = 0; i < users.length; i++) {
    const u = pad(users[i])
    calls[3 * i] = { target: deployment.pool, callData: `0x${SEL.getUserAccountData}${u}` as Hex, gas: 40_000n + 25_000n * BigInt(reserves.length) }
    calls[3 * i + 1] = { target: deployment.pool, callData: `0x${SEL.getUserConfiguration}${u}` as Hex, gas: 8_000n }
    calls[3 * i + 2] = { target: deployment.pool, callData: `0x${SEL.getUserEMode}${u}` as Hex, gas: 8_000n }
  }
  const account: bigint[][] = new Array(users.length)
  const config = new Array<bigint>(users.length)
  const emode = new Array<number>(users.length)
  await multicallRaw(
    client,
    calls,
    (i, ok, hex, s, e) => {
      const k = Math.floor(i / 3)
      const which = i % 3
      if (!ok || e - s < 64)
        throw decodeRevert(`0x${hex.slice(s, e)}` as Hex, aavePoolAbi, {
          address: deployment.pool,
          functionName: ['getUserAccountData', 'getUserConfiguration', 'getUserEMode'][which],
        })
      if (which === 0) account[k] = readWords(hex, s, 6)
      else if (which === 1) config[k] = readWords(hex, s, 1)[0]
      else emode[k] = Number(readWords(hex, s, 1)[0])
    },
    opts,
  )

  // eMode categories in use.
  const categories = [...new Set(emode.filter((c) => c !== 0))]
  const categoryBonus = new Map<number, bigint>()
  if (categories.length > 0) {
    const results = await Promise.all(
      categories.map((id) =>
        client.readContract({ address: deployment.pool, abi: aavePoolAbi, functionName: 'getEModeCategoryData', args: [id], blockNumber: block.blockNumber }),
      ),
    )
    categories.forEach((id, i) => categoryBonus.set(id, BigInt(results[i].liquidationBonus)))
  }

  // Round 3: per-reserve balances.
  const detail = options.reserveDetail ?? 'all'
  const wanted: { user: number; reserve: AaveReserveInfo }[] = []
  for (let k = 0; k < users.length; k++) {
    const [, debt, , , , hf] = account[k]
    if (debt === 0n || detail === 'none' || (detail === 'liquidatable' && !isLiquidatable(hf))) continue
    for (const r of reserves) if (((config[k] >> BigInt(2 * r.id)) & 3n) !== 0n) wanted.push({ user: k, reserve: r })
  }
  const balances: bigint[][] = new Array(wanted.length)
  await multicallRaw(
    client,
    wanted.map(({ user, reserve }) => ({
      target: deployment.dataProvider,
      callData: `0x${SEL.getUserReserveData}${pad(reserve.asset)}${pad(users[user])}` as Hex,
      gas: 120_000n,
    })),
    (i, ok, hex, s, e) => {
      if (!ok || e - s < 9 * 64)
        throw decodeRevert(`0x${hex.slice(s, e)}` as Hex, aaveProtocolDataProviderAbi, { address: deployment.dataProvider, functionName: 'getUserReserveData' })
      balances[i] = readWords(hex, s, 9)
    },
    opts,
  )
  const perUser = new Map<number, AaveReservePosition[]>()
  wanted.forEach(({ user, reserve }, i) => {
    const b = balances[i]
    const hf = account[user][5]
    const totalDebt = b[1] + b[2]
    const inCategory = emode[user] !== 0 && reserve.configuration.eModeCategory === emode[user]
    const list = perUser.get(user) ?? []
    list.push({
      asset: reserve.asset,
      decimals: reserve.decimals,
      aTokenBalance: b[0],
      totalDebt,
      usageAsCollateralEnabled: ((config[user] >> BigInt(2 * reserve.id + 1)) & 1n) === 1n,
      priceBase: reserve.priceBase,
      liquidationBonusBps: inCategory ? categoryBonus.get(emode[user])! : reserve.liquidationBonusBps,
      liquidationThresholdBps: reserve.liquidationThresholdBps,
      liquidationProtocolFeeBps: reserve.configuration.liquidationProtocolFeeBps,
      maxDebtToCover: totalDebt > 0n && isLiquidatable(hf) ? maxDebtToCover(totalDebt, hf) : 0n,
    })
    perUser.set(user, list)
  })

  const accounts: AaveAccountHealth[] = []
  for (let k = 0; k < users.length; k++) {
    const [totalCollateralBase, totalDebtBase, availableBorrowsBase, currentLiquidationThreshold, ltv, healthFactor] = account[k]
    if (totalDebtBase === 0n && !options.includeDebtFree) continue
    accounts.push({
      protocol: 'aave-v3',
      chainId: block.chainId,
      blockNumber: block.blockNumber,
      pool: deployment.pool,
      user: users[k],
      totalCollateralBase,
      totalDebtBase,
      availableBorrowsBase,
      currentLiquidationThresholdBps: currentLiquidationThreshold,
      ltvBps: ltv,
      healthFactor,
      liquidatable: isLiquidatable(healthFactor),
      closeFactorBps: closeFactorBps(healthFactor),
      eModeCategory: emode[k],
      reserves: perUser.get(k) ?? [],
    })
  }
  return { block, reserves, accounts }
}

// ───────────────────────────── incremental tracking ─────────────────────────────

/** One {@link AaveTracker} update. */
export type AaveUpdate = {
  block: BlockRef
  accounts: AaveAccountHealth[]
  /** Users re-read at this block. */
  reread: number
  /** True when an oracle price moved, so every user was re-read. */
  priceChanged: boolean
}

/**
 * Keeps Aave V3 users up to date block by block: `init()` discovers users and reads them all;
 * `update(block)` reads the reserves (prices), then re-reads every user when a price moved or
 * every `fullRefreshBlocks` blocks (interest drifts health factors slowly), and otherwise only
 * the users touched by Pool events since the last update.
 */
export class AaveTracker {
  readonly client: ChainClient
  readonly deployment: AaveDeployment
  private readonly options: AaveReadOptions & { fullRefreshBlocks?: number }
  private users: Address[] = []
  private accounts = new Map<string, AaveAccountHealth>()
  private prices = new Map<string, bigint>()
  private lastBlock?: BlockRef
  private lastFull = 0n

  constructor(client: ChainClient, deployment: AaveDeployment, options: AaveReadOptions & { fullRefreshBlocks?: number } = {}) {
    this.client = client
    this.deployment = deployment
    this.options = options
  }

  async init(blockNumber?: bigint): Promise<AaveUpdate> {
    const block = await readBlockRef(this.client, blockNumber)
    this.users = await discoverAaveUsers(this.client, { pool: this.deployment.pool, fromBlock: this.deployment.startBlock ?? 0n, toBlock: block.blockNumber })
    const scan = await readAaveAccounts(this.client, { deployment: this.deployment, users: this.users, block }, this.options)
    this.accounts = new Map(scan.accounts.map((a) => [a.user.toLowerCase(), a]))
    this.prices = new Map(scan.reserves.map((r) => [r.asset, r.priceBase]))
    this.lastBlock = block
    this.lastFull = block.blockNumber
    return { block, accounts: [...this.accounts.values()], reread: this.users.length, priceChanged: false }
  }

  /**
   * Brings the tracker to `blockNumber`. Calls are serialized (one at a time, in call order), so a
   * follower's handler may call it for every head; a block at or below the last update is a no-op
   * returning the last state re-evaluated.
   */
  update(blockNumber: bigint): Promise<AaveUpdate> {
    const run = this.queue.then(() => this.updateNow(blockNumber))
    this.queue = run.catch(() => {})
    return run
  }

  private queue: Promise<unknown> = Promise.resolve()

  private async updateNow(blockNumber: bigint): Promise<AaveUpdate> {
    if (!this.lastBlock) return this.init(blockNumber)
    if (blockNumber < this.lastBlock.blockNumber) blockNumber = this.lastBlock.blockNumber
    const block = await readBlockRef(this.client, blockNumber)
    const from = this.lastBlock.blockNumber + 1n
    const touched = new Map<string, Address>()
    if (block.blockNumber >= from) {
      const logs = await getLogsChunked(this.client, {
        address: this.deployment.pool,
        topics: [AAVE_USER_EVENTS.map((e) => e.topic0)],
        fromBlock: from,
        toBlock: block.blockNumber,
      })
      for (const log of logs) {
        const u = userOfLog(log)
        if (u) touched.set(u, getAddress(u))
      }
    }
    const known = new Set(this.users.map((u) => u.toLowerCase()))
    for (const [lower, u] of touched) if (!known.has(lower)) this.users.push(u)
    const reserves = await readAaveReserves(this.client, this.deployment, block, this.options)
    const priceChanged = reserves.some((r) => this.prices.get(r.asset) !== r.priceBase)
    const full = priceChanged || block.blockNumber - this.lastFull >= BigInt(this.options.fullRefreshBlocks ?? 10)
    const users = full ? this.users : [...touched.values()]
    const scan = await readAaveAccounts(this.client, { deployment: this.deployment, users, block, reserves }, this.options)
    if (full) {
      this.accounts = new Map()
      this.lastFull = block.blockNumber
    } else for (const u of users) this.accounts.delete(u.toLowerCase())
    for (const a of scan.accounts) this.accounts.set(a.user.toLowerCase(), a)
    this.prices = new Map(reserves.map((r) => [r.asset, r.priceBase]))
    this.lastBlock = block
    return { block, accounts: [...this.accounts.values()], reread: users.length, priceChanged }
  }
}
