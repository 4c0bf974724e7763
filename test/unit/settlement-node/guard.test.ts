/**
 * LegGuard (node/daemon/guard.ts): the leader never proposes an account of a plan still settling; the other chains
 * go ahead in a value that leaves the busy chain out, and the busy accounts are free again once the plan settled, the
 * cooldown passed and the value pins their chain at a block newer than the settlement.
 */
import assert from 'node:assert/strict'
import type { Address, Hex } from 'viem'
import { LegGuard } from '../../../node/daemon/guard.js'
import type { ConsensusValues } from '../../../node/consensus/values.js'
import type { SettlementLeg, SettlementPlan } from '../../../protocol/settlement/plan.js'

const ALPHA = { chainId: 31201, eid: 40201 }
const BETA = { chainId: 31202, eid: 40202 }

function leg(seq: number, eid: number, borrower: string): SettlementLeg {
  return {
    seq,
    eid,
    protocol: 0 as SettlementLeg['protocol'],
    target: '0x0000000000000000000000000000000000000001',
    marketId: `0x${'11'.repeat(32)}` as Hex,
    borrower: `0x${borrower.repeat(40).slice(0, 40)}` as Address,
    collateralToken: '0x0000000000000000000000000000000000000002',
    debtToken: '0x0000000000000000000000000000000000000003',
    seizedAssets: 1n,
    repaidShares: 1n,
    debtToCover: 0n,
    swaps: [],
    deadline: 0n,
  }
}

/** A value layer over fixed legs per chain: a value is the JSON of its plan; `excludeChainIds` drops a chain's legs. */
function valuesOver(legsByChain: Map<number, SettlementLeg[]>): ConsensusValues & { calls: (readonly number[] | undefined)[] } {
  const calls: (readonly number[] | undefined)[] = []
  const eidOf = new Map([[ALPHA.chainId, ALPHA.eid], [BETA.chainId, BETA.eid]])
  const encode = (p: SettlementPlan) => new TextEncoder().encode(JSON.stringify(p, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)))
  const decode = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b), (_, v) => (typeof v === 'string' && /^\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)) as SettlementPlan
  return {
    calls,
    async buildValue(height, opts) {
      calls.push(opts?.excludeChainIds)
      const legs = [...legsByChain].filter(([c]) => !opts?.excludeChainIds?.includes(c)).flatMap(([c, l]) => l.filter((x) => x.eid === eidOf.get(c)))
      return legs.length ? encode({ height, legs }) : null
    },
    async validateValue() {
      return { ok: true as const }
    },
    valueDigest: () => `0x${'00'.repeat(32)}` as Hex,
    settlementPlan: decode,
  }
}

describe('LegGuard: no account planned twice while its plan settles', () => {
  let now = 0
  /** The timestamp (s) every value pins each chain at. */
  let pinTs = 0n
  const pinsOf = () => new Map([[ALPHA.chainId, pinTs], [BETA.chainId, pinTs]])
  const guard = () => new LegGuard({ cooldownMs: 3000, now: () => now, pinsOf, chainIdOfEid: (eid) => [ALPHA, BETA].find((c) => c.eid === eid)?.chainId })

  beforeEach(() => {
    now = 1_000_000
    pinTs = 999n
  })

  it('leaves out the chain of a busy account and proposes the others; frees it after settlement plus the cooldown', async () => {
    const legs = new Map([
      [ALPHA.chainId, [leg(0, ALPHA.eid, 'a1')]],
      [BETA.chainId, [leg(1, BETA.eid, 'b1'), leg(2, BETA.eid, 'b2')]],
    ])
    const values = valuesOver(legs)
    const g = guard()
    const wrapped = g.wrap(values)
    // Height 1 decided with the beta legs: beta is busy.
    g.decided(1n, { height: 1n, legs: legs.get(BETA.chainId)! })

    const v2 = await wrapped.buildValue(2n)
    assert.ok(v2)
    assert.deepEqual(values.settlementPlan(v2).legs.map((l) => l.eid), [ALPHA.eid], 'only the alpha leg')
    assert.deepEqual(values.calls.at(-1), [BETA.chainId], 'rebuilt without beta')

    // Settled (at 1,000 s), still inside the cooldown, pinned after the settlement: beta stays out.
    g.settled(1n)
    now += 2999
    pinTs = 1002n
    assert.deepEqual(values.settlementPlan((await wrapped.buildValue(2n))!).legs.map((l) => l.eid), [ALPHA.eid])
    // After the cooldown, but the pinned block is older than the settlement (its snapshots may predate the liquidation): still out.
    now += 2
    pinTs = 1000n
    assert.deepEqual(values.settlementPlan((await wrapped.buildValue(2n))!).legs.map((l) => l.eid), [ALPHA.eid])
    // Pinned after the settlement: everything.
    pinTs = 1001n
    assert.deepEqual(values.settlementPlan((await wrapped.buildValue(2n))!).legs.map((l) => l.eid).sort(), [ALPHA.eid, BETA.eid, BETA.eid])
    assert.equal(g.withheld, 0)
  })

  it('withholds the value when every chain with legs is busy, and when the EID of a busy leg is unknown', async () => {
    const legs = new Map([[BETA.chainId, [leg(1, BETA.eid, 'b1')]]])
    const values = valuesOver(legs)
    const g = guard()
    g.decided(1n, { height: 1n, legs: legs.get(BETA.chainId)! })
    const wrapped = g.wrap(values)
    assert.equal(await wrapped.buildValue(2n), null)
    assert.equal(g.withheld, 1)
    // Backing off: no build for half a second after a withheld value, unless a plan settles.
    const builds = values.calls.length
    now += 499
    assert.equal(await wrapped.buildValue(2n), null)
    assert.equal(values.calls.length, builds, 'no build while backing off')
    g.settled(1n)
    assert.equal(await wrapped.buildValue(2n), null)
    assert.ok(values.calls.length > builds, 'a settlement ends the backoff')

    const blind = new LegGuard({ cooldownMs: 3000, now: () => now, pinsOf })
    blind.decided(1n, { height: 1n, legs: legs.get(BETA.chainId)! })
    assert.equal(await blind.wrap(valuesOver(legs)).buildValue(2n), null)
    assert.equal(blind.withheld, 1)
  })

  it('a decided plan never seen settled frees its accounts after maxBusyMs', async () => {
    const legs = new Map([[BETA.chainId, [leg(1, BETA.eid, 'b1')]]])
    const g = new LegGuard({ cooldownMs: 3000, maxBusyMs: 10_000, now: () => now, pinsOf, chainIdOfEid: () => BETA.chainId })
    g.decided(1n, { height: 1n, legs: legs.get(BETA.chainId)! })
    assert.equal(g.busy().size, 1)
    now += 10_000
    assert.equal(g.busy().size, 0)
    assert.ok(await g.wrap(valuesOver(legs)).buildValue(2n))
  })
})
