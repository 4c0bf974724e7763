/**
 * Consensus benchmark: `npm run bench -- consensus [--n 4,7,16] [--heights 20] [--timeout 1000]`.
 *
 * For each n, n real libp2p nodes on loopback, in this process (every operator a direct
 * gossipsub peer of every other), run QBFT with signing protection (fsynced LevelDB) and the
 * test value layer (a value is an ABI-encoded SettlementPlan). Prints one JSON line per n:
 *
 * - `certifyMsP50`, `certifyMsP99`: from the leader sending its PROPOSAL to the leader holding the
 *   certified plan (a quorum of commit seals), over `--heights` heights;
 * - `certifyAllMsP50`: the same, until the last node holds it;
 * - `failoverMs`: from stopping the next height's leader (libp2p host and node, as a crash looks to
 *   its peers) to the first decision of that height by the others, round timeout base `--timeout` ms.
 *
 * All nodes share this process and its 2 cores, so n=16 measures the machine as much as the protocol. The run
 * re-executes itself with UV_THREADPOOL_SIZE=64: the nodes' fsyncs share libuv's threadpool (4 threads by default).
 */
import { spawn } from 'node:child_process'
import { createValidatorSet, leaderOf } from '../../protocol/consensus/index.js'
import { CONSENSUS_TOPIC, type CertifiedPlan } from '../../node/consensus/index.js'
import { cleanup, planConsensusCluster, startMember, stopMember, testValues, waitFor, waitForTopicPeers, type RunningMember } from '../integration/consensus/helpers.js'

function arg(args: string[], name: string, def: string): string {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] ? args[i + 1] : def
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]
}

async function benchOne(n: number, heights: number, timeoutMs: number): Promise<Record<string, unknown>> {
  const plan = await planConsensusCluster(n, `bench${n}`)
  const running: (RunningMember | undefined)[] = []
  const decided: Map<bigint, CertifiedPlan>[] = plan.members.map(() => new Map())
  try {
    await Promise.all(
      plan.members.map(async (_, i) => {
        running[i] = await startMember(plan, i, { heightIntervalMs: 0, qbft: { roundTimeoutBaseMs: timeoutMs }, values: testValues({ tag: `n${i}` }) })
        running[i]!.node.service.addEventListener('consensus:decided', (e) => decided[i].set(e.detail.height, e.detail))
      }),
    )
    // Gossipsub sometimes loses the subscription exchange of one pair of peers that dialled each other at
    // once; the pair's messages then travel through a relay. Proceed once everyone sees nearly everyone.
    await waitForTopicPeers(running.map((r) => r!.host), n - 1, 20_000).catch(() => waitForTopicPeers(running.map((r) => r!.host), n - 2, 60_000))
    const topicPeersMin = Math.min(...running.map((r) => r!.host.pubsub.getSubscribers(CONSENSUS_TOPIC).length))
    // Let gossipsub's meshes settle (one or two heartbeats).
    await new Promise((r) => setTimeout(r, 1500))
    const vset = createValidatorSet(plan.operators)
    const indexOf = (a: string) => plan.members.findIndex((m) => m.operator.toLowerCase() === a)
    const live = () => running.map((r, i) => (r ? i : -1)).filter((i) => i >= 0)
    const certify: number[] = []
    const certifyAll: number[] = []
    const warmup = 2
    for (let k = 1; k <= heights + warmup; k++) {
      const h = BigInt(k)
      for (const i of live()) running[i]!.node.service.trigger()
      await waitFor(() => live().every((i) => decided[i].has(h)), 30_000, `height ${h}`).catch((err) => {
        const state = live().map((i) => {
          const s = running[i]!.node.service
          return `${i}:h=${s.height},r=${s.round},busy=${s.busy},last=${s.lastDecidedHeight}`
        })
        throw new Error(`${(err as Error).message}; nodes ${state.join(' ')}`)
      })
      if (k <= warmup) continue
      const leader = indexOf(leaderOf(vset, h, decided[0].get(h)!.round))
      const mine = decided[leader].get(h)!
      if (mine.proposedAt === undefined) continue
      certify.push(mine.decidedAt - mine.proposedAt)
      certifyAll.push(Math.max(...live().map((i) => decided[i].get(h)!.decidedAt)) - mine.proposedAt)
    }
    // Failover: crash the leader of the next height, then start it on the others.
    const h = BigInt(heights + warmup + 1)
    const victim = indexOf(leaderOf(vset, h, 0))
    const t0 = Date.now()
    await stopMember(running[victim])
    running[victim] = undefined
    for (const i of live()) running[i]!.node.service.trigger()
    await waitFor(() => live().some((i) => decided[i].has(h)), 60_000, 'failover decision')
    const failoverMs = Date.now() - t0
    return {
      bench: 'consensus',
      n,
      heights: certify.length,
      certifyMsP50: quantile(certify, 0.5),
      certifyMsP99: quantile(certify, 0.99),
      certifyAllMsP50: quantile(certifyAll, 0.5),
      failoverMs,
      roundTimeoutBaseMs: timeoutMs,
      topicPeersMin,
      mode: 'in-process',
      uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE),
    }
  } finally {
    await Promise.all(running.map(stopMember))
    cleanup(plan.dir)
  }
}

export async function run(args: string[]): Promise<void> {
  // Every node's LevelDB (signing protection: one fsync per PREPARE, COMMIT + seal, PROPOSAL) runs on libuv's
  // threadpool, 4 threads by default for the whole process: with 16 nodes in one process the fsyncs queue
  // behind each other, which a node on its own machine never sees. Re-run with a larger pool.
  if (!process.env.UV_THREADPOOL_SIZE) {
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { env: { ...process.env, UV_THREADPOOL_SIZE: '64' }, stdio: 'inherit' })
    await new Promise((resolve) => child.on('exit', resolve))
    return
  }
  const ns = arg(args, 'n', '4,7,16').split(',').map(Number)
  const heights = Number(arg(args, 'heights', '20'))
  const timeoutMs = Number(arg(args, 'timeout', '1000'))
  for (const n of ns) process.stdout.write(`${JSON.stringify(await benchOne(n, heights, timeoutMs))}\n`)
}
