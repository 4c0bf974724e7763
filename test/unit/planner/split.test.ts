import assert from 'node:assert/strict'
import fc from 'fast-check'
import { splitAcrossPools, totalOut, type SplitPool } from '../../../protocol/planner/index.js'
import { maxAmountInForImpact, priceImpactBps } from '../../../protocol/risk/uniswap-v2.js'

/** Exhaustive search over every integer split of `amount` across 2 or 3 pools (caps respected). */
function bruteForce(amount: bigint, pools: SplitPool[]): bigint {
  let best = 0n
  const n = pools.length
  const A = Number(amount)
  for (let a = 0; a <= A; a++) {
    if (BigInt(a) > pools[0].cap) break
    if (n === 2) {
      const b = A - a
      if (BigInt(b) > pools[1].cap) continue
      const o = totalOut(pools, [BigInt(a), BigInt(b)])
      if (o > best) best = o
      continue
    }
    for (let b = 0; a + b <= A; b++) {
      if (BigInt(b) > pools[1].cap) break
      const c = A - a - b
      if (BigInt(c) > pools[2].cap) continue
      const o = totalOut(pools, [BigInt(a), BigInt(b), BigInt(c)])
      if (o > best) best = o
    }
  }
  return best
}

const poolArb = (withCap: boolean) =>
  fc.record({
    reserveIn: fc.bigInt({ min: 50n, max: 2_000n }),
    reserveOut: fc.bigInt({ min: 10n ** 8n, max: 10n ** 10n }),
    cap: withCap ? fc.bigInt({ min: 0n, max: 400n }) : fc.constant(10n ** 30n),
  })

describe('planner: venue split', () => {
  it('is within 0.1% of the brute-force optimum on small cases (2–3 pools, no caps)', () => {
    fc.assert(
      fc.property(fc.array(poolArb(false), { minLength: 2, maxLength: 3 }), fc.bigInt({ min: 1n, max: 300n }), (pools, amount) => {
        const a = splitAcrossPools(amount, pools)
        assert.equal(a.reduce((x, y) => x + y, 0n), amount)
        const got = totalOut(pools, a)
        const best = bruteForce(amount, pools)
        assert.ok(got * 1000n >= best * 999n, `split ${got} vs brute force ${best}`)
      }),
      { numRuns: 60, seed: 42 },
    )
  })

  it('is within 0.1% of the brute-force optimum with per-pool caps', () => {
    fc.assert(
      fc.property(fc.array(poolArb(true), { minLength: 2, maxLength: 3 }), fc.bigInt({ min: 1n, max: 300n }), (pools, amount) => {
        const a = splitAcrossPools(amount, pools)
        const capTotal = pools.reduce((x, p) => x + p.cap, 0n)
        const sold = a.reduce((x, y) => x + y, 0n)
        assert.equal(sold, amount < capTotal ? amount : capTotal)
        a.forEach((x, i) => assert.ok(x <= pools[i].cap))
        if (sold < amount) return // everything at its cap: nothing to optimize
        const got = totalOut(pools, a)
        const best = bruteForce(amount, pools)
        assert.ok(got * 1000n >= best * 999n, `split ${got} vs brute force ${best}`)
      }),
      { numRuns: 60, seed: 7 },
    )
  })

  it('equalizes marginal prices on large pools and respects the impact caps', () => {
    const pools: SplitPool[] = [
      [10n ** 21n, 3n * 10n ** 12n],
      [5n * 10n ** 20n, 15n * 10n ** 11n],
      [2n * 10n ** 21n, 59n * 10n ** 11n],
    ].map(([x, y]) => ({ reserveIn: x, reserveOut: y, cap: maxAmountInForImpact(x, y, 100n) }))
    const a = splitAcrossPools(10n ** 20n, pools)
    a.forEach((x, i) => {
      if (x > 0n) assert.ok(priceImpactBps(x, pools[i].reserveIn, pools[i].reserveOut) <= 100n)
    })
    // Post-trade marginal prices y'/x' of the uncapped pools agree to 1e-6.
    const prices = a
      .map((x, i) => ({ x, i }))
      .filter(({ x, i }) => x > 0n && x < pools[i].cap)
      .map(({ x, i }) => {
        const out = totalOut([pools[i]], [x])
        return ((pools[i].reserveOut - out) * 10n ** 18n) / (pools[i].reserveIn + x)
      })
    for (const p of prices) assert.ok(p * 1_000_000n >= prices[0] * 999_999n && p * 999_999n <= prices[0] * 1_000_000n)
  })

  it('returns zeros for no amount or no pools', () => {
    assert.deepEqual(splitAcrossPools(0n, [{ reserveIn: 1n, reserveOut: 1n, cap: 1n }]), [0n])
    assert.deepEqual(splitAcrossPools(5n, []), [])
  })
})
