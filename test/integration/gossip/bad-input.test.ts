import assert from 'node:assert/strict'
import { PayloadKind, encodeEnvelope } from '../../../protocol/proto/codec.js'
import { createOperatorSigner, signPayload } from '../../../protocol/signing/envelope.js'
import { MAX_HEALTH_MESSAGE_BYTES } from '../../../protocol/limits.js'
import type { GossipNode } from '../../../node/gossip/node.js'
import { GossipType } from '../../../protocol/topics.js'
import { TEST_KEYS, makeWireHealthSnapshot } from '../../unit/gossip/fixtures.js'
import { CHAIN_ID, cleanup, healthTopic, signedHealth, startCluster, waitFor, waitForMesh } from './helpers.js'

const HEAD = 1000

async function counter(node: GossipNode, code: string): Promise<number> {
  const m = await node.metrics.validationErrors.get()
  return m.values.filter((v) => v.labels.code === code).reduce((s, v) => s + v.value, 0)
}

describe('gossip network: bad input is rejected, counted and never stored (network)', function () {
  this.timeout(30_000)
  let nodes: GossipNode[] = []
  let dir = ''
  let members: Awaited<ReturnType<typeof startCluster>>['members'] = []

  before(async () => {
    const c = await startCluster(3, 'bad', { heads: { head: (chainId) => (chainId === CHAIN_ID ? HEAD : undefined) } })
    nodes = c.nodes
    dir = c.dir
    members = c.members
    await waitForMesh(nodes, 2)
  })
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    cleanup(dir)
  })

  it('rejects garbage, bad signatures, unknown signers, stale blocks and oversized payloads; the sender loses score', async () => {
    const attacker = nodes[0]
    const [a, b] = [nodes[1], nodes[2]]
    const sep = attacker.domainSeparator
    const good = signedHealth(members[0].signer, sep, { block: HEAD, seed: 'bad-good' })
    const other = signedHealth(members[0].signer, sep, { block: HEAD, seed: 'bad-other' })
    const outsider = createOperatorSigner(TEST_KEYS[15])
    const big = encodeEnvelope({ ...good.envelope, payload: new Uint8Array(MAX_HEALTH_MESSAGE_BYTES + 100).fill(7) })
    assert.ok(big.length > MAX_HEALTH_MESSAGE_BYTES)
    const bad: [string, Uint8Array][] = [
      ['MALFORMED', Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x11])],
      ['BAD_SIGNATURE', encodeEnvelope({ ...good.envelope, signature: other.envelope.signature })],
      ['UNKNOWN_SIGNER', signedHealth(outsider, sep, { block: HEAD, seed: 'bad-outsider' }).bytes],
      ['BLOCK_BEHIND', signedHealth(members[0].signer, sep, { block: HEAD - 500, seed: 'bad-stale' }).bytes],
      ['OVERSIZED', big],
    ]
    const before = await Promise.all(bad.map(([code]) => counter(a, code)))
    // Publish straight through gossipsub, bypassing the attacker's own validation.
    for (const [, data] of bad) await attacker.host.pubsub.publish(healthTopic, data)
    await waitFor(async () => {
      for (let i = 0; i < bad.length; i++) if ((await counter(a, bad[i][0])) <= before[i]) return false
      return true
    }, 10_000, 'every bad message counted')
    for (const node of [a, b]) {
      assert.equal((await node.store.history.count()), 0, 'nothing stored')
      assert.equal((await node.store.accountHealth.count()), 0)
    }
    // REJECTs lower the attacker's score at its direct neighbours (BLOCK_BEHIND is an IGNORE: no penalty).
    await waitFor(() => a.host.pubsub.getScore(attacker.host.peerId) < 0, 5_000, 'score below 0')
    // A valid message still goes through (the network is not wedged), from an honest node.
    const ok = signedHealth(members[1].signer, sep, { block: HEAD, seed: 'bad-honest' })
    await a.service.publish({ type: GossipType.health, chainId: CHAIN_ID }, ok.bytes)
    await waitFor(async () => (await b.store.history.count()) === 1, 5_000, 'honest message stored')
  })

  it('an equivocating operator is flagged, with both snapshots kept as evidence', async () => {
    const [x, y, z] = nodes
    const sep = x.domainSeparator
    const s1 = makeWireHealthSnapshot({ blockNumber: BigInt(HEAD), observedAt: Date.now(), seed: 'equiv', n: 2 })
    const s2 = makeWireHealthSnapshot({ blockNumber: BigInt(HEAD), observedAt: Date.now() + 1, seed: 'equiv', n: 2 })
    const m1 = signPayload({ kind: PayloadKind.healthSnapshot, snapshot: s1 }, members[2].signer, sep)
    const m2 = signPayload({ kind: PayloadKind.healthSnapshot, snapshot: s2 }, members[2].signer, sep)
    await x.host.pubsub.publish(healthTopic, m1.bytes)
    await new Promise((r) => setTimeout(r, 200))
    await x.host.pubsub.publish(healthTopic, m2.bytes)
    for (const node of [y, z]) {
      await waitFor(async () => (await node.store.flaggedOperators.list()).length === 1, 5_000, 'operator flagged')
      const ev = await node.store.evidence.list(members[2].signer.address)
      assert.equal(ev.length, 2)
      assert.notDeepEqual(ev[0].record.digest, ev[1].record.digest)
    }
  })
})
