/**
 * Venue split: sell one amount of an asset across several constant-product pools so that the total output is the
 * largest, i.e. so that the pools' post-trade marginal prices come out equal (the water-filling condition of a
 * concave separable maximization), each pool within its per-round cap.
 *
 * Closed form (Uniswap V2 whitepaper, §2 and §3.2.1: out(a) = 997·a·y / (1000·x + 997·a)): the marginal output of pool
 * i after selling a_i is 997·1000·x_i·y_i / (1000·x_i + 997·a_i)². Equal marginals over the active set S give
 * 1000·x_i + 997·a_i = t·√(x_i·y_i) with one t, hence
 *
 *     t = (997·A + 1000·Σ_S x_j) / Σ_S √(x_j·y_j),    a_i = (t·√(x_i·y_i) − 1000·x_i) / 997.
 *
 * Pool i belongs to S iff its marginal price at a = 0 beats the common one: 1000·x_i·K_S < (997·A + 1000·X_S)·√(x_i·y_i).
 * Pools whose a_i exceeds their cap are fixed at the cap and the rest re-solved (the common marginal then falls, so
 * they stay capped). The integer result is then refined: the rounding residual goes unit by unit to the pool with the
 * best marginal, then pairwise moves between pools are kept while they raise the exact `getAmountOut` total.
 */
import { sqrt } from '../risk/math.js'
import { getAmountOut } from '../risk/uniswap-v2.js'

/** A pool as the split sees it: reserves in the direction of the sale and the most it may take this round. */
export type SplitPool = {
  /** Reserve of the asset sold, base units, > 0. */
  reserveIn: bigint
  /** Reserve of the asset bought, base units, > 0. */
  reserveOut: bigint
  /** Most this pool may take this round (e.g. `maxAmountInForImpact`), base units, ≥ 0. */
  cap: bigint
}

/** Exact Uniswap V2 output, 0 for a zero input (mirrors `UniswapV2Library.getAmountOut`). */
export function amountOut(amountIn: bigint, reserveIn: bigint, reserveOut: bigint): bigint {
  return amountIn === 0n ? 0n : getAmountOut(amountIn, reserveIn, reserveOut)
}

/** Total output of an allocation. */
export function totalOut(pools: readonly SplitPool[], amounts: readonly bigint[]): bigint {
  let out = 0n
  for (let i = 0; i < pools.length; i++) out += amountOut(amounts[i], pools[i].reserveIn, pools[i].reserveOut)
  return out
}

const SCALE_SHIFT = 128n

/**
 * Splits `amount` across `pools` (same order in the result). Sells min(amount, Σ caps) in total.
 * Deterministic: ties are broken by the pools' order, which callers make canonical.
 *
 * @param amount base units of the asset sold, ≥ 0.
 * @param options.refine run the integer refinement (default true; searches that only need the prices turn it off).
 * @returns per-pool amounts in, each ≤ its cap, summing to min(amount, Σ caps).
 */
export function splitAcrossPools(amount: bigint, pools: readonly SplitPool[], options: { refine?: boolean } = {}): bigint[] {
  const n = pools.length
  const result: bigint[] = new Array(n).fill(0n)
  if (n === 0 || amount <= 0n) return result
  let capTotal = 0n
  for (const p of pools) capTotal += p.cap
  if (amount >= capTotal) return pools.map((p) => p.cap)

  // √(x·y) scaled by 2^64 so that small pools keep their precision.
  const k = pools.map((p) => sqrt((p.reserveIn * p.reserveOut) << SCALE_SHIFT))
  // Candidates by marginal price y/x at a = 0, best first; ties by input order.
  const order = pools
    .map((_, i) => i)
    .filter((i) => pools[i].cap > 0n)
    .sort((i, j) => {
      const l = pools[i].reserveOut * pools[j].reserveIn
      const r = pools[j].reserveOut * pools[i].reserveIn
      return l > r ? -1 : l < r ? 1 : i - j
    })

  const capped = new Set<number>()
  let remaining = amount
  for (;;) {
    // Active set: the best-priced pools not capped, grown while the next pool's marginal price beats the common one.
    const free = order.filter((i) => !capped.has(i))
    const active: number[] = []
    let X = 0n
    let K = 0n
    for (const i of free) {
      if (active.length > 0 && !(1000n * pools[i].reserveIn * K < (997n * remaining + 1000n * X) * k[i])) break
      active.push(i)
      X += pools[i].reserveIn
      K += k[i]
    }
    if (active.length === 0) break
    const numerator = 997n * remaining + 1000n * X
    let violated = false
    const trial = new Map<number, bigint>()
    for (const i of active) {
      const scaled = (numerator * k[i]) / K - 1000n * pools[i].reserveIn
      const a = scaled > 0n ? scaled / 997n : 0n
      trial.set(i, a)
      if (a > pools[i].cap) violated = true
    }
    if (!violated) {
      for (const [i, a] of trial) result[i] = a
      break
    }
    for (const [i, a] of trial) {
      if (a > pools[i].cap) {
        capped.add(i)
        result[i] = pools[i].cap
        remaining -= pools[i].cap
      }
    }
    if (remaining <= 0n) break
  }
  if (options.refine !== false) refine(amount, pools, result)
  return result
}

/** Marginal output of pool i at allocation a, as a fraction num/den (den > 0), exact. */
function marginal(p: SplitPool, a: bigint): [bigint, bigint] {
  const d = 1000n * p.reserveIn + 997n * a
  return [p.reserveIn * p.reserveOut, d * d]
}

/** Integer refinement: place the rounding residual, then keep improving pairwise moves on the exact outputs. */
function refine(amount: bigint, pools: readonly SplitPool[], a: bigint[]): void {
  const n = pools.length
  let placed = 0n
  for (const x of a) placed += x
  let residual = amount - placed
  // 1. Residual units to the best marginal pool with room (the residual is a few units per pool).
  while (residual > 0n) {
    let best = -1
    for (let i = 0; i < n; i++) {
      if (a[i] >= pools[i].cap) continue
      if (best < 0) {
        best = i
        continue
      }
      const [bn, bd] = marginal(pools[best], a[best])
      const [cn, cd] = marginal(pools[i], a[i])
      if (cn * bd > bn * cd) best = i
    }
    if (best < 0) break
    const room = pools[best].cap - a[best]
    const step = residual < room ? (residual > 64n ? residual / 2n : 1n) : room
    a[best] += step
    residual -= step
  }
  // 2. Pairwise moves on exact outputs, steps 16, 4, 1, over the pools that hold something.
  const outs = a.map((x, i) => amountOut(x, pools[i].reserveIn, pools[i].reserveOut))
  for (const step of [16n, 4n, 1n]) {
    let improved = true
    let passes = 0
    while (improved && passes < 4) {
      improved = false
      passes++
      for (let i = 0; i < n; i++) {
        if (a[i] < step) continue
        for (let j = 0; j < n; j++) {
          if (i === j || a[j] + step > pools[j].cap) continue
          const oi = amountOut(a[i] - step, pools[i].reserveIn, pools[i].reserveOut)
          const oj = amountOut(a[j] + step, pools[j].reserveIn, pools[j].reserveOut)
          if (oi + oj > outs[i] + outs[j]) {
            a[i] -= step
            a[j] += step
            outs[i] = oi
            outs[j] = oj
            improved = true
            if (a[i] < step) break
          }
        }
      }
    }
  }
}
