/**
 * `liqnet devnet` end to end, in-process: 2 anvil chains, the relayer and 4 `liqnet start` processes.
 * - The default scenario (scenarios/devnet/default.yaml, what `npm run devnet` runs): every position the shock makes
 *   liquidatable (read on chain at the shock block) is liquidated, on both chains and both protocols, and nothing
 *   else is; the hub records a receipt or local execution for every leg; a subscriber of one node's risk feed
 *   receives, signed and verified, the liquidatable accounts and every plan up to settled.
 * - The same with one node killed at the shock: the other three settle.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFeedClient, type AccountItem, type PlanItem, type SignedFeedItem, type Subscription } from '../../client/index.js'
import { runDevnetNetwork, formatDevnetReport, type DevnetReport } from '../../node/devnet/network.js'

const key = (l: { chain: string; protocol: string; borrower: string; market: string }) => `${l.chain}/${l.protocol}/${l.market.toLowerCase()}/${l.borrower.toLowerCase()}`

describe('liqnet devnet: the whole network on one machine, from the shock to the report (e2e)', function () {
  this.timeout(300_000)
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'liqnet-e2e-'))
  })
  after(() => (process.env.LIQNET_KEEP_E2E ? console.log(`kept ${dir}`) : rmSync(dir, { recursive: true, force: true })))

  it('default scenario: liquidates what the shock made liquidatable on both chains, the hub records every receipt, the risk feed serves the updates', async () => {
    const lines: string[] = []
    let report: DevnetReport | undefined
    const items: SignedFeedItem[] = []
    let sub: Subscription | undefined
    let closed: { code: number; reason: string } | undefined
    let plansServed: SignedFeedItem<'plan', PlanItem>[] = []
    const returned = await runDevnetNetwork({
      scenario: 'scenarios/devnet/default.yaml',
      stateDir: join(dir, 'state'),
      exitAfterReport: true,
      quietSeconds: 4,
      settleTimeoutSeconds: 90,
      log: (l) => lines.push(l),
      onReport: (r) => (report = r),
      // A subscribing protocol: node 1's stream (every kind), each item's operator signature verified by the client.
      onNodesUp: async (nodes) => {
        const feed = createFeedClient({ url: nodes[1]!.apiUrl, onInvalid: 'throw' })
        sub = await feed.subscribe({}, { onItem: (i) => items.push(i), onInvalid: (_, err) => assert.fail(`unverifiable feed item: ${err.shortMessage}`), onClose: (code, reason) => (closed = { code, reason }) })
      },
      beforeStop: async (_r, nodes) => {
        plansServed = await createFeedClient({ url: nodes[1]!.apiUrl }).plans({ limit: 50 })
        sub?.close()
      },
    })
    assert.equal(returned, report)
    const r = report!
    console.log(JSON.stringify({ e2e: 'devnet-default', ...r, liquidated: r.liquidated.length, liquidatableAtShock: r.liquidatableAtShock.length, pools: undefined, feedItems: items.length }))
    for (const stage of ['chains up', 'nodes started', 'nodes connected', 'snapshots flowing', 'shock mined', 'plan certified and submitted', 'plan settled'])
      assert.ok(lines.some((l) => l.startsWith(stage)), `progress line "${stage}"`)

    // On chain: the shock made positions liquidatable on both chains and in both protocols; each was liquidated, nothing else was.
    for (const chain of ['alpha', 'beta'])
      for (const protocol of ['morpho-blue', 'aave-v3'])
        assert.ok(r.liquidatableAtShock.some((l) => l.chain === chain && l.protocol === protocol), `${protocol} positions liquidatable on ${chain} after the shock`)
    assert.deepEqual(r.missed, [], 'every position liquidatable at the shock was liquidated')
    assert.deepEqual(r.liquidated.map(key).sort(), r.liquidatableAtShock.map(key).sort(), 'only those were liquidated')

    // The hub: a receipt (remote leg) or local execution for every leg of every plan, none failed.
    assert.ok(r.plans.length >= 1)
    for (const p of r.plans) {
      assert.equal(p.executed, p.legs, `every leg of height ${p.height} executed`)
      assert.equal(p.failed, 0)
      assert.ok(p.settledAfterShockSeconds !== undefined, `height ${p.height} settled on the hub`)
    }
    assert.equal(r.receiptsAfterShockSeconds.length, r.plans.reduce((n, p) => n + p.legs, 0))
    assert.ok(r.shockToLastReceiptSeconds !== null && r.shockToLastReceiptSeconds > 0)
    assert.ok(r.priceImpactBps > 0, 'the network sold seized collateral on the pools')
    assert.match(formatDevnetReport(r), /shock to last receipt on the hub: \d+\.\d s/)

    // The risk feed: the stream carried the liquidatable accounts and every plan up to settled; the HTTP API agrees.
    const accounts = items.filter((i): i is SignedFeedItem<'account', AccountItem> => i.kind === 'account')
    const liquidatableSeen = new Set(accounts.filter((a) => a.data.liquidatable).map((a) => `${a.data.chainId}/${a.data.borrower.toLowerCase()}`))
    for (const l of r.liquidated)
      assert.ok(
        liquidatableSeen.has(`${l.chainId}/${l.borrower.toLowerCase()}`),
        `the stream showed ${l.chain}/${l.name} liquidatable (its items: ${JSON.stringify(accounts.filter((a) => a.data.chainId === l.chainId && a.data.borrower.toLowerCase() === l.borrower.toLowerCase()).map((a) => [a.data.blockNumber, a.data.healthFactor, a.data.liquidatable, a.data.protocol]))}; closed: ${JSON.stringify(closed)}; shock blocks ${JSON.stringify(r.shockBlocks)})`,
      )
    assert.ok(items.some((i) => i.kind === 'liquidity'), 'pool updates on the stream')
    const streamedPlans = items.filter((i): i is SignedFeedItem<'plan', PlanItem> => i.kind === 'plan')
    for (const p of r.plans) {
      assert.ok(streamedPlans.some((i) => i.data.height === p.height && i.data.status === 'settled'), `the stream showed height ${p.height} settled (plan items seen: ${JSON.stringify(streamedPlans.map((i) => [i.data.height, i.data.status]))}; closed: ${JSON.stringify(closed)})`)
      const served = plansServed.find((i) => i.data.height === p.height)
      assert.ok(served, `GET /v1/plans serves height ${p.height}`)
      assert.equal(served.data.status, 'settled')
      assert.equal(served.data.counts.executed, p.legs)
    }
  })

  it('default scenario with one node killed at the shock: the other three (a quorum, n = 4 tolerates f = 1) still liquidate and settle everything', async () => {
    let report: DevnetReport | undefined
    const lines: string[] = []
    await runDevnetNetwork({
      scenario: 'scenarios/devnet/default.yaml',
      stateDir: join(dir, 'state-kill'),
      exitAfterReport: true,
      quietSeconds: 4,
      settleTimeoutSeconds: 90,
      killAtShock: 0,
      log: (l) => lines.push(l),
      onReport: (r) => (report = r),
    })
    const r = report!
    console.log(JSON.stringify({ e2e: 'devnet-default-one-node-killed', plans: r.plans, liquidated: r.liquidated.length, missed: r.missed.length, shockToLastReceiptSeconds: r.shockToLastReceiptSeconds }))
    assert.ok(lines.some((l) => l.startsWith('node0 killed at the shock')))
    assert.ok(r.liquidatableAtShock.some((l) => l.chain === 'alpha') && r.liquidatableAtShock.some((l) => l.chain === 'beta'))
    assert.deepEqual(r.missed, [], 'every position liquidatable at the shock was liquidated')
    assert.deepEqual(r.liquidated.map(key).sort(), r.liquidatableAtShock.map(key).sort())
    assert.ok(r.plans.length >= 1)
    for (const p of r.plans) assert.equal(p.executed, p.legs, `every leg of height ${p.height} executed`)
  })
})
