import assert from 'node:assert/strict'
import { bytesToHex, hexToBytes, keccak256, recoverTypedDataAddress, toHex, type Address } from 'viem'
import { privateKeyToAddress } from 'viem/accounts'
import { devnetOperatorKeys } from '../../../chains/devnet/operators.js'
import { MessageKind, createValidatorSet, encodePacket, leaderOf, makeMessage, signQbftMessage } from '../../../protocol/consensus/index.js'
import { CONSENSUS_TOPIC } from '../../../node/consensus/index.js'
import { commitSealTypedData, settlementPlanDigest } from '../../../protocol/settlement/plan.js'
import type { CertifiedPlan } from '../../../node/consensus/index.js'
import { HUB, cleanup, planConsensusCluster, startMember, stopMember, testValues, waitFor, waitForTopicPeers, type ClusterPlan, type RunningMember } from './helpers.js'

describe('consensus over libp2p: n=4 nodes on loopback (network)', function () {
  this.timeout(60_000)
  const N = 4
  let plan: ClusterPlan
  const running: (RunningMember | undefined)[] = []
  const decided: Map<bigint, CertifiedPlan>[] = []
  /** Heights the value layer has something for: the test opens them one batch at a time. */
  let maxHeight = 0n

  const listen = (i: number) => {
    decided[i] = decided[i] ?? new Map()
    running[i]!.node.service.addEventListener('consensus:decided', (e) => decided[i].set(e.detail.height, e.detail))
  }
  const start = async (i: number) => {
    running[i] = await startMember(plan, i, {
      heightIntervalMs: 25,
      // Small enough that an oversized packet still fits gossipsub's own cap and reaches the consensus transport.
      qbft: { maxValueBytes: 4096 },
      values: testValues({ tag: `node${i}`, hasValue: (h) => h <= maxHeight }),
    })
    listen(i)
  }

  before(async () => {
    plan = await planConsensusCluster(N, 'net')
    await Promise.all(plan.members.map((_, i) => start(i)))
    await waitForTopicPeers(running.map((r) => r!.host), N - 1)
  })
  after(async () => {
    await Promise.all(running.map(stopMember))
    cleanup(plan.dir)
  })

  const live = () => running.map((r, i) => (r ? i : -1)).filter((i) => i >= 0)
  const allDecided = (h: bigint, who = live()) => who.every((i) => decided[i].has(h))

  it('decides the same certified plan at every height, with a quorum of seals the hub would accept', async () => {
    maxHeight = 5n
    const t0 = Date.now()
    await waitFor(() => allDecided(5n), 30_000, 'heights 1..5 decided everywhere')
    console.log(`      5 heights in ${Date.now() - t0} ms`)
    const vset = createValidatorSet(plan.operators)
    for (let h = 1n; h <= 5n; h++) {
      const plans = live().map((i) => decided[i].get(h)!)
      const first = plans[0]
      for (const p of plans) {
        assert.equal(p.digest, first.digest, `height ${h}: same value everywhere`)
        assert.equal(p.planDigest, first.planDigest)
        assert.equal(p.settlementPlan.height, h)
        assert.equal(p.planDigest, settlementPlanDigest(p.settlementPlan))
      }
      // The value is the round-0 leader's (its tag is in the plan).
      const leader = leaderOf(vset, h, first.round)
      const leaderIndex = plan.members.findIndex((m) => m.operator.toLowerCase() === leader)
      assert.equal(bytesToHex(first.value), bytesToHex((await testValues({ tag: `node${leaderIndex}` }).buildValue(h))!))
      // ≥ 2f+1 seals by distinct operators, each recovering (EIP-712, as the hub verifies) to its signer.
      assert.ok(first.seals.length >= vset.quorum)
      assert.equal(new Set(first.seals.map((s) => s.signer)).size, first.seals.length)
      for (const s of first.seals) {
        const signer = await recoverTypedDataAddress({ ...commitSealTypedData({ chainId: BigInt(HUB.chainId), verifyingContract: HUB.address }, h, first.planDigest), signature: bytesToHex(s.seal) })
        assert.equal(signer.toLowerCase(), s.signer)
        assert.ok(vset.index.has(s.signer as Address))
      }
    }
    // Decisions are persisted.
    const stored = await running[0]!.node.decisions.get(3n)
    assert.equal(stored?.status, 'decided')
    assert.equal(stored?.digest, decided[0].get(3n)!.digest)
    // Metrics count the decisions.
    const metric = await running[0]!.node.register.getSingleMetricAsString('liqnet_consensus_decisions_total')
    assert.match(metric, /liqnet_consensus_decisions_total\{source="consensus"\} [5-9]/)
  })

  it('a stopped leader: round change, the next leader decides; the leader restarts and catches up', async () => {
    const vset = createValidatorSet(plan.operators)
    const h = 6n
    const leader = leaderOf(vset, h, 0)
    const victim = plan.members.findIndex((m) => m.operator.toLowerCase() === leader)
    await stopMember(running[victim])
    running[victim] = undefined
    const t0 = Date.now()
    maxHeight = 7n
    await waitFor(() => allDecided(h), 20_000, `height ${h} decided without its leader`)
    const failover = Date.now() - t0
    const plans = live().map((i) => decided[i].get(h)!)
    for (const p of plans) assert.equal(p.digest, plans[0].digest)
    assert.ok(plans[0].round >= 1, 'decided in a later round')
    const nextLeader = leaderOf(vset, h, plans[0].round)
    const nextIndex = plan.members.findIndex((m) => m.operator.toLowerCase() === nextLeader)
    assert.equal(bytesToHex(plans[0].value), bytesToHex((await testValues({ tag: `node${nextIndex}` }).buildValue(h))!))
    console.log(`      failover: decided at round ${plans[0].round} ${failover} ms after the leader stopped (base round timeout 1 s)`)
    await waitFor(() => allDecided(7n), 20_000, 'height 7')

    // The old leader comes back with the same data directory, resumes after its last decision, and catches up.
    await start(victim)
    assert.equal(running[victim]!.node.service.height, 6n)
    maxHeight = 9n
    await waitFor(() => allDecided(9n), 30_000, 'height 9 decided everywhere, the restarted node included')
    for (const i of live()) assert.equal(decided[i].get(9n)!.digest, decided[(victim + 1) % N].get(9n)!.digest)
  })

  it('bad input gets a counted rejection, never a crash or a signature', async () => {
    const sender = running[0]!
    const keys = devnetOperatorKeys(N)
    const sep = sender.node.domainSeparator
    const h = running[1]!.node.service.height
    const stranger = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' as const
    const strangerAddr = privateKeyToAddress(stranger)
    const packets: Record<string, Uint8Array> = {
      MALFORMED: new Uint8Array([0xff, 0x01, 0x02, 0x03, 0x04]),
      OVERSIZED: new Uint8Array(100 * 1024).fill(7),
      UNKNOWN_SIGNER: encodePacket({ type: 'prepare', signed: signQbftMessage(sep, makeMessage(MessageKind.prepare, h, 0, keccak256(toHex('v'))), hexToBytes(stranger), strangerAddr) }),
      FUTURE_HEIGHT: encodePacket({ type: 'prepare', signed: signQbftMessage(sep, makeMessage(MessageKind.prepare, h + 100n, 0, keccak256(toHex('v'))), hexToBytes(keys[0].privateKey), keys[0].address) }),
    }
    for (const bytes of Object.values(packets)) await sender.host.pubsub.publish(CONSENSUS_TOPIC, bytes)
    const receiver = running[1]!.node
    await waitFor(async () => {
      const text = await receiver.register.getSingleMetricAsString('liqnet_consensus_rejections_total')
      return Object.keys(packets).every((reason) => new RegExp(`reason="${reason}"\\} [1-9]`).test(text))
    }, 10_000, 'every bad packet counted')
    const text = await receiver.register.getSingleMetricAsString('liqnet_consensus_rejections_total')
    assert.match(text, /outcome="rejected",reason="MALFORMED"/)
    assert.match(text, /outcome="rejected",reason="OVERSIZED"/)
    assert.match(text, /outcome="rejected",reason="UNKNOWN_SIGNER"/)
    // The network keeps deciding.
    maxHeight = 10n
    await waitFor(() => allDecided(10n), 20_000, 'height 10 after the bad input')
  })
})
