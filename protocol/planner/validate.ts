/**
 * Validation and canonicalization of the planner's inputs: every rule broken throws {@link PlanInputError} naming the
 * offending field (no plan is produced), and every array comes out sorted by a stable key so that the plan never
 * depends on the order of the inputs. Hex strings are lower-cased.
 */
import { WAD } from '../risk/math.js'
import { PlanInputError } from './errors.js'
import { cmpStr } from './fixed.js'
import type {
  AaveReserveInput,
  AaveUserInput,
  AssetInput,
  Hex,
  InventoryInput,
  MorphoMarketInput,
  MorphoPositionInput,
  OracleFollowRule,
  PlanInputs,
  PlanParams,
  VenueInput,
} from './types.js'

/** The canonical, indexed form of the inputs. */
export type Canonical = {
  assets: Map<string, AssetInput>
  /** Keyed by {@link morphoMarketKey}. */
  morphoMarkets: Map<string, MorphoMarketInput>
  /** Sorted by (market key, borrower); `rank` is the market's position in market-key order. */
  morphoPositions: (MorphoPositionInput & { marketKey: string; rank: number })[]
  /** Keyed by {@link aaveMarketKey}; reserves keyed by asset. */
  aaveMarkets: Map<string, { chainId: number; pool: Hex; reserves: Map<string, AaveReserveInput> }>
  /** Sorted by (pool key, user); `rank` is the pool's position in pool-key order. */
  aaveUsers: (AaveUserInput & { marketKey: string; rank: number })[]
  /** Morpho oracle prices (1e36), keyed by {@link morphoMarketKey}. */
  morphoPrices: Map<string, bigint>
  /** Aave oracle prices (base currency), keyed by {@link aavePriceKey}. */
  aavePrices: Map<string, bigint>
  venues: VenueInput[]
  inventory: InventoryInput[]
  /** Pool-following rules keyed by market key (`morpho:…` or `aave:…:asset`). */
  follows: Map<string, OracleFollowRule>
}

export const morphoMarketKey = (chainId: number, id: string): string => `${pad(chainId)}:${id.toLowerCase()}`
export const aaveMarketKey = (chainId: number, pool: string): string => `${pad(chainId)}:${pool.toLowerCase()}`
export const aavePriceKey = (chainId: number, pool: string, asset: string): string => `${aaveMarketKey(chainId, pool)}:${asset}`
/** Chain ids padded so that string order is numeric order. */
export const pad = (n: number): string => n.toString().padStart(12, '0')

const HEX_RE = /^0x[0-9a-fA-F]*$/

function fail(field: string, rule: string, value?: unknown): never {
  throw new PlanInputError(field, rule, value)
}

/** A field path, built only when an error is thrown (the hot path validates 10,000s of fields). */
type Field = string | (() => string)
const name = (field: Field, suffix = ''): string => (typeof field === 'string' ? field : field()) + suffix

function bigintIn(value: unknown, field: Field, suffix: string, lo: bigint, hi?: bigint, rule?: string): bigint {
  if (typeof value !== 'bigint') fail(name(field, suffix), 'must be a bigint', value)
  if (value < lo || (hi !== undefined && value > hi)) {
    fail(name(field, suffix), rule ?? (hi === undefined ? `must be ≥ ${lo}` : `must be in ${lo}..${hi}`), value)
  }
  return value
}

function intIn(value: unknown, field: Field, suffix: string, lo: number, hi: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < lo || value > hi) {
    fail(name(field, suffix), `must be an integer in ${lo}..${hi}`, value)
  }
  return value
}

function hexOf(value: unknown, field: Field, suffix: string, bytes: number): Hex {
  if (typeof value !== 'string' || value.length !== 2 + 2 * bytes || !HEX_RE.test(value)) {
    fail(name(field, suffix), `must be a ${bytes}-byte 0x-prefixed hex string`, value)
  }
  return value.toLowerCase() as Hex
}

function symbolOf(value: unknown, field: Field, suffix: string, assets: Map<string, AssetInput>): string {
  if (typeof value !== 'string' || !assets.has(value)) fail(name(field, suffix), 'must name an asset listed in `assets`', value)
  return value
}

// Predicates of the checks above, for the per-position loops: the field path is built only when one fails (then the
// check above throws with it).
const MAX_CHAIN_ID = 2 ** 32 - 1
const isChainId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= MAX_CHAIN_ID
const isHex = (v: unknown, bytes: number): v is string => typeof v === 'string' && v.length === 2 + 2 * bytes && HEX_RE.test(v)
/**
 * A checked 0x-hex string lower-cased (the value of `value.toLowerCase()`), as a fresh flat string: the sort keys of
 * 10,000s of positions compare several times faster than slices of a longer string (V8 representation only).
 */
const lowerFlat = (value: string): Hex => ('0x' + value.slice(2)).toLowerCase() as Hex
const isBigintIn = (v: unknown, lo: bigint, hi?: bigint): v is bigint => typeof v === 'bigint' && v >= lo && (hi === undefined || v <= hi)

/**
 * The collateral or debt entries of `aaveUsers[user]`, checked in order (asset, reserve of the pool, listed once,
 * balance, priced) and sorted by asset.
 */
function aaveSide(
  entries: { asset: string; balance: bigint }[] | undefined,
  user: number,
  which: 'collateral' | 'debt',
  reserves: Map<string, AaveReserveInput>,
  priced: Set<string>,
  pool: Hex,
  assets: Map<string, AssetInput>,
): { asset: string; balance: bigint }[] {
  if (entries === undefined) return []
  if (!Array.isArray(entries)) fail(`aaveUsers[${user}].${which}`, 'must be an array')
  const out: { asset: string; balance: bigint }[] = new Array(entries.length)
  for (let j = 0; j < entries.length; j++) {
    const e = entries[j]
    if (e === undefined && !(j in entries)) continue
    const a = e?.asset
    const asset = typeof a === 'string' && assets.has(a) ? a : symbolOf(a, `aaveUsers[${user}].${which}[${j}]`, '.asset', assets)
    if (!reserves.has(asset)) fail(`aaveUsers[${user}].${which}[${j}].asset`, 'is not a reserve of this pool', asset)
    for (let k = 0; k < j; k++) if (out[k]?.asset === asset) fail(`aaveUsers[${user}].${which}[${j}].asset`, 'listed twice', asset)
    if (!isBigintIn(e.balance, 0n)) bigintIn(e.balance, `aaveUsers[${user}].${which}[${j}]`, '.balance', 0n)
    if (e.balance > 0n && !priced.has(asset)) {
      fail(`aaveUsers[${user}].${which}[${j}]`, `position with no price: no Aave oracle price for ${asset} on pool ${pool}`)
    }
    out[j] = { asset, balance: e.balance }
  }
  return out.length > 1 ? out.sort((x, y) => cmpStr(x.asset, y.asset)) : out
}

/**
 * Sorts `rows` in place by (rank, then `cmp`), the order of `(a, b) => a.rank - b.rank || cmp(a, b)`, by bucketing
 * the ranks (0..ranks−1) first so that only rows of one rank are compared. `cmp` never ties two rows of one rank (the
 * borrower is unique per market), so the order is the same as one sort. Holes go last, as `Array.prototype.sort` puts them.
 */
function sortByRank<T extends { rank: number }>(rows: T[], ranks: number, cmp: (a: T, b: T) => number): void {
  const buckets: T[][] = Array.from({ length: ranks }, () => [])
  for (let i = 0; i < rows.length; i++) {
    if (!(i in rows)) continue
    buckets[rows[i].rank].push(rows[i])
  }
  const n = rows.length
  let k = 0
  for (const b of buckets) {
    b.sort(cmp)
    for (const row of b) rows[k++] = row
  }
  for (let i = k; i < n; i++) delete rows[i]
}

/** Validates and canonicalizes. @throws PlanInputError naming the first offending input. */
export function canonicalize(inputs: PlanInputs, params: PlanParams): Canonical {
  if (inputs === null || typeof inputs !== 'object') fail('inputs', 'must be an object')
  validateParams(params)
  const list = <T>(v: T[] | undefined, field: Field): T[] => {
    if (v === undefined) return []
    if (!Array.isArray(v)) fail(name(field), 'must be an array')
    return v
  }

  // Assets.
  const assets = new Map<string, AssetInput>()
  list(inputs.assets, 'assets').forEach((a, i) => {
    if (typeof a?.symbol !== 'string' || a.symbol.length === 0 || a.symbol.length > 32) {
      fail(`assets[${i}].symbol`, 'must be a non-empty string of at most 32 characters', a?.symbol)
    }
    intIn(a.decimals, `assets[${i}]`, '.decimals', 0, 36)
    if (assets.has(a.symbol)) fail(`assets[${i}].symbol`, 'is listed twice', a.symbol)
    assets.set(a.symbol, { symbol: a.symbol, decimals: a.decimals })
  })

  // Morpho markets and prices.
  const morphoMarkets = new Map<string, MorphoMarketInput>()
  list(inputs.morphoMarkets, 'morphoMarkets').forEach((m, i) => {
    const f = `morphoMarkets[${i}]`
    const chainId = intIn(m?.chainId, `${f}`, '.chainId', 1, 2 ** 32 - 1)
    const id = hexOf(m.id, `${f}`, '.id', 32)
    const loanAsset = symbolOf(m.loanAsset, `${f}`, '.loanAsset', assets)
    const collateralAsset = symbolOf(m.collateralAsset, `${f}`, '.collateralAsset', assets)
    if (loanAsset === collateralAsset) fail(`${f}.collateralAsset`, 'must differ from loanAsset', collateralAsset)
    bigintIn(m.lltv, `${f}`, '.lltv', 1n, WAD - 1n, 'must be in (0, 1e18) (WAD)')
    bigintIn(m.totalBorrowAssets, `${f}`, '.totalBorrowAssets', 0n)
    bigintIn(m.totalBorrowShares, `${f}`, '.totalBorrowShares', 0n)
    bigintIn(m.totalSupplyAssets, `${f}`, '.totalSupplyAssets', 0n)
    const key = morphoMarketKey(chainId, id)
    if (morphoMarkets.has(key)) fail(`${f}.id`, 'market listed twice on this chain', id)
    morphoMarkets.set(key, { ...m, id, loanAsset, collateralAsset })
  })
  const morphoPrices = new Map<string, bigint>()
  const aavePrices = new Map<string, bigint>()
  list(inputs.prices, 'prices').forEach((p, i) => {
    const f = `prices[${i}]`
    const chainId = intIn(p?.chainId, `${f}`, '.chainId', 1, 2 ** 32 - 1)
    bigintIn(p.price, `${f}`, '.price', 1n, undefined, 'must be > 0 (a zero or negative oracle price)')
    if (p.kind === 'morpho') {
      const key = morphoMarketKey(chainId, hexOf(p.marketId, `${f}`, '.marketId', 32))
      if (!morphoMarkets.has(key)) fail(`${f}.marketId`, 'names no market of `morphoMarkets`', p.marketId)
      if (morphoPrices.has(key)) fail(`${f}.marketId`, 'has two prices', p.marketId)
      morphoPrices.set(key, p.price)
    } else if (p.kind === 'aave') {
      const key = aavePriceKey(chainId, hexOf(p.pool, `${f}`, '.pool', 20), symbolOf(p.asset, `${f}`, '.asset', assets))
      if (aavePrices.has(key)) fail(`${f}.asset`, 'has two prices on this pool', p.asset)
      aavePrices.set(key, p.price)
    } else fail(`${f}.kind`, "must be 'morpho' or 'aave'", (p as { kind?: unknown }).kind)
  })

  // Market lookups by (chain, id) that reuse one key string per market, and market ranks in key order.
  const morphoByChain = new Map<number, Map<string, { key: string; rank: number; market: MorphoMarketInput }>>()
  ;[...morphoMarkets.keys()].sort(cmpStr).forEach((key, rank) => {
    const market = morphoMarkets.get(key)!
    let m = morphoByChain.get(market.chainId)
    if (!m) morphoByChain.set(market.chainId, (m = new Map()))
    m.set(market.id, { key, rank, market })
  })

  // Morpho positions.
  const positionKeys = new Map<string, Set<string>>()
  const rawPositions = list(inputs.morphoPositions, 'morphoPositions')
  const morphoPositions: Canonical['morphoPositions'] = new Array(rawPositions.length)
  for (let i = 0; i < rawPositions.length; i++) {
    const p = rawPositions[i]
    if (p === undefined && !(i in rawPositions)) continue // a hole stays a hole, as Array.prototype.map leaves it
    const c = p?.chainId
    const chainId = isChainId(c) ? c : intIn(c, `morphoPositions[${i}]`, '.chainId', 1, MAX_CHAIN_ID)
    const marketId = isHex(p.marketId, 32) ? (p.marketId.toLowerCase() as Hex) : hexOf(p.marketId, `morphoPositions[${i}]`, '.marketId', 32)
    const borrower = isHex(p.borrower, 20) ? lowerFlat(p.borrower) : hexOf(p.borrower, `morphoPositions[${i}]`, '.borrower', 20)
    const entry = morphoByChain.get(chainId)?.get(marketId)
    if (!entry) fail(`morphoPositions[${i}].marketId`, 'names no market of `morphoMarkets`', marketId)
    const { key: mkey, market, rank } = entry
    if (!isBigintIn(p.borrowShares, 0n, market.totalBorrowShares)) {
      bigintIn(p.borrowShares, `morphoPositions[${i}]`, '.borrowShares', 0n, market.totalBorrowShares, "must be in 0..the market's totalBorrowShares")
    }
    if (!isBigintIn(p.collateral, 0n)) bigintIn(p.collateral, `morphoPositions[${i}]`, '.collateral', 0n)
    if (p.borrowShares > 0n && !morphoPrices.has(mkey)) {
      fail(`morphoPositions[${i}]`, `position with no price: no oracle price for Morpho market ${marketId} on chain ${chainId}`)
    }
    let seen = positionKeys.get(mkey)
    if (!seen) positionKeys.set(mkey, (seen = new Set()))
    if (seen.has(borrower)) fail(`morphoPositions[${i}].borrower`, 'position listed twice', borrower)
    seen.add(borrower)
    morphoPositions[i] = { chainId, marketId, borrower, borrowShares: p.borrowShares, collateral: p.collateral, marketKey: mkey, rank }
  }
  sortByRank(morphoPositions, morphoMarkets.size, (a, b) => cmpStr(a.borrower, b.borrower))

  // Aave markets and users.
  const aaveMarkets: Canonical['aaveMarkets'] = new Map()
  list(inputs.aaveMarkets, 'aaveMarkets').forEach((m, i) => {
    const f = `aaveMarkets[${i}]`
    const chainId = intIn(m?.chainId, `${f}`, '.chainId', 1, 2 ** 32 - 1)
    const pool = hexOf(m.pool, `${f}`, '.pool', 20)
    const reserves = new Map<string, AaveReserveInput>()
    list(m.reserves, `${f}.reserves`).forEach((r, j) => {
      const g = `${f}.reserves[${j}]`
      const asset = symbolOf(r?.asset, `${g}`, '.asset', assets)
      const lt = bigintIn(r.liquidationThresholdBps, `${g}`, '.liquidationThresholdBps', 0n, 10_000n)
      const bonus = bigintIn(r.liquidationBonusBps, `${g}`, '.liquidationBonusBps', 10_000n, 20_000n)
      bigintIn(r.liquidationProtocolFeeBps, `${g}`, '.liquidationProtocolFeeBps', 0n, 10_000n)
      // PoolConfigurator.configureReserveAsCollateral: liquidationThreshold.percentMul(liquidationBonus) ≤ 100 %.
      if (lt * bonus > 10_000n * 10_000n) fail(`${g}.liquidationBonusBps`, 'liquidationThreshold × liquidationBonus must be ≤ 100 %', bonus)
      if (reserves.has(asset)) fail(`${g}.asset`, 'reserve listed twice', asset)
      reserves.set(asset, { ...r, asset })
    })
    const key = aaveMarketKey(chainId, pool)
    if (aaveMarkets.has(key)) fail(`${f}.pool`, 'pool listed twice on this chain', pool)
    aaveMarkets.set(key, { chainId, pool, reserves })
  })
  const aaveByChain = new Map<number, Map<string, { key: string; rank: number; priced: Set<string> }>>()
  ;[...aaveMarkets.keys()].sort(cmpStr).forEach((key, rank) => {
    const market = aaveMarkets.get(key)!
    let m = aaveByChain.get(market.chainId)
    if (!m) aaveByChain.set(market.chainId, (m = new Map()))
    const priced = new Set<string>()
    for (const asset of market.reserves.keys()) if (aavePrices.has(`${key}:${asset}`)) priced.add(asset)
    m.set(market.pool, { key, rank, priced })
  })
  const userKeys = new Map<string, Set<string>>()
  const rawUsers = list(inputs.aaveUsers, 'aaveUsers')
  const aaveUsers: Canonical['aaveUsers'] = new Array(rawUsers.length)
  for (let i = 0; i < rawUsers.length; i++) {
    const u = rawUsers[i]
    if (u === undefined && !(i in rawUsers)) continue // a hole stays a hole, as Array.prototype.map leaves it
    const c = u?.chainId
    const chainId = isChainId(c) ? c : intIn(c, `aaveUsers[${i}]`, '.chainId', 1, MAX_CHAIN_ID)
    const pool = isHex(u.pool, 20) ? (u.pool.toLowerCase() as Hex) : hexOf(u.pool, `aaveUsers[${i}]`, '.pool', 20)
    const user = isHex(u.user, 20) ? lowerFlat(u.user) : hexOf(u.user, `aaveUsers[${i}]`, '.user', 20)
    const entry = aaveByChain.get(chainId)?.get(pool)
    if (!entry) fail(`aaveUsers[${i}].pool`, 'names no pool of `aaveMarkets`', pool)
    const { key: aaveKey, rank, priced } = entry
    const market = aaveMarkets.get(aaveKey)!
    const collateral = aaveSide(u.collateral, i, 'collateral', market.reserves, priced, pool, assets)
    const debt = aaveSide(u.debt, i, 'debt', market.reserves, priced, pool, assets)
    let seen = userKeys.get(aaveKey)
    if (!seen) userKeys.set(aaveKey, (seen = new Set()))
    if (seen.has(user)) fail(`aaveUsers[${i}].user`, 'user listed twice', user)
    seen.add(user)
    aaveUsers[i] = { chainId, pool, user, collateral, debt, marketKey: aaveKey, rank }
  }
  sortByRank(aaveUsers, aaveMarkets.size, (a, b) => cmpStr(a.user, b.user))

  // Venues.
  const venueKeys = new Set<string>()
  const venues = list(inputs.venues, 'venues').map((v, i) => {
    const f = `venues[${i}]`
    const chainId = intIn(v?.chainId, `${f}`, '.chainId', 1, 2 ** 32 - 1)
    const pool = hexOf(v.pool, `${f}`, '.pool', 20)
    const token0 = symbolOf(v.token0, `${f}`, '.token0', assets)
    const token1 = symbolOf(v.token1, `${f}`, '.token1', assets)
    if (token0 === token1) fail(`${f}.token1`, 'must differ from token0', token1)
    bigintIn(v.reserve0, `${f}`, '.reserve0', 1n, undefined, 'must be > 0 (a negative or zero reserve)')
    bigintIn(v.reserve1, `${f}`, '.reserve1', 1n, undefined, 'must be > 0 (a negative or zero reserve)')
    const key = aaveMarketKey(chainId, pool)
    if (venueKeys.has(key)) fail(`${f}.pool`, 'pool listed twice on this chain', pool)
    venueKeys.add(key)
    return { chainId, pool, token0, token1, reserve0: v.reserve0, reserve1: v.reserve1 }
  })
  venues.sort((a, b) => cmpStr(aaveMarketKey(a.chainId, a.pool), aaveMarketKey(b.chainId, b.pool)))

  // Inventory.
  const invKeys = new Set<string>()
  const inventory = list(inputs.inventory, 'inventory').map((v, i) => {
    const f = `inventory[${i}]`
    const chainId = intIn(v?.chainId, `${f}`, '.chainId', 1, 2 ** 32 - 1)
    const asset = symbolOf(v.asset, `${f}`, '.asset', assets)
    const quoteAsset = symbolOf(v.quoteAsset, `${f}`, '.quoteAsset', assets)
    if (asset === quoteAsset) fail(`${f}.quoteAsset`, 'must differ from asset', quoteAsset)
    bigintIn(v.amount, `${f}`, '.amount', 0n)
    bigintIn(v.refPrice, `${f}`, '.refPrice', 1n, undefined, 'must be > 0 (1e36-scaled)')
    const key = `${pad(chainId)}:${asset}:${quoteAsset}`
    if (invKeys.has(key)) fail(`${f}`, 'inventory of this (chain, asset, quote) listed twice')
    invKeys.add(key)
    return { chainId, asset, quoteAsset, amount: v.amount, refPrice: v.refPrice }
  })
  inventory.sort((a, b) => cmpStr(`${pad(a.chainId)}:${a.asset}:${a.quoteAsset}`, `${pad(b.chainId)}:${b.asset}:${b.quoteAsset}`))

  // Pool-following rules must name known markets.
  const follows = new Map<string, OracleFollowRule>()
  params.oracleFollowsPools.forEach((r, i) => {
    const f = `params.oracleFollowsPools[${i}]`
    const chainId = intIn(r?.chainId, `${f}`, '.chainId', 1, 2 ** 32 - 1)
    if (r.protocol === 'morpho') {
      const key = morphoMarketKey(chainId, hexOf(r.marketId, `${f}`, '.marketId', 32))
      if (!morphoMarkets.has(key)) fail(`${f}.marketId`, 'names no market of `morphoMarkets`', r.marketId)
      follows.set(`morpho:${key}`, r)
    } else if (r.protocol === 'aave') {
      const key = aaveMarketKey(chainId, hexOf(r.pool, `${f}`, '.pool', 20))
      if (!aaveMarkets.has(key)) fail(`${f}.pool`, 'names no pool of `aaveMarkets`', r.pool)
      const asset = symbolOf(r.asset, `${f}`, '.asset', assets)
      const quote = symbolOf(r.quoteAsset, `${f}`, '.quoteAsset', assets)
      if (asset === quote) fail(`${f}.quoteAsset`, 'must differ from asset', quote)
      follows.set(`aave:${key}:${asset}`, r)
    } else fail(`${f}.protocol`, "must be 'morpho' or 'aave'", (r as { protocol?: unknown }).protocol)
  })

  return { assets, morphoMarkets, morphoPositions, aaveMarkets, aaveUsers, morphoPrices, aavePrices, venues, inventory, follows }
}

/** Range checks of {@link PlanParams}. @throws PlanInputError naming `params.<field>`. */
export function validateParams(params: PlanParams): void {
  if (params === null || typeof params !== 'object') fail('params', 'must be an object')
  bigintIn(params.targetHealthFactor, 'params.targetHealthFactor', '', WAD + 1n, 3n * WAD, 'must be in (1e18, 3e18] (WAD)')
  bigintIn(params.maxImpactBpsPerVenuePerRound, 'params.maxImpactBpsPerVenuePerRound', '', 1n, 5_000n)
  intIn(params.maxLegs, 'params.maxLegs', '', 1, 100_000)
  bigintIn(params.deadlineBase, 'params.deadlineBase', '', 0n, 2n ** 64n - 1n)
  bigintIn(params.legTtlSeconds, 'params.legTtlSeconds', '', 1n, 86_400n)
  bigintIn(params.maxSlippageBps, 'params.maxSlippageBps', '', 1n, 10_000n)
  bigintIn(params.minOutToleranceBps, 'params.minOutToleranceBps', '', 0n, 5_000n)
  bigintIn(params.urgencyWad, 'params.urgencyWad', '', 0n, 10n * WAD, 'must be in 0..10e18 (WAD)')
  intIn(params.maxScheduleRounds, 'params.maxScheduleRounds', '', 1, 1000)
  if (params.auction === null || typeof params.auction !== 'object') fail('params.auction', 'must be an object')
  bigintIn(params.auction.startPremiumBps, 'params.auction.startPremiumBps', '', 0n, 5_000n)
  bigintIn(params.auction.floorDiscountBps, 'params.auction.floorDiscountBps', '', 0n, 9_999n)
  bigintIn(params.auction.durationSeconds, 'params.auction.durationSeconds', '', 1n, 86_400n)
  if (!Array.isArray(params.oracleFollowsPools)) fail('params.oracleFollowsPools', 'must be an array')
  bigintIn(params.cascadeGuardBps, 'params.cascadeGuardBps', '', 0n, 1_000n)
  if (typeof params.crossChainVenues !== 'boolean') fail('params.crossChainVenues', 'must be a boolean', params.crossChainVenues)
}
