import assert from 'node:assert/strict'
import { bytesToHex } from 'viem'
import { GossipType } from '../../../protocol/topics.js'
import type { GossipNode } from '../../../node/gossip/node.js'
import { createGossipNode } from '../../../node/gossip/node.js'
import { CHAIN_ID, cleanup, healthTopic, nodeOptions, planCluster, signedHealth, startCluster, waitFor, waitForMesh } from './helpers.js'

/** Counts every copy of a health-topic message that reaches a node's gossipsub, duplicates included. */
function countCopies(node: GossipNode): { n: number } {
  const counter = { n: 0 }
  const ps = node.host.pubsub as unknown as { handleReceivedMessage: (from: unknown, msg: { topic: string }) => Promise<void> }
  const original = ps.handleReceivedMessage
  ps.handleReceivedMessage = function (from, msg) {
    if (msg.topic === healthTopic) counter.n++
    return original.call(this, from, msg)
  }
  return counter
}

describe('gossip network: real libp2p nodes in one process (network)', function () {
  this.timeout(30_000)
  let nodes: GossipNode[] = []
  let dir = ''
  let members: Awaited<ReturnType<typeof startCluster>>['members'] = []

  before(async () => {
    const c = await startCluster(5, 'net')
    nodes = c.nodes
    dir = c.dir
    members = c.members
    await waitForMesh(nodes, 2)
  })
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    cleanup(dir)
  })

  it("every node's snapshots reach every other node's store, each copy once (direct relay)", async () => {
    const copies = nodes.map(countCopies)
    const market = 'net-mkt'
    const published = await Promise.all(
      nodes.map((n, i) => {
        const msg = signedHealth(members[i].signer, n.domainSeparator, { block: 10, seed: market })
        return n.service.publish({ type: GossipType.health, chainId: CHAIN_ID }, msg.bytes).then((o) => ({ o, msg }))
      }),
    )
    for (const { o } of published) assert.equal(o.action, 'ACCEPT', o.action === 'ACCEPT' ? '' : `${o.code} ${o.error.message}`)
    const marketHex = bytesToHex(published[0].msg.snapshot.market)
    const borrower = bytesToHex(published[0].msg.snapshot.accounts[0].borrower)
    await waitFor(async () => {
      for (const n of nodes) if ((await n.store.accountHealth.getAccount(CHAIN_ID, marketHex, borrower)).length < nodes.length) return false
      return true
    }, 10_000, 'all snapshots in all stores')
    for (const n of nodes) {
      const views = await n.store.accountHealth.getAccount(CHAIN_ID, marketHex, borrower)
      assert.deepEqual(views.map((v) => v.operator.toLowerCase()).sort(), members.map((m) => m.signer.address.toLowerCase()).sort())
      const latest = await n.store.latestHealth.list()
      assert.equal(latest.length, nodes.length)
    }
    // Straight from each publisher, relayed by nobody: one copy per other operator.
    assert.deepEqual(copies.map((c) => c.n), nodes.map(() => nodes.length - 1))
  })
})

describe('gossip relay modes over a line of 4 nodes (network)', function () {
  this.timeout(60_000)
  for (const relay of ['mesh', 'direct'] as const) {
    it(`${relay}: a snapshot reaches the node three hops away (${relay === 'mesh' ? 'relayed by the mesh' : 'repaired by lazy gossip, IHAVE/IWANT'})`, async () => {
      const plan = await planCluster(4, `line-${relay}`)
      const nodes: GossipNode[] = []
      try {
        for (const m of plan.members) {
          const o = nodeOptions(m, plan.members, plan.operators, { p2p: { relay } })
          // Each node dials only the next one: 0 - 1 - 2 - 3.
          nodes.push(await createGossipNode({ ...o, p2p: { ...o.p2p, staticPeers: plan.members.filter((x) => x.index === m.index + 1).map((x) => x.address) } }))
        }
        await waitForMesh(nodes, 1, 20_000)
        const msg = signedHealth(plan.members[0].signer, nodes[0].domainSeparator, { block: 5, seed: 'line' })
        const o = await nodes[0].service.publish({ type: GossipType.health, chainId: CHAIN_ID }, msg.bytes)
        assert.equal(o.action, 'ACCEPT')
        const market = bytesToHex(msg.snapshot.market)
        const borrower = bytesToHex(msg.snapshot.accounts[0].borrower)
        await waitFor(async () => (await nodes[3].store.accountHealth.getAccount(CHAIN_ID, market, borrower)).length === 1, 20_000, 'the snapshot at node 3')
        assert.equal(nodes[0].host.libp2p.getConnections().filter((c) => c.remotePeer.toString() === plan.members[3].peerId).length, 0, 'node 0 is not connected to node 3')
      } finally {
        await Promise.all(nodes.map((n) => n.stop()))
        cleanup(plan.dir)
      }
    })
  }
})
