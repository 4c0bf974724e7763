/**
 * Aave V3 risk math: health factor, close factor and the collateral seized by `liquidationCall`,
 * mirrored line by line (same operations, same rounding) in bigint.
 *
 * Sources mirrored (`@aave/core-v3` 1.19.3, i.e. Aave V3.0.x liquidation rules: close factor 50%, or 100% at
 * or below health factor 0.95; no minimum-leftover ("dust") rule):
 * - `contracts/protocol/libraries/logic/LiquidationLogic.sol` (`executeLiquidationCall`, `_calculateDebt`,
 *   `_calculateAvailableCollateralToLiquidate`, constants);
 * - `contracts/protocol/libraries/logic/GenericLogic.sol` (`calculateUserAccountData`);
 * - `contracts/protocol/libraries/logic/ValidationLogic.sol` (`validateLiquidationCall`);
 * - `contracts/protocol/libraries/math/PercentageMath.sol`, `WadRayMath.sol` (round half up);
 * - `contracts/protocol/libraries/configuration/ReserveConfiguration.sol` (bit layout).
 *
 * Units: token amounts in base units; prices and account totals in the oracle's base currency
 * (USD with 8 decimals on Aave V3 markets); health factor WAD (1e18); percentages in bps (1e4 = 100%).
 */
import {
  MAX_UINT256,
  RiskInputError,
  RiskRevertError,
  WAD,
  assertNonNegative,
  assertPositive,
} from './math.js'

// ───────────────────────────── constants ─────────────────────────────

/** 1e4 = 100.00% (`PercentageMath.PERCENTAGE_FACTOR`). */
export const PERCENTAGE_FACTOR = 10_000n
/** 0.5e4 (`PercentageMath.HALF_PERCENTAGE_FACTOR`). */
export const HALF_PERCENTAGE_FACTOR = 5_000n
/** 0.5e18 (`WadRayMath.HALF_WAD`). */
export const HALF_WAD = WAD / 2n
/** 1e27 (`WadRayMath.RAY`). */
export const RAY = 10n ** 27n
/** 0.5e27 (`WadRayMath.HALF_RAY`). */
export const HALF_RAY = RAY / 2n
/** Close factor above `CLOSE_FACTOR_HF_THRESHOLD`, bps: 50% (`LiquidationLogic.DEFAULT_LIQUIDATION_CLOSE_FACTOR`). */
export const DEFAULT_LIQUIDATION_CLOSE_FACTOR = 5_000n
/** Close factor at or below `CLOSE_FACTOR_HF_THRESHOLD`, bps: 100% (`LiquidationLogic.MAX_LIQUIDATION_CLOSE_FACTOR`). */
export const MAX_LIQUIDATION_CLOSE_FACTOR = 10_000n
/** 0.95e18 (`LiquidationLogic.CLOSE_FACTOR_HF_THRESHOLD`). */
export const CLOSE_FACTOR_HF_THRESHOLD = 95n * 10n ** 16n
/** 1e18: liquidation needs health factor < this (`ValidationLogic.HEALTH_FACTOR_LIQUIDATION_THRESHOLD`). */
export const HEALTH_FACTOR_LIQUIDATION_THRESHOLD = WAD
/** 0.95e18 (`ValidationLogic.MINIMUM_HEALTH_FACTOR_LIQUIDATION_THRESHOLD`, price-oracle-sentinel bypass). */
export const MINIMUM_HEALTH_FACTOR_LIQUIDATION_THRESHOLD = 95n * 10n ** 16n

// ───────────────────────────── PercentageMath / WadRayMath ─────────────────────────────

/**
 * value × percentage / 1e4, rounded half up. Mirrors `PercentageMath.percentMul`, including its overflow revert.
 * @throws RiskRevertError when value × percentage + 0.5e4 overflows uint256.
 */
export function percentMul(value: bigint, percentage: bigint): bigint {
  const n = value * percentage + HALF_PERCENTAGE_FACTOR
  // For percentage > 0, the contract's test value > (MAX − HALF)/percentage is n > MAX (integers): no division.
  if (percentage > 0n ? n > MAX_UINT256 : percentage !== 0n && value > (MAX_UINT256 - HALF_PERCENTAGE_FACTOR) / percentage) {
    throw new RiskRevertError('uint256 overflow', 'PercentageMath.percentMul')
  }
  return n / PERCENTAGE_FACTOR
}

/**
 * value × 1e4 / percentage, rounded half up. Mirrors `PercentageMath.percentDiv`, including its reverts.
 * @throws RiskRevertError when percentage = 0 or on uint256 overflow.
 */
export function percentDiv(value: bigint, percentage: bigint): bigint {
  const half = percentage / 2n
  const n = value * PERCENTAGE_FACTOR + half
  // For 0 < percentage ≤ 2·MAX, the contract's test value > (MAX − percentage/2)/1e4 is n > MAX (integers).
  const overflow = percentage > 0n && half <= MAX_UINT256 ? n > MAX_UINT256 : value > (MAX_UINT256 - half) / PERCENTAGE_FACTOR
  if (percentage === 0n || overflow) {
    throw new RiskRevertError(percentage === 0n ? 'division by zero' : 'uint256 overflow', 'PercentageMath.percentDiv')
  }
  return n / percentage
}

/** a × b / WAD, rounded half up. Mirrors `WadRayMath.wadMul`. @throws RiskRevertError on uint256 overflow. */
export function wadMul(a: bigint, b: bigint): bigint {
  if (b !== 0n && a > (MAX_UINT256 - HALF_WAD) / b) throw new RiskRevertError('uint256 overflow', 'WadRayMath.wadMul')
  return (a * b + HALF_WAD) / WAD
}

/** a × WAD / b, rounded half up. Mirrors `WadRayMath.wadDiv`. @throws RiskRevertError when b = 0 or on overflow. */
export function wadDiv(a: bigint, b: bigint): bigint {
  const half = b / 2n
  const n = a * WAD + half
  // For b/2 ≤ MAX, the contract's test a > (MAX − b/2)/WAD is n > MAX (integers): no extra division.
  const overflow = half <= MAX_UINT256 ? n > MAX_UINT256 : a > (MAX_UINT256 - half) / WAD
  if (b === 0n || overflow) {
    throw new RiskRevertError(b === 0n ? 'division by zero' : 'uint256 overflow', 'WadRayMath.wadDiv')
  }
  return n / b
}

/** a × b / RAY, rounded half up. Mirrors `WadRayMath.rayMul`. @throws RiskRevertError on uint256 overflow. */
export function rayMul(a: bigint, b: bigint): bigint {
  if (b !== 0n && a > (MAX_UINT256 - HALF_RAY) / b) throw new RiskRevertError('uint256 overflow', 'WadRayMath.rayMul')
  return (a * b + HALF_RAY) / RAY
}

/** a × RAY / b, rounded half up. Mirrors `WadRayMath.rayDiv`. @throws RiskRevertError when b = 0 or on overflow. */
export function rayDiv(a: bigint, b: bigint): bigint {
  if (b === 0n || a > (MAX_UINT256 - b / 2n) / RAY) {
    throw new RiskRevertError(b === 0n ? 'division by zero' : 'uint256 overflow', 'WadRayMath.rayDiv')
  }
  return (a * RAY + b / 2n) / b
}

// ───────────────────────────── health and close factor ─────────────────────────────

/**
 * Health factor from account totals, WAD:
 * totalCollateralInBaseCurrency.percentMul(avgLiquidationThreshold).wadDiv(totalDebtInBaseCurrency),
 * or MAX_UINT256 without debt. Mirrors `GenericLogic.calculateUserAccountData` (its last step). The inputs are the
 * first, second and fourth values `Pool.getUserAccountData` returns.
 *
 * @param totalCollateralBase base currency (USD 1e8 on Aave V3). @param totalDebtBase base currency.
 * @param avgLiquidationThresholdBps weighted average liquidation threshold, bps (e.g. 8250).
 * @throws RiskInputError on negative inputs.
 */
export function healthFactorFromTotals(totalCollateralBase: bigint, totalDebtBase: bigint, avgLiquidationThresholdBps: bigint): bigint {
  assertNonNegative(totalCollateralBase, 'totalCollateralBase')
  assertNonNegative(totalDebtBase, 'totalDebtBase')
  assertNonNegative(avgLiquidationThresholdBps, 'avgLiquidationThresholdBps')
  if (totalDebtBase === 0n) return MAX_UINT256
  return wadDiv(percentMul(totalCollateralBase, avgLiquidationThresholdBps), totalDebtBase)
}

/**
 * Whether `liquidationCall` passes the health check: healthFactor < 1e18.
 * Mirrors `ValidationLogic.validateLiquidationCall` (`HEALTH_FACTOR_NOT_BELOW_THRESHOLD`, error '45').
 *
 * @param healthFactor WAD.
 */
export function isLiquidatable(healthFactor: bigint): boolean {
  assertNonNegative(healthFactor, 'healthFactor')
  return healthFactor < HEALTH_FACTOR_LIQUIDATION_THRESHOLD
}

/**
 * Close factor, bps: 5000 (50%) when healthFactor > 0.95e18, else 10000 (100%); 0.95e18 itself gets 100%.
 * Mirrors `LiquidationLogic._calculateDebt`.
 *
 * @param healthFactor WAD.
 */
export function closeFactorBps(healthFactor: bigint): bigint {
  assertNonNegative(healthFactor, 'healthFactor')
  return healthFactor > CLOSE_FACTOR_HF_THRESHOLD ? DEFAULT_LIQUIDATION_CLOSE_FACTOR : MAX_LIQUIDATION_CLOSE_FACTOR
}

/**
 * The most debt of one reserve a liquidation may cover: userTotalDebt.percentMul(closeFactor) (rounded half up).
 * Mirrors `LiquidationLogic._calculateDebt` (`maxLiquidatableDebt`).
 *
 * @param userDebt the user's stable + variable debt of the debt reserve, debt-token base units.
 * @param healthFactor WAD.
 */
export function maxDebtToCover(userDebt: bigint, healthFactor: bigint): bigint {
  assertNonNegative(userDebt, 'userDebt')
  return percentMul(userDebt, closeFactorBps(healthFactor))
}

/**
 * The debt actually covered before the collateral cap: min(debtToCover, maxDebtToCover(userDebt, healthFactor)).
 * Mirrors `LiquidationLogic._calculateDebt` (`actualDebtToLiquidate`).
 *
 * @param debtToCover what the liquidator asks for (type(uint256).max for "as much as allowed").
 */
export function actualDebtToLiquidate(userDebt: bigint, healthFactor: bigint, debtToCover: bigint): bigint {
  assertNonNegative(debtToCover, 'debtToCover')
  const maxLiquidatableDebt = maxDebtToCover(userDebt, healthFactor)
  return debtToCover > maxLiquidatableDebt ? maxLiquidatableDebt : debtToCover
}

// ───────────────────────────── collateral to seize ─────────────────────────────

/** Parameters of {@link collateralToSeize}. */
export type AaveCollateralToSeizeParameters = {
  /** Debt to cover, debt-token base units (after the close factor: see {@link actualDebtToLiquidate}). */
  debtToCover: bigint
  /** Oracle price of the debt asset, base currency (USD 1e8). */
  debtAssetPrice: bigint
  /** Decimals of the debt asset (0..255). */
  debtAssetDecimals: number | bigint
  /** Oracle price of the collateral asset, base currency (USD 1e8). */
  collateralPrice: bigint
  /** Decimals of the collateral asset (0..255). */
  collateralDecimals: number | bigint
  /** The user's aToken balance of the collateral, collateral base units. */
  userCollateralBalance: bigint
  /** Liquidation bonus, bps, ≥ 10000 (e.g. 10500 = 5% bonus); the eMode category's when the user is in it. */
  liquidationBonusBps: bigint
  /** Share of the bonus paid to the treasury, bps, 0..10000. */
  liquidationProtocolFeeBps: bigint
}

/** Result of {@link collateralToSeize}, the three values `_calculateAvailableCollateralToLiquidate` returns. */
export type AaveCollateralToSeizeReturnType = {
  /** Collateral sent to the liquidator (protocol fee already taken off), collateral base units. */
  collateralAmount: bigint
  /** Debt the liquidator repays, debt-token base units (≤ debtToCover). */
  debtAmountNeeded: bigint
  /** Collateral sent to the treasury, collateral base units. */
  protocolFee: bigint
}

function toDecimals(value: number | bigint, field: string): bigint {
  const d = typeof value === 'bigint' ? value : Number.isInteger(value) ? BigInt(value) : -1n
  if (d < 0n || d > 255n) throw new RiskInputError(field, 'must be an integer in 0..255', value)
  return d
}

/** 10^0 … 10^36, the units of the usual decimals (computed once). */
const POW10: readonly bigint[] = Array.from({ length: 37 }, (_, i) => 10n ** BigInt(i))

/** 10^decimals for decimals in 0..255; {@link toDecimals}'s error otherwise. */
function unitOf(value: number | bigint, field: string): bigint {
  if (typeof value === 'number' && value >= 0 && value <= 36 && Number.isInteger(value)) return POW10[value]
  return 10n ** toDecimals(value, field)
}

/**
 * The collateral a `liquidationCall` seizes for `debtToCover`, and the debt actually repaid: the base collateral
 * (debtAssetPrice × debtToCover × 10^collateralDecimals / (collateralPrice × 10^debtDecimals), rounded down) plus the
 * liquidation bonus (percentMul); when that exceeds the user's collateral balance, all of the balance is taken and the
 * debt is scaled back (percentDiv); the protocol fee is `protocolFeeBps` of the bonus part and is taken off the
 * liquidator's share. Mirrors `LiquidationLogic._calculateAvailableCollateralToLiquidate` line by line.
 *
 * The sum `collateralAmount + protocolFee` is what leaves the user's balance (≤ userCollateralBalance).
 *
 * @throws RiskInputError on negative amounts, zero prices, decimals outside 0..255, a bonus < 10000 bps or a fee > 10000 bps.
 */
export function collateralToSeize(params: AaveCollateralToSeizeParameters): AaveCollateralToSeizeReturnType {
  const { debtToCover, debtAssetPrice, collateralPrice, userCollateralBalance } = params
  const liquidationBonus = params.liquidationBonusBps
  const liquidationProtocolFeePercentage = params.liquidationProtocolFeeBps
  assertNonNegative(debtToCover, 'debtToCover')
  assertPositive(debtAssetPrice, 'debtAssetPrice')
  assertPositive(collateralPrice, 'collateralPrice')
  assertNonNegative(userCollateralBalance, 'userCollateralBalance')
  assertNonNegative(liquidationBonus, 'liquidationBonusBps')
  assertNonNegative(liquidationProtocolFeePercentage, 'liquidationProtocolFeeBps')
  if (liquidationBonus < PERCENTAGE_FACTOR) {
    throw new RiskInputError('liquidationBonusBps', 'must be ≥ 10000 (100% plus the bonus)', liquidationBonus)
  }
  if (liquidationProtocolFeePercentage > PERCENTAGE_FACTOR) {
    throw new RiskInputError('liquidationProtocolFeeBps', 'must be ≤ 10000 (PoolConfigurator.setLiquidationProtocolFee)', liquidationProtocolFeePercentage)
  }
  const collateralAssetUnit = unitOf(params.collateralDecimals, 'collateralDecimals')
  const debtAssetUnit = unitOf(params.debtAssetDecimals, 'debtAssetDecimals')

  // This is the base collateral to liquidate based on the given debt to cover
  const baseCollateral = (debtAssetPrice * debtToCover * collateralAssetUnit) / (collateralPrice * debtAssetUnit)
  const maxCollateralToLiquidate = percentMul(baseCollateral, liquidationBonus)

  let collateralAmount: bigint
  let debtAmountNeeded: bigint
  if (maxCollateralToLiquidate > userCollateralBalance) {
    collateralAmount = userCollateralBalance
    debtAmountNeeded = percentDiv(
      (collateralPrice * collateralAmount * debtAssetUnit) / (debtAssetPrice * collateralAssetUnit),
      liquidationBonus,
    )
  } else {
    collateralAmount = maxCollateralToLiquidate
    debtAmountNeeded = debtToCover
  }

  if (liquidationProtocolFeePercentage !== 0n) {
    const bonusCollateral = collateralAmount - percentDiv(collateralAmount, liquidationBonus)
    const liquidationProtocolFee = percentMul(bonusCollateral, liquidationProtocolFeePercentage)
    return { collateralAmount: collateralAmount - liquidationProtocolFee, debtAmountNeeded, protocolFee: liquidationProtocolFee }
  }
  return { collateralAmount, debtAmountNeeded, protocolFee: 0n }
}

// ───────────────────────────── liquidationCall amounts ─────────────────────────────

/** Parameters of {@link liquidationCallAmounts}. */
export type AaveLiquidationCallParameters = Omit<AaveCollateralToSeizeParameters, 'debtToCover'> & {
  /** The user's health factor, WAD (`getUserAccountData`, after the debt reserve's state update). */
  healthFactor: bigint
  /** The user's stable + variable debt of the debt reserve, debt-token base units. */
  userTotalDebt: bigint
  /** What the liquidator asks to cover; type(uint256).max (MAX_UINT256) for the most allowed. */
  debtToCover: bigint
}

/** Result of {@link liquidationCallAmounts}. */
export type AaveLiquidationCallReturnType = AaveCollateralToSeizeReturnType & {
  /** Close factor applied, bps. */
  closeFactorBps: bigint
  /** Debt cap from the close factor, debt-token base units. */
  maxLiquidatableDebt: bigint
}

/**
 * The amounts of one `Pool.liquidationCall(collateral, debt, user, debtToCover, receiveAToken)`, from the user's health
 * factor and debt: the health check, the close factor, then the collateral and the debt repaid.
 * Mirrors `LiquidationLogic.executeLiquidationCall` (`_calculateDebt`, `validateLiquidationCall`'s health-factor and
 * debt checks, `_calculateAvailableCollateralToLiquidate`). Reserve flags (active, paused, collateral enabled) and the
 * price-oracle sentinel are the caller's to check.
 *
 * @throws RiskRevertError "45" (HEALTH_FACTOR_NOT_BELOW_THRESHOLD) when healthFactor ≥ 1e18, and
 *   "47" (SPECIFIED_CURRENCY_NOT_BORROWED_BY_USER) when userTotalDebt = 0.
 * @throws RiskInputError as {@link collateralToSeize}.
 */
export function liquidationCallAmounts(params: AaveLiquidationCallParameters): AaveLiquidationCallReturnType {
  const { healthFactor, userTotalDebt, debtToCover } = params
  assertNonNegative(userTotalDebt, 'userTotalDebt')
  const cf = closeFactorBps(healthFactor)
  const maxLiquidatableDebt = percentMul(userTotalDebt, cf)
  const debt = actualDebtToLiquidate(userTotalDebt, healthFactor, debtToCover)
  if (!isLiquidatable(healthFactor)) {
    throw new RiskRevertError('45 (HEALTH_FACTOR_NOT_BELOW_THRESHOLD)', 'ValidationLogic.validateLiquidationCall')
  }
  if (userTotalDebt === 0n) {
    throw new RiskRevertError('47 (SPECIFIED_CURRENCY_NOT_BORROWED_BY_USER)', 'ValidationLogic.validateLiquidationCall')
  }
  const seized = collateralToSeize({ ...params, debtToCover: debt })
  return { ...seized, closeFactorBps: cf, maxLiquidatableDebt }
}

// ───────────────────────────── reserve configuration ─────────────────────────────

/** The fields of `ReserveConfigurationMap.data` that the risk math uses. Percentages in bps. */
export type AaveReserveConfiguration = {
  ltvBps: bigint
  liquidationThresholdBps: bigint
  /** e.g. 10500 = 5% bonus; 0 when the asset is not collateral. */
  liquidationBonusBps: bigint
  decimals: number
  active: boolean
  frozen: boolean
  borrowingEnabled: boolean
  paused: boolean
  reserveFactorBps: bigint
  liquidationProtocolFeeBps: bigint
  eModeCategory: number
}

const bits = (data: bigint, start: bigint, width: bigint): bigint => (data >> start) & ((1n << width) - 1n)

/**
 * Decodes a reserve's configuration bitmap (`Pool.getConfiguration(asset).data`).
 * Mirrors `ReserveConfiguration.getParams`, `getFlags`, `getLiquidationProtocolFee` (bit positions 0, 16, 32, 48,
 * 56–60, 64, 152, 168).
 *
 * @throws RiskInputError when data is negative or wider than 256 bits.
 */
export function decodeReserveConfiguration(data: bigint): AaveReserveConfiguration {
  assertNonNegative(data, 'data')
  if (data > MAX_UINT256) throw new RiskInputError('data', 'must fit in uint256', data)
  return {
    ltvBps: bits(data, 0n, 16n),
    liquidationThresholdBps: bits(data, 16n, 16n),
    liquidationBonusBps: bits(data, 32n, 16n),
    decimals: Number(bits(data, 48n, 8n)),
    active: bits(data, 56n, 1n) === 1n,
    frozen: bits(data, 57n, 1n) === 1n,
    borrowingEnabled: bits(data, 58n, 1n) === 1n,
    paused: bits(data, 60n, 1n) === 1n,
    reserveFactorBps: bits(data, 64n, 16n),
    liquidationProtocolFeeBps: bits(data, 152n, 16n),
    eModeCategory: Number(bits(data, 168n, 8n)),
  }
}
