import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  RiskRevertError,
  VIRTUAL_SHARES,
  WAD,
  mulDivDown,
  mulDivUp,
  sqrt,
  toAssetsDown,
  toAssetsUp,
  toSharesDown,
  toSharesUp,
  wDivDown,
  wDivUp,
  wMulDown,
  wTaylorCompounded,
  zeroFloorSub,
} from '../../../protocol/risk/index.js'

/** A bigint spread evenly over orders of magnitude: 10^minExp ≤ x < 10^(maxExp+1) (or 0 when zero is allowed). */
function logBigInt(minExp: number, maxExp: number, allowZero = false): fc.Arbitrary<bigint> {
  const body = fc
    .integer({ min: minExp, max: maxExp })
    .chain((e) => fc.bigInt({ min: 10n ** BigInt(e), max: 10n ** BigInt(e + 1) - 1n }))
  return allowZero ? fc.oneof({ arbitrary: fc.constant(0n), weight: 1 }, { arbitrary: body, weight: 9 }) : body
}

describe('risk/math (Morpho MathLib, SharesMathLib)', () => {
  it('rounds as MathLib does', () => {
    assert.equal(mulDivDown(7n, 3n, 2n), 10n)
    assert.equal(mulDivUp(7n, 3n, 2n), 11n)
    assert.equal(mulDivUp(6n, 3n, 2n), 9n)
    assert.equal(wMulDown(15n * 10n ** 17n, 3n), 4n) // 4.5 → 4
    assert.equal(wDivDown(1n, 3n), 333333333333333333n)
    assert.equal(wDivUp(1n, 3n), 333333333333333334n)
    assert.equal(zeroFloorSub(3n, 5n), 0n)
    assert.equal(zeroFloorSub(5n, 3n), 2n)
  })

  it('throws RiskRevertError on a zero divisor, as Solidity panics', () => {
    assert.throws(() => mulDivDown(1n, 1n, 0n), (e: unknown) => e instanceof RiskRevertError && e.name === 'RiskRevertError')
    assert.throws(() => mulDivUp(1n, 1n, 0n), RiskRevertError)
    assert.throws(() => wDivDown(1n, 0n), RiskRevertError)
  })

  it('throws RiskRevertError when the product overflows uint256, as checked arithmetic panics', () => {
    const max = (1n << 256n) - 1n
    assert.equal(mulDivDown(max, 1n, 1n), max)
    assert.throws(() => mulDivDown(max, 2n, 3n), (e: unknown) => e instanceof RiskRevertError && /overflow/.test(e.reason))
    assert.equal(mulDivUp(max, 1n, 1n), max)
    assert.throws(() => mulDivUp(max, 1n, 2n), RiskRevertError) // max + (2 − 1) overflows
    assert.throws(() => wMulDown(max, 2n), RiskRevertError)
  })

  it('wTaylorCompounded: three Taylor terms of e^(nx) − 1', () => {
    // x·n = 1 WAD → 1 + 1/2 + 1/6 (each term rounded down)
    assert.equal(wTaylorCompounded(WAD, 1n), WAD + WAD / 2n + (WAD / 2n) / 3n)
    // 5% a year for one year, per-second rate rounded down
    const perSecond = (5n * 10n ** 16n) / 31_536_000n
    const c = wTaylorCompounded(perSecond, 31_536_000n)
    // e^0.05 − 1 = 0.051271096...; the three-term expansion gives 0.0512708333...
    assert.ok(c > 51_270_000_000_000_000n && c < 51_271_000_000_000_000n, String(c))
    assert.equal(wTaylorCompounded(123n, 0n), 0n)
  })

  it('mulDivUp − mulDivDown ∈ {0, 1}, and 0 exactly when the division is exact', () => {
    fc.assert(
      fc.property(logBigInt(0, 37, true), logBigInt(0, 37, true), logBigInt(0, 40), (x, y, d) => {
        const diff = mulDivUp(x, y, d) - mulDivDown(x, y, d)
        assert.equal(diff, (x * y) % d === 0n ? 0n : 1n)
      }),
      { numRuns: 300 },
    )
  })

  it('share conversions: rounding goes the documented way and round trips never create value', () => {
    fc.assert(
      fc.property(logBigInt(0, 30, true), logBigInt(0, 30, true), logBigInt(0, 36, true), (assets, totalAssets, totalShares) => {
        const sd = toSharesDown(assets, totalAssets, totalShares)
        const su = toSharesUp(assets, totalAssets, totalShares)
        assert.ok(su - sd === 0n || su - sd === 1n)
        assert.ok(toAssetsDown(sd, totalAssets, totalShares) <= assets)
        assert.ok(toAssetsUp(su, totalAssets, totalShares) >= assets)
        const ad = toAssetsDown(assets, totalAssets, totalShares)
        assert.ok(toSharesDown(ad, totalAssets, totalShares) <= assets)
        assert.ok(toSharesUp(toAssetsUp(assets, totalAssets, totalShares), totalAssets, totalShares) >= assets)
      }),
      { numRuns: 300 },
    )
  })

  it('an empty market converts at VIRTUAL_SHARES shares per asset', () => {
    assert.equal(toSharesDown(5n, 0n, 0n), 5n * VIRTUAL_SHARES)
    assert.equal(toAssetsUp(1n, 0n, 0n), 1n)
    assert.equal(toAssetsDown(VIRTUAL_SHARES - 1n, 0n, 0n), 0n)
  })

  it('sqrt is the integer floor of the square root', () => {
    for (const n of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, 10n ** 40n, 10n ** 40n - 1n]) {
      const r = sqrt(n)
      assert.ok(r * r <= n && (r + 1n) * (r + 1n) > n, `sqrt(${n}) = ${r}`)
    }
    fc.assert(
      fc.property(logBigInt(0, 120, true), (n) => {
        const r = sqrt(n)
        assert.ok(r * r <= n && (r + 1n) * (r + 1n) > n)
      }),
      { numRuns: 300 },
    )
  })
})
