/**
 * Risk figures of the feed (informational, not protocol data: floating point is fine here, nothing
 * of this is hashed into a plan or signed as a snapshot).
 *
 * Distance to liquidation. A position's health factor is linear in its collateral price (Morpho
 * Blue: HF = collateral · price · LLTV / borrowed; Aave V3: Σ collateral_i · price_i · LT_i / debt
 * with every collateral moving together and the debt held fixed), so a relative collateral price
 * move d scales it to HF · (1 − d). The move that makes the account liquidatable (HF < 1) is
 *
 *     d = 1 − 1/HF              (0 when HF ≤ 1: already liquidatable; 1 without debt)
 *
 * computed in integer basis points: floor((HF − 1e18) · 10_000 / HF).
 *
 * Volatility estimator: close-to-close realized volatility of the collateral price, zero-mean and
 * time-normalised for irregular sampling (prices are recorded per block):
 *
 *     r_i = ln(p_i / p_{i−1}),   σ² = Σ r_i² / Σ Δt_i    (Δt in years of 365.25 days)
 *
 * over the last `window` points; σ is annualised. Fewer than `minSamples` returns → no estimate.
 *
 * Probability model: the log collateral price is a driftless Brownian motion with volatility σ
 * (a lognormal price; zero drift of ln p). By the reflection principle the probability that the
 * price touches (1 − d)·p₀ at any time within the horizon T (years) is the first-passage probability
 *
 *     P(min_{t ≤ T} p_t ≤ (1 − d) p₀) = 2 · Φ( ln(1 − d) / (σ √T) )
 *
 * with Φ the standard normal CDF; P = 1 when d = 0 and P = 0 when d = 1 (no debt).
 */

const WAD = 10n ** 18n
const MAX_UINT256 = (1n << 256n) - 1n
export const SECONDS_PER_YEAR = 365.25 * 86_400

/** Distance to liquidation in bps (0..10_000) of a WAD health factor. */
export function distanceToLiquidationBps(healthFactorWad: bigint): number {
  if (healthFactorWad >= MAX_UINT256) return 10_000
  if (healthFactorWad <= WAD) return 0
  return Number(((healthFactorWad - WAD) * 10_000n) / healthFactorWad)
}

/** A price observation: block, time (ms since the Unix epoch) and price (any fixed scale, > 0). */
export type PriceSample = { blockNumber: bigint; timestamp: number; price: bigint }

export type VolatilityEstimate = {
  /** Annualised σ. */
  sigma: number
  /** Number of log returns used. */
  samples: number
  /** Time spanned, seconds. */
  spanSeconds: number
}

/**
 * Realized volatility (see the module comment) of samples in block order (oldest first).
 * Returns `undefined` with fewer than `minSamples` returns or no elapsed time.
 */
export function realizedVolatility(points: readonly PriceSample[], minSamples = 8): VolatilityEstimate | undefined {
  let sumSq = 0
  let samples = 0
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1].price
    const b = points[i].price
    if (a <= 0n || b <= 0n) continue
    const r = Math.log(Number(b) / Number(a))
    sumSq += r * r
    samples++
  }
  if (points.length < 2) return undefined
  const spanSeconds = (points[points.length - 1].timestamp - points[0].timestamp) / 1000
  if (samples < minSamples || spanSeconds <= 0) return undefined
  return { sigma: Math.sqrt(sumSq / (spanSeconds / SECONDS_PER_YEAR)), samples, spanSeconds }
}

/**
 * First-passage probability (see the module comment) of a relative move `distanceBps` within
 * `horizonSeconds` at annualised volatility `sigma`.
 */
export function liquidationProbability(distanceBps: number, sigma: number, horizonSeconds: number): number {
  if (distanceBps <= 0) return 1
  if (distanceBps >= 10_000) return 0
  if (!(sigma > 0) || !(horizonSeconds > 0)) return 0
  const d = distanceBps / 10_000
  const z = Math.log(1 - d) / (sigma * Math.sqrt(horizonSeconds / SECONDS_PER_YEAR))
  return Math.min(1, Math.max(0, 2 * normalCdf(z)))
}

/** Standard normal CDF, Φ(x) = erfc(−x/√2)/2. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2)
}

/** Complementary error function (Chebyshev fit, Numerical Recipes `erfcc`; relative error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x)
  const t = 1 / (1 + 0.5 * z)
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  return x >= 0 ? r : 2 - r
}
