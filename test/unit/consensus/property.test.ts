/**
 * Property test: ≥ 1,000 random schedules per run (seeded delays, drops, partitions that heal,
 * crashes and Byzantine behaviours of at most f nodes). Every schedule must keep agreement and
 * validity, and decide every height at every honest live node once the network has healed.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { agreementProblem, livenessProblem, runScenario, validityProblem, type Behaviour, type Scenario } from './harness.js'

const faultKinds = ['crash', 'equivocating-leader', 'conflicting-prepares', 'invalid-proposer', 'refuses-to-sign'] as const

const scheduleArb = fc
  .record({
    // Mostly n = 4 to keep each run small (n = 7 and 10 are covered by the scenario table).
    n: fc.integer({ min: 0, max: 19 }).map((x) => (x === 0 ? 7 : 4)),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    heights: fc.integer({ min: 0, max: 9 }).map((x) => (x === 0 ? 2 : 1)),
    minDelayMs: fc.integer({ min: 1, max: 40 }),
    jitterMs: fc.integer({ min: 0, max: 150 }),
    dropProbability: fc.constantFrom(0, 0, 0.05, 0.15, 0.3),
    healAtMs: fc.integer({ min: 0, max: 3_000 }),
    partitioned: fc.boolean(),
    partitionMask: fc.integer({ min: 1, max: 126 }),
    faults: fc.array(fc.record({ kind: fc.constantFrom(...faultKinds), at: fc.integer({ min: 0, max: 400 }) }), { maxLength: 2 }),
  })
  .map((p): Scenario => {
    const f = Math.floor((p.n - 1) / 3)
    const behaviours: Record<number, Behaviour> = {}
    const crashes: Record<number, number> = {}
    // At most f faulty nodes, on distinct indices picked from the seed.
    p.faults.slice(0, f).forEach((fault, k) => {
      const idx = (p.seed + 3 * k) % p.n
      if (fault.kind === 'crash') crashes[idx] = fault.at
      else behaviours[idx] = fault.kind
    })
    const partition = p.partitioned ? [...Array(p.n).keys()].filter((i) => (p.partitionMask >> i) & 1) : undefined
    return {
      name: 'random',
      n: p.n,
      seed: p.seed,
      heights: p.heights,
      minDelayMs: p.minDelayMs,
      jitterMs: p.jitterMs,
      dropProbability: p.dropProbability,
      healAtMs: p.healAtMs,
      partition,
      crashes,
      behaviours,
      maxTimeMs: 120_000,
    }
  })

describe('consensus: QBFT property (fast-check, random schedules)', function () {
  this.timeout(120_000)
  it('keeps agreement and validity, and decides once healed, over 1,000 schedules', async () => {
    let runs = 0
    await fc.assert(
      fc.asyncProperty(scheduleArb, async (s) => {
        runs++
        const r = await runScenario(s)
        assert.equal(agreementProblem(r), undefined)
        assert.equal(validityProblem(r), undefined)
        assert.equal(livenessProblem(r), undefined)
      }),
      { numRuns: 1000 },
    )
    assert.equal(runs, 1000)
  })
})
