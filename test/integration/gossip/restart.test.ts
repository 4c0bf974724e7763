import assert from 'node:assert/strict'
import { createGossipNode, type GossipNode } from '../../../node/gossip/node.js'
import { GossipType } from '../../../protocol/topics.js'
import { bytesToHex } from 'viem'
import { CHAIN_ID, cleanup, nodeOptions, signedHealth, startCluster, waitFor, waitForMesh } from './helpers.js'

describe('gossip network: restart in one process (network)', function () {
  this.timeout(60_000)
  let nodes: GossipNode[] = []
  let c: Awaited<ReturnType<typeof startCluster>>

  before(async () => {
    c = await startCluster(3, 'restart')
    nodes = c.nodes
    await waitForMesh(nodes, 2)
  })
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})))
    cleanup(c.dir)
  })

  it('a node stopped and started again with the same key and store rejoins and catches up', async () => {
    const victim = 2
    await nodes[victim].stop()
    const msgs = [0, 1].map((i) => signedHealth(c.members[i].signer, nodes[i].domainSeparator, { block: 30, seed: 'rs' }))
    await Promise.all(msgs.map((m, i) => nodes[i].service.publish({ type: GossipType.health, chainId: CHAIN_ID }, m.bytes)))
    const market = bytesToHex(msgs[0].snapshot.market)
    const borrower = bytesToHex(msgs[0].snapshot.accounts[0].borrower)
    const t0 = Date.now()
    nodes[victim] = await createGossipNode(nodeOptions(c.members[victim], c.members, c.operators))
    assert.equal(nodes[victim].host.peerId, c.members[victim].peerId)
    await waitFor(async () => (await nodes[victim].store.accountHealth.getAccount(CHAIN_ID, market, borrower)).length === 2, 10_000, 'catch-up')
    console.log(`      caught up ${Date.now() - t0} ms after restart`)
    await waitForMesh(nodes, 2)
    const live = signedHealth(c.members[0].signer, nodes[0].domainSeparator, { block: 31, seed: 'rs' })
    await nodes[0].service.publish({ type: GossipType.health, chainId: CHAIN_ID }, live.bytes)
    await waitFor(async () => (await nodes[victim].store.accountHealth.getAccount(CHAIN_ID, market, borrower)).some((v) => v.blockNumber === 31n), 10_000, 'live')
  })
})
