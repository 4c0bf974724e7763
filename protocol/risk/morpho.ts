/**
 * Morpho Blue risk math: interest accrual, health, liquidation incentive and the seizure / repayment
 * conversions of `liquidate`, mirrored line by line (same operations, same rounding directions) in bigint.
 *
 * Sources mirrored (`@morpho-org/morpho-blue` 1.0.0): `src/Morpho.sol` (`_accrueInterest`, `_isHealthy`,
 * `liquidate`), `src/libraries/ConstantsLib.sol`, `src/libraries/MathLib.sol`, `src/libraries/SharesMathLib.sol`.
 *
 * Units: token amounts in base units (wei); `lltv`, `fee`, rates and factors in WAD (1e18);
 * `price` is the Morpho oracle price of one collateral base unit in loan base units, scaled by 1e36
 * (`ORACLE_PRICE_SCALE`); times in seconds.
 */
import type { Address } from 'viem'
import {
  MAX_UINT128,
  MAX_UINT256,
  RiskInputError,
  RiskRevertError,
  WAD,
  assertNonNegative,
  min,
  mulDivDown,
  mulDivUp,
  toAssetsDown,
  toAssetsUp,
  toSharesDown,
  toSharesUp,
  wDivDown,
  wDivUp,
  wMulDown,
  wTaylorCompounded,
  zeroFloorSub,
} from './math.js'

// ───────────────────────────── constants (ConstantsLib.sol) ─────────────────────────────

/** Oracle price scale, 1e36 (`ConstantsLib.ORACLE_PRICE_SCALE`). */
export const ORACLE_PRICE_SCALE = 10n ** 36n
/** Liquidation cursor, 0.3 WAD (`ConstantsLib.LIQUIDATION_CURSOR`). */
export const LIQUIDATION_CURSOR = 3n * 10n ** 17n
/** Maximum liquidation incentive factor, 1.15 WAD (`ConstantsLib.MAX_LIQUIDATION_INCENTIVE_FACTOR`). */
export const MAX_LIQUIDATION_INCENTIVE_FACTOR = 115n * 10n ** 16n
/** Maximum market fee, 0.25 WAD (`ConstantsLib.MAX_FEE`). */
export const MAX_FEE = 25n * 10n ** 16n

// ───────────────────────────── types ─────────────────────────────

/** `MarketParams` of `src/interfaces/IMorpho.sol`. `lltv` is WAD. */
export type MorphoMarketParams = {
  loanToken: Address
  collateralToken: Address
  oracle: Address
  irm: Address
  /** Liquidation loan-to-value, WAD (e.g. 0.86e18). */
  lltv: bigint
}

/** `Market` of `src/interfaces/IMorpho.sol` (uint128 fields, here bigint). */
export type MorphoMarket = {
  /** Loan-token base units. */
  totalSupplyAssets: bigint
  totalSupplyShares: bigint
  /** Loan-token base units. */
  totalBorrowAssets: bigint
  totalBorrowShares: bigint
  /** Seconds (block timestamp of the last accrual). */
  lastUpdate: bigint
  /** WAD, at most `MAX_FEE` (0.25e18). */
  fee: bigint
}

/** `Position` of `src/interfaces/IMorpho.sol`. `collateral` is in collateral-token base units. */
export type MorphoPosition = {
  supplyShares: bigint
  borrowShares: bigint
  collateral: bigint
}

// ───────────────────────────── input checks ─────────────────────────────

function checkMarket(market: MorphoMarket): void {
  assertNonNegative(market.totalSupplyAssets, 'market.totalSupplyAssets')
  assertNonNegative(market.totalSupplyShares, 'market.totalSupplyShares')
  assertNonNegative(market.totalBorrowAssets, 'market.totalBorrowAssets')
  assertNonNegative(market.totalBorrowShares, 'market.totalBorrowShares')
  assertNonNegative(market.lastUpdate, 'market.lastUpdate')
  assertNonNegative(market.fee, 'market.fee')
}

function checkPosition(position: MorphoPosition, market: MorphoMarket): void {
  assertNonNegative(position.borrowShares, 'position.borrowShares')
  assertNonNegative(position.collateral, 'position.collateral')
  if (position.borrowShares > market.totalBorrowShares) {
    throw new RiskInputError('position.borrowShares', 'must be ≤ market.totalBorrowShares', position.borrowShares)
  }
}

function checkLltv(lltv: bigint): void {
  assertNonNegative(lltv, 'lltv')
  // Morpho.enableLltv: require(lltv < WAD, ErrorsLib.MAX_LLTV_EXCEEDED)
  if (lltv >= WAD) throw new RiskInputError('lltv', 'must be < 1e18 (Morpho.enableLltv: max LLTV exceeded)', lltv)
}

function checkPrice(price: bigint): void {
  assertNonNegative(price, 'price')
}

// ───────────────────────────── interest ─────────────────────────────

/** Result of {@link accrueInterestWithDetails}. */
export type MorphoAccrual = {
  market: MorphoMarket
  /** Interest added to both totals, loan-token base units. */
  interest: bigint
  /** Supply shares minted to the fee recipient. */
  feeShares: bigint
}

/**
 * Accrues interest on `market` up to `timestamp`, as `Morpho._accrueInterest` does for a market whose IRM
 * returned `borrowRate`. Returns a new market (the input is not modified), the interest and the fee shares.
 *
 * Mirrors `src/Morpho.sol` `_accrueInterest`:
 *   interest = totalBorrowAssets.wMulDown(borrowRate.wTaylorCompounded(elapsed));
 *   feeShares = (interest.wMulDown(fee)).toSharesDown(totalSupplyAssets − feeAmount, totalSupplyShares).
 * `elapsed = 0` returns the market unchanged. (A market with `irm = address(0)` accrues nothing: pass 0n.)
 *
 * @param borrowRate per-second borrow rate, WAD (what `IIrm.borrowRate` returns).
 * @param timestamp block timestamp, seconds.
 * @throws RiskInputError on a negative field; RiskRevertError when `timestamp < lastUpdate` (underflow) or a
 *   total overflows uint128.
 */
export function accrueInterestWithDetails(market: MorphoMarket, borrowRate: bigint, timestamp: bigint): MorphoAccrual {
  checkMarket(market)
  assertNonNegative(borrowRate, 'borrowRate')
  assertNonNegative(timestamp, 'timestamp')
  if (timestamp < market.lastUpdate) {
    throw new RiskRevertError('arithmetic underflow: timestamp < lastUpdate (panic 0x11)', 'Morpho._accrueInterest')
  }
  const elapsed = timestamp - market.lastUpdate
  if (elapsed === 0n) return { market: { ...market }, interest: 0n, feeShares: 0n }

  const interest = wMulDown(market.totalBorrowAssets, wTaylorCompounded(borrowRate, elapsed))
  const totalBorrowAssets = market.totalBorrowAssets + interest
  const totalSupplyAssets = market.totalSupplyAssets + interest
  let totalSupplyShares = market.totalSupplyShares

  let feeShares = 0n
  if (market.fee !== 0n) {
    const feeAmount = wMulDown(interest, market.fee)
    // The fee amount is subtracted from the total supply to compensate for the total supply already
    // including the full interest (Morpho.sol comment).
    feeShares = toSharesDown(feeAmount, totalSupplyAssets - feeAmount, market.totalSupplyShares)
    totalSupplyShares += feeShares
  }
  if (totalBorrowAssets > MAX_UINT128 || totalSupplyAssets > MAX_UINT128 || totalSupplyShares > MAX_UINT128) {
    throw new RiskRevertError('uint128 overflow (max uint128 exceeded)', 'Morpho._accrueInterest')
  }
  return {
    market: { ...market, totalBorrowAssets, totalSupplyAssets, totalSupplyShares, lastUpdate: timestamp },
    interest,
    feeShares,
  }
}

/**
 * Accrues interest on `market` up to `timestamp`; mirrors `src/Morpho.sol` `_accrueInterest`
 * (see {@link accrueInterestWithDetails}). Returns a new market.
 *
 * @param borrowRate per-second borrow rate, WAD. @param timestamp seconds.
 */
export function accrueInterest(market: MorphoMarket, borrowRate: bigint, timestamp: bigint): MorphoMarket {
  return accrueInterestWithDetails(market, borrowRate, timestamp).market
}

// ───────────────────────────── health ─────────────────────────────

/**
 * The liquidation incentive factor of a market, WAD:
 * min(MAX_LIQUIDATION_INCENTIVE_FACTOR, WAD.wDivDown(WAD − LIQUIDATION_CURSOR.wMulDown(WAD − lltv))),
 * i.e. min(1.15, 1/(1 − 0.3·(1 − LLTV))) with the contract's rounding. Mirrors `src/Morpho.sol` `liquidate`.
 *
 * @param lltv WAD, < 1e18. @throws RiskInputError when lltv is negative or ≥ 1e18.
 */
export function liquidationIncentiveFactor(lltv: bigint): bigint {
  checkLltv(lltv)
  return lifOf(lltv)
}

/** {@link liquidationIncentiveFactor} without the input check. */
function lifOf(lltv: bigint): bigint {
  return min(MAX_LIQUIDATION_INCENTIVE_FACTOR, wDivDown(WAD, WAD - wMulDown(LIQUIDATION_CURSOR, WAD - lltv)))
}

/**
 * The borrowed assets as `_isHealthy` counts them: borrowShares.toAssetsUp(totalBorrowAssets, totalBorrowShares)
 * (rounded up, against the borrower). Loan-token base units. Mirrors `src/Morpho.sol` `_isHealthy`.
 */
export function borrowedAssets(position: MorphoPosition, market: MorphoMarket): bigint {
  return toAssetsUp(position.borrowShares, market.totalBorrowAssets, market.totalBorrowShares)
}

/**
 * The maximum debt the collateral supports: collateral.mulDivDown(price, ORACLE_PRICE_SCALE).wMulDown(lltv)
 * (rounded down, against the borrower). Loan-token base units. Mirrors `src/Morpho.sol` `_isHealthy`.
 *
 * @param price oracle price, 1e36-scaled. @param lltv WAD.
 */
export function maxBorrow(position: MorphoPosition, price: bigint, lltv: bigint): bigint {
  return wMulDown(mulDivDown(position.collateral, price, ORACLE_PRICE_SCALE), lltv)
}

/**
 * Whether the position is healthy: true when it has no borrow shares, else maxBorrow ≥ borrowed.
 * Mirrors `src/Morpho.sol` `_isHealthy` (both overloads). `liquidate` reverts with "position is healthy"
 * exactly when this returns true (after its "market not created" and "inconsistent input" checks).
 *
 * @param price oracle price, 1e36-scaled. @param lltv WAD, < 1e18.
 * @throws RiskInputError on negative inputs, an LLTV ≥ 1e18 or more borrow shares than the market's total.
 */
export function isHealthy(position: MorphoPosition, market: MorphoMarket, price: bigint, lltv: bigint): boolean {
  checkMarket(market)
  checkPosition(position, market)
  checkPrice(price)
  checkLltv(lltv)
  if (position.borrowShares === 0n) return true
  return maxBorrow(position, price, lltv) >= borrowedAssets(position, market)
}

/**
 * Health factor, WAD: maxBorrow.wDivDown(borrowed), with `maxBorrow` and `borrowed` exactly as in
 * `_isHealthy`; `MAX_UINT256` when the position has no borrow shares.
 *
 * Because the division rounds down and WAD is an integer, healthFactor ≥ 1e18 ⟺ maxBorrow ≥ borrowed ⟺
 * `_isHealthy` holds, with no rounding gap at the boundary. Use {@link isHealthy} for the verdict anyway.
 * Derived from `src/Morpho.sol` `_isHealthy` (the contract has no health-factor function).
 *
 * @param price oracle price, 1e36-scaled. @param lltv WAD, < 1e18.
 * @throws RiskInputError on negative inputs or an LLTV ≥ 1e18.
 */
export function healthFactor(position: MorphoPosition, market: MorphoMarket, price: bigint, lltv: bigint): bigint {
  checkMarket(market)
  checkPosition(position, market)
  checkPrice(price)
  checkLltv(lltv)
  if (position.borrowShares === 0n) return MAX_UINT256
  return healthFactorOf(maxBorrow(position, price, lltv), borrowedAssets(position, market))
}

/**
 * maxBorrow × WAD / borrowed, rounded down, capped at MAX_UINT256 (not a contract computation, so it never reverts).
 * borrowShares > 0 implies borrowed ≥ 1 (toAssetsUp of a positive amount, with VIRTUAL_ASSETS = 1).
 */
export function healthFactorOf(maxBorrowAssets: bigint, borrowed: bigint): bigint {
  const hf = (maxBorrowAssets * WAD) / borrowed
  return hf > MAX_UINT256 ? MAX_UINT256 : hf
}

// ───────────────────────────── liquidation ─────────────────────────────

/**
 * Collateral seized for `repaidShares` borrow shares, as `liquidate` computes it when called with
 * `seizedAssets = 0`: repaidShares.toAssetsDown(totalBorrowAssets, totalBorrowShares).wMulDown(LIF)
 * .mulDivDown(ORACLE_PRICE_SCALE, price). Collateral base units, rounded down (against the liquidator).
 * Mirrors `src/Morpho.sol` `liquidate`. Monotone non-decreasing in `repaidShares`.
 *
 * The two conversions form an exact Galois connection: for all s, r ≥ 0,
 * repaidSharesForSeizedAssets(s) ≤ r ⟺ s ≤ seizedAssetsForRepaidShares(r). Hence
 * repaidSharesForSeizedAssets(seizedAssetsForRepaidShares(r)) ≤ r and
 * seizedAssetsForRepaidShares(repaidSharesForSeizedAssets(s)) ≥ s.
 *
 * @param market the market after interest accrual (liquidate accrues first).
 * @param price oracle price, 1e36-scaled, > 0. @param lltv WAD, < 1e18.
 * @throws RiskInputError on negative inputs; RiskRevertError when price is 0 (division by zero).
 */
export function seizedAssetsForRepaidShares(repaidShares: bigint, market: MorphoMarket, price: bigint, lltv: bigint): bigint {
  assertNonNegative(repaidShares, 'repaidShares')
  checkMarket(market)
  checkPrice(price)
  return seizedFor(repaidShares, market, price, liquidationIncentiveFactor(lltv))
}

/**
 * {@link seizedAssetsForRepaidShares} with the market's liquidation incentive factor given (as
 * {@link liquidationIncentiveFactor} returns it for the market's LLTV, which the caller has checked): the same checks
 * otherwise, the same value. For callers that evaluate many positions of one market.
 */
export function seizedAssetsForRepaidSharesWithLif(repaidShares: bigint, market: MorphoMarket, price: bigint, lif: bigint): bigint {
  assertNonNegative(repaidShares, 'repaidShares')
  checkMarket(market)
  checkPrice(price)
  return seizedFor(repaidShares, market, price, lif)
}

/** {@link seizedAssetsForRepaidShares} without input checks, with the LIF given. */
function seizedFor(repaidShares: bigint, market: MorphoMarket, price: bigint, lif: bigint): bigint {
  return mulDivDown(
    wMulDown(toAssetsDown(repaidShares, market.totalBorrowAssets, market.totalBorrowShares), lif),
    ORACLE_PRICE_SCALE,
    price,
  )
}

/**
 * Borrow shares repaid for `seizedAssets` of collateral, as `liquidate` computes it when called with
 * `repaidShares = 0`: seizedAssets.mulDivUp(price, ORACLE_PRICE_SCALE).wDivUp(LIF)
 * .toSharesUp(totalBorrowAssets, totalBorrowShares). Rounded up (against the liquidator).
 * Mirrors `src/Morpho.sol` `liquidate`. Monotone non-decreasing in `seizedAssets`.
 * See {@link seizedAssetsForRepaidShares} for the round-trip inequalities.
 *
 * @param market the market after interest accrual. @param price oracle price, 1e36-scaled. @param lltv WAD, < 1e18.
 * @throws RiskInputError on negative inputs.
 */
export function repaidSharesForSeizedAssets(seizedAssets: bigint, market: MorphoMarket, price: bigint, lltv: bigint): bigint {
  assertNonNegative(seizedAssets, 'seizedAssets')
  checkMarket(market)
  checkPrice(price)
  return repaidFor(seizedAssets, market, price, liquidationIncentiveFactor(lltv))
}

/** {@link repaidSharesForSeizedAssets} without input checks, with the LIF given. */
function repaidFor(seizedAssets: bigint, market: MorphoMarket, price: bigint, lif: bigint): bigint {
  return toSharesUp(
    wDivUp(mulDivUp(seizedAssets, price, ORACLE_PRICE_SCALE), lif),
    market.totalBorrowAssets,
    market.totalBorrowShares,
  )
}

/** The largest liquidation of a position that `liquidate` accepts; see {@link maxLiquidation}. */
export type MorphoMaxLiquidation = {
  /** Collateral base units. */
  seizedAssets: bigint
  /** Borrow shares repaid for `seizedAssets`. */
  repaidShares: bigint
  /**
   * The argument to pass to `liquidate` to get exactly this: `repaidShares` (all the borrow shares, which the
   * collateral covers; or, without collateral, the shares that realize the bad debt) or `seizedAssets` (all the
   * collateral; the rest of the debt becomes bad debt). Nothing to liquidate when both amounts are 0.
   */
  by: 'repaidShares' | 'seizedAssets'
}

/**
 * The largest liquidation `liquidate` accepts for this position, ignoring the health check
 * (see {@link isHealthy}): with B the borrow shares and C the collateral, let sB = seizedAssetsForRepaidShares(B).
 * - sB ≤ C: liquidate(repaidShares = B) seizes sB; no larger seizure is accepted, since any s > sB costs
 *   more than B shares (the Galois connection of {@link seizedAssetsForRepaidShares}).
 * - sB > C > 0: liquidate(seizedAssets = C) repays repaidSharesForSeizedAssets(C) ≤ B shares (no underflow of
 *   `position.borrowShares`); the collateral reaches 0 and the remaining shares are realized as bad debt.
 *   (Passing repaidShares instead would cost more shares for the same C.)
 * - sB > C = 0: liquidate(repaidShares = repaidSharesForSeizedAssets(1) − 1) seizes nothing and realizes the bad
 *   debt; when that is 0 shares, nothing can be liquidated (`repaidShares = 0`, `by: 'repaidShares'`).
 *
 * So seizedAssets = min(C, sB), exactly. A position without borrow shares gives zeros; at a zero price the
 * `repaidShares` path divides by zero and `seizedAssets = C` repays 0 shares.
 * Mirrors `src/Morpho.sol` `liquidate` (the `-=` on `borrowShares` and `collateral`).
 *
 * @param market after interest accrual. @param price oracle price, 1e36-scaled. @param lltv WAD, < 1e18.
 */
export function maxLiquidation(position: MorphoPosition, market: MorphoMarket, price: bigint, lltv: bigint): MorphoMaxLiquidation {
  checkMarket(market)
  checkPosition(position, market)
  checkPrice(price)
  return maxLiquidationOf(position, market, price, liquidationIncentiveFactor(lltv))
}

/** {@link maxLiquidation} without input checks, with the LIF given. */
function maxLiquidationOf(position: MorphoPosition, market: MorphoMarket, price: bigint, lif: bigint): MorphoMaxLiquidation {
  if (position.borrowShares === 0n) return { seizedAssets: 0n, repaidShares: 0n, by: 'repaidShares' }
  // A zero price makes the repaidShares path divide by zero; the seizedAssets path still takes everything.
  if (price === 0n) {
    return position.collateral > 0n
      ? { seizedAssets: position.collateral, repaidShares: 0n, by: 'seizedAssets' }
      : { seizedAssets: 0n, repaidShares: 0n, by: 'repaidShares' }
  }
  const seizedForAll = seizedFor(position.borrowShares, market, price, lif)
  if (seizedForAll <= position.collateral) {
    return { seizedAssets: seizedForAll, repaidShares: position.borrowShares, by: 'repaidShares' }
  }
  if (position.collateral > 0n) {
    return {
      seizedAssets: position.collateral,
      repaidShares: repaidFor(position.collateral, market, price, lif),
      by: 'seizedAssets',
    }
  }
  // No collateral left: `seizedAssets = 0` is "inconsistent input", but repaying the most shares that still seize
  // 0 collateral (repaidSharesForSeizedAssets(1) − 1, by the Galois connection) is accepted and realizes the bad debt.
  return { seizedAssets: 0n, repaidShares: repaidFor(1n, market, price, lif) - 1n, by: 'repaidShares' }
}

/**
 * The collateral seizable from the whole position: min(collateral, seizedAssetsForRepaidShares(borrowShares)),
 * the largest `seizedAssets` that `liquidate` accepts without underflow (see {@link maxLiquidation}).
 * Collateral base units. Does not check health: a healthy position cannot be liquidated at all.
 * Mirrors `src/Morpho.sol` `liquidate`.
 *
 * @param price oracle price, 1e36-scaled. @param lltv WAD, < 1e18.
 */
export function maxSeizableCollateral(position: MorphoPosition, market: MorphoMarket, price: bigint, lltv: bigint): bigint {
  return maxLiquidation(position, market, price, lltv).seizedAssets
}

/** Result of {@link simulateLiquidation}: the values `liquidate` returns and emits, and the new state. */
export type MorphoLiquidationResult = {
  /** Collateral base units sent to the liquidator. */
  seizedAssets: bigint
  repaidShares: bigint
  /** Loan-token base units pulled from the liquidator: repaidShares.toAssetsUp(...). */
  repaidAssets: bigint
  /** Loan-token base units written off (collateral reached 0 with shares left). */
  badDebtAssets: bigint
  badDebtShares: bigint
  position: MorphoPosition
  market: MorphoMarket
}

/**
 * Simulates `Morpho.liquidate(marketParams, borrower, seizedAssets, repaidShares, data)` on an already
 * accrued market (call {@link accrueInterest} first, as `liquidate` does), with the same checks, the same
 * rounding, the bad-debt realization when the collateral reaches 0, and the same reverts.
 * Exactly one of `seizedAssets` and `repaidShares` must be non-zero. Returns new objects; inputs are not modified.
 *
 * Mirrors `src/Morpho.sol` `liquidate`.
 *
 * @param price oracle price, 1e36-scaled. @param lltv WAD, < 1e18.
 * @throws RiskRevertError with the contract's reason: "market not created", "inconsistent input",
 *   "position is healthy", or an arithmetic underflow (more shares or collateral than the position has).
 * @throws RiskInputError on negative inputs.
 */
export function simulateLiquidation(
  position: MorphoPosition,
  market: MorphoMarket,
  price: bigint,
  lltv: bigint,
  amounts: { seizedAssets: bigint; repaidShares?: 0n } | { seizedAssets?: 0n; repaidShares: bigint },
): MorphoLiquidationResult {
  return simulateLiquidationWith(position, market, price, lltv, amounts)
}

/**
 * What a caller of {@link simulateLiquidation} may already know about the position and its market, exactly as these
 * functions return them: `maxBorrow(position, price, lltv)`, `borrowedAssets(position, market)` and
 * `liquidationIncentiveFactor(lltv)`.
 */
export type MorphoLiquidationKnown = { maxBorrow: bigint; borrowed: bigint; lif: bigint }

/**
 * {@link simulateLiquidation} that reuses `known` values instead of computing them again: the same checks, the same
 * reverts and the same result (when `known` holds what its functions return). For planners that evaluate a position
 * before liquidating it. With `known`, the returned `position` and `market` carry exactly the `MorphoPosition` and
 * `MorphoMarket` fields (no other field of the inputs is copied).
 */
export function simulateLiquidationWith(
  position: MorphoPosition,
  market: MorphoMarket,
  price: bigint,
  lltv: bigint,
  amounts: { seizedAssets: bigint; repaidShares?: 0n } | { seizedAssets?: 0n; repaidShares: bigint },
  known?: MorphoLiquidationKnown,
): MorphoLiquidationResult {
  const source = 'Morpho.liquidate'
  let seizedAssets = amounts.seizedAssets ?? 0n
  let repaidShares = amounts.repaidShares ?? 0n
  assertNonNegative(seizedAssets, 'seizedAssets')
  assertNonNegative(repaidShares, 'repaidShares')
  checkMarket(market)
  checkPosition(position, market)
  checkPrice(price)
  checkLltv(lltv)
  if (market.lastUpdate === 0n) throw new RiskRevertError('market not created', source)
  if ((seizedAssets === 0n) === (repaidShares === 0n)) throw new RiskRevertError('inconsistent input', source)

  // 4-argument _isHealthy (no early return on zero shares; same verdict since borrowed is then 0).
  if ((known ? known.maxBorrow : maxBorrow(position, price, lltv)) >= (known ? known.borrowed : borrowedAssets(position, market))) {
    throw new RiskRevertError('position is healthy', source)
  }
  // The liquidation incentive factor is min(maxLiquidationIncentiveFactor, 1/(1 - cursor*(1 - lltv))).
  const lif = known ? known.lif : lifOf(lltv)
  if (seizedAssets > 0n) repaidShares = repaidFor(seizedAssets, market, price, lif)
  else seizedAssets = seizedFor(repaidShares, market, price, lif)

  const repaidAssets = toAssetsUp(repaidShares, market.totalBorrowAssets, market.totalBorrowShares)
  // Same order of checks as the contract: toUint128, then the checked subtractions.
  if (repaidShares > MAX_UINT128) throw new RiskRevertError('max uint128 exceeded', source)
  if (repaidShares > position.borrowShares) {
    throw new RiskRevertError('arithmetic underflow: repaidShares > position.borrowShares (panic 0x11)', source)
  }
  let borrowShares = position.borrowShares - repaidShares
  let totalBorrowShares = market.totalBorrowShares - repaidShares
  let totalBorrowAssets = zeroFloorSub(market.totalBorrowAssets, repaidAssets)
  if (seizedAssets > MAX_UINT128) throw new RiskRevertError('max uint128 exceeded', source)
  if (seizedAssets > position.collateral) {
    throw new RiskRevertError('arithmetic underflow: seizedAssets > position.collateral (panic 0x11)', source)
  }
  const collateral = position.collateral - seizedAssets
  let totalSupplyAssets = market.totalSupplyAssets

  let badDebtShares = 0n
  let badDebtAssets = 0n
  if (collateral === 0n) {
    badDebtShares = borrowShares
    badDebtAssets = min(totalBorrowAssets, toAssetsUp(badDebtShares, totalBorrowAssets, totalBorrowShares))
    totalBorrowAssets -= badDebtAssets
    if (badDebtAssets > totalSupplyAssets) {
      throw new RiskRevertError('arithmetic underflow: bad debt > totalSupplyAssets (panic 0x11)', source)
    }
    totalSupplyAssets -= badDebtAssets
    totalBorrowShares -= badDebtShares
    borrowShares = 0n
  }
  return {
    seizedAssets,
    repaidShares,
    repaidAssets,
    badDebtAssets,
    badDebtShares,
    // With `known` (planners), the new state is built field by field (exactly the MorphoPosition / MorphoMarket fields,
    // in their order), which is much cheaper than a spread.
    position: known ? { supplyShares: position.supplyShares, borrowShares, collateral } : { ...position, borrowShares, collateral },
    market: known
      ? {
          totalSupplyAssets,
          totalSupplyShares: market.totalSupplyShares,
          totalBorrowAssets,
          totalBorrowShares,
          lastUpdate: market.lastUpdate,
          fee: market.fee,
        }
      : { ...market, totalBorrowAssets, totalBorrowShares, totalSupplyAssets },
  }
}

// ───────────────────────────── one-call evaluation ─────────────────────────────

/** Result of {@link evaluateMorphoPosition}. */
export type MorphoPositionEvaluation = {
  /** Borrowed assets as `_isHealthy` counts them (rounded up), loan-token base units. */
  borrowAssets: bigint
  /** Collateral value times LLTV (rounded down), loan-token base units. */
  maxBorrow: bigint
  /** WAD; MAX_UINT256 without debt. */
  healthFactor: bigint
  /** `!_isHealthy`: `liquidate` would not revert with "position is healthy". */
  liquidatable: boolean
  /** Collateral base units; 0 when not liquidatable. */
  maxSeizableCollateral: bigint
  /** Borrow shares repaid when seizing `maxSeizableCollateral`; 0 when not liquidatable. */
  maxRepaidShares: bigint
  /** WAD. */
  liquidationIncentiveFactor: bigint
}

/**
 * Everything a reader or the planner needs about one Morpho Blue position, in one pass:
 * borrowed assets and max borrow as in `_isHealthy`, the health factor, the liquidatable verdict
 * (from `_isHealthy`, not from the health factor), the largest accepted liquidation ({@link maxLiquidation})
 * and the market's liquidation incentive factor. Mirrors `src/Morpho.sol` `_isHealthy` and `liquidate`.
 *
 * @param market after interest accrual to the block being evaluated.
 * @param price oracle price, 1e36-scaled. @param lltv WAD, < 1e18.
 * @throws RiskInputError on negative inputs or an LLTV ≥ 1e18; RiskRevertError when collateral × price overflows
 *   uint256 for a position with debt (the contract's `_isHealthy`, hence `liquidate`, reverts too).
 */
export function evaluateMorphoPosition(
  position: MorphoPosition,
  market: MorphoMarket,
  price: bigint,
  lltv: bigint,
): MorphoPositionEvaluation {
  checkMarket(market)
  checkPosition(position, market)
  checkPrice(price)
  const lif = liquidationIncentiveFactor(lltv)
  if (position.borrowShares === 0n) {
    return {
      borrowAssets: 0n,
      // Informational only (the contract returns before computing it): unchecked, so it never reverts.
      maxBorrow: (((position.collateral * price) / ORACLE_PRICE_SCALE) * lltv) / WAD,
      healthFactor: MAX_UINT256,
      liquidatable: false,
      maxSeizableCollateral: 0n,
      maxRepaidShares: 0n,
      liquidationIncentiveFactor: lif,
    }
  }
  const borrowAssets = borrowedAssets(position, market)
  const maxBorrowAssets = maxBorrow(position, price, lltv)
  const liquidatable = !(maxBorrowAssets >= borrowAssets)
  let maxSeizable = 0n
  let maxRepaidShares = 0n
  if (liquidatable) {
    const m = maxLiquidationOf(position, market, price, lif)
    maxSeizable = m.seizedAssets
    maxRepaidShares = m.repaidShares
  }
  return {
    borrowAssets,
    maxBorrow: maxBorrowAssets,
    healthFactor: healthFactorOf(maxBorrowAssets, borrowAssets),
    liquidatable,
    maxSeizableCollateral: maxSeizable,
    maxRepaidShares,
    liquidationIncentiveFactor: lif,
  }
}
