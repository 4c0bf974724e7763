/**
 * One gossip node in its own process, driven over IPC by the multi-process test.
 * argv[2]: JSON { label, index, ports, dir }. Messages in: { cmd: 'publish', block, seed } |
 * { cmd: 'accounts', market, borrower } | { cmd: 'stop' }. Messages out: { type: 'ready' } and replies.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks'
import { bytesToHex } from 'viem'
import { GossipType } from '../../../protocol/topics.js'
import { createGossipNode } from '../../../node/gossip/node.js'
import { PayloadKind } from '../../../protocol/proto/codec.js'
import { signPayload } from '../../../protocol/signing/envelope.js'
import { makeWireHealthSnapshot } from '../../unit/gossip/fixtures.js'
import { CHAIN_ID, nodeOptions, peersOf, planCluster, signedHealth } from './helpers.js'

const cfg = JSON.parse(process.argv[2]) as {
  label: string
  index: number
  ports: number[]
  dir: string
  profile?: string
  /** Relay mode, static peer topology (helpers.peersOf) and gossipsub overrides (benchmark variants). */
  relay?: 'direct' | 'mesh'
  topology?: 'ring' | 'full'
  gossipsub?: Record<string, unknown>
  accountFlushMs?: number
  maxBatch?: number
}
const send = (m: unknown) => process.send?.(m)

const { members, operators } = await planCluster(cfg.ports.length, cfg.label, { ports: cfg.ports, dir: cfg.dir })
const me = members[cfg.index]
const base = nodeOptions(me, members, operators, {
  ...(cfg.accountFlushMs === undefined ? {} : { accountFlushMs: cfg.accountFlushMs }),
  ...(cfg.maxBatch === undefined ? {} : { service: { maxBatch: cfg.maxBatch } }),
  ...(cfg.relay === undefined ? {} : { p2p: { relay: cfg.relay } }),
})
const node = await createGossipNode({
  ...base,
  p2p: { ...base.p2p, ...(cfg.topology ? { staticPeers: peersOf(members, me.index, cfg.topology) } : {}), gossipsub: { ...base.p2p?.gossipsub, ...cfg.gossipsub } },
})

// Benchmark mode: publish one `accounts`-account snapshot per second (random phase), record latencies,
// the process's CPU time, event-loop delay, and how many copies of gossip messages arrived.
const bench = { latencies: [] as number[], received: new Set<string>(), published: 0, measuring: false, measureFrom: 0, copies: 0, cpu0: process.cpuUsage(), loop: monitorEventLoopDelay({ resolution: 10 }) }
const profiler = cfg.profile ? new Session() : undefined
// Time spent in garbage collection while measuring.
let gcMs = 0
new PerformanceObserver((list) => {
  if (bench.measuring) for (const e of list.getEntries()) gcMs += e.duration
}).observe({ entryTypes: ['gc'] })
{
  // Every copy of a message that reaches gossipsub, duplicates included (they are dropped by message id).
  const ps = node.host.pubsub as unknown as { handleReceivedMessage: (from: unknown, msg: unknown) => Promise<void> }
  const original = ps.handleReceivedMessage
  ps.handleReceivedMessage = function (from, msg) {
    if (bench.measuring) bench.copies++
    return original.call(this, from, msg)
  }
}
node.service.addEventListener('snapshot:accepted', (e) => {
  if (e.detail.source !== 'gossip') return
  const s = e.detail.accepted.snapshot
  if (s.blockNumber < bench.measureFrom) return
  bench.latencies.push(e.detail.validatedAt - s.observedAt)
  bench.received.add(`${Buffer.from(e.detail.accepted.record.operator).toString('hex')}|${s.blockNumber}`)
})

process.on('message', async (m: { id: number; cmd: string; block?: number; seed?: string; market?: `0x${string}`; borrower?: `0x${string}`; seconds?: number; accounts?: number; warmup?: number }) => {
  try {
    if (m.cmd === 'bench-start') {
      // Publish from now on; measure after `warmup` seconds (JIT tier-up, caches): blocks from 1000 + warmup.
      const warmup = m.warmup ?? 0
      bench.measureFrom = 1000 + warmup
      const begin = async () => {
        if (profiler) {
          profiler.connect()
          await profiler.post('Profiler.enable')
          await profiler.post('Profiler.start')
        }
        bench.measuring = true
        bench.cpu0 = process.cpuUsage()
        bench.loop.enable()
      }
      if (warmup > 0) setTimeout(() => void begin(), warmup * 1000)
      else await begin()
      let round = 0
      // The accounts are read from chains before a snapshot is stamped and signed: build them once.
      const template = makeWireHealthSnapshot({ n: m.accounts, seed: 'bench-mkt', blockNumber: 1000n, observedAt: Date.now() })
      const tick = () => {
        const snapshot = { ...template, blockNumber: 1000 + round, observedAt: Date.now() }
        const msg = signPayload({ kind: PayloadKind.healthSnapshot, snapshot }, me.signer, node.domainSeparator)
        void node.service.publish({ type: GossipType.health, chainId: CHAIN_ID }, msg.bytes)
        if (round >= warmup) bench.published++
        if (++round < warmup + m.seconds!) setTimeout(tick, 1000)
      }
      setTimeout(tick, Math.floor(Math.random() * 1000))
      send({ id: m.id, started: true })
      return
    }
    if (m.cmd === 'bench-result') {
      const cpu = process.cpuUsage(bench.cpu0)
      send({
        id: m.id,
        latencies: bench.latencies,
        received: bench.received.size,
        published: bench.published,
        copies: bench.copies,
        cpuMs: (cpu.user + cpu.system) / 1000,
        gcMs,
        loopDelayP99Ms: bench.loop.percentile(99) / 1e6,
        loopDelayMaxMs: bench.loop.max / 1e6,
      })
      return
    }
    if (m.cmd === 'profile-stop') {
      if (profiler && cfg.profile) {
        const { profile } = await profiler.post('Profiler.stop')
        writeFileSync(cfg.profile, JSON.stringify(profile))
        profiler.disconnect()
      }
      send({ id: m.id, written: cfg.profile })
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
