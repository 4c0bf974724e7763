/**
 * Uniswap V2 constant-product math: exact swap amounts (0.3% fee), price impact and market depth.
 *
 * Sources mirrored: Uniswap `v2-periphery` `contracts/libraries/UniswapV2Library.sol` (`getAmountOut`, `getAmountIn`),
 * whose result passes `v2-core` `contracts/UniswapV2Pair.sol` `swap`'s K check
 * (balance0Adjusted × balance1Adjusted ≥ reserve0 × reserve1 × 1000²).
 *
 * Units: amounts and reserves in token base units; impacts in bps (1e4 = 100%). The price whose move is measured is
 * the pool's marginal (spot) price reserveOut / reserveIn, fee excluded.
 */
import { RiskInputError, WAD, assertPositive, sqrt } from './math.js'

/** 1e4 = 100% in bps. */
export const BPS = 10_000n
/** Default impacts of {@link depthCurve}, bps: 0.5%, 1%, 2%, 5%. */
export const DEFAULT_DEPTH_IMPACTS_BPS: readonly bigint[] = Object.freeze([50n, 100n, 200n, 500n])

function checkReserves(reserveIn: bigint, reserveOut: bigint): void {
  // UniswapV2Library: require(reserveIn > 0 && reserveOut > 0, 'UniswapV2Library: INSUFFICIENT_LIQUIDITY')
  assertPositive(reserveIn, 'reserveIn')
  assertPositive(reserveOut, 'reserveOut')
}

/** getAmountOut without input checks (amountIn ≥ 0, reserves > 0). */
function amountOutUnchecked(amountIn: bigint, reserveIn: bigint, reserveOut: bigint): bigint {
  const amountInWithFee = amountIn * 997n
  return (amountInWithFee * reserveOut) / (reserveIn * 1000n + amountInWithFee)
}

/**
 * The exact output of selling `amountIn` into a pair with these reserves:
 * amountIn·997·reserveOut / (reserveIn·1000 + amountIn·997), rounded down.
 * Mirrors `UniswapV2Library.getAmountOut`. May return 0 for dust (the pair then reverts INSUFFICIENT_OUTPUT_AMOUNT).
 *
 * @param amountIn input token base units, > 0. @param reserveIn, reserveOut pair reserves, > 0.
 * @throws RiskInputError naming `amountIn` (INSUFFICIENT_INPUT_AMOUNT) or the reserve (INSUFFICIENT_LIQUIDITY).
 */
export function getAmountOut(amountIn: bigint, reserveIn: bigint, reserveOut: bigint): bigint {
  assertPositive(amountIn, 'amountIn')
  checkReserves(reserveIn, reserveOut)
  return amountOutUnchecked(amountIn, reserveIn, reserveOut)
}

/**
 * The least input that buys `amountOut`: reserveIn·amountOut·1000 / ((reserveOut − amountOut)·997) + 1.
 * Mirrors `UniswapV2Library.getAmountIn` (including its +1).
 *
 * @param amountOut output token base units, 0 < amountOut < reserveOut.
 * @throws RiskInputError naming `amountOut` (INSUFFICIENT_OUTPUT_AMOUNT, or ≥ reserveOut) or a reserve.
 */
export function getAmountIn(amountOut: bigint, reserveIn: bigint, reserveOut: bigint): bigint {
  assertPositive(amountOut, 'amountOut')
  checkReserves(reserveIn, reserveOut)
  if (amountOut >= reserveOut) throw new RiskInputError('amountOut', 'must be < reserveOut (INSUFFICIENT_LIQUIDITY)', amountOut)
  const numerator = reserveIn * amountOut * 1000n
  const denominator = (reserveOut - amountOut) * 997n
  return numerator / denominator + 1n
}

/** Result of {@link applySwap}: the output and the pair's reserves after the swap. */
export type SwapResult = { amountOut: bigint; reserveIn: bigint; reserveOut: bigint }

/**
 * Sells `amountIn` into the pair and returns the output and the new reserves (reserveIn + amountIn,
 * reserveOut − amountOut), as `UniswapV2Pair.swap` + `_update` leave them. Same checks as {@link getAmountOut}.
 */
export function applySwap(amountIn: bigint, reserveIn: bigint, reserveOut: bigint): SwapResult {
  const amountOut = getAmountOut(amountIn, reserveIn, reserveOut)
  return { amountOut, reserveIn: reserveIn + amountIn, reserveOut: reserveOut - amountOut }
}

/** The marginal price reserveOut / reserveIn, WAD, rounded down. @throws RiskInputError on a reserve ≤ 0. */
export function spotPriceWad(reserveIn: bigint, reserveOut: bigint): bigint {
  checkReserves(reserveIn, reserveOut)
  return (reserveOut * WAD) / reserveIn
}

/** Impact in bps, rounded up, without input checks; 0 for amountIn = 0. */
function impactUnchecked(amountIn: bigint, reserveIn: bigint, reserveOut: bigint): bigint {
  if (amountIn === 0n) return 0n
  const amountOut = amountOutUnchecked(amountIn, reserveIn, reserveOut)
  // 1 − after/before = 1 − (reserveOut − amountOut)·reserveIn / (reserveOut·(reserveIn + amountIn))
  const kept = (BPS * reserveIn * (reserveOut - amountOut)) / (reserveOut * (reserveIn + amountIn))
  return BPS - kept
}

/** impact(amountIn) ≤ impactBps, tested exactly in integers. */
function withinImpact(amountIn: bigint, reserveIn: bigint, reserveOut: bigint, impactBps: bigint): boolean {
  if (amountIn === 0n) return true
  const amountOut = amountOutUnchecked(amountIn, reserveIn, reserveOut)
  return BPS * reserveIn * (reserveOut - amountOut) >= (BPS - impactBps) * reserveOut * (reserveIn + amountIn)
}

/**
 * Price impact of selling `amountIn`, bps: the relative fall of the pool's marginal price reserveOut / reserveIn,
 * from the reserves before the swap to the reserves after it (reserveIn + amountIn, reserveOut − amountOut, with
 * amountOut = {@link getAmountOut}). Rounded up, so `priceImpactBps(x) ≤ b` ⟺ the exact impact is ≤ b bps.
 * Always in 1..10000 for amountIn > 0: the marginal price strictly falls, and the exact impact stays below 100%
 * since the pool is never emptied (10000 means more than 9999 bps).
 *
 * @throws RiskInputError naming `amountIn` (≤ 0) or a reserve (≤ 0).
 */
export function priceImpactBps(amountIn: bigint, reserveIn: bigint, reserveOut: bigint): bigint {
  assertPositive(amountIn, 'amountIn')
  checkReserves(reserveIn, reserveOut)
  return impactUnchecked(amountIn, reserveIn, reserveOut)
}

/**
 * The largest `amountIn` whose {@link priceImpactBps} is ≤ `impactBps`: exactly, priceImpactBps(x) ≤ impactBps <
 * priceImpactBps(x + 1) (with impact(0) = 0, so the result is 0 when even 1 unit moves the price more).
 *
 * Closed form of the constant-product pool without output rounding (q = 1 − impactBps/1e4):
 * (1000·rIn + 997·x)(rIn + x) = 1000·rIn² / q, i.e.
 * x = rIn·(√(1997² + 4·997·1000·b/(1e4 − b)) − 1997) / (2·997), taken in integers, then integer refinement
 * (exponential bracketing and binary search on the exact bound) for the rounding of getAmountOut.
 *
 * @param impactBps 0 ≤ impactBps < 10000. @throws RiskInputError naming `impactBps` or a reserve.
 */
export function maxAmountInForImpact(reserveIn: bigint, reserveOut: bigint, impactBps: bigint): bigint {
  checkReserves(reserveIn, reserveOut)
  if (typeof impactBps !== 'bigint' || impactBps < 0n || impactBps >= BPS) {
    throw new RiskInputError('impactBps', 'must be a bigint in 0..9999 (100% is never reached)', impactBps)
  }
  if (impactBps === 0n) return 0n
  const rest = BPS - impactBps
  const n = 1997n * 1997n * rest + 4n * 997n * 1000n * impactBps
  const root = sqrt((reserveIn * reserveIn * n) / rest)
  let guess = root > 1997n * reserveIn ? (root - 1997n * reserveIn) / 1994n : 0n

  // Bracket [lo, hi] with within(lo) and !within(hi).
  let lo: bigint
  let hi: bigint
  if (withinImpact(guess, reserveIn, reserveOut, impactBps)) {
    lo = guess
    let step = 1n
    hi = lo + step
    while (withinImpact(hi, reserveIn, reserveOut, impactBps)) {
      lo = hi
      step *= 2n
      hi = lo + step
    }
  } else {
    hi = guess
    let step = 1n
    lo = hi - step
    while (lo > 0n && !withinImpact(lo, reserveIn, reserveOut, impactBps)) {
      hi = lo
      step *= 2n
      lo = hi - step < 0n ? 0n : hi - step
    }
    if (lo < 0n) lo = 0n
  }
  while (hi - lo > 1n) {
    const mid = (lo + hi) >> 1n
    if (withinImpact(mid, reserveIn, reserveOut, impactBps)) lo = mid
    else hi = mid
  }
  return lo
}

/** One point of a {@link depthCurve}. */
export type DepthPoint = {
  /** The impact bound, bps. */
  impactBps: bigint
  /** Largest input within the bound, input token base units. */
  amountIn: bigint
  /** getAmountOut(amountIn), output token base units (0 when amountIn is 0). */
  amountOut: bigint
}

/**
 * The pool's depth: for each impact bound, the most that can be sold ({@link maxAmountInForImpact}) and what it
 * buys ({@link getAmountOut}). Points come in the order of `impactsBps`.
 *
 * @param impactsBps bounds in bps, each in 0..9999; default 50, 100, 200, 500.
 * @throws RiskInputError naming a reserve or `impactBps`.
 */
export function depthCurve(
  reserveIn: bigint,
  reserveOut: bigint,
  impactsBps: readonly bigint[] = DEFAULT_DEPTH_IMPACTS_BPS,
): DepthPoint[] {
  checkReserves(reserveIn, reserveOut)
  return impactsBps.map((impactBps) => {
    const amountIn = maxAmountInForImpact(reserveIn, reserveOut, impactBps)
    return { impactBps, amountIn, amountOut: amountIn === 0n ? 0n : amountOutUnchecked(amountIn, reserveIn, reserveOut) }
  })
}
