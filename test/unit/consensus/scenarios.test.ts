/**
 * QBFT scenario table: n = 4, 7 and 10 nodes in the deterministic harness (fake clock, seeded
 * in-memory network). Every scenario asserts agreement and validity on every height, and
 * liveness: every honest live node decides every height within the scenario's simulated-time bound.
 */
import assert from 'node:assert/strict'
import { agreementProblem, leaderIndex, livenessProblem, runScenario, validityProblem, type Scenario } from './harness.js'

type Row = Scenario & { /** Simulated-time bound for the last decision, ms. */ boundMs: number }

// Leaders: validators sorted by address, leader(h, r) = sorted[(h + r) mod n]; node indices here are
// key numbers, so the faulty nodes below land on leader slots depending on the key order.
const rows: Row[] = [
  { name: 'n=4, no faults', n: 4, seed: 1, heights: 3, boundMs: 1_000 },
  { name: 'n=7, no faults', n: 7, seed: 2, heights: 3, boundMs: 1_000 },
  { name: 'n=10, no faults', n: 10, seed: 3, heights: 3, boundMs: 1_000 },
  { name: 'n=4, slow links (50-250 ms)', n: 4, seed: 4, heights: 3, minDelayMs: 50, jitterMs: 200, boundMs: 5_000 },
  { name: 'n=7, 20% drops until 5 s', n: 7, seed: 5, heights: 3, dropProbability: 0.2, healAtMs: 5_000, boundMs: 40_000 },
  { name: 'n=10, 10% drops until 3 s', n: 10, seed: 6, heights: 2, dropProbability: 0.1, healAtMs: 3_000, boundMs: 40_000 },
  { name: 'n=4, leader of height 1 crashed from the start', n: 4, seed: 7, heights: 4, crashes: { [leaderIndex(4, 1n, 0)]: 0 }, boundMs: 10_000 },
  { name: 'n=4, leader of height 2 crashes mid-run', n: 4, seed: 8, heights: 4, crashes: { [leaderIndex(4, 2n, 0)]: 60 }, boundMs: 10_000 },
  { name: 'n=7, leader of height 1 crashed: failover within 1.5 s at a 1 s base', n: 7, seed: 22, heights: 1, crashes: { [leaderIndex(7, 1n, 0)]: 0 }, boundMs: 1_500 },
  { name: 'n=7, two nodes crashed (f = 2)', n: 7, seed: 9, heights: 4, crashes: { 2: 0, 5: 0 }, boundMs: 20_000 },
  { name: 'n=10, three nodes crashed (f = 3)', n: 10, seed: 10, heights: 3, crashes: { 0: 0, 4: 0, 8: 0 }, boundMs: 30_000 },
  { name: 'n=7, partition 3 | 4 (no quorum) healing at 8 s', n: 7, seed: 11, heights: 2, partition: [0, 1, 2], healAtMs: 8_000, boundMs: 40_000 },
  { name: 'n=4, partition 2 | 2 healing at 5 s', n: 4, seed: 12, heights: 3, partition: [0, 1], healAtMs: 5_000, boundMs: 40_000 },
  { name: 'n=10, partition 6 | 4 healing at 4 s', n: 10, seed: 13, heights: 2, partition: [0, 1, 2, 3], healAtMs: 4_000, boundMs: 40_000 },
  { name: 'n=4, equivocating leader', n: 4, seed: 14, heights: 4, behaviours: { 1: 'equivocating-leader' }, boundMs: 10_000 },
  { name: 'n=7, two equivocating leaders', n: 7, seed: 15, heights: 7, behaviours: { 0: 'equivocating-leader', 3: 'equivocating-leader' }, boundMs: 30_000 },
  { name: 'n=4, Byzantine follower with conflicting prepares', n: 4, seed: 16, heights: 4, behaviours: { 2: 'conflicting-prepares' }, boundMs: 10_000 },
  { name: 'n=7, two Byzantine followers with conflicting prepares', n: 7, seed: 17, heights: 4, behaviours: { 1: 'conflicting-prepares', 4: 'conflicting-prepares' }, boundMs: 10_000 },
  { name: 'n=10, three Byzantine (equivocation, conflicting prepares, invalid values) and jitter', n: 10, seed: 18, heights: 4, jitterMs: 80,
    behaviours: { 1: 'equivocating-leader', 5: 'conflicting-prepares', 7: 'invalid-proposer' }, boundMs: 30_000 },
  { name: 'n=4, leader proposing invalid values', n: 4, seed: 19, heights: 4, behaviours: { 3: 'invalid-proposer' }, boundMs: 10_000 },
  { name: 'n=4, one node whose signing protection refuses everything', n: 4, seed: 20, heights: 4, behaviours: { 2: 'refuses-to-sign' }, boundMs: 10_000 },
  { name: 'n=7, Byzantine follower and 10% drops until 3 s', n: 7, seed: 21, heights: 3, dropProbability: 0.1, healAtMs: 3_000,
    behaviours: { 6: 'conflicting-prepares' }, boundMs: 40_000 },
]

describe('consensus: QBFT scenario table (deterministic harness)', function () {
  this.timeout(30_000)
  for (const row of rows) {
    it(row.name, async () => {
      const r = await runScenario({ ...row, maxTimeMs: row.boundMs })
      assert.equal(agreementProblem(r), undefined)
      assert.equal(validityProblem(r), undefined)
      assert.equal(livenessProblem(r), undefined)
      assert.ok(r.allDecidedAtMs !== undefined && r.allDecidedAtMs <= row.boundMs, `all decided at ${r.allDecidedAtMs} ms`)
      const b = row.behaviours ?? {}
      if (Object.values(b).includes('invalid-proposer')) {
        const refused = r.nodes.filter((n) => n.honest).reduce((s, n) => s + (n.stats.rejected.INVALID_VALUE ?? 0), 0)
        assert.ok(refused > 0, 'honest nodes refused the invalid value')
      }
      if (Object.values(b).includes('refuses-to-sign')) {
        const idx = Number(Object.keys(b).find((k) => b[Number(k)] === 'refuses-to-sign'))
        assert.ok(r.nodes[idx].stats.signRefused > 0, 'refusals are counted')
      }
      if (Object.values(b).includes('equivocating-leader') || Object.values(b).includes('conflicting-prepares')) {
        // Every fourth validator receives both versions and rejects the second one.
        const eq = r.nodes.filter((n) => n.honest).reduce((s, n) => s + (n.stats.rejected.EQUIVOCATION ?? 0), 0)
        if (Object.values(b).includes('conflicting-prepares')) assert.ok(eq > 0, 'equivocation detected')
      }
    })
  }

  it('is deterministic: the same seed gives the same run', async () => {
    const s: Scenario = { name: 'det', n: 4, seed: 99, heights: 2, dropProbability: 0.2, healAtMs: 2_000 }
    const a = await runScenario(s)
    const b = await runScenario(s)
    assert.equal(a.endMs, b.endMs)
    assert.equal(a.messagesSent, b.messagesSent)
    assert.deepEqual(
      a.nodes.map((n) => [...n.decisions.values()].map((d) => `${d.height}:${d.round}:${d.digest}`)),
      b.nodes.map((n) => [...n.decisions.values()].map((d) => `${d.height}:${d.round}:${d.digest}`)),
    )
  })
})
