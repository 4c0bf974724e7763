/**
 * Cascade awareness: where a market's oracle follows the pool prices (an on-chain TWAP or spot of the venues rather
 * than an external feed), the planner's own sales move that oracle, and accounts that were healthy may become
 * liquidatable. The oracle is modelled as moving with the aggregate marginal price of the pair's pools on the
 * market's chain, Σ reserveQuote / Σ reserveAsset (the price of one constant-product pool holding all their reserves):
 * oracle_after = oracle · P_after / P_before.
 *
 * The guard cuts a round's sale so that oracle_after stays at or above the highest liquidation price among the accounts
 * that remain healthy (including those this plan restores), with a margin of `cascadeGuardBps` when the oracle has it.
 */
import { amountOut, splitAcrossPools, type SplitPool } from './split.js'
import type { Hex } from './types.js'

/** A market whose oracle follows the pools of (asset, quote). Prices: Morpho 1e36, Aave base currency. */
export type FollowedMarket = {
  protocol: 'morpho' | 'aave'
  /** `morpho:<chain>:<id>` or `aave:<chain>:<pool>:<asset>`. */
  key: string
  chainId: number
  market: Hex
  asset: string
  quote: string
  /** Oracle price now. */
  oracle: bigint
  /** Highest liquidation price among accounts that stay healthy (0: none at risk). */
  threshold: bigint
}

/** Σ reserve of the quote side / Σ reserve of `asset`, as a fraction. */
export function aggregatePrice(
  pools: readonly { token0: string; reserve0: bigint; reserve1: bigint }[],
  asset: string,
): { num: bigint; den: bigint } {
  let num = 0n
  let den = 0n
  for (const p of pools) {
    if (p.token0 === asset) {
      den += p.reserve0
      num += p.reserve1
    } else {
      den += p.reserve1
      num += p.reserve0
    }
  }
  return { num, den }
}

/**
 * The largest amount ≤ `amount` whose split keeps every guarded oracle at or above its requirement (binary search:
 * the post-trade price falls monotonically with the amount sold). `subset` lists the split pools each oracle follows.
 */
export function guardMaxAmount(
  amount: bigint,
  split: readonly SplitPool[],
  guards: readonly { market: FollowedMarket; subset: number[] }[],
  cascadeGuardBps: bigint,
): bigint {
  const active = guards.filter((g) => g.market.threshold > 0n && g.subset.length > 0)
  if (active.length === 0 || amount === 0n) return amount
  const reqs = active.map((g) => {
    const withMargin = (g.market.threshold * (10_000n + cascadeGuardBps)) / 10_000n
    const req = g.market.oracle >= withMargin ? withMargin : g.market.threshold
    return req > g.market.oracle ? g.market.oracle : req
  })
  const ok = (s: bigint): boolean => {
    if (s === 0n) return true
    const a = splitAcrossPools(s, split, { refine: false })
    for (let k = 0; k < active.length; k++) {
      let bIn = 0n
      let bOut = 0n
      let aIn = 0n
      let aOut = 0n
      for (const j of active[k].subset) {
        const p = split[j]
        bIn += p.reserveIn
        bOut += p.reserveOut
        aIn += p.reserveIn + a[j]
        aOut += p.reserveOut - amountOut(a[j], p.reserveIn, p.reserveOut)
      }
      // oracle · (aOut/aIn) / (bOut/bIn) ≥ req
      if (active[k].market.oracle * aOut * bIn < reqs[k] * aIn * bOut) return false
    }
    return true
  }
  if (ok(amount)) return amount
  let lo = 0n
  let hi = amount
  while (hi - lo > 1n) {
    const mid = (lo + hi) >> 1n
    if (ok(mid)) lo = mid
    else hi = mid
  }
  return lo
}
