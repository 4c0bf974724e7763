/**
 * Partial liquidation per protocol: repay just enough to bring an account to the target health factor, within the
 * protocol's own rules; where that is impossible, take the whole position (Morpho realizes the bad debt).
 *
 * All amounts are computed with the protocol math of `protocol/risk` (which mirrors the contracts), so a leg never
 * asks for more than the contract accepts:
 * - Morpho Blue `liquidate` (`src/Morpho.sol`): no close factor; seizedAssets = repaidAssets·LIF/price;
 *   when the collateral reaches 0 the remaining borrow shares are written off as bad debt.
 * - Aave V3 `LiquidationLogic.executeLiquidationCall`: close factor 50 % (100 % below HF 0.95),
 *   `_calculateAvailableCollateralToLiquidate` for the collateral (bonus, protocol fee, balance cap).
 */
import { MAX_UINT256, WAD, mulDivDown, toSharesUp } from '../risk/math.js'
import {
  ORACLE_PRICE_SCALE,
  borrowedAssets,
  healthFactor as morphoHealthFactor,
  liquidationIncentiveFactor,
  maxBorrow,
  maxLiquidation,
  seizedAssetsForRepaidSharesWithLif,
  simulateLiquidationWith,
  type MorphoLiquidationKnown,
  type MorphoMarket,
  type MorphoPosition,
} from '../risk/morpho.js'
import { collateralToSeize, healthFactorFromTotals, maxDebtToCover, percentMul, type AaveCollateralToSeizeParameters } from '../risk/aave.js'
import { divUp } from './fixed.js'
import type { AaveReserveInput } from './types.js'

/** What one liquidation does (protocol-agnostic view used by the planner). */
export type LiquidationResult = {
  mode: 'repaidShares' | 'seizedAssets' | 'debtToCover'
  repaidShares: bigint
  repaidAssets: bigint
  /** Aave `liquidationCall` argument; 0 for Morpho. */
  debtToCover: bigint
  seizedAssets: bigint
  badDebtAssets: bigint
  incentive: bigint
  outcome: 'restored' | 'closed' | 'badDebt' | 'capped'
  healthFactorBefore: bigint
  healthFactorAfter: bigint
}

// ───────────────────────────── Morpho Blue ─────────────────────────────

/** A Morpho market state in the shape `protocol/risk/morpho.ts` takes (fields the liquidation does not read are 0/1). */
export function morphoMarketState(totalBorrowAssets: bigint, totalBorrowShares: bigint, totalSupplyAssets: bigint): MorphoMarket {
  return { totalSupplyAssets, totalSupplyShares: 0n, totalBorrowAssets, totalBorrowShares, lastUpdate: 1n, fee: 0n }
}

/**
 * The Morpho Blue liquidation that restores the position to `target`, or takes it whole.
 *
 * With V = collateral·price/1e36 (loan units), B the borrowed assets, l = LLTV, F = LIF (all WAD), repaying r seizes
 * r·F of value, and (V − r·F)·l = target·(B − r) gives r = (target·B − V·l) / (target − F·l) (> 0 since F·l < 1 for
 * every LLTV < 1). r is converted to shares rounded up and checked with the exact `liquidate` math; a short fall from
 * rounding is bumped. When r reaches the debt, all shares are repaid (`closed`); when the collateral cannot cover it,
 * all the collateral is seized (`seizedAssets` mode) and the rest is bad debt (Morpho `liquidate`, bad-debt branch).
 *
 * @param price oracle price, 1e36-scaled. @param lltv WAD. @param target WAD > 1e18.
 * @param known optional `maxBorrow(position, price, lltv)` and `liquidationIncentiveFactor(lltv)` already computed
 *   by the caller (the result is the same; a planner evaluating many positions of one market saves the work).
 * @returns null when the position is healthy (`liquidate` would revert "position is healthy").
 */
export function planMorphoLiquidation(
  position: MorphoPosition,
  market: MorphoMarket,
  price: bigint,
  lltv: bigint,
  target: bigint,
  known?: { maxBorrow: bigint; lif: bigint },
): { result: LiquidationResult; position: MorphoPosition; market: MorphoMarket } | null {
  if (position.borrowShares === 0n) return null
  const borrowed = borrowedAssets(position, market)
  // `known` carries maxBorrow(position, price, lltv) and liquidationIncentiveFactor(lltv), as those functions return them.
  const maxBorrowAssets = known ? known.maxBorrow : maxBorrow(position, price, lltv)
  if (maxBorrowAssets >= borrowed) return null
  // healthFactor = maxBorrow.wDivDown(borrowed), as protocol/risk computes it (borrowed > 0 here).
  const hfBefore = (maxBorrowAssets * WAD) / borrowed
  const lif = known ? known.lif : liquidationIncentiveFactor(lltv)
  const value = mulDivDown(position.collateral, price, ORACLE_PRICE_SCALE)
  const num = target * borrowed - value * lltv
  const den = target - (lif * lltv) / WAD
  const repaid = num <= 0n ? 1n : divUp(num, den)
  const health: MorphoLiquidationKnown = { maxBorrow: maxBorrowAssets, borrowed, lif }

  // Shares for `repaid`, rounded up (SharesMathLib.toSharesUp), then the exact check.
  let shares = toSharesUp(repaid, market.totalBorrowAssets, market.totalBorrowShares)
  for (let attempt = 0; attempt < 12 && shares < position.borrowShares; attempt++) {
    if (seizedAssetsForRepaidSharesWithLif(shares, market, price, lif) > position.collateral) break
    const planned = finishMorpho(position, market, price, lltv, target, hfBefore, health, 'repaidShares', shares)
    if (planned.result.healthFactorAfter >= target) return planned
    const bump = shares / 10_000n
    shares += bump > 0n ? bump : 1n
  }
  const whole = maxLiquidation(position, market, price, lltv)
  return whole.by === 'repaidShares'
    ? finishMorpho(position, market, price, lltv, target, hfBefore, health, 'repaidShares', whole.repaidShares)
    : finishMorpho(position, market, price, lltv, target, hfBefore, health, 'seizedAssets', whole.seizedAssets)
}

/** The exact `liquidate` of {@link planMorphoLiquidation} for `amount` (shares or collateral, per `mode`), and its outcome. */
function finishMorpho(
  position: MorphoPosition,
  market: MorphoMarket,
  price: bigint,
  lltv: bigint,
  target: bigint,
  hfBefore: bigint,
  health: MorphoLiquidationKnown,
  mode: 'repaidShares' | 'seizedAssets',
  amount: bigint,
): { result: LiquidationResult; position: MorphoPosition; market: MorphoMarket } {
  const sim = simulateLiquidationWith(position, market, price, lltv, mode === 'repaidShares' ? { repaidShares: amount } : { seizedAssets: amount }, health)
  const hfAfter = morphoHealthFactor(sim.position, sim.market, price, lltv)
  const seizedValue = mulDivDown(sim.seizedAssets, price, ORACLE_PRICE_SCALE)
  const outcome: LiquidationResult['outcome'] =
    sim.position.borrowShares === 0n ? (sim.badDebtAssets > 0n ? 'badDebt' : 'closed') : hfAfter >= target ? 'restored' : 'capped'
  return {
    result: {
      mode,
      repaidShares: sim.repaidShares,
      repaidAssets: sim.repaidAssets,
      debtToCover: 0n,
      seizedAssets: sim.seizedAssets,
      badDebtAssets: sim.badDebtAssets,
      incentive: seizedValue > sim.repaidAssets ? seizedValue - sim.repaidAssets : 0n,
      outcome,
      healthFactorBefore: hfBefore,
      healthFactorAfter: hfAfter,
    },
    position: sim.position,
    market: sim.market,
  }
}

/**
 * The oracle price (1e36-scaled) below which a Morpho position becomes liquidatable: the least p with
 * collateral·p/1e36·LLTV ≥ borrowed, rounded up (0 without debt; MAX_UINT256 without collateral).
 */
export function morphoLiquidationPrice(position: MorphoPosition, market: MorphoMarket, lltv: bigint): bigint {
  if (position.borrowShares === 0n) return 0n
  if (position.collateral === 0n) return MAX_UINT256
  const borrowed = borrowedAssets(position, market)
  return divUp(borrowed * WAD * ORACLE_PRICE_SCALE, position.collateral * lltv)
}

// ───────────────────────────── Aave V3 ─────────────────────────────

/** An Aave account as the planner tracks it. Balances in base units, prices in base currency (USD 1e8). */
export type AaveAccount = {
  collateral: { asset: string; balance: bigint }[]
  debt: { asset: string; balance: bigint }[]
}

/** Lookups for one Aave pool. */
export type AaveContext = {
  reserves: Map<string, AaveReserveInput>
  price: (asset: string) => bigint
  decimals: (asset: string) => number
  /** 10^decimals. */
  unit: (asset: string) => bigint
}

/**
 * Account totals and health factor as `GenericLogic.calculateUserAccountData` computes them: balances valued at
 * balance·price/10^decimals (rounded down), collateral counted where the liquidation threshold is non-zero, the average
 * threshold weighted by value, HF = totalCollateral.percentMul(avgLT).wadDiv(totalDebt) (`healthFactorFromTotals`).
 */
export function aaveAccountData(account: AaveAccount, ctx: AaveContext): {
  totalCollateralBase: bigint
  totalDebtBase: bigint
  avgLiquidationThresholdBps: bigint
  healthFactor: bigint
} {
  let totalCollateralBase = 0n
  let weighted = 0n
  for (const c of account.collateral) {
    const lt = ctx.reserves.get(c.asset)!.liquidationThresholdBps
    if (lt === 0n || c.balance === 0n) continue
    const base = (c.balance * ctx.price(c.asset)) / ctx.unit(c.asset)
    totalCollateralBase += base
    weighted += base * lt
  }
  let totalDebtBase = 0n
  for (const d of account.debt) {
    if (d.balance === 0n) continue
    totalDebtBase += (d.balance * ctx.price(d.asset)) / ctx.unit(d.asset)
  }
  const avgLiquidationThresholdBps = totalCollateralBase === 0n ? 0n : weighted / totalCollateralBase
  return {
    totalCollateralBase,
    totalDebtBase,
    avgLiquidationThresholdBps,
    healthFactor: healthFactorFromTotals(totalCollateralBase, totalDebtBase, avgLiquidationThresholdBps),
  }
}

/**
 * The (collateral, debt) reserves an Aave liquidation of this account uses: the debt reserve of largest value and the
 * collateral reserve (liquidation threshold > 0) of largest value; ties by symbol. null when either side is empty.
 */
export function aavePair(account: AaveAccount, ctx: AaveContext): { collateral: string; debt: string } | null {
  const collateral = largestEntry(account.collateral, ctx, true)
  const debt = largestEntry(account.debt, ctx, false)
  return collateral && debt ? { collateral, debt } : null
}

/** The asset of largest value among the non-zero `entries` (with a liquidation threshold > 0 when `needLt`); ties: first. */
function largestEntry(entries: { asset: string; balance: bigint }[], ctx: AaveContext, needLt: boolean): string | null {
  let best: string | null = null
  let bestValue = -1n
  let candidates = 0
  for (const e of entries) {
    if (e.balance === 0n) continue
    if (needLt && ctx.reserves.get(e.asset)!.liquidationThresholdBps === 0n) continue
    candidates++
    if (best === null) best = e.asset
  }
  // One candidate (the usual account): it is the largest whatever its value.
  if (candidates <= 1) return best
  best = null
  for (const e of entries) {
    if (e.balance === 0n) continue
    if (needLt && ctx.reserves.get(e.asset)!.liquidationThresholdBps === 0n) continue
    const v = (e.balance * ctx.price(e.asset)) / ctx.unit(e.asset)
    if (v > bestValue) {
      best = e.asset
      bestValue = v
    }
  }
  return best
}

/** collateral price in debt units, 1e36-scaled: pC·10^decD·1e36 / (pD·10^decC). */
export function aaveRefPrice(collateral: string, debt: string, ctx: AaveContext): bigint {
  return (
    (ctx.price(collateral) * ctx.unit(debt) * ORACLE_PRICE_SCALE) / (ctx.price(debt) * ctx.unit(collateral))
  )
}

/**
 * The Aave V3 `liquidationCall` that restores the account to `target`, within the close factor.
 *
 * Repaying debt worth v (base currency) removes v·bonus·LT_C of threshold-weighted collateral, so
 * (C_LT − v·bonus·LT_C) = target·(D − v) gives v = (target·D − C_LT) / (target − bonus·LT_C); v is converted to
 * debt units (rounded up), capped by `maxDebtToCover` (LiquidationLogic `_calculateDebt`), then checked with the
 * exact `_calculateAvailableCollateralToLiquidate` and `calculateUserAccountData`; a short fall from rounding is bumped.
 * Where the close factor, the collateral balance or bonus·LT_C ≥ target forbid restoring, the most allowed is taken
 * (`capped`; Aave V3 leaves any bad debt on the books).
 *
 * @returns null when the account is healthy (`liquidationCall` reverts with error 45) or has nothing to liquidate.
 */
export function planAaveLiquidation(
  account: AaveAccount,
  ctx: AaveContext,
  target: bigint,
  precomputed?: ReturnType<typeof aaveAccountData>,
): { result: LiquidationResult; account: AaveAccount; collateralAsset: string; debtAsset: string; refPrice: bigint } | null {
  const before = precomputed ?? aaveAccountData(account, ctx)
  if (before.totalDebtBase === 0n || before.healthFactor >= WAD) return null
  const pair = aavePair(account, ctx)
  if (!pair) return null
  const cRes = ctx.reserves.get(pair.collateral)!
  let userDebt = 0n
  for (const x of account.debt) if (x.asset === pair.debt) { userDebt = x.balance; break }
  let userCollateral = 0n
  for (const x of account.collateral) if (x.asset === pair.collateral) { userCollateral = x.balance; break }
  const pD = ctx.price(pair.debt)
  const maxDebt = maxDebtToCover(userDebt, before.healthFactor)

  const collLt = percentMul(before.totalCollateralBase, before.avgLiquidationThresholdBps)
  const den = target * 100_000_000n - cRes.liquidationBonusBps * cRes.liquidationThresholdBps * WAD
  let debtToCover: bigint
  if (den <= 0n) debtToCover = maxDebt
  else {
    const num = (target * before.totalDebtBase - collLt * WAD) * 100_000_000n
    const valueBase = num <= 0n ? 1n : divUp(num, den)
    debtToCover = divUp(valueBase * ctx.unit(pair.debt), pD)
  }
  if (debtToCover > maxDebt) debtToCover = maxDebt
  if (debtToCover === 0n) return null

  const refPrice = aaveRefPrice(pair.collateral, pair.debt, ctx)
  const seize: AaveCollateralToSeizeParameters = {
    debtToCover,
    debtAssetPrice: pD,
    debtAssetDecimals: ctx.decimals(pair.debt),
    collateralPrice: ctx.price(pair.collateral),
    collateralDecimals: ctx.decimals(pair.collateral),
    userCollateralBalance: userCollateral,
    liquidationBonusBps: cRes.liquidationBonusBps,
    liquidationProtocolFeeBps: cRes.liquidationProtocolFeeBps,
  }
  let d = debtToCover
  let r = aaveAttempt(account, ctx, pair, seize, d)
  for (let i = 0; i < 12 && r.hfAfter < target && d < maxDebt && r.seized.debtAmountNeeded === d; i++) {
    const bump = d / 1000n
    d = d + (bump > 0n ? bump : 1n)
    if (d > maxDebt) d = maxDebt
    r = aaveAttempt(account, ctx, pair, seize, d)
  }
  const seizedValue = (r.seized.collateralAmount * refPrice) / ORACLE_PRICE_SCALE
  let noCollateralLeft = true
  for (const x of r.after.collateral) {
    if (x.balance !== 0n && ctx.reserves.get(x.asset)!.liquidationThresholdBps !== 0n) {
      noCollateralLeft = false
      break
    }
  }
  const outcome: LiquidationResult['outcome'] =
    r.debtLeft === 0n ? 'closed' : r.hfAfter >= target ? 'restored' : noCollateralLeft ? 'badDebt' : 'capped'
  // Aave V3.0 leaves unbacked debt on the books; report what is left of the debt reserve as the leg's bad debt.
  let badDebtAssets = 0n
  if (outcome === 'badDebt') for (const x of r.after.debt) if (x.asset === pair.debt) { badDebtAssets = x.balance; break }
  return {
    result: {
      mode: 'debtToCover',
      repaidShares: 0n,
      repaidAssets: r.seized.debtAmountNeeded,
      debtToCover: d,
      seizedAssets: r.seized.collateralAmount,
      badDebtAssets,
      incentive: seizedValue > r.seized.debtAmountNeeded ? seizedValue - r.seized.debtAmountNeeded : 0n,
      outcome,
      healthFactorBefore: before.healthFactor,
      healthFactorAfter: r.hfAfter,
    },
    account: r.after,
    collateralAsset: pair.collateral,
    debtAsset: pair.debt,
    refPrice,
  }
}

/** One `liquidationCall(debtToCover = d)` of {@link planAaveLiquidation}: the seizure and the account after. */
function aaveAttempt(
  account: AaveAccount,
  ctx: AaveContext,
  pair: { collateral: string; debt: string },
  seize: AaveCollateralToSeizeParameters,
  d: bigint,
): { seized: ReturnType<typeof collateralToSeize>; after: AaveAccount; hfAfter: bigint; debtLeft: bigint } {
  seize.debtToCover = d
  const seized = collateralToSeize(seize)
  const collateral: AaveAccount['collateral'] = new Array(account.collateral.length)
  for (let i = 0; i < account.collateral.length; i++) {
    const c = account.collateral[i]
    collateral[i] = c.asset === pair.collateral ? { asset: c.asset, balance: c.balance - seized.collateralAmount - seized.protocolFee } : c
  }
  const debt: AaveAccount['debt'] = new Array(account.debt.length)
  for (let i = 0; i < account.debt.length; i++) {
    const x = account.debt[i]
    debt[i] = x.asset === pair.debt ? { asset: x.asset, balance: x.balance - seized.debtAmountNeeded } : x
  }
  const after: AaveAccount = { collateral, debt }
  const data = aaveAccountData(after, ctx)
  return { seized, after, hfAfter: data.healthFactor, debtLeft: data.totalDebtBase }
}

/**
 * The price of `asset` (base currency) below which the account becomes liquidatable, other prices fixed; 0 when a fall
 * of that price cannot make it liquidatable. HF(p) = (O + b·p) / (D + d·p) with b, d the threshold-weighted
 * collateral and the debt of `asset` per unit of price, so HF < 1 ⟺ p < (D − O)/(b − d) when b > d.
 */
export function aaveLiquidationPrice(account: AaveAccount, ctx: AaveContext, asset: string): bigint {
  let other = 0n // Σ collateral base × LT (bps), other assets
  let otherDebt = 0n // base currency
  let b = 0n // collateral of asset × LT / 10^dec
  let d = 0n
  const unit = ctx.unit(asset)
  for (const c of account.collateral) {
    const lt = ctx.reserves.get(c.asset)!.liquidationThresholdBps
    if (lt === 0n || c.balance === 0n) continue
    if (c.asset === asset) b += c.balance * lt
    else other += ((c.balance * ctx.price(c.asset)) / ctx.unit(c.asset)) * lt
  }
  for (const x of account.debt) {
    if (x.balance === 0n) continue
    if (x.asset === asset) d += x.balance * 10_000n
    else otherDebt += (x.balance * ctx.price(x.asset)) / ctx.unit(x.asset)
  }
  // Scale: numerator terms in base×bps; b, d per unit of price ×unit.
  const num = otherDebt * 10_000n - other
  if (b <= d) return 0n
  if (num <= 0n) return 0n
  return divUp(num * unit, b - d)
}
