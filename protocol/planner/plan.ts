/**
 * `plan(inputs, params) → Plan`: the deterministic liquidation planner.
 *
 * Steps (each cites its source in the module it lives in):
 * 1. Validate and canonicalize (`validate.ts`): sorted inputs, no dependence on their order.
 * 2. Evaluate every account at the oracle prices; the liquidatable ones, lowest health factor first (ties by
 *    chain, protocol, market, borrower), become liquidation legs up to `maxLegs` (`liquidation.ts`: Morpho Blue
 *    `liquidate`, Aave V3 `LiquidationLogic`), partial to the target health factor where the protocol allows.
 * 3. Group the collateral to sell (seized now, plus inventory held from earlier rounds) by (asset, quote asset)
 *    and sell each group jointly:
 *    - the round's amount follows the Almgren–Chriss trajectory (`schedule.ts`) within the per-round capacity
 *      Σ maxAmountInForImpact(pool, maxImpactBpsPerVenuePerRound);
 *    - cascade guard: where a market's oracle follows these pools, the amount is cut so that the post-trade oracle
 *      stays above the highest liquidation price of the accounts that are healthy (`cascade.ts`);
 *    - venue split with equal post-trade marginal prices (`split.ts`);
 *    - a leg whose AMM execution price falls more than `maxSlippageBps` below its oracle price goes to a Dutch
 *      auction (`auction.ts`); the rest of the collateral is held and scheduled for later rounds.
 * 4. Replay the legs in sequence on the pools for the expected outputs and minAmountOut, recompute the prices of
 *    the pools moved and of the pool-following oracles, and re-evaluate the accounts of those markets: any account
 *    the plan's own sales would make liquidatable is reported as deferred ('cascade').
 *
 * Pure: no I/O, no clock, no randomness, bigint only. Prices: Morpho 1e36-scaled, Aave base currency (USD 1e8),
 * reference and auction prices 1e36-scaled quote per asset.
 *
 * @throws PlanInputError naming the offending input or parameter (zero reserve, position with no price,
 *   parameter out of range, …); no plan is produced.
 */
import { MAX_UINT256, WAD } from '../risk/math.js'
import {
  ORACLE_PRICE_SCALE,
  borrowedAssets,
  healthFactor as morphoHealthFactor,
  healthFactorOf,
  liquidationIncentiveFactor,
  maxBorrow,
  type MorphoMarket,
  type MorphoPosition,
} from '../risk/morpho.js'
import { maxAmountInForImpact } from '../risk/uniswap-v2.js'
import { auctionTerms, NO_AUCTION } from './auction.js'
import { aggregatePrice, guardMaxAmount, type FollowedMarket } from './cascade.js'
import { cmpStr } from './fixed.js'
import {
  aaveAccountData,
  aaveLiquidationPrice,
  morphoLiquidationPrice,
  morphoMarketState,
  planAaveLiquidation,
  planMorphoLiquidation,
  type AaveAccount,
  type AaveContext,
  type LiquidationResult,
} from './liquidation.js'
import { amountOut, splitAcrossPools, type SplitPool } from './split.js'
import { planTrajectory } from './schedule.js'
import type { DeferredPosition, Hex, Leg, OracleAfter, Plan, PlanInputs, PlanParams, ScheduledSale, VenueFill } from './types.js'
import { aaveMarketKey, aavePriceKey, canonicalize, morphoMarketKey, pad } from './validate.js'

/** Version of the `Plan` structure (part of the hashed encoding). */
export const PLAN_VERSION = 1

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000' as Hex
const BPS = 10_000n

type Candidate = {
  /** Tie-break order: protocol ('aave' before 'morpho'), market rank, borrower. */
  rank: number
  protocol: 'morpho' | 'aave'
  chainId: number
  market: Hex
  borrower: Hex
  healthFactor: bigint
  /** index into canonical morphoPositions / aaveUsers */
  index: number
}

type SaleItem = {
  /** index into legs */
  leg: number
  chainId: number
  asset: string
  quote: string
  amount: bigint
  refPrice: bigint
}

type PoolState = { chainId: number; pool: Hex; token0: string; token1: string; reserve0: bigint; reserve1: bigint }

/**
 * Builds the plan of one round. See the module documentation for the steps and `PlanParams` for the parameters.
 *
 * @example
 * const p = plan(inputs, { ...defaultPlanParams, deadlineBase: 1_700_000_000n })
 * const digest = planHash(p)
 */
export function plan(inputs: PlanInputs, params: PlanParams): Plan {
  const c = canonicalize(inputs, params)
  const target = params.targetHealthFactor
  const decimals = (s: string): number => c.assets.get(s)!.decimals

  // ── 1. Evaluate every account ──
  const morphoStates = new Map<string, MorphoMarket>()
  for (const [k, m] of c.morphoMarkets) morphoStates.set(k, morphoMarketState(m.totalBorrowAssets, m.totalBorrowShares, m.totalSupplyAssets))
  const units = new Map<string, bigint>()
  for (const [s, a] of c.assets) units.set(s, 10n ** BigInt(a.decimals))
  const aaveCtx = new Map<string, AaveContext>()
  for (const [k, m] of c.aaveMarkets) {
    const prices = new Map<string, bigint>()
    for (const asset of m.reserves.keys()) prices.set(asset, c.aavePrices.get(aavePriceKey(m.chainId, m.pool, asset)) ?? 0n)
    aaveCtx.set(k, { reserves: m.reserves, price: (asset) => prices.get(asset)!, decimals, unit: (asset) => units.get(asset)! })
  }
  const aaveAccounts: AaveAccount[] = c.aaveUsers.map((u) => ({ collateral: u.collateral, debt: u.debt }))

  const morphoByMarket = new Map<string, number[]>()
  c.morphoPositions.forEach((p, i) => {
    const mk = p.marketKey
    const list = morphoByMarket.get(mk)
    if (list) list.push(i)
    else morphoByMarket.set(mk, [i])
  })
  const aaveByMarket = new Map<string, number[]>()
  c.aaveUsers.forEach((u, i) => {
    const ak = u.marketKey
    const list = aaveByMarket.get(ak)
    if (list) list.push(i)
    else aaveByMarket.set(ak, [i])
  })
  const candidates: Candidate[] = []
  const morphoHealthy: boolean[] = []
  // Per market, once: the liquidation incentive factor (the LLTV was checked by canonicalize).
  const morphoLif = new Map<string, bigint>()
  for (const [k, m] of c.morphoMarkets) morphoLif.set(k, liquidationIncentiveFactor(m.lltv))
  // Per position, once: its MorphoPosition, and maxBorrow (collateral·price·LLTV, independent of the market state).
  const morphoPos: MorphoPosition[] = new Array(c.morphoPositions.length)
  const morphoMaxBorrow: bigint[] = new Array(c.morphoPositions.length)
  for (let index = 0; index < c.morphoPositions.length; index++) {
    const p = c.morphoPositions[index]
    const pos = toPosition(p)
    morphoPos[index] = pos
    if (p.borrowShares === 0n) {
      morphoHealthy.push(true)
      continue
    }
    // healthFactor of protocol/risk on the canonical (checked) inputs: maxBorrow.wDivDown(borrowed).
    const mk = p.marketKey
    const mb = maxBorrow(pos, c.morphoPrices.get(mk)!, c.morphoMarkets.get(mk)!.lltv)
    morphoMaxBorrow[index] = mb
    const hf = healthFactorOf(mb, borrowedAssets(pos, morphoStates.get(mk)!))
    morphoHealthy.push(hf >= WAD)
    if (hf < WAD) {
      candidates.push({ rank: p.rank, protocol: 'morpho', chainId: p.chainId, market: p.marketId, borrower: p.borrower, healthFactor: hf, index })
    }
  }
  const aaveHealthy: boolean[] = []
  const aaveData: ReturnType<typeof aaveAccountData>[] = []
  c.aaveUsers.forEach((u, index) => {
    const ak = u.marketKey
    const data = aaveAccountData(aaveAccounts[index], aaveCtx.get(ak)!)
    aaveData.push(data)
    aaveHealthy.push(!(data.totalDebtBase > 0n && data.healthFactor < WAD))
    if (data.totalDebtBase > 0n && data.healthFactor < WAD) {
      candidates.push({ rank: u.rank, protocol: 'aave', chainId: u.chainId, market: u.pool, borrower: u.user, healthFactor: data.healthFactor, index })
    }
  })
  candidates.sort((a, b) =>
    a.healthFactor < b.healthFactor
      ? -1
      : a.healthFactor > b.healthFactor
        ? 1
        : cmpStr(a.protocol, b.protocol) || a.rank - b.rank || cmpStr(a.borrower, b.borrower),
  )

  // ── 2. Liquidation legs, in priority order (market states threaded through) ──
  const legs: Leg[] = []
  const items: SaleItem[] = []
  const deferred: DeferredPosition[] = []
  const morphoAfter = new Map<number, MorphoPosition>() // position index → state after its leg
  const aaveAfter = new Map<number, AaveAccount>()
  for (const cand of candidates) {
    if (legs.length >= params.maxLegs) {
      deferred.push({ chainId: cand.chainId, protocol: cand.protocol, market: cand.market, borrower: cand.borrower, reason: 'maxLegs', healthFactor: cand.healthFactor })
      continue
    }
    let res: LiquidationResult
    let collateralAsset: string
    let debtAsset: string
    let refPrice: bigint
    if (cand.protocol === 'morpho') {
      const p = c.morphoPositions[cand.index]
      const mk = p.marketKey
      const m = c.morphoMarkets.get(mk)!
      const price = c.morphoPrices.get(mk)!
      if (p.collateral === 0n) {
        deferred.push({ chainId: cand.chainId, protocol: 'morpho', market: cand.market, borrower: cand.borrower, reason: 'noCollateral', healthFactor: cand.healthFactor })
        continue
      }
      const planned = planMorphoLiquidation(morphoPos[cand.index], morphoStates.get(mk)!, price, m.lltv, target, {
        maxBorrow: morphoMaxBorrow[cand.index],
        lif: morphoLif.get(mk)!,
      })
      if (!planned) continue
      morphoStates.set(mk, planned.market)
      morphoAfter.set(cand.index, planned.position)
      res = planned.result
      collateralAsset = m.collateralAsset
      debtAsset = m.loanAsset
      refPrice = price
    } else {
      const u = c.aaveUsers[cand.index]
      const planned = planAaveLiquidation(aaveAccounts[cand.index], aaveCtx.get(u.marketKey)!, target, aaveData[cand.index])
      if (!planned) {
        deferred.push({ chainId: cand.chainId, protocol: 'aave', market: cand.market, borrower: cand.borrower, reason: 'noCollateral', healthFactor: cand.healthFactor })
        continue
      }
      aaveAfter.set(cand.index, planned.account)
      res = planned.result
      collateralAsset = planned.collateralAsset
      debtAsset = planned.debtAsset
      refPrice = planned.refPrice
    }
    const leg: Leg = {
      seq: legs.length,
      kind: 'liquidate',
      chainId: cand.chainId,
      protocol: cand.protocol,
      market: cand.market,
      borrower: cand.borrower,
      collateralAsset,
      debtAsset,
      mode: res.mode,
      repaidShares: res.repaidShares,
      repaidAssets: res.repaidAssets,
      debtToCover: res.debtToCover,
      seizedAssets: res.seizedAssets,
      badDebtAssets: res.badDebtAssets,
      incentive: res.incentive,
      outcome: res.outcome,
      healthFactorBefore: res.healthFactorBefore,
      healthFactorAfter: res.healthFactorAfter,
      refPrice,
      execution: 'hold',
      venues: [],
      auction: NO_AUCTION,
      heldAmount: res.seizedAssets,
      deadline: params.deadlineBase + params.legTtlSeconds,
    }
    legs.push(leg)
    if (res.seizedAssets > 0n) items.push({ leg: leg.seq, chainId: cand.chainId, asset: collateralAsset, quote: debtAsset, amount: res.seizedAssets, refPrice })
  }
  // Inventory sales, after the liquidations, while legs remain.
  for (const inv of c.inventory) {
    if (inv.amount === 0n || legs.length >= params.maxLegs) continue
    const leg: Leg = {
      seq: legs.length,
      kind: 'sell',
      chainId: inv.chainId,
      protocol: 'inventory',
      market: '0x',
      borrower: ZERO_ADDRESS,
      collateralAsset: inv.asset,
      debtAsset: inv.quoteAsset,
      mode: 'none',
      repaidShares: 0n,
      repaidAssets: 0n,
      debtToCover: 0n,
      seizedAssets: inv.amount,
      badDebtAssets: 0n,
      incentive: 0n,
      outcome: 'sale',
      healthFactorBefore: MAX_UINT256,
      healthFactorAfter: MAX_UINT256,
      refPrice: inv.refPrice,
      execution: 'hold',
      venues: [],
      auction: NO_AUCTION,
      heldAmount: inv.amount,
      deadline: params.deadlineBase + params.legTtlSeconds,
    }
    legs.push(leg)
    items.push({ leg: leg.seq, chainId: inv.chainId, asset: inv.asset, quote: inv.quoteAsset, amount: inv.amount, refPrice: inv.refPrice })
  }

  // ── Pool-following markets: oracle, pair, and the highest liquidation price of the accounts that stay healthy ──
  const followed: FollowedMarket[] = []
  for (const [fk, rule] of [...c.follows].sort((a, b) => cmpStr(a[0], b[0]))) {
    if (rule.protocol === 'morpho') {
      const mk = fk.slice('morpho:'.length)
      const m = c.morphoMarkets.get(mk)!
      const price = c.morphoPrices.get(mk)
      if (price === undefined) continue
      let threshold = 0n
      const state = morphoStates.get(mk)!
      for (const i of morphoByMarket.get(mk) ?? []) {
        const p = c.morphoPositions[i]
        const after = morphoAfter.get(i)
        const pos = after ?? (morphoHealthy[i] ? toPosition(p) : undefined)
        if (!pos || pos.borrowShares === 0n) continue
        if (after && morphoHealthFactor(after, state, price, m.lltv) < WAD) continue
        const lp = morphoLiquidationPrice(pos, state, m.lltv)
        if (lp > threshold) threshold = lp
      }
      followed.push({ protocol: 'morpho', key: fk, chainId: m.chainId, market: m.id, asset: m.collateralAsset, quote: m.loanAsset, oracle: price, threshold })
    } else {
      const ak = aaveMarketKey(rule.chainId, rule.pool)
      const ctx = aaveCtx.get(ak)!
      const price = c.aavePrices.get(aavePriceKey(rule.chainId, rule.pool, rule.asset))
      if (price === undefined) continue
      let threshold = 0n
      for (const i of aaveByMarket.get(ak) ?? []) {
        const after = aaveAfter.get(i)
        const acct = after ?? (aaveHealthy[i] ? aaveAccounts[i] : undefined)
        if (!acct) continue
        if (after && aaveAccountData(after, ctx).healthFactor < WAD) continue
        const lp = aaveLiquidationPrice(acct, ctx, rule.asset)
        if (lp > threshold) threshold = lp
      }
      followed.push({ protocol: 'aave', key: fk, chainId: rule.chainId, market: rule.pool.toLowerCase() as Hex, asset: rule.asset, quote: rule.quoteAsset, oracle: price, threshold })
    }
  }

  // ── 3. Sell each (asset, quote) group jointly ──
  const pools: PoolState[] = c.venues.map((v) => ({ ...v }))
  const poolDirection = new Map<number, string>() // pool index → asset sold into it this round
  // Groups keyed by (chain or 0, asset, quote); few groups, so the key is built once per distinct triple.
  const groups = new Map<string, SaleItem[]>()
  const groupOf = new Map<number, Map<string, Map<string, SaleItem[]>>>()
  for (const it of items) {
    const chain = params.crossChainVenues ? 0 : it.chainId
    let byAsset = groupOf.get(chain)
    if (!byAsset) groupOf.set(chain, (byAsset = new Map()))
    let byQuote = byAsset.get(it.asset)
    if (!byQuote) byAsset.set(it.asset, (byQuote = new Map()))
    let list = byQuote.get(it.quote)
    if (!list) {
      byQuote.set(it.quote, (list = []))
      groups.set(`${pad(chain)}:${it.asset}:${it.quote}`, list)
    }
    list.push(it)
  }
  const schedule: ScheduledSale[] = []
  const fillsByLeg: ({ pool: number; amountIn: bigint }[] | undefined)[] = new Array(legs.length)
  for (const gk of [...groups.keys()].sort(cmpStr)) {
    const groupItems = groups.get(gk)!
    const { asset, quote } = groupItems[0]
    const groupChain = params.crossChainVenues ? 0 : groupItems[0].chainId
    // Pools of the pair (not already used in the other direction this round), canonical order.
    const poolIdx: number[] = []
    pools.forEach((p, i) => {
      const pair = (p.token0 === asset && p.token1 === quote) || (p.token1 === asset && p.token0 === quote)
      if (!pair || (groupChain !== 0 && p.chainId !== groupChain)) return
      const dir = poolDirection.get(i)
      if (dir !== undefined && dir !== asset) return
      poolIdx.push(i)
    })
    const split: SplitPool[] = poolIdx.map((i) => {
      const p = pools[i]
      const [reserveIn, reserveOut] = p.token0 === asset ? [p.reserve0, p.reserve1] : [p.reserve1, p.reserve0]
      return { reserveIn, reserveOut, cap: maxAmountInForImpact(reserveIn, reserveOut, params.maxImpactBpsPerVenuePerRound) }
    })
    let capacity = 0n
    for (const s of split) capacity += s.cap
    const relevant = followed.filter((f) => f.asset === asset && f.quote === quote && (groupChain === 0 || f.chainId === groupChain))
    const subsetOf = (f: FollowedMarket): number[] => {
      const same = poolIdx.map((_, j) => j).filter((j) => pools[poolIdx[j]].chainId === f.chainId)
      return same.length > 0 ? same : poolIdx.map((_, j) => j)
    }
    const guards = relevant.map((f) => ({ market: f, subset: subsetOf(f) }))

    let amm = groupItems.slice()
    const auctioned: SaleItem[] = []
    let sold = 0n
    let amounts: bigint[] = split.map(() => 0n)
    if (capacity === 0n) {
      auctioned.push(...amm)
      amm = []
    } else {
      for (let iter = 0; iter <= groupItems.length; iter++) {
        let total = 0n
        for (const it of amm) total += it.amount
        if (total === 0n) break
        const trajectory = planTrajectory(total, capacity, params.urgencyWad, params.maxScheduleRounds)
        let s = trajectory[0] < capacity ? trajectory[0] : capacity
        s = guardMaxAmount(s, split, guards, params.cascadeGuardBps)
        if (s === 0n) {
          sold = 0n
          amounts = split.map(() => 0n)
          break
        }
        amounts = splitAcrossPools(s, split)
        sold = 0n
        let out = 0n
        amounts.forEach((a, j) => {
          sold += a
          out += amountOut(a, split[j].reserveIn, split[j].reserveOut)
        })
        // Average AMM execution price, 1e36-scaled; items it leaves more than maxSlippageBps below their oracle go to auction.
        const avg = (out * ORACLE_PRICE_SCALE) / sold
        const failing = amm.filter((it) => avg * BPS < it.refPrice * (BPS - params.maxSlippageBps))
        if (failing.length === 0) break
        auctioned.push(...failing)
        const failed = new Set(failing)
        amm = amm.filter((it) => !failed.has(it))
        sold = 0n
        amounts = split.map(() => 0n)
      }
    }
    for (let j = 0; j < poolIdx.length; j++) if (amounts[j] > 0n) poolDirection.set(poolIdx[j], asset)

    // Pro-rata share of the round's sale per item, then a stream mapping of items onto pools (exact in both sums).
    let ammTotal = 0n
    for (const it of amm) ammTotal += it.amount
    const shares = amm.map((it) => (ammTotal === 0n ? 0n : (sold * it.amount) / ammTotal))
    let rest = sold
    for (const s of shares) rest -= s
    for (let i = 0; rest > 0n && i < shares.length; i++) {
      if (shares[i] < amm[i].amount) {
        shares[i] += 1n
        rest -= 1n
      }
    }
    let pj = 0
    let poolLeft = amounts[0] ?? 0n
    amm.forEach((it, i) => {
      let need = shares[i]
      const fills: { pool: number; amountIn: bigint }[] = []
      while (need > 0n && pj < amounts.length) {
        if (poolLeft === 0n) {
          pj++
          poolLeft = amounts[pj] ?? 0n
          continue
        }
        const take = need < poolLeft ? need : poolLeft
        fills.push({ pool: poolIdx[pj], amountIn: take })
        need -= take
        poolLeft -= take
      }
      fillsByLeg[it.leg] = fills
      legs[it.leg].heldAmount = it.amount - shares[i]
    })
    for (const it of auctioned) {
      const leg = legs[it.leg]
      leg.execution = 'auction'
      leg.heldAmount = 0n
      leg.auction = auctionTerms(it.amount, it.refPrice, params)
      leg.deadline = leg.auction.endTime
    }
    let held = 0n
    for (const it of amm) held += legs[it.leg].heldAmount
    planTrajectory(held, capacity, params.urgencyWad, params.maxScheduleRounds).forEach((amount, r) => {
      schedule.push({ round: r + 1, chainId: groupChain, asset, quoteAsset: quote, amount })
    })
  }

  // ── 4. Replay in sequence: expected outputs, minAmountOut, pools after ──
  for (const leg of legs) {
    const fills = fillsByLeg[leg.seq]
    if (!fills || fills.length === 0) continue
    const venues: VenueFill[] = []
    for (const f of fills) {
      const p = pools[f.pool]
      const in0 = p.token0 === leg.collateralAsset
      const out = in0 ? amountOut(f.amountIn, p.reserve0, p.reserve1) : amountOut(f.amountIn, p.reserve1, p.reserve0)
      if (in0) {
        p.reserve0 += f.amountIn
        p.reserve1 -= out
      } else {
        p.reserve1 += f.amountIn
        p.reserve0 -= out
      }
      venues.push({ chainId: p.chainId, pool: p.pool, amountIn: f.amountIn, expectedAmountOut: out, minAmountOut: (out * (BPS - params.minOutToleranceBps)) / BPS })
    }
    leg.venues = venues
    leg.execution = 'amm'
  }

  // Oracles after, and the accounts the plan's own sales would make liquidatable (deferred as 'cascade').
  const oraclesAfter: OracleAfter[] = []
  const morphoInLeg = new Uint8Array(c.morphoPositions.length)
  const aaveInLeg = new Uint8Array(c.aaveUsers.length)
  for (const cand of candidates) (cand.protocol === 'morpho' ? morphoInLeg : aaveInLeg)[cand.index] = 1
  for (const f of followed) {
    const pairPools: number[] = []
    pools.forEach((p, i) => {
      const pair = (p.token0 === f.asset && p.token1 === f.quote) || (p.token1 === f.asset && p.token0 === f.quote)
      if (pair) pairPools.push(i)
    })
    const onChain = pairPools.filter((i) => pools[i].chainId === f.chainId)
    const subset = onChain.length > 0 ? onChain : pairPools
    const before = aggregatePrice(subset.map((i) => c.venues[i]), f.asset)
    const after = aggregatePrice(subset.map((i) => pools[i]), f.asset)
    const price = before.num === 0n ? f.oracle : (f.oracle * after.num * before.den) / (after.den * before.num)
    oraclesAfter.push({ protocol: f.protocol, chainId: f.chainId, market: f.market, asset: f.asset, price })
    if (price >= f.oracle) continue
    if (f.protocol === 'morpho') {
      const mk = morphoMarketKey(f.chainId, f.market)
      const m = c.morphoMarkets.get(mk)!
      for (const i of morphoByMarket.get(mk) ?? []) {
        const p = c.morphoPositions[i]
        if (!morphoHealthy[i] || p.borrowShares === 0n) continue
        if (morphoInLeg[i]) continue
        const hf = morphoHealthFactor(toPosition(p), morphoStates.get(mk)!, price, m.lltv)
        if (hf < WAD) deferred.push({ chainId: p.chainId, protocol: 'morpho', market: p.marketId, borrower: p.borrower, reason: 'cascade', healthFactor: hf })
      }
    } else {
      const ak = aaveMarketKey(f.chainId, f.market)
      const base = aaveCtx.get(ak)!
      const ctx: AaveContext = { ...base, price: (a) => (a === f.asset ? price : base.price(a)) }
      for (const i of aaveByMarket.get(ak) ?? []) {
        const u = c.aaveUsers[i]
        if (!aaveHealthy[i]) continue
        if (aaveInLeg[i]) continue
        const data = aaveAccountData(aaveAccounts[i], ctx)
        if (data.totalDebtBase > 0n && data.healthFactor < WAD) {
          deferred.push({ chainId: u.chainId, protocol: 'aave', market: u.pool, borrower: u.user, reason: 'cascade', healthFactor: data.healthFactor })
        }
      }
    }
  }

  deferred.sort((a, b) =>
    cmpStr(`${a.reason}:${a.protocol}:${pad(a.chainId)}:${a.market}:${a.borrower}`, `${b.reason}:${b.protocol}:${pad(b.chainId)}:${b.market}:${b.borrower}`),
  )
  schedule.sort((a, b) => a.round - b.round || a.chainId - b.chainId || cmpStr(a.asset, b.asset) || cmpStr(a.quoteAsset, b.quoteAsset))
  return {
    version: PLAN_VERSION,
    legs,
    schedule,
    deferred,
    poolsAfter: pools.map((p) => ({ chainId: p.chainId, pool: p.pool, reserve0: p.reserve0, reserve1: p.reserve1 })),
    oraclesAfter,
  }
}

function toPosition(p: { borrowShares: bigint; collateral: bigint }): MorphoPosition {
  return { supplyShares: 0n, borrowShares: p.borrowShares, collateral: p.collateral }
}
