/**
 * `liqnet devnet` end to end, in-process: 2 anvil chains (scenarios/devnet/test.yaml), the relayer and 4 `liqnet start`
 * processes; the −20 % WETH shock; the report. Every position the shock makes liquidatable is liquidated on both
 * chains and nothing else is, every leg of every plan executes, and the hub records the receipts.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runDevnetNetwork, formatDevnetReport, type DevnetReport } from '../../node/devnet/network.js'

describe('liqnet devnet: the whole network on one machine, from the shock to the report (e2e)', function () {
  this.timeout(240_000)
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'liqnet-e2e-'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('liquidates the liquidatable positions on both chains, settles every leg, and reports', async () => {
    const lines: string[] = []
    let report: DevnetReport | undefined
    const returned = await runDevnetNetwork({
      scenario: 'scenarios/devnet/test.yaml',
      stateDir: join(dir, 'state'),
      exitAfterReport: true,
      quietSeconds: 3,
      settleTimeoutSeconds: 60,
      log: (l) => lines.push(l),
      onReport: (r) => (report = r),
    })
    assert.equal(returned, report)
    const r = report!
    for (const stage of ['chains up', 'nodes started', 'nodes connected', 'snapshots flowing', 'plan certified and submitted', 'plan settled'])
      assert.ok(lines.some((l) => l.startsWith(stage)), `progress line "${stage}"`)
    // test.yaml: morpho-below, aave-below and aave-deep fall under their thresholds on both chains; the "above" ones don't.
    const names = (chain: string) => new Set(r.liquidated.filter((l) => l.chain === chain).map((l) => l.name))
    for (const chain of ['alpha', 'beta']) {
      assert.deepEqual([...names(chain)].sort(), ['aave-below', 'aave-deep', 'morpho-below'], `liquidated on ${chain}`)
    }
    assert.ok(r.plans.length >= 1)
    for (const p of r.plans) assert.equal(p.executed, p.legs, `every leg of height ${p.height} executed`)
    assert.equal(r.receiptsAfterShockSeconds.length, r.plans.reduce((n, p) => n + p.legs, 0))
    assert.ok(r.shockToLastReceiptSeconds !== null && r.shockToLastReceiptSeconds > 0)
    assert.ok(r.priceImpactBps > 0, 'the network sold seized collateral on the pools')
    assert.match(formatDevnetReport(r), /shock to last receipt on the hub: \d+\.\d s/)
    console.log(JSON.stringify({ e2e: 'devnet', ...r, liquidated: r.liquidated.length }))
  })

  it('settles with one node killed at the shock (n = 4 tolerates f = 1)', async () => {
    let report: DevnetReport | undefined
    const lines: string[] = []
    await runDevnetNetwork({
      scenario: 'scenarios/devnet/test.yaml',
      stateDir: join(dir, 'state-kill'),
      exitAfterReport: true,
      quietSeconds: 3,
      settleTimeoutSeconds: 60,
      killAtShock: 0,
      log: (l) => lines.push(l),
      onReport: (r) => (report = r),
    })
    const r = report!
    assert.ok(lines.some((l) => l.startsWith('node0 killed at the shock')))
    for (const chain of ['alpha', 'beta'])
      assert.deepEqual([...new Set(r.liquidated.filter((l) => l.chain === chain).map((l) => l.name))].sort(), ['aave-below', 'aave-deep', 'morpho-below'], `liquidated on ${chain}`)
    for (const p of r.plans) assert.equal(p.executed, p.legs)
    console.log(JSON.stringify({ e2e: 'devnet-one-node-killed', plans: r.plans, shockToLastReceiptSeconds: r.shockToLastReceiptSeconds }))
  })
})
