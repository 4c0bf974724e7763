/**
 * Fixed-point helpers of the planner that `protocol/risk/math.ts` does not have: a high-precision exponential for the
 * Almgren–Chriss trajectory, ceiling division and fraction comparison. Bigint only, deterministic.
 */
import { WAD } from '../risk/math.js'

/** 1e36, the precision of {@link expScaled} and the trajectory ratios. */
export const PRECISION = 10n ** 36n

/** ceil(a / b) for a ≥ 0, b > 0. */
export function divUp(a: bigint, b: bigint): bigint {
  return a === 0n ? 0n : (a - 1n) / b + 1n
}

/** a/b ≥ c/d for non-negative a, c and positive b, d. */
export function fracGte(a: bigint, b: bigint, c: bigint, d: bigint): boolean {
  return a * d >= c * b
}

/**
 * e^x for x ≥ 0 given in WAD, returned scaled by {@link PRECISION} (1e36), rounded down.
 * Range reduction by halving (x / 2^m ≤ 1/16), a 24-term Taylor series, then m squarings.
 */
export function expScaled(xWad: bigint): bigint {
  if (xWad < 0n) throw new RangeError('expScaled: x must be ≥ 0')
  let z = xWad * (PRECISION / WAD)
  let m = 0
  while (z > PRECISION / 16n) {
    z >>= 1n
    m++
  }
  let term = PRECISION
  let sum = PRECISION
  for (let n = 1n; n <= 24n; n++) {
    term = (term * z) / (PRECISION * n)
    if (term === 0n) break
    sum += term
  }
  for (let i = 0; i < m; i++) sum = (sum * sum) / PRECISION
  return sum
}

/** e^(−x) for x ≥ 0 in WAD, scaled by 1e36, rounded down. */
export function expNegScaled(xWad: bigint): bigint {
  return (PRECISION * PRECISION) / expScaled(xWad)
}

/** base^n for base scaled by 1e36 (repeated squaring, rounded down at each step). */
export function powScaled(base: bigint, n: number): bigint {
  let result = PRECISION
  let b = base
  let e = n
  while (e > 0) {
    if (e & 1) result = (result * b) / PRECISION
    b = (b * b) / PRECISION
    e >>= 1
  }
  return result
}

/** Compare two strings by code units (locale-independent, the same on every machine). */
export function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Compare two bigints. */
export function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0
}
