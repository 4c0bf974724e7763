import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  DEFAULT_DEPTH_IMPACTS_BPS,
  RiskInputError,
  applySwap,
  depthCurve,
  getAmountIn,
  getAmountOut,
  maxAmountInForImpact,
  priceImpactBps,
} from '../../../protocol/risk/index.js'

/** A bigint spread evenly over orders of magnitude: 10^minExp ≤ x < 10^(maxExp+1). */
function logBigInt(minExp: number, maxExp: number): fc.Arbitrary<bigint> {
  return fc
    .integer({ min: minExp, max: maxExp })
    .chain((e) => fc.bigInt({ min: 10n ** BigInt(e), max: 10n ** BigInt(e + 1) - 1n }))
}

const reserveArb = logBigInt(0, 33) // up to ~uint112
const impactArb = fc.oneof(fc.constantFrom(0n, 1n, 50n, 100n, 200n, 500n, 9_999n), fc.bigInt({ min: 0n, max: 9_999n }))

/** UniswapV2Pair.swap's K check for a swap of amountIn (token in) for amountOut (token out). */
function pairAcceptsSwap(amountIn: bigint, amountOut: bigint, reserveIn: bigint, reserveOut: bigint): boolean {
  if (amountOut >= reserveOut) return false
  const balanceIn = reserveIn + amountIn
  const balanceOut = reserveOut - amountOut
  return (balanceIn * 1000n - amountIn * 3n) * (balanceOut * 1000n) >= reserveIn * reserveOut * 1_000_000n
}

describe('risk/uniswap-v2 (UniswapV2Library)', () => {
  it('known vectors', () => {
    // 1 ETH into 100 ETH / 200,000 USDC: 1e18·997·200000e6 / (100e18·1000 + 1e18·997)
    assert.equal(getAmountOut(10n ** 18n, 100n * 10n ** 18n, 200_000n * 10n ** 6n), 1_974_316_068n)
    assert.equal(getAmountIn(1_974_316_068n, 100n * 10n ** 18n, 200_000n * 10n ** 6n) <= 10n ** 18n, true)
    assert.equal(getAmountOut(1n, 1000n, 1000n), 0n)
    assert.equal(getAmountIn(1n, 1000n, 1000n), 2n) // 1000·1·1000 / (999·997) + 1
  })

  it('getAmountOut is exactly the most the pair accepts; k never decreases', () => {
    fc.assert(
      fc.property(logBigInt(0, 33), reserveArb, reserveArb, (amountIn, reserveIn, reserveOut) => {
        const out = getAmountOut(amountIn, reserveIn, reserveOut)
        assert.ok(out < reserveOut)
        assert.ok((reserveIn + amountIn) * (reserveOut - out) >= reserveIn * reserveOut) // k never decreases
        assert.ok(pairAcceptsSwap(amountIn, out, reserveIn, reserveOut))
        assert.ok(!pairAcceptsSwap(amountIn, out + 1n, reserveIn, reserveOut))
        const s = applySwap(amountIn, reserveIn, reserveOut)
        assert.deepEqual(s, { amountOut: out, reserveIn: reserveIn + amountIn, reserveOut: reserveOut - out })
      }),
      { numRuns: 500 },
    )
  })

  it('getAmountIn buys at least amountOut, and the pair accepts it', () => {
    fc.assert(
      fc.property(reserveArb, reserveArb, fc.bigInt({ min: 1n, max: 999_999n }), (reserveIn, reserveOut, ppm) => {
        const amountOut = (reserveOut * ppm) / 1_000_000n
        fc.pre(amountOut > 0n)
        const amountIn = getAmountIn(amountOut, reserveIn, reserveOut)
        assert.ok(getAmountOut(amountIn, reserveIn, reserveOut) >= amountOut)
        assert.ok(pairAcceptsSwap(amountIn, amountOut, reserveIn, reserveOut))
      }),
      { numRuns: 300 },
    )
  })

  it('price impact: known vector, monotone, within 1..10000 bps', () => {
    // 1000/1000 pool, 5 in: out 4, price 1 → 996/1005 = 0.99104..., impact 89.55 bps → 90 (rounded up)
    assert.equal(priceImpactBps(5n, 1000n, 1000n), 90n)
    // 1/1 pool, 10000 in: out 0, price 1 → 1/10001, impact 9999.0001 bps → 10000 (the pool is never emptied)
    assert.equal(priceImpactBps(10_000n, 1n, 1n), 10_000n)
    fc.assert(
      fc.property(reserveArb, reserveArb, logBigInt(0, 33), logBigInt(0, 33), (reserveIn, reserveOut, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a]
        const iLo = priceImpactBps(lo, reserveIn, reserveOut)
        const iHi = priceImpactBps(hi, reserveIn, reserveOut)
        assert.ok(iLo <= iHi && iLo >= 1n && iHi <= 10_000n)
      }),
      { numRuns: 300 },
    )
  })

  it('maxAmountInForImpact is the exact boundary: impact(x) ≤ b < impact(x + 1)', () => {
    const impact = (x: bigint, rIn: bigint, rOut: bigint) => (x === 0n ? 0n : priceImpactBps(x, rIn, rOut))
    fc.assert(
      fc.property(reserveArb, reserveArb, impactArb, (reserveIn, reserveOut, b) => {
        const x = maxAmountInForImpact(reserveIn, reserveOut, b)
        assert.ok(impact(x, reserveIn, reserveOut) <= b)
        assert.ok(impact(x + 1n, reserveIn, reserveOut) > b)
      }),
      { numRuns: 500 },
    )
    assert.equal(maxAmountInForImpact(1000n, 1000n, 100n), 5n)
  })

  it('depth curve: default impacts 50, 100, 200, 500 bps; amounts grow with the impact', () => {
    const rIn = 10n ** 24n
    const rOut = 2n * 10n ** 27n
    const curve = depthCurve(rIn, rOut)
    assert.deepEqual(curve.map((p) => p.impactBps), [...DEFAULT_DEPTH_IMPACTS_BPS])
    assert.deepEqual(DEFAULT_DEPTH_IMPACTS_BPS, [50n, 100n, 200n, 500n])
    for (let i = 0; i < curve.length; i++) {
      const p = curve[i]
      assert.equal(p.amountIn, maxAmountInForImpact(rIn, rOut, p.impactBps))
      assert.equal(p.amountOut, getAmountOut(p.amountIn, rIn, rOut))
      if (i > 0) assert.ok(p.amountIn > curve[i - 1].amountIn)
    }
    // Closed form for 50 bps: 997u² + 1997u = 1000·(1/0.995 − 1), u = amountIn / reserveIn ≈ 0.0025132.
    assert.ok(curve[0].amountIn > (rIn * 2_513n) / 1_000_000n && curve[0].amountIn < (rIn * 2_514n) / 1_000_000n, String(curve[0].amountIn))
    assert.deepEqual(depthCurve(1n, 1n, [0n, 100n]), [
      { impactBps: 0n, amountIn: 0n, amountOut: 0n },
      { impactBps: 100n, amountIn: 0n, amountOut: 0n },
    ])
  })

  it('zero or negative reserves and amounts throw, naming the input', () => {
    const cases: [() => unknown, string][] = [
      [() => getAmountOut(0n, 1n, 1n), 'amountIn'],
      [() => getAmountOut(1n, 0n, 1n), 'reserveIn'],
      [() => getAmountOut(1n, 1n, -1n), 'reserveOut'],
      [() => getAmountIn(0n, 1n, 1n), 'amountOut'],
      [() => getAmountIn(10n, 100n, 10n), 'amountOut'],
      [() => priceImpactBps(-1n, 1n, 1n), 'amountIn'],
      [() => maxAmountInForImpact(0n, 1n, 50n), 'reserveIn'],
      [() => maxAmountInForImpact(1n, 1n, 10_000n), 'impactBps'],
      [() => maxAmountInForImpact(1n, 1n, -1n), 'impactBps'],
      [() => depthCurve(1n, 0n), 'reserveOut'],
    ]
    for (const [fn, field] of cases) {
      assert.throws(fn, (e: unknown) => e instanceof RiskInputError && e.field === field && e.name === 'RiskInputError', field)
    }
  })
})
