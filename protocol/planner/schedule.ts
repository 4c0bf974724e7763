/**
 * Scheduling a large sale across rounds along the Almgren–Chriss trajectory.
 *
 * Almgren, R. & Chriss, N. (2000), "Optimal execution of portfolio transactions", Journal of Risk 3(2), §3: with
 * linear temporary impact η, volatility σ and risk aversion λ, the mean–variance optimal holdings after k of N
 * periods of length τ are
 *
 *     x_k = X · sinh(κ(T − t_k)) / sinh(κT),    κ ≈ √(λσ²/η),  t_k = kτ,  T = Nτ,
 *
 * and the trades are n_k = x_{k−1} − x_k. As λ → 0 (κ → 0) the ratio tends to (N − k)/N: TWAP, equal slices.
 * Here τ is one round and the parameter is the dimensionless urgency κτ (WAD). The ratio is evaluated as
 * e^(−κk)·(1 − e^(−2κ(N−k))) / (1 − e^(−2κN)), which only needs e^(−y) ∈ (0, 1] (no overflow), in 1e36 precision.
 *
 * The number of rounds is the smallest N whose first (largest, the trajectory being front-loaded) trade fits the
 * per-round capacity, at most `maxRounds`.
 */
import { PRECISION, divUp, expNegScaled, powScaled } from './fixed.js'

/** The urgency below which the trajectory is computed as TWAP (κτ < 1e-9: the sinh ratio is (N − k)/N to 1e-18). */
const TWAP_BELOW_WAD = 10n ** 9n

/**
 * Trades n_1..n_N of the Almgren–Chriss trajectory selling `total` over `rounds` rounds (sum exactly `total`,
 * non-increasing for κ > 0, equal up to one unit for κ = 0).
 *
 * @param total base units, ≥ 0. @param rounds N ≥ 1. @param urgencyWad κτ, WAD, ≥ 0.
 */
export function almgrenChrissTrades(total: bigint, rounds: number, urgencyWad: bigint): bigint[] {
  const n = Math.max(1, rounds)
  const trades: bigint[] = []
  if (urgencyWad < TWAP_BELOW_WAD) {
    // TWAP: x_k = X·(N − k)/N, rounded up so that the trades are front-loaded by at most one unit.
    let prev = total
    for (let k = 1; k <= n; k++) {
      const x = divUp(total * BigInt(n - k), BigInt(n))
      trades.push(prev - x)
      prev = x
    }
    return trades
  }
  const q = expNegScaled(urgencyWad) // e^(−κ)
  const q2 = (q * q) / PRECISION // e^(−2κ)
  const denom = PRECISION - powScaled(q2, n) // 1 − e^(−2κN)
  // q2pow[j] = e^(−2κj) for j = 0..N
  const q2pow: bigint[] = [PRECISION]
  for (let j = 1; j <= n; j++) q2pow.push((q2pow[j - 1] * q2) / PRECISION)
  let qk = PRECISION
  let prev = total
  for (let k = 1; k <= n; k++) {
    qk = (qk * q) / PRECISION
    let x = k === n || denom === 0n ? 0n : (total * ((qk * (PRECISION - q2pow[n - k])) / PRECISION)) / denom
    if (x > prev) x = prev
    trades.push(prev - x)
    prev = x
  }
  return trades
}

/**
 * The trajectory selling `total` with the fewest rounds (≤ `maxRounds`) whose first trade is ≤ `capacity`.
 * When no N ≤ maxRounds fits, N = maxRounds (the caller then also caps the first trade at `capacity`).
 *
 * @param capacity most that may be sold in one round (per-round impact budget), base units, > 0.
 */
export function planTrajectory(total: bigint, capacity: bigint, urgencyWad: bigint, maxRounds: number): bigint[] {
  if (total <= 0n) return []
  if (capacity <= 0n) return almgrenChrissTrades(total, maxRounds, urgencyWad)
  if (total <= capacity) return [total]
  if (urgencyWad < TWAP_BELOW_WAD) {
    const need = divUp(total, capacity)
    const n = need > BigInt(maxRounds) ? maxRounds : Number(need)
    return almgrenChrissTrades(total, n, urgencyWad)
  }
  // The first trade X(1 − sinh(κ(N−1))/sinh(κN)) falls as N grows: binary search the smallest N that fits.
  let lo = 1
  let hi = maxRounds
  if (almgrenChrissFirst(total, hi, urgencyWad) > capacity) return almgrenChrissTrades(total, hi, urgencyWad)
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (almgrenChrissFirst(total, mid, urgencyWad) <= capacity) hi = mid
    else lo = mid + 1
  }
  return almgrenChrissTrades(total, lo, urgencyWad)
}

/** First trade of the N-round trajectory, n_1 = X − x_1. */
function almgrenChrissFirst(total: bigint, rounds: number, urgencyWad: bigint): bigint {
  if (rounds <= 1) return total
  const q = expNegScaled(urgencyWad)
  const q2 = (q * q) / PRECISION
  const denom = PRECISION - powScaled(q2, rounds)
  if (denom === 0n) return total
  const x1 = (total * ((q * (PRECISION - powScaled(q2, rounds - 1))) / PRECISION)) / denom
  return total - (x1 > total ? total : x1)
}
