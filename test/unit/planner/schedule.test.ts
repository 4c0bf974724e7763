import assert from 'node:assert/strict'
import fc from 'fast-check'
import { almgrenChrissTrades, planTrajectory } from '../../../protocol/planner/index.js'

const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n)

describe('planner: Almgren–Chriss schedule', () => {
  it('is TWAP when the urgency is 0', () => {
    assert.deepEqual(almgrenChrissTrades(100n, 4, 0n), [25n, 25n, 25n, 25n])
    const t = almgrenChrissTrades(10n, 3, 0n)
    assert.equal(sum(t), 10n)
    assert.ok(t.every((x) => x === 3n || x === 4n))
  })

  it('is front-loaded along sinh(κ(T−t))/sinh(κT) when the urgency is positive', () => {
    const X = 10n ** 24n
    const t = almgrenChrissTrades(X, 10, 5n * 10n ** 17n)
    assert.equal(sum(t), X)
    for (let k = 1; k < t.length; k++) assert.ok(t[k] <= t[k - 1])
    // x_1/X = sinh(0.5·9)/sinh(0.5·10) ≈ 0.60653 (closed form) ⇒ n_1 ≈ 0.39347·X
    const x1 = Number((X - t[0]) / 10n ** 18n) / 1e6
    assert.ok(Math.abs(x1 - Math.sinh(4.5) / Math.sinh(5)) < 1e-6, String(x1))
  })

  it('uses the fewest rounds whose first trade fits the capacity, and sums exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 10n ** 29n }), fc.bigInt({ min: 0n, max: 3n * 10n ** 18n }), (total, cap, kappa) => {
        const t = planTrajectory(total, cap, kappa, 200)
        assert.equal(sum(t), total)
        assert.ok(t.length <= 200)
        if (t.length < 200) assert.ok(t[0] <= cap + 2n, `first ${t[0]} cap ${cap}`)
        if (t.length > 1) {
          const shorter = almgrenChrissTrades(total, t.length - 1, kappa)
          assert.ok(shorter[0] > cap - 2n)
        }
      }),
      { numRuns: 100, seed: 5 },
    )
  })
})
