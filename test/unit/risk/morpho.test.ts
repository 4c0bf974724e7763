import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  MAX_LIQUIDATION_INCENTIVE_FACTOR,
  MAX_UINT256,
  ORACLE_PRICE_SCALE,
  RiskInputError,
  RiskRevertError,
  WAD,
  accrueInterest,
  accrueInterestWithDetails,
  borrowedAssets,
  evaluateMorphoPosition,
  healthFactor,
  isHealthy,
  liquidationIncentiveFactor,
  maxLiquidation,
  maxSeizableCollateral,
  repaidSharesForSeizedAssets,
  seizedAssetsForRepaidShares,
  simulateLiquidation,
  toAssetsDown,
  toAssetsUp,
  type MorphoMarket,
  type MorphoPosition,
} from '../../../protocol/risk/index.js'

// ───────────── arbitraries ─────────────

/** A bigint spread evenly over orders of magnitude: 10^minExp ≤ x < 10^(maxExp+1) (or 0 when zero is allowed). */
function logBigInt(minExp: number, maxExp: number, allowZero = false): fc.Arbitrary<bigint> {
  const body = fc
    .integer({ min: minExp, max: maxExp })
    .chain((e) => fc.bigInt({ min: 10n ** BigInt(e), max: 10n ** BigInt(e + 1) - 1n }))
  return allowZero ? fc.oneof({ arbitrary: fc.constant(0n), weight: 1 }, { arbitrary: body, weight: 9 }) : body
}

const E16 = 10n ** 16n
const E15 = 10n ** 15n

/** LLTVs: the usual enabled ones plus any value in [0, 1e18). */
const lltvArb = fc.oneof(
  fc.constantFrom(0n, 385n * E15, 625n * E15, 77n * E16, 86n * E16, 915n * E15, 945n * E15, 965n * E15, 98n * E16),
  fc.bigInt({ min: 0n, max: WAD - 1n }),
)

/** Oracle prices, 1e36-scaled: from dust-valued collateral to very valuable collateral (collateral × price < 2^256). */
const priceArb = logBigInt(20, 46)

/** A market and one of its positions; shares ≈ assets × 1e6 × (0.25..1), as after interest accrual. */
const stateArb: fc.Arbitrary<{ market: MorphoMarket; position: MorphoPosition }> = fc
  .record({
    totalBorrowAssets: logBigInt(0, 30),
    sharesPerAssetPpm: fc.bigInt({ min: 250_000n, max: 1_000_000n }),
    positionPpm: fc.bigInt({ min: 1n, max: 1_000_000n }),
    collateral: logBigInt(0, 29, true),
    supplyExtra: logBigInt(0, 30, true),
    fee: fc.bigInt({ min: 0n, max: 25n * E16 }),
  })
  .map(({ totalBorrowAssets, sharesPerAssetPpm, positionPpm, collateral, supplyExtra, fee }) => {
    const totalBorrowShares = totalBorrowAssets * sharesPerAssetPpm
    const totalSupplyAssets = totalBorrowAssets + supplyExtra
    return {
      market: {
        totalSupplyAssets,
        totalSupplyShares: totalSupplyAssets * 1_000_000n,
        totalBorrowAssets,
        totalBorrowShares,
        lastUpdate: 1_700_000_000n,
        fee,
      },
      position: { supplyShares: 0n, borrowShares: (totalBorrowShares * positionPpm) / 1_000_000n, collateral },
    }
  })

/** A state with a price that makes the position unhealthy (price up to 1.3× the liquidation price). */
const unhealthyArb = fc
  .record({ state: stateArb, lltv: lltvArb, ppm: fc.bigInt({ min: 1n, max: 1_300_000n }), fallbackPrice: priceArb })
  .map(({ state, lltv, ppm, fallbackPrice }) => {
    const { position, market } = state
    const borrowed = borrowedAssets(position, market)
    const denom = position.collateral * lltv
    const price = denom === 0n ? fallbackPrice : (borrowed * ORACLE_PRICE_SCALE * WAD * ppm) / (denom * 1_000_000n)
    return { ...state, lltv, price: price === 0n ? 1n : price }
  })
  // Keep collateral × price within uint256 (beyond it the contract's _isHealthy itself reverts).
  .filter(({ position, price }) => position.collateral * price < 1n << 250n)
  .filter(({ position, market, price, lltv }) => position.borrowShares > 0n && !isHealthy(position, market, price, lltv))

// A market where one share is worth exactly 1e-6 asset: (totalBorrowAssets + 1) / (totalBorrowShares + 1e6) = 1e-6.
const exactMarket: MorphoMarket = {
  totalSupplyAssets: 2000n * WAD,
  totalSupplyShares: 2000n * 10n ** 24n,
  totalBorrowAssets: 1000n * WAD - 1n,
  totalBorrowShares: 1000n * 10n ** 24n - 1_000_000n,
  lastUpdate: 1_700_000_000n,
  fee: 0n,
}
const LLTV_86 = 86n * E16

describe('risk/morpho (Morpho Blue)', () => {
  describe('liquidationIncentiveFactor', () => {
    it('matches the contract on known LLTVs', () => {
      // min(1.15, WAD.wDivDown(WAD − 0.3e18.wMulDown(WAD − lltv))); exact rationals in comments.
      const vectors: [bigint, bigint][] = [
        [86n * E16, 1043841336116910229n], // 1/0.958 = 1.043841336116910229645...
        [945n * E15, 1016776817488561260n], // 1/0.9835 = 1.016776817488561260...
        [915n * E15, 1026167265264238070n], // 1/0.9745
        [965n * E15, 1010611419909044972n], // 1/0.9895
        [98n * E16, 1006036217303822937n], // 1/0.994
        [77n * E16, 1074113856068743286n], // 1/0.931
        [625n * E15, 1126760563380281690n], // 1/0.8875 = 1.12676056338028169014...
        [5n * 10n ** 17n, 115n * E16], // 1/0.85 = 1.176... → capped at 1.15
        [0n, 115n * E16],
      ]
      for (const [lltv, lif] of vectors) assert.equal(liquidationIncentiveFactor(lltv), lif, `lltv ${lltv}`)
    })

    it('is non-increasing in LLTV, within [1, 1.15]', () => {
      fc.assert(
        fc.property(lltvArb, lltvArb, (a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a]
          const lifLo = liquidationIncentiveFactor(lo)
          const lifHi = liquidationIncentiveFactor(hi)
          assert.ok(lifLo >= lifHi)
          assert.ok(lifHi >= WAD && lifLo <= MAX_LIQUIDATION_INCENTIVE_FACTOR)
        }),
        { numRuns: 200 },
      )
    })

    it('rejects an LLTV of 1e18 or more, or negative, naming the field', () => {
      for (const lltv of [WAD, WAD + 1n, -1n]) {
        assert.throws(
          () => liquidationIncentiveFactor(lltv),
          (e: unknown) => e instanceof RiskInputError && e.field === 'lltv' && e.name === 'RiskInputError',
        )
      }
    })
  })

  describe('health', () => {
    it('is healthy exactly at maxBorrow = borrowed, with health factor exactly 1e18', () => {
      const position = { supplyShares: 0n, borrowShares: 86n * 10n ** 24n, collateral: 100n * WAD }
      assert.equal(borrowedAssets(position, exactMarket), 86n * WAD)
      assert.equal(isHealthy(position, exactMarket, ORACLE_PRICE_SCALE, LLTV_86), true)
      assert.equal(healthFactor(position, exactMarket, ORACLE_PRICE_SCALE, LLTV_86), WAD)

      // One more share rounds the debt up by one wei: unhealthy.
      const over = { ...position, borrowShares: position.borrowShares + 1n }
      assert.equal(borrowedAssets(over, exactMarket), 86n * WAD + 1n)
      assert.equal(isHealthy(over, exactMarket, ORACLE_PRICE_SCALE, LLTV_86), false)
      assert.equal(healthFactor(over, exactMarket, ORACLE_PRICE_SCALE, LLTV_86), WAD - 1n)
      const ev = evaluateMorphoPosition(over, exactMarket, ORACLE_PRICE_SCALE, LLTV_86)
      assert.equal(ev.liquidatable, true)
      assert.equal(ev.borrowAssets, 86n * WAD + 1n)
      assert.equal(ev.maxBorrow, 86n * WAD)
    })

    it('no debt: healthy, health factor MAX_UINT256, nothing seizable', () => {
      const position = { supplyShares: 5n, borrowShares: 0n, collateral: 10n ** 20n }
      assert.equal(isHealthy(position, exactMarket, 0n, LLTV_86), true)
      assert.equal(healthFactor(position, exactMarket, 1n, LLTV_86), MAX_UINT256)
      const ev = evaluateMorphoPosition(position, exactMarket, 1n, LLTV_86)
      assert.deepEqual(
        [ev.liquidatable, ev.healthFactor, ev.maxSeizableCollateral, ev.maxRepaidShares],
        [false, MAX_UINT256, 0n, 0n],
      )
    })

    it('health factor ≥ 1e18 ⟺ _isHealthy, and evaluate agrees with the single functions', () => {
      fc.assert(
        fc.property(stateArb, priceArb, lltvArb, ({ market, position }, price, lltv) => {
          const healthy = isHealthy(position, market, price, lltv)
          const hf = healthFactor(position, market, price, lltv)
          assert.equal(hf >= WAD, healthy)
          const ev = evaluateMorphoPosition(position, market, price, lltv)
          assert.equal(ev.liquidatable, !healthy)
          assert.equal(ev.healthFactor, hf)
          assert.equal(ev.liquidationIncentiveFactor, liquidationIncentiveFactor(lltv))
          if (healthy) assert.equal(ev.maxSeizableCollateral, 0n)
          else assert.equal(ev.maxSeizableCollateral, maxSeizableCollateral(position, market, price, lltv))
        }),
        { numRuns: 400 },
      )
    })

    it('names the offending field on bad input', () => {
      const position = { supplyShares: 0n, borrowShares: 1n, collateral: -1n }
      assert.throws(() => isHealthy(position, exactMarket, 1n, LLTV_86), (e: unknown) => e instanceof RiskInputError && e.field === 'position.collateral')
      const tooMany = { supplyShares: 0n, borrowShares: exactMarket.totalBorrowShares + 1n, collateral: 1n }
      assert.throws(() => healthFactor(tooMany, exactMarket, 1n, LLTV_86), (e: unknown) => e instanceof RiskInputError && e.field === 'position.borrowShares')
      assert.throws(() => isHealthy({ ...position, collateral: 1n }, exactMarket, -5n, LLTV_86), (e: unknown) => e instanceof RiskInputError && e.field === 'price')
    })
  })

  describe('seizure and repayment', () => {
    it('known vector: 1e24 shares (1 asset) seize 1 × LIF of collateral at price 1', () => {
      assert.equal(toAssetsDown(10n ** 24n, exactMarket.totalBorrowAssets, exactMarket.totalBorrowShares), WAD)
      assert.equal(seizedAssetsForRepaidShares(10n ** 24n, exactMarket, ORACLE_PRICE_SCALE, LLTV_86), 1043841336116910229n)
      // Back: 1043841336116910229 × 1 → wDivUp(LIF) = 1e18 (exact up to rounding up) → toSharesUp.
      assert.equal(repaidSharesForSeizedAssets(1043841336116910229n, exactMarket, ORACLE_PRICE_SCALE, LLTV_86), 10n ** 24n)
      // Price 2 (collateral worth twice the loan token): half as much collateral.
      assert.equal(seizedAssetsForRepaidShares(10n ** 24n, exactMarket, 2n * ORACLE_PRICE_SCALE, LLTV_86), 521920668058455114n)
    })

    it('seized assets for repaid shares is monotone; so are repaid shares for seized assets', () => {
      fc.assert(
        fc.property(stateArb, priceArb, lltvArb, logBigInt(0, 29, true), logBigInt(0, 29, true), ({ market }, price, lltv, a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a]
          // shares: up to 1e36 (a, b scaled by 1e7)
          assert.ok(seizedAssetsForRepaidShares(lo * 10n ** 7n, market, price, lltv) <= seizedAssetsForRepaidShares(hi * 10n ** 7n, market, price, lltv))
          assert.ok(repaidSharesForSeizedAssets(lo, market, price, lltv) <= repaidSharesForSeizedAssets(hi, market, price, lltv))
        }),
        { numRuns: 300 },
      )
    })

    it('Galois connection: repaidShares(s) ≤ r ⟺ s ≤ seized(r), hence both round-trip inequalities', () => {
      fc.assert(
        fc.property(stateArb, priceArb, lltvArb, logBigInt(0, 29, true), logBigInt(0, 36, true), ({ market }, price, lltv, s, r) => {
          let seizedR: bigint, repaidS: bigint
          try {
            seizedR = seizedAssetsForRepaidShares(r, market, price, lltv)
            repaidS = repaidSharesForSeizedAssets(s, market, price, lltv)
          } catch (err) {
            // Where Morpho's own arithmetic overflows, liquidate reverts too (the mirror says so): no relation to check.
            if (err instanceof RiskRevertError) return fc.pre(false)
            throw err
          }
          assert.equal(repaidS <= r, s <= seizedR)
          // The liquidator never gets back more shares' worth than paid, nor pays less than the seizure costs:
          assert.ok(repaidSharesForSeizedAssets(seizedR, market, price, lltv) <= r)
          assert.ok(seizedAssetsForRepaidShares(repaidS, market, price, lltv) >= s)
        }),
        { numRuns: 400 },
      )
    })

    it('maxSeizableCollateral = min(collateral, seized for all shares), accepted by liquidate; one more wei is not', () => {
      fc.assert(
        fc.property(unhealthyArb, ({ position, market, price, lltv }) => {
          const m = maxLiquidation(position, market, price, lltv)
          const all = seizedAssetsForRepaidShares(position.borrowShares, market, price, lltv)
          assert.equal(m.seizedAssets, all < position.collateral ? all : position.collateral)
          assert.equal(maxSeizableCollateral(position, market, price, lltv), m.seizedAssets)

          if (m.seizedAssets === 0n && m.repaidShares === 0n) {
            // Nothing can be liquidated: no collateral, and even one share is worth a unit of collateral.
            assert.equal(position.collateral, 0n)
            assert.equal(repaidSharesForSeizedAssets(1n, market, price, lltv), 1n)
            return
          }
          // What liquidate does with the suggested argument:
          const res = m.by === 'repaidShares'
            ? simulateLiquidation(position, market, price, lltv, { repaidShares: m.repaidShares })
            : simulateLiquidation(position, market, price, lltv, { seizedAssets: m.seizedAssets })
          assert.equal(res.seizedAssets, m.seizedAssets)
          assert.equal(res.repaidShares, m.repaidShares)
          // Either all the debt is repaid or all the collateral is taken (and the rest is bad debt).
          assert.ok(res.position.borrowShares === 0n)

          // Seizing the max through the seizedAssets argument is accepted too (when non-zero).
          if (m.seizedAssets > 0n) {
            const viaSeized = simulateLiquidation(position, market, price, lltv, { seizedAssets: m.seizedAssets })
            assert.ok(viaSeized.repaidShares <= position.borrowShares)
          }
          // One more wei of collateral reverts: underflow of the shares or the collateral (or a uint128 cast first).
          assert.throws(
            () => simulateLiquidation(position, market, price, lltv, { seizedAssets: m.seizedAssets + 1n }),
            (e: unknown) => e instanceof RiskRevertError && /underflow|uint128/.test(e.reason),
          )
        }),
        { numRuns: 300 },
      )
    })
  })

  describe('simulateLiquidation (liquidate)', () => {
    const over = { supplyShares: 0n, borrowShares: 86n * 10n ** 24n + 1n, collateral: 100n * WAD }

    it('reverts like the contract: healthy position, inconsistent input, market not created', () => {
      const healthy = { ...over, borrowShares: 86n * 10n ** 24n }
      assert.throws(
        () => simulateLiquidation(healthy, exactMarket, ORACLE_PRICE_SCALE, LLTV_86, { repaidShares: 1n }),
        (e: unknown) => e instanceof RiskRevertError && e.reason === 'position is healthy' && e.name === 'RiskRevertError',
      )
      assert.throws(
        () => simulateLiquidation(over, exactMarket, ORACLE_PRICE_SCALE, LLTV_86, { repaidShares: 0n, seizedAssets: 0n } as never),
        (e: unknown) => e instanceof RiskRevertError && e.reason === 'inconsistent input',
      )
      assert.throws(
        () => simulateLiquidation(over, exactMarket, ORACLE_PRICE_SCALE, LLTV_86, { repaidShares: 1n, seizedAssets: 1n } as never),
        (e: unknown) => e instanceof RiskRevertError && e.reason === 'inconsistent input',
      )
      assert.throws(
        () => simulateLiquidation(over, { ...exactMarket, lastUpdate: 0n }, ORACLE_PRICE_SCALE, LLTV_86, { repaidShares: 1n }),
        (e: unknown) => e instanceof RiskRevertError && e.reason === 'market not created',
      )
    })

    it('partial liquidation: known amounts and state', () => {
      const res = simulateLiquidation(over, exactMarket, ORACLE_PRICE_SCALE, LLTV_86, { repaidShares: 10n ** 24n })
      assert.equal(res.seizedAssets, 1043841336116910229n)
      assert.equal(res.repaidAssets, WAD)
      assert.equal(res.badDebtAssets, 0n)
      assert.equal(res.position.collateral, 100n * WAD - 1043841336116910229n)
      assert.equal(res.position.borrowShares, 85n * 10n ** 24n + 1n)
      assert.equal(res.market.totalBorrowShares, exactMarket.totalBorrowShares - 10n ** 24n)
      assert.equal(res.market.totalBorrowAssets, exactMarket.totalBorrowAssets - WAD)
    })

    it('taking all the collateral realizes the rest as bad debt', () => {
      // Price falls to 0.5: collateral worth 50, debt 86.
      const price = ORACLE_PRICE_SCALE / 2n
      const res = simulateLiquidation(over, exactMarket, price, LLTV_86, { seizedAssets: over.collateral })
      assert.equal(res.position.collateral, 0n)
      assert.equal(res.position.borrowShares, 0n)
      assert.ok(res.badDebtShares > 0n && res.badDebtAssets > 0n)
      assert.equal(res.repaidShares + res.badDebtShares, over.borrowShares)
      assert.equal(res.market.totalBorrowShares, exactMarket.totalBorrowShares - over.borrowShares)
      assert.equal(res.market.totalSupplyAssets, exactMarket.totalSupplyAssets - res.badDebtAssets)
    })

    it('conserves shares and collateral, and repays toAssetsUp(repaidShares)', () => {
      fc.assert(
        fc.property(unhealthyArb, fc.bigInt({ min: 1n, max: 1_000_000n }), ({ position, market, price, lltv }, ppm) => {
          // A fraction of the largest liquidation, through the argument maxLiquidation suggests.
          const m = maxLiquidation(position, market, price, lltv)
          const amount = ((m.by === 'repaidShares' ? m.repaidShares : m.seizedAssets) * ppm) / 1_000_000n
          fc.pre(amount > 0n)
          const res = m.by === 'repaidShares'
            ? simulateLiquidation(position, market, price, lltv, { repaidShares: amount })
            : simulateLiquidation(position, market, price, lltv, { seizedAssets: amount })
          assert.ok(res.seizedAssets <= m.seizedAssets && res.repaidShares <= m.repaidShares)
          assert.equal(res.repaidAssets, toAssetsUp(res.repaidShares, market.totalBorrowAssets, market.totalBorrowShares))
          assert.equal(res.position.collateral, position.collateral - res.seizedAssets)
          assert.equal(res.position.borrowShares + res.repaidShares + res.badDebtShares, position.borrowShares)
          assert.equal(market.totalBorrowShares - res.market.totalBorrowShares, res.repaidShares + res.badDebtShares)
          assert.ok(res.market.totalBorrowAssets >= 0n)
        }),
        { numRuns: 200 },
      )
    })
  })

  describe('accrueInterest (_accrueInterest)', () => {
    const market: MorphoMarket = {
      totalSupplyAssets: 2000n * WAD,
      totalSupplyShares: 2000n * 10n ** 24n,
      totalBorrowAssets: 1000n * WAD,
      totalBorrowShares: 1000n * 10n ** 24n,
      lastUpdate: 1_000n,
      fee: 10n ** 17n,
    }

    it('known vector with a 10% fee', () => {
      // rate 1e9/s for 1000 s: taylor = 1e12 + 5e5 + 0; interest = 1000e18 × that / 1e18.
      const { market: m, interest, feeShares } = accrueInterestWithDetails(market, 10n ** 9n, 2_000n)
      assert.equal(interest, 1000000500000000n)
      assert.equal(m.totalBorrowAssets, market.totalBorrowAssets + interest)
      assert.equal(m.totalSupplyAssets, 2000001000000500000000n)
      // feeAmount = 100000050000000; toSharesDown(feeAmount, totalSupply − feeAmount, shares)
      assert.equal(feeShares, 100000004999975250010n)
      assert.equal(m.totalSupplyShares, market.totalSupplyShares + feeShares)
      assert.equal(m.lastUpdate, 2_000n)
      assert.equal(m.totalBorrowShares, market.totalBorrowShares)
    })

    it('no time elapsed: unchanged; time going backwards: reverts; input not modified', () => {
      assert.deepEqual(accrueInterest(market, 10n ** 9n, 1_000n), market)
      assert.throws(() => accrueInterest(market, 10n ** 9n, 999n), RiskRevertError)
      const copy = { ...market }
      accrueInterest(market, 10n ** 9n, 5_000n)
      assert.deepEqual(market, copy)
    })

    it('debt grows at least linearly, and supply grows by the same interest', () => {
      fc.assert(
        fc.property(logBigInt(0, 28), fc.bigInt({ min: 0n, max: 10n ** 11n }), fc.bigInt({ min: 1n, max: 10n ** 8n }), (tba, rate, elapsed) => {
          const mk = { ...market, totalBorrowAssets: tba, totalSupplyAssets: tba * 2n }
          const m = accrueInterest(mk, rate, mk.lastUpdate + elapsed)
          assert.ok(m.totalBorrowAssets >= tba + (tba * rate * elapsed) / WAD)
          assert.equal(m.totalSupplyAssets - mk.totalSupplyAssets, m.totalBorrowAssets - tba)
        }),
        { numRuns: 200 },
      )
    })
  })
})
