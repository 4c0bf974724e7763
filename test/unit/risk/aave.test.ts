import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  CLOSE_FACTOR_HF_THRESHOLD,
  MAX_UINT256,
  RiskInputError,
  RiskRevertError,
  WAD,
  actualDebtToLiquidate,
  closeFactorBps,
  collateralToSeize,
  decodeReserveConfiguration,
  healthFactorFromTotals,
  isLiquidatable,
  liquidationCallAmounts,
  maxDebtToCover,
  percentDiv,
  percentMul,
  rayDiv,
  rayMul,
  wadDiv,
  wadMul,
  type AaveCollateralToSeizeParameters,
} from '../../../protocol/risk/index.js'

/** A bigint spread evenly over orders of magnitude: 10^minExp ≤ x < 10^(maxExp+1) (or 0 when zero is allowed). */
function logBigInt(minExp: number, maxExp: number, allowZero = false): fc.Arbitrary<bigint> {
  const body = fc
    .integer({ min: minExp, max: maxExp })
    .chain((e) => fc.bigInt({ min: 10n ** BigInt(e), max: 10n ** BigInt(e + 1) - 1n }))
  return allowZero ? fc.oneof({ arbitrary: fc.constant(0n), weight: 1 }, { arbitrary: body, weight: 9 }) : body
}

// USDC debt (6 decimals, $1) against WETH collateral (18 decimals, $2000), 5% bonus, 10% of the bonus to the treasury.
const base: AaveCollateralToSeizeParameters = {
  debtToCover: 1000n * 10n ** 6n,
  debtAssetPrice: 10n ** 8n,
  debtAssetDecimals: 6,
  collateralPrice: 2000n * 10n ** 8n,
  collateralDecimals: 18,
  userCollateralBalance: WAD,
  liquidationBonusBps: 10_500n,
  liquidationProtocolFeeBps: 1_000n,
}

describe('risk/aave (Aave V3 core 1.19.3)', () => {
  it('PercentageMath and WadRayMath round half up', () => {
    assert.equal(percentMul(1n, 5_000n), 1n) // 0.5 → 1
    assert.equal(percentMul(1n, 4_999n), 0n)
    assert.equal(percentMul(10_000n, 8_250n), 8_250n)
    assert.equal(percentDiv(1n, 20_000n), 1n) // 0.5 → 1
    assert.equal(percentDiv(105n, 10_500n), 100n)
    assert.equal(wadMul(WAD / 2n, 1n), 1n)
    assert.equal(wadDiv(1n, 3n * WAD), 0n)
    assert.equal(wadDiv(2n, 3n), 666666666666666667n)
    assert.equal(rayMul(10n ** 27n / 2n, 1n), 1n)
    assert.equal(rayDiv(1n, 3n), 333333333333333333333333333n)
    assert.throws(() => percentDiv(1n, 0n), RiskRevertError)
    assert.throws(() => wadDiv(1n, 0n), RiskRevertError)
    assert.throws(() => percentMul(MAX_UINT256, 2n), RiskRevertError)
  })

  it('health factor from totals mirrors GenericLogic', () => {
    // $10,000 collateral at 82.5% against $8,000 debt: 8250 / 8000 = 1.03125
    assert.equal(healthFactorFromTotals(10_000n * 10n ** 8n, 8_000n * 10n ** 8n, 8_250n), 1_031_250_000_000_000_000n)
    assert.equal(healthFactorFromTotals(5n, 0n, 8_000n), MAX_UINT256)
    assert.equal(healthFactorFromTotals(0n, 1n, 8_000n), 0n)
    assert.throws(() => healthFactorFromTotals(-1n, 1n, 1n), (e: unknown) => e instanceof RiskInputError && e.field === 'totalCollateralBase')
  })

  it('liquidatable strictly below health factor 1e18', () => {
    assert.equal(isLiquidatable(WAD), false)
    assert.equal(isLiquidatable(WAD - 1n), true)
    assert.equal(isLiquidatable(MAX_UINT256), false)
  })

  it('close factor switches from 50% to 100% at health factor 0.95e18 (inclusive)', () => {
    assert.equal(CLOSE_FACTOR_HF_THRESHOLD, 95n * 10n ** 16n)
    assert.equal(closeFactorBps(CLOSE_FACTOR_HF_THRESHOLD + 1n), 5_000n)
    assert.equal(closeFactorBps(CLOSE_FACTOR_HF_THRESHOLD), 10_000n)
    assert.equal(closeFactorBps(CLOSE_FACTOR_HF_THRESHOLD - 1n), 10_000n)
    assert.equal(closeFactorBps(WAD - 1n), 5_000n)
    assert.equal(maxDebtToCover(1001n, CLOSE_FACTOR_HF_THRESHOLD + 1n), 501n) // 500.5 rounds half up
    assert.equal(maxDebtToCover(1001n, CLOSE_FACTOR_HF_THRESHOLD), 1001n)
    assert.equal(actualDebtToLiquidate(1000n, WAD - 1n, MAX_UINT256), 500n)
    assert.equal(actualDebtToLiquidate(1000n, WAD - 1n, 123n), 123n)
  })

  it('collateralToSeize: known vector with the protocol fee', () => {
    // base = 1e8 × 1000e6 × 1e18 / (2000e8 × 1e6) = 0.5e18; with 5% bonus 0.525e18;
    // bonus part = 0.525e18 − 0.525e18.percentDiv(10500) = 0.025e18; fee = 10% of it.
    assert.deepEqual(collateralToSeize(base), {
      collateralAmount: 522_500_000_000_000_000n,
      debtAmountNeeded: 1000n * 10n ** 6n,
      protocolFee: 2_500_000_000_000_000n,
    })
    assert.deepEqual(collateralToSeize({ ...base, liquidationProtocolFeeBps: 0n }), {
      collateralAmount: 525_000_000_000_000_000n,
      debtAmountNeeded: 1000n * 10n ** 6n,
      protocolFee: 0n,
    })
  })

  it('collateralToSeize: capped at the user collateral balance, debt scaled back', () => {
    // 0.3 WETH = $600 → 600e6.percentDiv(10500) = 571.428571 USDC
    assert.deepEqual(collateralToSeize({ ...base, userCollateralBalance: 3n * 10n ** 17n }), {
      collateralAmount: 298_571_428_571_428_571n,
      debtAmountNeeded: 571_428_571n,
      protocolFee: 1_428_571_428_571_429n,
    })
  })

  it('collateralToSeize: never takes more than the balance nor repays more than asked; monotone in debt', () => {
    const paramsArb = fc.record({
      debtToCover: logBigInt(0, 30, true),
      debtAssetPrice: logBigInt(0, 12),
      debtAssetDecimals: fc.integer({ min: 0, max: 27 }),
      collateralPrice: logBigInt(0, 12),
      collateralDecimals: fc.integer({ min: 0, max: 27 }),
      userCollateralBalance: logBigInt(0, 30, true),
      liquidationBonusBps: fc.bigInt({ min: 10_000n, max: 15_000n }),
      liquidationProtocolFeeBps: fc.bigInt({ min: 0n, max: 10_000n }),
    })
    fc.assert(
      fc.property(paramsArb, logBigInt(0, 30, true), (p, extra) => {
        const r = collateralToSeize(p)
        assert.ok(r.collateralAmount + r.protocolFee <= p.userCollateralBalance)
        assert.ok(r.debtAmountNeeded <= p.debtToCover)
        assert.ok(r.protocolFee <= r.collateralAmount + r.protocolFee)
        const r2 = collateralToSeize({ ...p, debtToCover: p.debtToCover + extra })
        assert.ok(r2.collateralAmount + r2.protocolFee >= r.collateralAmount + r.protocolFee)
      }),
      { numRuns: 300 },
    )
  })

  it('collateralToSeize names the offending input', () => {
    const bad: [Partial<AaveCollateralToSeizeParameters>, string][] = [
      [{ debtToCover: -1n }, 'debtToCover'],
      [{ collateralPrice: 0n }, 'collateralPrice'],
      [{ debtAssetPrice: 0n }, 'debtAssetPrice'],
      [{ liquidationBonusBps: 9_999n }, 'liquidationBonusBps'],
      [{ liquidationProtocolFeeBps: 10_001n }, 'liquidationProtocolFeeBps'],
      [{ collateralDecimals: 1.5 }, 'collateralDecimals'],
      [{ debtAssetDecimals: 256 }, 'debtAssetDecimals'],
    ]
    for (const [patch, field] of bad) {
      assert.throws(() => collateralToSeize({ ...base, ...patch }), (e: unknown) => e instanceof RiskInputError && e.field === field, field)
    }
  })

  it('liquidationCallAmounts: health check, close factor, then collateral', () => {
    const common = { ...base, userTotalDebt: 3000n * 10n ** 6n, debtToCover: MAX_UINT256, userCollateralBalance: 10n * WAD }
    const half = liquidationCallAmounts({ ...common, healthFactor: 97n * 10n ** 16n })
    assert.equal(half.closeFactorBps, 5_000n)
    assert.equal(half.debtAmountNeeded, 1500n * 10n ** 6n)
    const full = liquidationCallAmounts({ ...common, healthFactor: 95n * 10n ** 16n })
    assert.equal(full.closeFactorBps, 10_000n)
    assert.equal(full.debtAmountNeeded, 3000n * 10n ** 6n)
    assert.throws(
      () => liquidationCallAmounts({ ...common, healthFactor: WAD }),
      (e: unknown) => e instanceof RiskRevertError && e.reason.startsWith('45'),
    )
    assert.throws(
      () => liquidationCallAmounts({ ...common, userTotalDebt: 0n, healthFactor: WAD - 1n }),
      (e: unknown) => e instanceof RiskRevertError && e.reason.startsWith('47'),
    )
  })

  it('decodes the reserve configuration bitmap', () => {
    const data =
      8_000n | (8_250n << 16n) | (10_500n << 32n) | (18n << 48n) | (1n << 56n) | (1n << 58n) | (1_000n << 64n) |
      (1_000n << 152n) | (2n << 168n)
    assert.deepEqual(decodeReserveConfiguration(data), {
      ltvBps: 8_000n,
      liquidationThresholdBps: 8_250n,
      liquidationBonusBps: 10_500n,
      decimals: 18,
      active: true,
      frozen: false,
      borrowingEnabled: true,
      paused: false,
      reserveFactorBps: 1_000n,
      liquidationProtocolFeeBps: 1_000n,
      eModeCategory: 2,
    })
  })
})
