/**
 * Adapter from the `chains/` readers (chains/types.ts) to the publisher's SnapshotSource:
 * Morpho Blue and Aave V3 trackers for account health, and a Uniswap V2 reader for reserves
 * and depth curves.
 */
import { pad, type Address, type Hex } from 'viem'
import type { AaveReserveInfo } from '../../chains/aave/reader.js'
import type { MorphoMarketSnapshot } from '../../chains/morpho/reader.js'
import type { AaveAccountHealth, BlockRef, MorphoAccountHealth, UniswapV2Depth, UniswapV2PoolState } from '../../chains/types.js'
import { LendingProtocol, Venue, type AaveReserveState, type AccountHealth, type DepthPoint, type MorphoMarketState } from '../../protocol/proto/codec.js'
import type { MarketHealth, PoolLiquidity, SnapshotSource, SourceBlock } from './publisher.js'

/** The wire market id of an Aave V3 pool: its address left-padded to 32 bytes. */
export const aaveMarketId = (pool: Address): Hex => pad(pool, { size: 32 })

/** Morpho borrower → wire AccountHealth (collateral-token and loan-token base units; maxSeizable in collateral units; borrow shares). */
export function morphoAccountHealth(a: MorphoAccountHealth): AccountHealth {
  return {
    borrower: a.borrower,
    collateral: a.collateral,
    borrowAssets: a.borrowAssets,
    healthFactor: a.healthFactor,
    liquidatable: a.liquidatable,
    maxSeizable: a.maxSeizable,
    borrowShares: a.borrowShares,
  }
}

/** A Morpho market read at a block (`readMorphoMarkets`) → the wire market state: totals accrued to the block, oracle price 1e36. */
export function morphoMarketState(m: MorphoMarketSnapshot): MorphoMarketState {
  return {
    loanToken: m.params.loanToken,
    collateralToken: m.params.collateralToken,
    lltv: m.params.lltv,
    totalSupplyAssets: m.accrued.totalSupplyAssets,
    totalBorrowAssets: m.accrued.totalBorrowAssets,
    totalBorrowShares: m.accrued.totalBorrowShares,
    oraclePrice: m.price,
  }
}

/** Aave reserves read at a block (`readAaveReserves`) → the wire reserve states (bps, price in the base currency, USD 1e8). */
export function aaveReserveStates(reserves: readonly AaveReserveInfo[]): AaveReserveState[] {
  return reserves.map((r) => ({
    asset: r.asset,
    liquidationThresholdBps: Number(r.liquidationThresholdBps),
    liquidationBonusBps: Number(r.liquidationBonusBps),
    liquidationProtocolFeeBps: Number(r.configuration.liquidationProtocolFeeBps),
    price: r.priceBase,
  }))
}

/**
 * Aave user → wire AccountHealth, in the oracle's base currency (USD 1e8): collateral =
 * totalCollateralBase, borrowAssets = totalDebtBase, maxSeizable = the collateral value one
 * liquidationCall may seize at most: min(totalCollateralBase, totalDebtBase × closeFactor ×
 * the largest liquidation bonus of the user's collateral reserves), 0 when not liquidatable.
 */
export function aaveAccountHealth(a: AaveAccountHealth): AccountHealth {
  let maxSeizable = 0n
  if (a.liquidatable) {
    const bonusBps = a.reserves.reduce((m, r) => (r.usageAsCollateralEnabled && r.aTokenBalance > 0n && r.liquidationBonusBps > m ? r.liquidationBonusBps : m), 10_000n)
    const cap = (a.totalDebtBase * a.closeFactorBps * bonusBps) / 100_000_000n
    maxSeizable = cap < a.totalCollateralBase ? cap : a.totalCollateralBase
  }
  // Per-reserve balances (the planner's inputs): aToken balance where enabled as collateral, debt.
  const balances = a.reserves
    .map((r) => ({ asset: r.asset, collateral: r.usageAsCollateralEnabled ? r.aTokenBalance : 0n, debt: r.totalDebt }))
    .filter((b) => b.collateral > 0n || b.debt > 0n)
  return { borrower: a.user, collateral: a.totalCollateralBase, borrowAssets: a.totalDebtBase, healthFactor: a.healthFactor, liquidatable: a.liquidatable, maxSeizable, balances }
}

/**
 * Groups Morpho and Aave accounts into one MarketHealth per market, with each market's state when given
 * (a market with a state and no account still gets an entry: its snapshot attests the state).
 */
export function groupByMarket(
  morpho: readonly MorphoAccountHealth[],
  aave: readonly AaveAccountHealth[],
  states: { morpho?: readonly MorphoMarketSnapshot[]; aave?: readonly { pool: Address; reserves: readonly AaveReserveInfo[] }[] } = {},
): MarketHealth[] {
  const markets = new Map<string, MarketHealth>()
  const entry = (protocol: LendingProtocol, market: Hex): MarketHealth => {
    const key = `${protocol}|${market.toLowerCase()}`
    let m = markets.get(key)
    if (!m) markets.set(key, (m = { protocol, market, accounts: [] }))
    return m
  }
  for (const s of states.morpho ?? []) entry(LendingProtocol.morphoBlue, s.id).morpho = morphoMarketState(s)
  for (const s of states.aave ?? []) entry(LendingProtocol.aaveV3, aaveMarketId(s.pool)).aaveReserves = aaveReserveStates(s.reserves)
  for (const a of morpho) entry(LendingProtocol.morphoBlue, a.market).accounts.push(morphoAccountHealth(a))
  for (const a of aave) entry(LendingProtocol.aaveV3, aaveMarketId(a.pool)).accounts.push(aaveAccountHealth(a))
  return [...markets.values()]
}

/** Uniswap V2 pair state and its depth curves (both directions) → wire PoolLiquidity. */
export function uniswapV2Liquidity(state: UniswapV2PoolState, depths: readonly UniswapV2Depth[]): PoolLiquidity {
  const depth: DepthPoint[] = []
  for (const d of depths) {
    const zeroForOne = d.tokenIn.toLowerCase() === state.token0.toLowerCase()
    for (const p of d.points) if (p.impactBps > 0n && p.impactBps <= 10_000n) depth.push({ zeroForOne, impactBps: Number(p.impactBps), amountIn: p.amountIn, amountOut: p.amountOut })
  }
  return { venue: Venue.uniswapV2, pair: state.pair, token0: state.token0, token1: state.token1, reserve0: state.reserve0, reserve1: state.reserve1, depth }
}

/** What the adapter needs from a tracker: MorphoTracker and AaveTracker both fit. */
export interface AccountTracker<A> {
  update(blockNumber: bigint): Promise<{ block: BlockRef; accounts: A[] }>
}
/** Reads pools at one block (e.g. a Uniswap V2 reader). */
export type PoolReader = (block: BlockRef) => Promise<{ state: UniswapV2PoolState; depths: UniswapV2Depth[] }[]>
/** Reads the Morpho markets' states at one block (e.g. `readMorphoMarkets`). */
export type MorphoMarketReader = (block: BlockRef) => Promise<MorphoMarketSnapshot[]>
/** Reads Aave pools' reserves at one block (e.g. `readAaveReserves`). */
export type AaveReserveReader = (block: BlockRef) => Promise<{ pool: Address; reserves: AaveReserveInfo[] }[]>

/**
 * A SnapshotSource over the chain readers of one chain.
 * @example trackersSource({ chainId, morpho: [new MorphoTracker(client, {...})], aave: [new AaveTracker(client, {...})] })
 */
export function trackersSource(p: {
  chainId: number
  morpho?: AccountTracker<MorphoAccountHealth>[]
  aave?: AccountTracker<AaveAccountHealth>[]
  pools?: PoolReader
  /** Market states (Morpho totals and prices): without them snapshots carry no market state. */
  morphoMarkets?: MorphoMarketReader
  /** Aave reserves (parameters and prices): without them snapshots carry no reserves. */
  aaveReserves?: AaveReserveReader
}): SnapshotSource {
  return {
    async read(chainId, blockNumber) {
      if (chainId !== p.chainId) throw new RangeError(`this source reads chain ${p.chainId}, not ${chainId}`)
      const [morpho, aave] = await Promise.all([
        Promise.all((p.morpho ?? []).map((t) => t.update(blockNumber))),
        Promise.all((p.aave ?? []).map((t) => t.update(blockNumber))),
      ])
      const ref = morpho[0]?.block ?? aave[0]?.block
      const block: SourceBlock = ref
        ? { chainId, blockNumber: ref.blockNumber, blockHash: ref.blockHash, timestamp: ref.timestamp }
        : { chainId, blockNumber, blockHash: `0x${'00'.repeat(32)}` }
      const [pools, morphoStates, aaveStates] = ref
        ? await Promise.all([p.pools?.(ref) ?? [], p.morphoMarkets?.(ref) ?? [], p.aaveReserves?.(ref) ?? []])
        : [[], [], []]
      return {
        block,
        health: groupByMarket(morpho.flatMap((u) => u.accounts), aave.flatMap((u) => u.accounts), { morpho: morphoStates, aave: aaveStates }),
        liquidity: pools.map((x) => uniswapV2Liquidity(x.state, x.depths)),
      }
    },
  }
}
