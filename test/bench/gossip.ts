/**
 * Gossip benchmark: `npm run bench -- gossip [--nodes 8,16] [--seconds 10] [--accounts 500] [--ingest 200]
 * [--warmup 10] [--mode processes|inprocess] [--relay direct|mesh] [--gossipsub '{"D":6}'] [--topology ring|full]` (gossipsub overrides: JSON, no functions
 * in processes mode). Processes mode: `--child-args '<node flags>'`, `--profile <file>` (CPU profile of node 0).
 * In-process mode also compares settings in one process: `--variants '<JSON array of Variant>' --repeat 3`
 * prints every run, then each variant's medians (`"summary": true`).
 *
 * Propagation: N real libp2p nodes on loopback, each in its own process (`--mode processes`,
 * the default, as operators run them) or all in this process (`--mode inprocess`); every node
 * peers with every other and publishes straight to all (`--relay direct`, the default), or static
 * peers in a ring with chords and a gossipsub mesh of degree 3 (`--relay mesh`); each publishing one signed `accounts`-account HealthSnapshot per
 * second (own timer, random phase). Latency = validation time at the receiver − observedAt
 * at the publisher (same clock), over every (message, receiver) pair; lost = expected − received.
 *
 * Ingest: one node's validation queue fed with pre-signed 500-account snapshots from several
 * operators, validated and written to its level store in batches: accounts/s.
 *
 * Prints one JSON line per node count:
 * {"bench":"gossip","nodes":N,"p50Ms":…,"p99Ms":…,"lost":…,"ingestAccountsPerSecond":…}
 * In-process mode adds `cpuMsPerDelivery`: CPU time of the whole cluster during the run per
 * delivered snapshot, which compares settings even when other work shares the machine.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createGossipNode, type GossipNode } from '../../node/gossip/node.js'
import { PayloadKind } from '../../protocol/proto/codec.js'
import { signPayload } from '../../protocol/signing/envelope.js'
import { GossipType } from '../../protocol/topics.js'
import { getFreePort } from '../../chains/devnet/ports.js'
import { CHAIN_ID, killProc, nodeOptions, peersOf, planCluster, spawnNode, spawned, waitForMesh, type Child } from '../integration/gossip/helpers.js'
import { makeWireHealthSnapshot } from '../unit/gossip/fixtures.js'
import { peerKeyFromSeed } from '../../node/p2p/keys.js'
import { messageId, publisherMessageId } from '../../node/p2p/host.js'
import { createOperatorSigner } from '../../protocol/signing/envelope.js'
import { TEST_KEYS, bytesOf } from '../unit/gossip/fixtures.js'

function arg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback
}

const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN)

/**
 * Settings compared by `--variants` (in-process mode): gossipsub overrides (`msgIdFn` may name
 * "content" or "publisher"), IDONTWANT enforcement, the service's batch size.
 */
type Variant = { label?: string; relay?: 'direct' | 'mesh'; accountFlushMs?: number; gossipsub?: Record<string, unknown>; enforceIdontwant?: boolean; maxBatch?: number; topology?: 'ring' | 'full' }

function gossipsubOptions(o: Record<string, unknown>): Record<string, unknown> {
  const out = { ...o }
  if (out.msgIdFn === 'content') out.msgIdFn = messageId
  else if (out.msgIdFn === 'publisher') out.msgIdFn = publisherMessageId
  return out
}

async function propagation(n: number, seconds: number, accounts: number, variant: Variant = {}, warmup = 0) {
  const plan = await planCluster(n, `bench${n}`)
  const nodes: GossipNode[] = []
  try {
    for (const m of plan.members) {
      const o = nodeOptions(m, plan.members, plan.operators, { sync: false, accountFlushMs: variant.accountFlushMs, service: variant.maxBatch ? { maxBatch: variant.maxBatch } : undefined, ...(variant.relay ? { p2p: { relay: variant.relay } } : {}) })
      const p2p = { ...o.p2p, ...(variant.topology ? { staticPeers: peersOf(plan.members, m.index, variant.topology) } : {}), gossipsub: { ...o.p2p?.gossipsub, ...gossipsubOptions(variant.gossipsub ?? {}) }, ...(variant.enforceIdontwant === undefined ? {} : { enforceIdontwant: variant.enforceIdontwant }) }
      nodes.push(await createGossipNode({ ...o, p2p }))
    }
    await waitForMesh(nodes, Math.min(3, n - 1), 30_000)
    await new Promise((r) => setTimeout(r, 1500))
    const latencies: number[] = []
    const arrivals: number[] = []
    const received = new Set<string>()
    const startBlock = 1_000
    // Publishing starts now; blocks from startBlock + warmup are measured (after JIT tier-up).
    let measuring = warmup === 0
    nodes.forEach((node, i) =>
      node.service.addEventListener('snapshot:accepted', (e) => {
        if (e.detail.source !== 'gossip') return
        const s = e.detail.accepted.snapshot
        if (s.blockNumber < startBlock + warmup) return
        latencies.push(e.detail.validatedAt - s.observedAt)
        arrivals.push(e.detail.accepted.record.receivedAt - s.observedAt)
        received.add(`${i}|${Buffer.from(e.detail.accepted.record.operator).toString('hex')}|${s.blockNumber}`)
      }),
    )
    // Every copy reaching gossipsub, duplicates included.
    let copies = 0
    for (const node of nodes) {
      const ps = node.host.pubsub as unknown as { handleReceivedMessage: (from: unknown, msg: unknown) => Promise<void> }
      const original = ps.handleReceivedMessage
      ps.handleReceivedMessage = function (from, msg) {
        if (measuring) copies++
        return original.call(this, from, msg)
      }
    }
    let published = 0
    let cpu0 = process.cpuUsage()
    const timers: NodeJS.Timeout[] = []
    if (warmup > 0)
      timers.push(
        setTimeout(() => {
          measuring = true
          cpu0 = process.cpuUsage()
        }, warmup * 1000),
      )
    // The accounts are read from chains before a snapshot is stamped and signed: build them once.
    const template = makeWireHealthSnapshot({ n: accounts, seed: `bench-mkt`, blockNumber: BigInt(startBlock), observedAt: Date.now() })
    await new Promise<void>((resolve) => {
      let finished = 0
      nodes.forEach((node, i) => {
        let round = 0
        const tick = () => {
          const snapshot = { ...template, blockNumber: startBlock + round, observedAt: Date.now(), accounts: template.accounts.slice() }
          // Vary the values per round and operator, as real observations do.
          snapshot.accounts[0] = { ...snapshot.accounts[0], collateral: Uint8Array.of(1 + (round % 200), i + 1) }
          const signed = signPayload({ kind: PayloadKind.healthSnapshot, snapshot }, plan.members[i].signer, node.domainSeparator)
          void node.service.publish({ type: GossipType.health, chainId: CHAIN_ID }, signed.bytes)
          if (round >= warmup) published++
          round++
          if (round >= warmup + seconds) {
            if (++finished === nodes.length) resolve()
            return
          }
          timers.push(setTimeout(tick, 1000))
        }
        timers.push(setTimeout(tick, Math.floor(Math.random() * 1000)))
      })
    })
    // Let the last round arrive.
    const expected = published * (n - 1)
    const until = Date.now() + 5000
    while (received.size < expected && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
    measuring = false
    const cpu = process.cpuUsage(cpu0)
    timers.forEach(clearTimeout)
    latencies.sort((a, b) => a - b)
    arrivals.sort((a, b) => a - b)
    if (process.env.LIQNET_BENCH_DEBUG) process.stderr.write(`arrival p50 ${quantile(arrivals, 0.5)} p99 ${quantile(arrivals, 0.99)}\n`)
    // CPU time of the whole cluster (this process) per delivered message: robust to other load on the machine.
    const cpuMsPerDelivery = Math.round(((cpu.user + cpu.system) / 1000 / Math.max(1, received.size)) * 100) / 100
    const copiesPerDelivery = Math.round((copies / Math.max(1, received.size)) * 100) / 100
    return { p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99), lost: expected - received.size, messages: published, deliveries: received.size, cpuMsPerDelivery, copiesPerDelivery }
  } finally {
    await Promise.all(nodes.map((x) => x.stop().catch(() => {})))
    rmSync(plan.dir, { recursive: true, force: true })
  }
}

/**
 * The same measurement with every node in its own process (as operators run them), on both cores.
 * `childArgs`: extra Node flags of every child; `profile`: a file where child 0 writes a CPU profile of the run.
 */
async function propagationProcesses(n: number, seconds: number, accounts: number, childArgs: string[] = [], profile?: string, variant: Variant = {}, warmup = 0) {
  const ports = await Promise.all(Array.from({ length: n }, () => getFreePort()))
  const dir = (await planCluster(n, `benchp${n}`)).dir
  const children: Child[] = []
  try {
    // Start in small waves: module loading is CPU-heavy.
    for (let i = 0; i < n; i += 4) children.push(...(await Promise.all(ports.slice(i, i + 4).map((_, j) => spawnNode({ label: `benchp${n}`, index: i + j, ports, dir, profile: i + j === 0 ? profile : undefined, relay: variant.relay, topology: variant.topology, gossipsub: variant.gossipsub, accountFlushMs: variant.accountFlushMs, maxBatch: variant.maxBatch }, childArgs)))))
    const until = Date.now() + 60_000
    while (Date.now() < until) {
      const peers = await Promise.all(children.map((c) => c.call({ cmd: 'peers' })))
      if (peers.every((p) => p.peers >= Math.min(3, n - 1))) break
      await new Promise((r) => setTimeout(r, 200))
    }
    await new Promise((r) => setTimeout(r, 1500))
    await Promise.all(children.map((c) => c.call({ cmd: 'bench-start', seconds, accounts, warmup })))
    await new Promise((r) => setTimeout(r, (warmup + seconds) * 1000 + 1000))
    const expectedPerNode = seconds * (n - 1)
    let results: { latencies: number[]; received: number; published: number; copies: number; cpuMs: number; gcMs: number; loopDelayP99Ms: number; loopDelayMaxMs: number }[] = []
    const deadline = Date.now() + 5000
    do {
      results = await Promise.all(children.map((c) => c.call({ cmd: 'bench-result' })))
      if (results.every((r) => r.received >= expectedPerNode)) break
      await new Promise((r) => setTimeout(r, 250))
    } while (Date.now() < deadline)
    const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b)
    const published = results.reduce((s, r) => s + r.published, 0)
    const deliveries = results.reduce((s, r) => s + r.received, 0)
    if (profile) await children[0].call({ cmd: 'profile-stop' })
    const copies = results.reduce((s, r) => s + r.copies, 0)
    const cpuMs = results.reduce((s, r) => s + r.cpuMs, 0)
    const round2 = (x: number) => Math.round(x * 100) / 100
    return {
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      lost: published * (n - 1) - deliveries,
      messages: published,
      deliveries,
      // CPU time of all node processes (publishing included) per delivered snapshot, and copies received per delivery.
      cpuMsPerDelivery: round2(cpuMs / Math.max(1, deliveries)),
      copiesPerDelivery: round2(copies / Math.max(1, deliveries)),
      loopDelayP99Ms: round2(Math.max(...results.map((r) => r.loopDelayP99Ms))),
      // Share of the nodes' CPU time spent in garbage collection.
      gcShare: round2(results.reduce((s, r) => s + r.gcMs, 0) / Math.max(1, cpuMs)),
    }
  } finally {
    await Promise.all(spawned.map(killProc))
    rmSync(dir, { recursive: true, force: true })
  }
}

async function ingest(messages: number, accounts: number) {
  const dir = mkdtempSync(join(tmpdir(), 'liqnet-ingest-'))
  const operators = TEST_KEYS.slice(0, 8).map(createOperatorSigner)
  const node = await createGossipNode({
    privateKey: await peerKeyFromSeed(bytesOf('ingest', 32)),
    storePath: join(dir, 'store'),
    chainIds: [CHAIN_ID],
    operators: operators.map((o) => o.address),
    sync: false,
    service: { queues: { [GossipType.health]: { maxLength: messages + 1, order: 'FIFO', drop: 'oldest' } } },
  })
  try {
    const now = Date.now()
    const msgs = Array.from({ length: messages }, (_, i) => {
      const snapshot = makeWireHealthSnapshot({ n: accounts, seed: `ingest-${(i >> 3) % 4}`, blockNumber: BigInt(10_000 + (i >> 5)), observedAt: now })
      return signPayload({ kind: PayloadKind.healthSnapshot, snapshot }, operators[i % operators.length], node.domainSeparator).bytes
    })
    const t0 = performance.now()
    const outcomes = await Promise.all(msgs.map((m) => node.service.submit({ type: GossipType.health, chainId: CHAIN_ID }, m, 'gossip')))
    // Account rows written behind count only once on disk.
    await node.store.flush()
    const seconds = (performance.now() - t0) / 1000
    const ok = outcomes.filter((o) => o.action === 'ACCEPT').length
    return { ingestAccountsPerSecond: Math.round((ok * accounts) / seconds), accepted: ok }
  } finally {
    await node.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function run(args: string[]): Promise<void> {
  const counts = arg(args, 'nodes', '8,16').split(',').map(Number).filter((n) => n > 1)
  const seconds = Number(arg(args, 'seconds', '10'))
  const accounts = Number(arg(args, 'accounts', '500'))
  const ingestMessages = Number(arg(args, 'ingest', '200'))
  const mode = arg(args, 'mode', 'processes')
  // Seconds of publishing before the measured window (steady state: JIT tier-up is done).
  const warmup = Number(arg(args, 'warmup', '10'))
  // Processes mode: extra Node flags of every child (--child-args '--max-semi-space-size=32') and a
  // CPU profile of child 0 over the measured window (--profile /tmp/node0.cpuprofile).
  // Relay: direct (the default: every node peers with every other, publishes to all, relays nothing)
  // or mesh (gossipsub's relaying mesh of degree 3 over a ring with chords).
  const relay = (arg(args, 'relay', '') || undefined) as Variant['relay']
  // Static peers: ring (ring plus chords) or full (every node dials every other); the relay mode's by default.
  const topology = arg(args, 'topology', '') || undefined
  // The gossip service's validation batch (--max-batch 8).
  const maxBatch = args.includes('--max-batch') ? { maxBatch: Number(arg(args, 'max-batch', '64')) } : {}
  const childArgs = arg(args, 'child-args', '').split(' ').filter(Boolean)
  const profile = args.includes('--profile') ? arg(args, 'profile', '') : undefined
  // gossipsub overrides (JSON), in-process mode only: e.g. --gossipsub '{"floodPublish":false}'
  const gossipsubOverrides = JSON.parse(arg(args, 'gossipsub', '{}')) as Record<string, unknown>
  // Several settings compared in one process, interleaved `--repeat` times (in-process mode):
  // --variants '[{"label":"a"},{"label":"b","enforceIdontwant":false}]' --repeat 3
  const variants = JSON.parse(arg(args, 'variants', 'null')) as Variant[] | null
  if (variants) return compare(counts, seconds, accounts, variants, Number(arg(args, 'repeat', '3')))
  // --ingest 0 skips the ingest measurement.
  const ing = ingestMessages > 0 ? await ingest(ingestMessages, accounts) : { ingestAccountsPerSecond: undefined, accepted: 0 }
  if (counts.length === 0) process.stdout.write(JSON.stringify({ bench: 'gossip', nodes: 1, ingestAccountsPerSecond: ing.ingestAccountsPerSecond, accepted: ing.accepted }) + '\n')
  for (const n of counts) {
    const p = mode === 'processes' ? await propagationProcesses(n, seconds, accounts, childArgs, profile, { relay, gossipsub: gossipsubOverrides, topology: topology as Variant['topology'], ...maxBatch }, warmup) : await propagation(n, seconds, accounts, { relay, gossipsub: gossipsubOverrides, topology: topology as Variant['topology'], ...maxBatch }, warmup)
    process.stdout.write(
      JSON.stringify({ bench: 'gossip', nodes: n, p50Ms: p.p50Ms, p99Ms: p.p99Ms, lost: p.lost, ingestAccountsPerSecond: ing.ingestAccountsPerSecond, mode, relay: relay ?? 'direct', accountsPerSnapshot: accounts, warmupSeconds: warmup, seconds, messages: p.messages, deliveries: p.deliveries, ...('cpuMsPerDelivery' in p ? { cpuMsPerDelivery: p.cpuMsPerDelivery } : {}), copiesPerDelivery: p.copiesPerDelivery, ...('gcShare' in p ? { loopDelayP99Ms: (p as unknown as { loopDelayP99Ms: number }).loopDelayP99Ms, gcShare: p.gcShare } : {}) }) + '\n',
    )
  }
}

/** Runs each variant in turn, `repeat` rounds, then prints each variant's medians. */
async function compare(counts: number[], seconds: number, accounts: number, variants: Variant[], repeat: number): Promise<void> {
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b)
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
  }
  for (const n of counts) {
    const runs = variants.map(() => [] as Awaited<ReturnType<typeof propagation>>[])
    // One unrecorded run first: JIT warm-up would otherwise count against the first variant.
    await propagation(n, Math.min(seconds, 4), accounts, variants[0])
    for (let r = 0; r < repeat; r++) {
      for (let v = 0; v < variants.length; v++) {
        const p = await propagation(n, seconds, accounts, variants[v])
        runs[v].push(p)
        const label = variants[v].label ?? String(v)
        process.stdout.write(JSON.stringify({ bench: 'gossip', nodes: n, variant: label, round: r, p50Ms: p.p50Ms, p99Ms: p.p99Ms, lost: p.lost, deliveries: p.deliveries, cpuMsPerDelivery: p.cpuMsPerDelivery, copiesPerDelivery: p.copiesPerDelivery }) + '\n')
      }
    }
    variants.forEach((v, i) => {
      const rs = runs[i]
      process.stdout.write(
        JSON.stringify({
          bench: 'gossip',
          nodes: n,
          variant: v.label ?? String(i),
          summary: true,
          rounds: rs.length,
          p50Ms: median(rs.map((x) => x.p50Ms)),
          p99Ms: median(rs.map((x) => x.p99Ms)),
          lost: rs.reduce((s, x) => s + x.lost, 0),
          cpuMsPerDelivery: Math.round(median(rs.map((x) => x.cpuMsPerDelivery)) * 100) / 100,
          copiesPerDelivery: median(rs.map((x) => x.copiesPerDelivery)),
        }) + '\n',
      )
    })
  }
}
