import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createValidatorSet, leaderOf, MessageKind, type QbftPacket } from '../../../protocol/consensus/index.js'
import { forkChild, spawned, type Child } from '../gossip/helpers.js'
import { cleanup, planConsensusCluster, startMember, stopMember, testValues, waitFor, waitForTopicPeers, type ClusterPlan, type RunningMember } from './helpers.js'

const script = fileURLToPath(new URL('./node-process.ts', import.meta.url))

function spawnNode(cfg: { label: string; index: number; ports: number[]; dir: string; generation: number; maxHeight: bigint }): Promise<Child> {
  return forkChild(script, { ...cfg, maxHeight: String(cfg.maxHeight) }, 'node process', 60_000)
}

function kill9(proc: ChildProcess | undefined): Promise<void> {
  if (!proc?.pid || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    proc.once('exit', () => resolve())
    process.kill(proc.pid!, 'SIGKILL')
  })
}

const kindName: Record<string, MessageKind> = { proposal: MessageKind.proposal, prepare: MessageKind.prepare, commit: MessageKind.commit }

describe('consensus crash and restart: a node process killed with SIGKILL mid-round (network)', function () {
  this.timeout(90_000)
  const N = 4
  const label = 'crash'
  let plan: ClusterPlan
  let victim = 0
  let child: Child | undefined
  let generation = 0
  const observers: (RunningMember | undefined)[] = []
  const decided: Map<bigint, string>[] = []
  /** Every consensus packet the victim ever sent, as the other nodes received it. */
  const fromVictim: QbftPacket[] = []
  let maxHeight = 0n
  let killOn: ((p: QbftPacket) => boolean) | undefined

  before(async () => {
    plan = await planConsensusCluster(N, label)
    const vset = createValidatorSet(plan.operators)
    // The victim leads height 3 at round 0.
    victim = plan.members.findIndex((m) => m.operator.toLowerCase() === leaderOf(vset, 3n, 0))
    const victimAddress = plan.members[victim].operator.toLowerCase()
    maxHeight = 0n
    const others = plan.members.map((m) => m.index).filter((i) => i !== victim)
    const [, started] = await Promise.all([
      (async () => (child = await spawnNode({ label, index: victim, ports: plan.members.map((m) => m.port), dir: plan.dir, generation, maxHeight })))(),
      Promise.all(
        others.map(async (i) => {
          const r = await startMember(plan, i, { heightIntervalMs: 25, values: testValues({ tag: `node${i}`, hasValue: (h) => h <= maxHeight }) })
          observers[i] = r
          decided[i] = new Map()
          r.node.service.addEventListener('consensus:decided', (e) => decided[i].set(e.detail.height, e.detail.digest))
          r.node.transport.addEventListener('consensus:packet', (e) => {
            const p = e.detail.packet
            if (p.type === 'decided' || p.signed.signer !== victimAddress) return
            fromVictim.push(p)
            if (killOn?.(p)) {
              killOn = undefined
              // Kill at once, from inside the receive path: the victim is mid-round.
              if (child?.proc.pid) process.kill(child.proc.pid, 'SIGKILL')
            }
          })
          return r
        }),
      ),
    ])
    void started
    await waitForTopicPeers(others.map((i) => observers[i]!.host), N - 1, 30_000)
    // Heights start only once all four nodes are up.
    await setMax(2n)
  })
  after(async () => {
    await Promise.all(spawned.map(kill9))
    await Promise.all(observers.map(stopMember))
    cleanup(plan.dir)
  })

  const observerIdx = () => observers.map((r, i) => (r ? i : -1)).filter((i) => i >= 0)
  const setMax = async (h: bigint) => {
    maxHeight = h
    await child?.call({ cmd: 'setMax', height: String(h) })
  }
  const restart = async () => {
    generation++
    child = await spawnNode({ label, index: victim, ports: plan.members.map((m) => m.port), dir: plan.dir, generation, maxHeight })
  }

  /** The victim never sent two different digests for one (height, round, kind), nor sealed two plans at one height. */
  function assertNoEquivocation(): void {
    const seen = new Map<string, string>()
    const sealedValue = new Map<bigint, string>()
    for (const p of fromVictim) {
      if (p.type === 'decided' || p.type === 'roundChange') continue
      const m = p.signed.message
      assert.equal(m.kind, kindName[p.type])
      const key = `${m.height}:${m.round}:${p.type}`
      const prev = seen.get(key)
      assert.ok(prev === undefined || prev === m.digest, `two ${p.type}s at height ${m.height} round ${m.round}: ${prev} and ${m.digest}`)
      seen.set(key, m.digest)
      if (p.type === 'commit') {
        const v = sealedValue.get(m.height)
        assert.ok(v === undefined || v === m.digest, `seals over two values at height ${m.height}`)
        sealedValue.set(m.height, m.digest)
      }
    }
  }

  it('killed right after its PROPOSAL, restarted with another value for the same height: refuses to propose it, then catches up', async () => {
    await waitFor(() => observerIdx().every((i) => decided[i].has(2n)), 30_000, 'heights 1..2')
    killOn = (p) => p.type === 'proposal' && p.signed.message.height === 3n
    const exited = new Promise((r) => child!.proc.once('exit', r))
    await setMax(3n)
    await exited
    assert.ok(fromVictim.some((p) => p.type === 'proposal' && p.signed.message.height === 3n))
    // The others decide height 3 without it (its proposal, or the next leader's after a round change).
    await waitFor(() => observerIdx().every((i) => decided[i].has(3n)), 20_000, 'height 3 without the victim')

    await restart()
    // Height 3 again, as leader of round 0, with a different value (generation 1): protection refuses.
    await waitFor(async () => /code="EQUIVOCATION"\} [1-9]/.test((await child!.call({ cmd: 'status' })).refusals), 20_000, 'EQUIVOCATION refusal')
    // It catches up on height 3 (DECIDED certificate after its round change) with the network's value.
    await waitFor(async () => (await child!.call({ cmd: 'decided', height: '3' })).digest !== undefined, 20_000, 'victim decides height 3')
    assert.equal((await child!.call({ cmd: 'decided', height: '3' })).digest, decided[observerIdx()[0]].get(3n))
    assertNoEquivocation()
  })

  it('killed at random moments while heights run, it never signs two values for one (height, round)', async () => {
    for (let k = 0; k < 2; k++) {
      const target = maxHeight + 4n
      await setMax(target)
      await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 400)))
      await kill9(child!.proc)
      await restart()
      await waitFor(() => observerIdx().every((i) => decided[i].has(target)), 30_000, `height ${target}`)
    }
    // Two more heights with the restarted node taking part (it catches up by DECIDED certificates or by jumping).
    const last = maxHeight + 2n
    await setMax(last)
    await waitFor(() => observerIdx().every((i) => decided[i].has(last)), 30_000, `height ${last}`)
    await waitFor(async () => (await child!.call({ cmd: 'decided', height: String(last) })).digest !== undefined, 45_000, 'victim at the last height')
    assert.equal((await child!.call({ cmd: 'decided', height: String(last) })).digest, decided[observerIdx()[0]].get(last))
    assert.ok(fromVictim.filter((p) => p.type === 'prepare' || p.type === 'commit').length > 0)
    assertNoEquivocation()
  })
})
