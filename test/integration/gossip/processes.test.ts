import assert from 'node:assert/strict'
import { getFreePort } from '../../../chains/devnet/ports.js'
import { cleanup, killProc, planCluster, spawnNode, spawned, waitFor, type Child } from './helpers.js'

const kill = (c: Child | undefined) => killProc(c?.proc)

describe('gossip network: nodes as separate processes (network)', function () {
  this.timeout(180_000)
  const N = 3
  const label = 'proc'
  let children: (Child | undefined)[] = []
  let dir = ''
  let ports: number[] = []

  before(async () => {
    ports = await Promise.all(Array.from({ length: N }, () => getFreePort()))
    dir = (await planCluster(N, label)).dir
    children = await Promise.all(ports.map((_, index) => spawnNode({ label, index, ports, dir })))
    await waitFor(async () => (await Promise.all(children.map((c) => c!.call({ cmd: 'peers' })))).every((r) => r.peers >= N - 1), 20_000, 'subscriptions')
  })
  after(async () => {
    await Promise.all(spawned.map(killProc))
    cleanup(dir)
  })

  const viewsEverywhere = async (market: string, borrower: string, block: number, nodes = children) => {
    const all = await Promise.all(nodes.map((c) => c!.call({ cmd: 'accounts', market, borrower })))
    return all.map((r) => (r.views as { block: number }[]).filter((v) => v.block === block).length)
  }

  it("every process's snapshots reach every other process", async () => {
    const res = await Promise.all(children.map((c) => c!.call({ cmd: 'publish', block: 20, seed: 'proc-a' })))
    for (const r of res) assert.equal(r.action, 'ACCEPT')
    await waitFor(async () => (await viewsEverywhere(res[0].market, res[0].borrower, 20)).every((n) => n === N), 15_000, 'all views')
  })

  it('a node killed and restarted with the same key rejoins and catches up', async () => {
    const victim = N - 1
    await kill(children[victim])
    children[victim] = undefined
    // The others publish while it is down.
    const res = await Promise.all(children.slice(0, victim).map((c) => c!.call({ cmd: 'publish', block: 21, seed: 'proc-a' })))
    const { market, borrower } = res[0]
    const t0 = Date.now()
    children[victim] = await spawnNode({ label, index: victim, ports, dir })
    // It kept what it had (its store survived the crash) ...
    const kept = await children[victim]!.call({ cmd: 'accounts', market, borrower })
    assert.equal((kept.views as { block: number }[]).filter((v) => v.block === 20).length >= 1, true)
    // ... and catches up on what it missed (sync on reconnect), then keeps receiving.
    await waitFor(async () => (await viewsEverywhere(market, borrower, 21, [children[victim]]))[0] === victim, 20_000, 'catch-up')
    console.log(`      rejoined and caught up in ${Date.now() - t0} ms (process start included)`)
    await waitFor(async () => (await children[victim]!.call({ cmd: 'peers' })).peers >= N - 1, 10_000, 'resubscribed')
    const next = await children[0]!.call({ cmd: 'publish', block: 22, seed: 'proc-a' })
    await waitFor(async () => (await viewsEverywhere(next.market, next.borrower, 22, [children[victim]]))[0] === 1, 10_000, 'live again')
  })
})
