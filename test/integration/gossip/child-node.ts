/**
 * One gossip node in its own process, driven over IPC by the multi-process test.
 * argv[2]: JSON { label, index, ports, dir }. Messages in: { cmd: 'publish', block, seed } |
 * { cmd: 'accounts', market, borrower } | { cmd: 'stop' }. Messages out: { type: 'ready' } and replies.
 */
import { bytesToHex } from 'viem'
import { GossipType } from '../../../protocol/topics.js'
import { createGossipNode } from '../../../node/gossip/node.js'
import { PayloadKind } from '../../../protocol/proto/codec.js'
import { signPayload } from '../../../protocol/signing/envelope.js'
import { makeWireHealthSnapshot } from '../../unit/gossip/fixtures.js'
import { CHAIN_ID, nodeOptions, planCluster, signedHealth } from './helpers.js'

const cfg = JSON.parse(process.argv[2]) as { label: string; index: number; ports: number[]; dir: string }
const send = (m: unknown) => process.send?.(m)

const { members, operators } = await planCluster(cfg.ports.length, cfg.label, { ports: cfg.ports, dir: cfg.dir })
const me = members[cfg.index]
const node = await createGossipNode(nodeOptions(me, members, operators))

// Benchmark mode: publish one `accounts`-account snapshot per second (random phase), record latencies.
const bench = { latencies: [] as number[], received: new Set<string>(), published: 0, measuring: false }
node.service.addEventListener('snapshot:accepted', (e) => {
  if (!bench.measuring || e.detail.source !== 'gossip') return
  const s = e.detail.accepted.snapshot
  bench.latencies.push(e.detail.validatedAt - s.observedAt)
  bench.received.add(`${Buffer.from(e.detail.accepted.record.operator).toString('hex')}|${s.blockNumber}`)
})

process.on('message', async (m: { id: number; cmd: string; block?: number; seed?: string; market?: `0x${string}`; borrower?: `0x${string}`; seconds?: number; accounts?: number }) => {
  try {
    if (m.cmd === 'bench-start') {
      bench.measuring = true
      let round = 0
      // The accounts are read from chains before a snapshot is stamped and signed: build them once.
      const template = makeWireHealthSnapshot({ n: m.accounts, seed: 'bench-mkt', blockNumber: 1000n, observedAt: Date.now() })
      const tick = () => {
        const snapshot = { ...template, blockNumber: 1000 + round, observedAt: Date.now() }
        const msg = signPayload({ kind: PayloadKind.healthSnapshot, snapshot }, me.signer, node.domainSeparator)
        void node.service.publish({ type: GossipType.health, chainId: CHAIN_ID }, msg.bytes)
        bench.published++
        if (++round < m.seconds!) setTimeout(tick, 1000)
      }
      setTimeout(tick, Math.floor(Math.random() * 1000))
      send({ id: m.id, started: true })
      return
    }
    if (m.cmd === 'bench-result') {
      send({ id: m.id, latencies: bench.latencies, received: bench.received.size, published: bench.published })
      return
    }
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
