/**
 * The stress simulator: one scenario, three strategies on identical copies of the same world.
 * - naive: every liquidatable account fully liquidated at once (the most each protocol allows), each seizure dumped
 *   in one swap into the deepest pool of its chain;
 * - independent: competing liquidators under each protocol's default rules, greedy and first come first served: the
 *   most profitable liquidation first, each the most the protocol allows, each sold into the pool quoting best at
 *   that moment, skipped when it would not pay for itself;
 * - liqnet: `protocol/planner`'s plan each round, executed leg by leg (partial liquidations, joint venue split,
 *   Almgren–Chriss schedule from inventory, cascade guard, Dutch auction fallback).
 * Reporting uses floats (USD); the world's state and the planner stay bigint.
 */
import { MAX_UINT256, WAD, toAssetsUp } from '../../protocol/risk/math.js'
import { ORACLE_PRICE_SCALE, healthFactor as morphoHealthFactor, maxLiquidation, simulateLiquidation } from '../../protocol/risk/morpho.js'
import { liquidationCallAmounts } from '../../protocol/risk/aave.js'
import { getAmountOut } from '../../protocol/risk/uniswap-v2.js'
import { aaveAccountData, aavePair, type AaveAccount, type AaveContext } from '../../protocol/planner/liquidation.js'
import { auctionPriceAt, defaultPlanParams, plan, splitAcrossPools, type Leg, type PlanInputs, type PlanParams } from '../../protocol/planner/index.js'
import type { Scenario } from './scenario.js'
import {
  aggregatePrice36,
  arbitrage,
  buildWorld,
  cloneWorld,
  fairUsd1e8,
  poolPrice36,
  price36FromUsd,
  usdFromPrice36,
  type SimAaveMarket,
  type SimMarket,
  type SimMorphoMarket,
  type SimPool,
  type World,
} from './world.js'

export const STRATEGIES = ['naive', 'independent', 'liqnet'] as const
export type StrategyName = (typeof STRATEGIES)[number]

/** Figures of one strategy, in debt-asset units (string, base units exact) and USD. */
export type StrategyReport = {
  badDebt: number
  slippage: number
  incentivePaid: number
  cascades: number
  totalLoss: number
  liquidations: number
  auctions: number
  /** Same figures in debt-asset base units (exact, as strings). */
  units: { badDebt: string; slippage: string; incentivePaid: string; totalLoss: string }
  usd: { badDebt: number; slippage: number; incentivePaid: number; totalLoss: number }
  finalPoolPricesUsd: { chainId: number; pool: string; priceUsd: number }[]
  /** Aggregate pool price (USD) after each round. */
  priceSeriesUsd: number[]
}

export type SimulationReport = {
  scenario: string
  description: string
  steps: number
  debtAsset: string
  collateralAsset: string
  fairPriceSeriesUsd: number[]
  naive: StrategyReport
  independent: StrategyReport
  liqnet: StrategyReport
}

type Metrics = {
  badDebtRealized: bigint
  slippage: bigint
  incentive: bigint
  cascades: number
  liquidations: number
  auctions: number
  series: number[]
}

type Ctx = {
  s: Scenario
  step: number
  fair36: bigint
  fairUsd: bigint
  debtUsd1e8: bigint
  shadow: SimPool[]
  m: Metrics
}

// ───────────────────────────── oracles and accounts ─────────────────────────────

function morphoOracle(ctx: Ctx, pools: SimPool[], m: SimMorphoMarket): bigint {
  return m.oracle === 'pools' ? aggregatePrice36(pools, m.chainId) : ctx.fair36
}

function aaveContext(ctx: Ctx, pools: SimPool[], m: SimAaveMarket): AaveContext {
  const coll = m.oracle === 'pools' ? usdFromPrice36(ctx.s, aggregatePrice36(pools, m.chainId)) : ctx.fairUsd
  const prices = new Map([
    [ctx.s.collateral.symbol, coll],
    [ctx.s.debt.symbol, ctx.debtUsd1e8],
  ])
  const reserves = new Map([
    [ctx.s.collateral.symbol, { asset: ctx.s.collateral.symbol, liquidationThresholdBps: m.liquidationThresholdBps, liquidationBonusBps: m.liquidationBonusBps, liquidationProtocolFeeBps: m.liquidationProtocolFeeBps }],
    [ctx.s.debt.symbol, { asset: ctx.s.debt.symbol, liquidationThresholdBps: 0n, liquidationBonusBps: 10_000n, liquidationProtocolFeeBps: 0n }],
  ])
  const dec = new Map([
    [ctx.s.collateral.symbol, ctx.s.collateral.decimals],
    [ctx.s.debt.symbol, ctx.s.debt.decimals],
  ])
  return { reserves, price: (a) => prices.get(a)!, decimals: (a) => dec.get(a)!, unit: (a) => 10n ** BigInt(dec.get(a)!) }
}

/** Was this account healthy at the oracle the world would show without any liquidation flow (shadow pools)? */
function isCascade(ctx: Ctx, m: SimMarket, account: { morpho?: { borrowShares: bigint; collateral: bigint }; aave?: AaveAccount }): boolean {
  if (m.oracle !== 'pools') return false
  if (m.protocol === 'morpho') {
    const p = aggregatePrice36(ctx.shadow, m.chainId)
    return morphoHealthFactor({ supplyShares: 0n, ...account.morpho! }, m.state, p, m.lltv) >= WAD
  }
  return aaveAccountData(account.aave!, aaveContext(ctx, ctx.shadow, m)).healthFactor >= WAD
}

function sell(ctx: Ctx, pool: SimPool, amountIn: bigint): bigint {
  if (amountIn <= 0n) return 0n
  const out = getAmountOut(amountIn, pool.reserve0, pool.reserve1)
  pool.reserve0 += amountIn
  pool.reserve1 -= out
  ctx.m.slippage += (amountIn * ctx.fair36) / ORACLE_PRICE_SCALE - out
  return out
}

type Liq = { seized: bigint; repaid: bigint; incentive: bigint }

/** The most the protocol allows (Morpho: `maxLiquidation`; Aave: debtToCover = max under the close factor). */
function liquidateMax(ctx: Ctx, pools: SimPool[], m: SimMarket, who: `0x${string}`, apply: boolean): Liq | null {
  if (m.protocol === 'morpho') {
    const pos = m.positions.get(who)!
    if (pos.borrowShares === 0n || pos.collateral === 0n) return null
    const price = morphoOracle(ctx, pools, m)
    if (morphoHealthFactor(pos, m.state, price, m.lltv) >= WAD) return null
    const ml = maxLiquidation(pos, m.state, price, m.lltv)
    if (ml.seizedAssets === 0n) return null
    const sim = simulateLiquidation(pos, m.state, price, m.lltv, ml.by === 'repaidShares' ? { repaidShares: ml.repaidShares } : { seizedAssets: ml.seizedAssets })
    const value = (sim.seizedAssets * price) / ORACLE_PRICE_SCALE
    if (apply) {
      if (isCascade(ctx, m, { morpho: pos })) ctx.m.cascades++
      m.positions.set(who, sim.position)
      m.state = sim.market
      ctx.m.badDebtRealized += sim.badDebtAssets
    }
    return { seized: sim.seizedAssets, repaid: sim.repaidAssets, incentive: value > sim.repaidAssets ? value - sim.repaidAssets : 0n }
  }
  const acct = m.users.get(who)!
  const actx = aaveContext(ctx, pools, m)
  const data = aaveAccountData(acct, actx)
  if (data.totalDebtBase === 0n || data.healthFactor >= WAD) return null
  const pair = aavePair(acct, actx)
  if (!pair) return null
  const r = liquidationCallAmounts({
    healthFactor: data.healthFactor,
    userTotalDebt: acct.debt[0].balance,
    debtToCover: MAX_UINT256,
    debtAssetPrice: actx.price(pair.debt),
    debtAssetDecimals: ctx.s.debt.decimals,
    collateralPrice: actx.price(pair.collateral),
    collateralDecimals: ctx.s.collateral.decimals,
    userCollateralBalance: acct.collateral[0].balance,
    liquidationBonusBps: m.liquidationBonusBps,
    liquidationProtocolFeeBps: m.liquidationProtocolFeeBps,
  })
  if (r.collateralAmount === 0n) return null
  const ref = price36FromUsd(ctx.s, actx.price(pair.collateral))
  const value = (r.collateralAmount * ref) / ORACLE_PRICE_SCALE
  if (apply) {
    if (isCascade(ctx, m, { aave: acct })) ctx.m.cascades++
    acct.collateral[0].balance -= r.collateralAmount + r.protocolFee
    acct.debt[0].balance -= r.debtAmountNeeded
  }
  return { seized: r.collateralAmount, repaid: r.debtAmountNeeded, incentive: value > r.debtAmountNeeded ? value - r.debtAmountNeeded : 0n }
}

function accountsOf(m: SimMarket): `0x${string}`[] {
  return [...(m.protocol === 'morpho' ? m.positions.keys() : m.users.keys())].sort()
}

// ───────────────────────────── strategies ─────────────────────────────

function stepNaive(ctx: Ctx, w: World): void {
  // The oracle is read once per block: every account liquidatable at the round's prices goes, all at once.
  const todo: { m: SimMarket; who: `0x${string}` }[] = []
  const frozen = w.pools.map((p) => ({ ...p }))
  for (const m of w.markets) for (const who of accountsOf(m)) if (liquidateMax(ctx, frozen, m, who, false)) todo.push({ m, who })
  for (const { m, who } of todo) {
    const l = liquidateMax(ctx, frozen, m, who, true)
    if (!l) continue
    ctx.m.liquidations++
    ctx.m.incentive += l.incentive
    const onChain = w.pools.filter((p) => p.chainId === m.chainId)
    const set = onChain.length > 0 ? onChain : w.pools
    const deepest = set.reduce((a, b) => (b.reserve1 > a.reserve1 ? b : a))
    sell(ctx, deepest, l.seized)
  }
}

function stepIndependent(ctx: Ctx, w: World): void {
  const frozen = w.pools.map((p) => ({ ...p }))
  const quote = (m: SimMarket, amount: bigint): { pool: SimPool; out: bigint } => {
    const onChain = w.pools.filter((p) => p.chainId === m.chainId)
    const set = onChain.length > 0 ? onChain : w.pools
    let best = set[0]
    let bestOut = -1n
    for (const p of set) {
      const o = amount > 0n ? getAmountOut(amount, p.reserve0, p.reserve1) : 0n
      if (o > bestOut) {
        best = p
        bestOut = o
      }
    }
    return { pool: best, out: bestOut }
  }
  const cands: { m: SimMarket; who: `0x${string}`; profit: bigint }[] = []
  for (const m of w.markets) {
    for (const who of accountsOf(m)) {
      const l = liquidateMax(ctx, frozen, m, who, false)
      if (l) cands.push({ m, who, profit: quote(m, l.seized).out - l.repaid })
    }
  }
  cands.sort((a, b) => (a.profit > b.profit ? -1 : a.profit < b.profit ? 1 : a.who < b.who ? -1 : 1))
  for (const c of cands) {
    const l = liquidateMax(ctx, frozen, c.m, c.who, false)
    if (!l) continue
    const q = quote(c.m, l.seized)
    if (q.out <= l.repaid) continue // not worth it for a liquidator: left for later
    liquidateMax(ctx, frozen, c.m, c.who, true)
    ctx.m.liquidations++
    ctx.m.incentive += l.incentive
    sell(ctx, q.pool, l.seized)
  }
}

type Inventory = { amount: bigint }

function plannerParams(s: Scenario, w: World, step: number): PlanParams {
  return {
    ...defaultPlanParams,
    targetHealthFactor: BigInt(Math.round(s.planner.targetHealthFactor * 1e6)) * 10n ** 12n,
    maxImpactBpsPerVenuePerRound: BigInt(s.planner.maxImpactBpsPerVenuePerRound),
    maxLegs: s.planner.maxLegs,
    urgencyWad: BigInt(Math.round(s.planner.urgency * 1e6)) * 10n ** 12n,
    maxSlippageBps: BigInt(s.planner.maxSlippageBps),
    cascadeGuardBps: BigInt(s.planner.cascadeGuardBps),
    deadlineBase: BigInt(step * s.roundSeconds),
    oracleFollowsPools: w.markets
      .filter((m) => m.oracle === 'pools')
      .map((m) =>
        m.protocol === 'morpho'
          ? { protocol: 'morpho' as const, chainId: m.chainId, marketId: m.id }
          : { protocol: 'aave' as const, chainId: m.chainId, pool: m.pool, asset: s.collateral.symbol, quoteAsset: s.debt.symbol },
      ),
  }
}

/** The planner's inputs from the world as the network observes it this round. */
export function plannerInputs(ctx: Ctx, w: World, inv: Inventory): PlanInputs {
  const s = ctx.s
  const inputs: PlanInputs = {
    assets: [
      { symbol: s.collateral.symbol, decimals: s.collateral.decimals },
      { symbol: s.debt.symbol, decimals: s.debt.decimals },
    ],
    morphoMarkets: [],
    morphoPositions: [],
    aaveMarkets: [],
    aaveUsers: [],
    prices: [],
    venues: w.pools.map((p) => ({ chainId: p.chainId, pool: p.pool, token0: s.collateral.symbol, token1: s.debt.symbol, reserve0: p.reserve0, reserve1: p.reserve1 })),
    inventory: inv.amount > 0n ? [{ chainId: w.pools[0].chainId, asset: s.collateral.symbol, quoteAsset: s.debt.symbol, amount: inv.amount, refPrice: ctx.fair36 }] : [],
  }
  for (const m of w.markets) {
    if (m.protocol === 'morpho') {
      inputs.morphoMarkets.push({ chainId: m.chainId, id: m.id, loanAsset: s.debt.symbol, collateralAsset: s.collateral.symbol, lltv: m.lltv, ...m.state })
      inputs.prices.push({ kind: 'morpho', chainId: m.chainId, marketId: m.id, price: morphoOracle(ctx, w.pools, m) })
      for (const [borrower, p] of m.positions) if (p.borrowShares > 0n) inputs.morphoPositions.push({ chainId: m.chainId, marketId: m.id, borrower, borrowShares: p.borrowShares, collateral: p.collateral })
    } else {
      const actx = aaveContext(ctx, w.pools, m)
      inputs.aaveMarkets.push({ chainId: m.chainId, pool: m.pool, reserves: [...actx.reserves.values()] })
      inputs.prices.push({ kind: 'aave', chainId: m.chainId, pool: m.pool, asset: s.collateral.symbol, price: actx.price(s.collateral.symbol) })
      inputs.prices.push({ kind: 'aave', chainId: m.chainId, pool: m.pool, asset: s.debt.symbol, price: ctx.debtUsd1e8 })
      for (const [user, a] of m.users) if (a.debt[0].balance > 0n) inputs.aaveUsers.push({ chainId: m.chainId, pool: m.pool, user, collateral: a.collateral, debt: a.debt })
    }
  }
  return inputs
}

function stepLiqnet(ctx: Ctx, w: World, inv: Inventory): void {
  const p = plan(plannerInputs(ctx, w, inv), plannerParams(ctx.s, w, ctx.step))
  const frozen = w.pools.map((x) => ({ ...x }))
  for (const leg of p.legs) {
    if (leg.kind === 'liquidate') {
      if (!executeLiquidation(ctx, w, frozen, leg)) continue
      ctx.m.liquidations++
      inv.amount += leg.seizedAssets
    }
    for (const v of leg.venues) {
      const pool = w.pools.find((x) => x.pool === v.pool && x.chainId === v.chainId)!
      const amount = v.amountIn < inv.amount ? v.amountIn : inv.amount
      if (amount === 0n || getAmountOut(amount, pool.reserve0, pool.reserve1) < v.minAmountOut) continue // slippage bound: the swap reverts
      sell(ctx, pool, amount)
      inv.amount -= amount
    }
    if (leg.execution === 'auction') {
      // Bidders with outside liquidity buy once the descending price reaches fair × (1 − margin), never below the floor.
      const reservation = (ctx.fair36 * (10_000n - BigInt(ctx.s.auctionBidderMarginBps))) / 10_000n
      if (reservation < leg.auction.floorPrice) continue
      const clearing = reservation < leg.auction.startPrice ? reservation : auctionPriceAt(leg.auction, leg.auction.startTime)
      const amount = leg.auction.amount < inv.amount ? leg.auction.amount : inv.amount
      const proceeds = (amount * clearing) / ORACLE_PRICE_SCALE
      ctx.m.slippage += (amount * ctx.fair36) / ORACLE_PRICE_SCALE - proceeds
      inv.amount -= amount
      ctx.m.auctions++
    }
  }
}

function executeLiquidation(ctx: Ctx, w: World, frozen: SimPool[], leg: Leg): boolean {
  const m = w.markets.find((x) => x.chainId === leg.chainId && (x.protocol === 'morpho' ? x.id.toLowerCase() : x.pool.toLowerCase()) === leg.market)
  if (!m) return false
  if (m.protocol === 'morpho') {
    const who = leg.borrower // world addresses are lower-case hex, as the plan's
    const pos = m.positions.get(who)
    if (!pos) return false
    const price = morphoOracle(ctx, frozen, m)
    const sim = simulateLiquidation(pos, m.state, price, m.lltv, leg.mode === 'repaidShares' ? { repaidShares: leg.repaidShares } : { seizedAssets: leg.seizedAssets })
    if (isCascade(ctx, m, { morpho: pos })) ctx.m.cascades++
    m.positions.set(who, sim.position)
    m.state = sim.market
    ctx.m.badDebtRealized += sim.badDebtAssets
    const value = (sim.seizedAssets * price) / ORACLE_PRICE_SCALE
    ctx.m.incentive += value > sim.repaidAssets ? value - sim.repaidAssets : 0n
    return true
  }
  const acct = m.users.get(leg.borrower)
  if (!acct) return false
  const actx = aaveContext(ctx, frozen, m)
  const data = aaveAccountData(acct, actx)
  const r = liquidationCallAmounts({
    healthFactor: data.healthFactor,
    userTotalDebt: acct.debt[0].balance,
    debtToCover: leg.debtToCover,
    debtAssetPrice: actx.price(ctx.s.debt.symbol),
    debtAssetDecimals: ctx.s.debt.decimals,
    collateralPrice: actx.price(ctx.s.collateral.symbol),
    collateralDecimals: ctx.s.collateral.decimals,
    userCollateralBalance: acct.collateral[0].balance,
    liquidationBonusBps: m.liquidationBonusBps,
    liquidationProtocolFeeBps: m.liquidationProtocolFeeBps,
  })
  if (isCascade(ctx, m, { aave: acct })) ctx.m.cascades++
  acct.collateral[0].balance -= r.collateralAmount + r.protocolFee
  acct.debt[0].balance -= r.debtAmountNeeded
  const value = (r.collateralAmount * price36FromUsd(ctx.s, actx.price(ctx.s.collateral.symbol))) / ORACLE_PRICE_SCALE
  ctx.m.incentive += value > r.debtAmountNeeded ? value - r.debtAmountNeeded : 0n
  return true
}

// ───────────────────────────── the run ─────────────────────────────

/** Runs the three strategies on one scenario and reports their figures. */
export function runSimulation(s: Scenario): SimulationReport {
  const base = buildWorld(s)
  const speedBps = BigInt(Math.round(s.arbitrageSpeed * 10_000))
  const debtUsd1e8 = BigInt(Math.round(s.debt.priceUsd * 1e8))
  const worlds = { naive: cloneWorld(base), independent: cloneWorld(base), liqnet: cloneWorld(base) }
  const metrics: Record<StrategyName, Metrics> = {
    naive: { badDebtRealized: 0n, slippage: 0n, incentive: 0n, cascades: 0, liquidations: 0, auctions: 0, series: [] },
    independent: { badDebtRealized: 0n, slippage: 0n, incentive: 0n, cascades: 0, liquidations: 0, auctions: 0, series: [] },
    liqnet: { badDebtRealized: 0n, slippage: 0n, incentive: 0n, cascades: 0, liquidations: 0, auctions: 0, series: [] },
  }
  const inventory: Inventory = { amount: 0n }
  const shadow = base.pools.map((p) => ({ ...p }))
  const fairSeries: number[] = []
  const toUsd = (p36: bigint) => Number(usdFromPrice36(s, p36)) / 1e8
  let last: Ctx | undefined
  for (let step = 0; step < s.steps; step++) {
    const fairUsd = fairUsd1e8(s, step)
    const fair36 = price36FromUsd(s, fairUsd)
    for (const p of shadow) arbitrage(p, fair36, speedBps)
    fairSeries.push(Number(fairUsd) / 1e8)
    for (const name of STRATEGIES) {
      const w = worlds[name]
      for (const p of w.pools) arbitrage(p, fair36, speedBps)
      const ctx: Ctx = { s, step, fair36, fairUsd, debtUsd1e8, shadow, m: metrics[name] }
      if (name === 'naive') stepNaive(ctx, w)
      else if (name === 'independent') stepIndependent(ctx, w)
      else stepLiqnet(ctx, w, inventory)
      metrics[name].series.push(toUsd(aggregatePrice36(w.pools, -1)))
      last = ctx
    }
  }
  // liqnet: whatever inventory is left is swept into the pools now (split across them), and its cost counted.
  if (inventory.amount > 0n && last) {
    const w = worlds.liqnet
    const ctx: Ctx = { ...last, m: metrics.liqnet }
    const a = splitAcrossPools(inventory.amount, w.pools.map((p) => ({ reserveIn: p.reserve0, reserveOut: p.reserve1, cap: p.reserve0 })))
    a.forEach((x, i) => sell(ctx, w.pools[i], x))
    inventory.amount = 0n
  }
  const finalFair36 = last!.fair36
  const debtUnit = 10 ** s.debt.decimals
  const report = (name: StrategyName): StrategyReport => {
    const w = worlds[name]
    const m = metrics[name]
    // Bad debt: written off (Morpho) plus, for every open account, the debt its collateral no longer covers at the final fair price.
    let badDebt = m.badDebtRealized
    for (const mk of w.markets) {
      if (mk.protocol === 'morpho') {
        for (const p of mk.positions.values()) {
          if (p.borrowShares === 0n) continue
          const debt = toAssetsUp(p.borrowShares, mk.state.totalBorrowAssets, mk.state.totalBorrowShares)
          const value = (p.collateral * finalFair36) / ORACLE_PRICE_SCALE
          if (debt > value) badDebt += debt - value
        }
      } else {
        for (const a of mk.users.values()) {
          const value = (a.collateral[0].balance * finalFair36) / ORACLE_PRICE_SCALE
          if (a.debt[0].balance > value) badDebt += a.debt[0].balance - value
        }
      }
    }
    const totalLoss = badDebt + m.slippage
    const units = (x: bigint) => Number(x) / debtUnit
    const usd = (x: bigint) => units(x) * s.debt.priceUsd
    return {
      badDebt: units(badDebt),
      slippage: units(m.slippage),
      incentivePaid: units(m.incentive),
      cascades: m.cascades,
      totalLoss: units(totalLoss),
      liquidations: m.liquidations,
      auctions: m.auctions,
      units: { badDebt: badDebt.toString(), slippage: m.slippage.toString(), incentivePaid: m.incentive.toString(), totalLoss: totalLoss.toString() },
      usd: { badDebt: usd(badDebt), slippage: usd(m.slippage), incentivePaid: usd(m.incentive), totalLoss: usd(totalLoss) },
      finalPoolPricesUsd: w.pools.map((p) => ({ chainId: p.chainId, pool: p.pool, priceUsd: toUsd(poolPrice36(p)) })),
      priceSeriesUsd: m.series,
    }
  }
  return {
    scenario: s.name,
    description: s.description,
    steps: s.steps,
    debtAsset: s.debt.symbol,
    collateralAsset: s.collateral.symbol,
    fairPriceSeriesUsd: fairSeries,
    naive: report('naive'),
    independent: report('independent'),
    liqnet: report('liqnet'),
  }
}
