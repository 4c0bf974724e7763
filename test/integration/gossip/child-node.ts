/**
 * One gossip node in its own process, driven over IPC by the multi-process test.
 * argv[2]: JSON { label, index, ports, dir }. Messages in: { cmd: 'publish', block, seed } |
 * { cmd: 'accounts', market, borrower } | { cmd: 'stop' }. Messages out: { type: 'ready' } and replies.
 */
import { bytesToHex } from 'viem'
import { GossipType } from '../../../protocol/topics.js'
import { createGossipNode } from '../../../node/gossip/node.js'
import { CHAIN_ID, nodeOptions, planCluster, signedHealth } from './helpers.js'

const cfg = JSON.parse(process.argv[2]) as { label: string; index: number; ports: number[]; dir: string }
const send = (m: unknown) => process.send?.(m)

const { members, operators } = await planCluster(cfg.ports.length, cfg.label, { ports: cfg.ports, dir: cfg.dir })
const me = members[cfg.index]
const node = await createGossipNode(nodeOptions(me, members, operators))

process.on('message', async (m: { id: number; cmd: string; block?: number; seed?: string; market?: `0x${string}`; borrower?: `0x${string}` }) => {
  try {
    if (m.cmd === 'publish') {
      const msg = signedHealth(me.signer, node.domainSeparator, { block: m.block!, seed: m.seed })
      const o = await node.service.publish({ type: GossipType.health, chainId: CHAIN_ID }, msg.bytes)
      send({ id: m.id, action: o.action, market: bytesToHex(msg.snapshot.market), borrower: bytesToHex(msg.snapshot.accounts[0].borrower) })
    } else if (m.cmd === 'accounts') {
      const views = await node.store.accountHealth.getAccount(CHAIN_ID, m.market!, m.borrower!)
      send({ id: m.id, views: views.map((v) => ({ operator: v.operator.toLowerCase(), block: Number(v.blockNumber) })) })
    } else if (m.cmd === 'peers') {
      send({ id: m.id, peers: node.host.pubsub.getSubscribers(`/liqnet/1/health/${CHAIN_ID}`).length })
    } else if (m.cmd === 'stop') {
      await node.stop()
      send({ id: m.id, stopped: true })
      process.exit(0)
    }
  } catch (err) {
    send({ id: m.id, error: String(err) })
  }
})
send({ type: 'ready', peerId: me.peerId })
