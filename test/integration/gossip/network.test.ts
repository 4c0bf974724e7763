import assert from 'node:assert/strict'
import { bytesToHex } from 'viem'
import { GossipType } from '../../../protocol/topics.js'
import type { GossipNode } from '../../../node/gossip/node.js'
import { CHAIN_ID, cleanup, signedHealth, startCluster, waitFor, waitForMesh } from './helpers.js'

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

  it("every node's snapshots reach every other node's store", async () => {
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
  })
})
