/**
 * Fixed-point and share arithmetic of Morpho Blue, mirrored line by line in bigint.
 *
 * Sources mirrored (`@morpho-org/morpho-blue` 1.0.0):
 * - `src/libraries/MathLib.sol` (`WAD`, `wMulDown`, `wDivDown`, `wDivUp`, `mulDivDown`, `mulDivUp`, `wTaylorCompounded`);
 * - `src/libraries/SharesMathLib.sol` (`VIRTUAL_SHARES`, `VIRTUAL_ASSETS`, `toSharesDown/Up`, `toAssetsDown/Up`);
 * - `src/libraries/UtilsLib.sol` (`min`, `zeroFloorSub`).
 *
 * Every function takes and returns non-negative bigints (uint256 in the contract). A zero divisor or a uint256
 * overflow in `mulDivDown`/`mulDivUp` throws {@link RiskRevertError}, as Solidity 0.8 panics there. Inputs are not
 * range-checked in these primitives (they are the hot path); the protocol-level functions in `morpho.ts`, `aave.ts`
 * and `uniswap-v2.ts` check theirs.
 */
import { BaseError } from '../errors.js'

// ───────────────────────────── errors ─────────────────────────────

/**
 * An input to the risk math is out of its domain (negative amount, zero reserve, LLTV ≥ 1, ...).
 * `field` names the offending input, `rule` the rule it breaks.
 */
export class RiskInputError extends BaseError {
  override name = 'RiskInputError' as const
  readonly field: string
  readonly rule: string
  constructor(field: string, rule: string, value?: unknown) {
    super(`Invalid risk input "${field}": ${rule}.`, {
      metaMessages: [
        `Field: ${field}`,
        ...(value === undefined ? [] : [`Value: ${String(value)}`]),
        'Pass a value that satisfies the rule; amounts are integer base units (bigint).',
      ],
    })
    this.field = field
    this.rule = rule
  }
}

/**
 * The mirrored contract would revert on these inputs (division by zero, arithmetic underflow,
 * "position is healthy", ...). `reason` is the contract's revert reason or panic, `source` the function mirrored.
 */
export class RiskRevertError extends BaseError {
  override name = 'RiskRevertError' as const
  readonly reason: string
  readonly source: string
  constructor(reason: string, source: string) {
    super(`The contract would revert: ${reason}.`, {
      metaMessages: [`Mirrors: ${source}`, 'The same call on-chain reverts; do not submit it.'],
    })
    this.reason = reason
    this.source = source
  }
}

/** Throws {@link RiskInputError} unless `value` is a bigint ≥ 0. */
export function assertNonNegative(value: bigint, field: string): void {
  if (typeof value !== 'bigint') throw new RiskInputError(field, 'must be a bigint', value)
  if (value < 0n) throw new RiskInputError(field, 'must be ≥ 0', value)
}

/** Throws {@link RiskInputError} unless `value` is a bigint > 0. */
export function assertPositive(value: bigint, field: string): void {
  if (typeof value !== 'bigint') throw new RiskInputError(field, 'must be a bigint', value)
  if (value <= 0n) throw new RiskInputError(field, 'must be > 0', value)
}

// ───────────────────────────── constants ─────────────────────────────

/** 1e18, the WAD fixed-point unit (`MathLib.sol` `WAD`). */
export const WAD = 10n ** 18n
/** type(uint256).max. */
export const MAX_UINT256 = (1n << 256n) - 1n
/** type(uint128).max (Morpho stores market totals and positions as uint128). */
export const MAX_UINT128 = (1n << 128n) - 1n
/** `SharesMathLib.VIRTUAL_SHARES` = 1e6. */
export const VIRTUAL_SHARES = 10n ** 6n
/** `SharesMathLib.VIRTUAL_ASSETS` = 1. */
export const VIRTUAL_ASSETS = 1n

// ───────────────────────────── MathLib ─────────────────────────────

/**
 * (x * y) / d rounded down. Mirrors `MathLib.mulDivDown`, with Solidity 0.8's checked arithmetic:
 * throws {@link RiskRevertError} when x * y overflows uint256 (panic 0x11) or d = 0 (panic 0x12).
 */
export function mulDivDown(x: bigint, y: bigint, d: bigint): bigint {
  const p = x * y
  if (p > MAX_UINT256) throw new RiskRevertError('arithmetic overflow (panic 0x11)', 'MathLib.mulDivDown')
  if (d === 0n) throw new RiskRevertError('division by zero (panic 0x12)', 'MathLib.mulDivDown')
  return p / d
}

/**
 * (x * y + (d - 1)) / d, i.e. (x * y) / d rounded up. Mirrors `MathLib.mulDivUp`, with checked arithmetic:
 * throws {@link RiskRevertError} when x * y + (d − 1) overflows uint256 or d = 0 (`d − 1` underflows), both panic 0x11.
 */
export function mulDivUp(x: bigint, y: bigint, d: bigint): bigint {
  const p = x * y
  if (p > MAX_UINT256) throw new RiskRevertError('arithmetic overflow (panic 0x11)', 'MathLib.mulDivUp')
  // With d = 0, `d - 1` underflows before any division.
  if (d === 0n) throw new RiskRevertError('arithmetic underflow (panic 0x11)', 'MathLib.mulDivUp')
  const n = p + (d - 1n)
  if (n > MAX_UINT256) throw new RiskRevertError('arithmetic overflow (panic 0x11)', 'MathLib.mulDivUp')
  return n / d
}

/** (x * y) / WAD rounded down. Mirrors `MathLib.wMulDown`. */
export function wMulDown(x: bigint, y: bigint): bigint {
  return mulDivDown(x, y, WAD)
}

/** (x * WAD) / y rounded down. Mirrors `MathLib.wDivDown`. */
export function wDivDown(x: bigint, y: bigint): bigint {
  return mulDivDown(x, WAD, y)
}

/** (x * WAD) / y rounded up. Mirrors `MathLib.wDivUp`. */
export function wDivUp(x: bigint, y: bigint): bigint {
  return mulDivUp(x, WAD, y)
}

/**
 * Sum of the first three non-zero terms of the Taylor expansion of e^(n·x) − 1 (WAD), the continuously
 * compounded rate over `n` seconds at the per-second rate `x` (WAD). Mirrors `MathLib.wTaylorCompounded`.
 */
export function wTaylorCompounded(x: bigint, n: bigint): bigint {
  const firstTerm = x * n
  if (firstTerm > MAX_UINT256) throw new RiskRevertError('arithmetic overflow (panic 0x11)', 'MathLib.wTaylorCompounded')
  const secondTerm = mulDivDown(firstTerm, firstTerm, 2n * WAD)
  const thirdTerm = mulDivDown(secondTerm, firstTerm, 3n * WAD)
  const sum = firstTerm + secondTerm + thirdTerm
  if (sum > MAX_UINT256) throw new RiskRevertError('arithmetic overflow (panic 0x11)', 'MathLib.wTaylorCompounded')
  return sum
}

// ───────────────────────────── UtilsLib ─────────────────────────────

/** min(x, y). Mirrors `UtilsLib.min`. */
export function min(x: bigint, y: bigint): bigint {
  return y < x ? y : x
}

/** max(x, y). */
export function max(x: bigint, y: bigint): bigint {
  return y > x ? y : x
}

/** max(0, x − y). Mirrors `UtilsLib.zeroFloorSub`. */
export function zeroFloorSub(x: bigint, y: bigint): bigint {
  return x > y ? x - y : 0n
}

// ───────────────────────────── SharesMathLib ─────────────────────────────

/** `assets` quoted in shares, rounded down. Mirrors `SharesMathLib.toSharesDown`. */
export function toSharesDown(assets: bigint, totalAssets: bigint, totalShares: bigint): bigint {
  return mulDivDown(assets, totalShares + VIRTUAL_SHARES, totalAssets + VIRTUAL_ASSETS)
}

/** `shares` quoted in assets, rounded down. Mirrors `SharesMathLib.toAssetsDown`. */
export function toAssetsDown(shares: bigint, totalAssets: bigint, totalShares: bigint): bigint {
  return mulDivDown(shares, totalAssets + VIRTUAL_ASSETS, totalShares + VIRTUAL_SHARES)
}

/** `assets` quoted in shares, rounded up. Mirrors `SharesMathLib.toSharesUp`. */
export function toSharesUp(assets: bigint, totalAssets: bigint, totalShares: bigint): bigint {
  return mulDivUp(assets, totalShares + VIRTUAL_SHARES, totalAssets + VIRTUAL_ASSETS)
}

/** `shares` quoted in assets, rounded up. Mirrors `SharesMathLib.toAssetsUp`. */
export function toAssetsUp(shares: bigint, totalAssets: bigint, totalShares: bigint): bigint {
  return mulDivUp(shares, totalAssets + VIRTUAL_ASSETS, totalShares + VIRTUAL_SHARES)
}

// ───────────────────────────── helpers (not in the contracts) ─────────────────────────────

/** Floor of the square root of a non-negative bigint (Newton's method). Throws {@link RiskInputError} if n < 0. */
export function sqrt(n: bigint): bigint {
  if (n < 0n) throw new RiskInputError('n', 'square root of a negative number', n)
  if (n < 2n) return n
  // Start above the root: 2^ceil(bits/2).
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2))
  for (;;) {
    const y = (x + n / x) >> 1n
    if (y >= x) return x
    x = y
  }
}
