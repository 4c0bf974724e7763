/**
 * The daemon end to end: a devnet of 2 anvil chains (scenarios/devnet/test.yaml: hub on alpha, spoke on beta), the
 * devnet relayer, and 4 `liqnet start` processes configured by chains/devnet/node-config.ts. After the −20 % WETH
 * shock a plan is certified, submitted once to the hub, its legs executed on both chains and their receipts
 * recorded on the hub; every node serves /readyz and the risk-feed API, and stops with exit code 0 on SIGTERM.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Address, Hex } from 'viem'
import { liquidationHubAbi } from '../../../contracts/out/abis.js'
import { applyPriceSteps, devnetClient, startDevnet } from '../../../chains/devnet/devnet.js'
import { fundDevnetOperators, writeDevnetNodeConfigs, type DevnetNodeConfig } from '../../../chains/devnet/node-config.js'
import { relayerChainsOf, startRelayer, type Relayer } from '../../../chains/devnet/relayer.js'
import type { Devnet, DevnetChain } from '../../../chains/devnet/types.js'
import { decodeLegReason } from '../../../node/settlement/tracker.js'
import { spawnLiqnetNode, type NodeLogRecord, type NodeProcess } from '../../../node/devnet/network.js'

const SCENARIO = 'scenarios/devnet/test.yaml'
const N = 4
/** The scenario's borrowers that the shock makes liquidatable, and those it leaves healthy. */
const LIQUIDATABLE = ['morpho-below', 'aave-below', 'aave-deep']
const HEALTHY = ['morpho-above', 'aave-above']

const morphoPositionAbi = [
  { type: 'function', name: 'position', stateMutability: 'view', inputs: [{ name: 'id', type: 'bytes32' }, { name: 'user', type: 'address' }], outputs: [{ name: 'supplyShares', type: 'uint256' }, { name: 'borrowShares', type: 'uint128' }, { name: 'collateral', type: 'uint128' }] },
] as const
const aaveAccountAbi = [
  { type: 'function', name: 'getUserAccountData', stateMutability: 'view', inputs: [{ name: 'user', type: 'address' }], outputs: [{ type: 'uint256' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'uint256' }] },
] as const

/** A borrower's debt: Morpho borrow shares, or Aave total debt in the base currency (USD 1e8). */
async function debtOf(chain: DevnetChain, name: string): Promise<bigint> {
  const c = devnetClient(chain)
  const user = chain.accounts.borrowers[name].address
  if (name.startsWith('morpho')) {
    const [, borrowShares] = await c.readContract({ address: chain.deployment.morpho!.address, abi: morphoPositionAbi, functionName: 'position', args: [chain.deployment.morpho!.markets['WETH/USDC'].id, user] })
    return borrowShares
  }
  const data = await c.readContract({ address: chain.deployment.aave!.pool, abi: aaveAccountAbi, functionName: 'getUserAccountData', args: [user] })
  return data[1]
}

async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, context?: () => string): Promise<T> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const v = await fn()
    if (v) return v
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}${context ? `\n${context()}` : ''}`)
}

const has = (p: NodeProcess, msg: string, pred?: (l: NodeLogRecord) => boolean) => p.has(msg, pred)
const tail = (nodes: NodeProcess[]) => () => nodes.map((n, i) => `node${i}:\n  ${n.stderr.slice(-15).join('\n  ')}`).join('\n')

describe('liqnet start: 4 node processes on a 2-chain devnet, from the shock to the receipts on the hub', function () {
  this.timeout(180_000)
  let devnet: Devnet
  let relayer: Relayer
  let dir: string
  let cfgs: DevnetNodeConfig[]
  const nodes: NodeProcess[] = []

  before(async function () {
    this.timeout(150_000)
    dir = mkdtempSync(join(tmpdir(), 'liqnet-daemon-'))
    devnet = await startDevnet({ scenario: SCENARIO })
    cfgs = await writeDevnetNodeConfigs(devnet.chains, { dir, operators: N, logLevel: 'info' })
    await fundDevnetOperators(devnet.chains, cfgs.map((c) => c.operator))
    relayer = await startRelayer({ chains: relayerChainsOf(devnet), stateFile: join(dir, 'relayer.json'), pollMs: 50 })
  })

  after(async () => {
    for (const n of nodes) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL')
    await relayer?.stop().catch(() => undefined)
    await devnet?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('starts, publishes, certifies one plan after the shock, submits it once, settles every leg, and stops on SIGTERM with exit 0', async () => {
    const t0 = Date.now()
    for (const c of cfgs) nodes.push(spawnLiqnetNode(c, process.env.DAEMON_TEST_LOGS ? { logFile: join(process.env.DAEMON_TEST_LOGS, `node${c.index}.log`) } : {}))
    const ctx = tail(nodes)

    // Every node: chains up, peers connected, snapshots flowing on both chains, API served.
    await waitFor('every node started', () => nodes.every((n) => has(n, 'node started')), 90_000, ctx)
    await waitFor('peers connected', () => nodes.every((n) => has(n, 'peers connected')), 20_000, ctx)
    for (const chain of devnet.chains)
      await waitFor(`snapshots flowing on ${chain.name}`, () => nodes.every((n) => has(n, 'snapshots flowing', (l) => l.chain === chain.name)), 20_000, ctx)
    const started = Date.now()

    const n0 = nodes[0].cfg
    const ready = await waitFor('node0 ready', async () => {
      const r = await fetch(`http://127.0.0.1:${n0.ports.metrics}/readyz`)
      return r.status === 200 ? ((await r.json()) as { status: string; checks: { name: string; ok: boolean }[] }) : undefined
    }, 10_000, ctx)
    assert.equal(ready.status, 'ready')
    assert.deepEqual(ready.checks.map((c) => c.name).sort(), ['peers', 'rpc:alpha', 'rpc:beta', 'store'])
    const info = (await (await fetch(`http://127.0.0.1:${n0.ports.api}/v1/info`)).json()) as { operator?: string }
    assert.equal(info.operator?.toLowerCase(), n0.operator.toLowerCase())
    const metricsText = await (await fetch(`http://127.0.0.1:${n0.ports.metrics}/metrics`)).text()
    assert.match(metricsText, /liqnet_gossip_messages_total/)
    assert.match(metricsText, /liqnet_consensus_height/)

    // The shock.
    const hubChain = devnet.chains.find((c) => c.deployment.settlement.hub) as DevnetChain
    const hub = hubChain.deployment.settlement.hub!
    const hubClient = devnetClient(hubChain)
    const shockBlock = await hubClient.getBlockNumber()
    const before = new Map<string, bigint>()
    for (const chain of devnet.chains) for (const name of [...LIQUIDATABLE, ...HEALTHY]) before.set(`${chain.name}/${name}`, await debtOf(chain, name))
    const shockAt = Date.now()
    await applyPriceSteps(devnet, devnet.scenario.pricePath)

    await waitFor('a decided height on every node', () => nodes.every((n) => has(n, 'height decided')), 30_000, ctx)
    const decidedAt = Date.now()
    // On the hub: each height submitted exactly once, each submitted plan settled with a receipt per leg.
    const events = async (eventName: 'PlanSubmitted' | 'ReceiptReceived' | 'LegExecuted' | 'PlanSettled') =>
      hubClient.getContractEvents({ address: hub, abi: liquidationHubAbi, eventName, fromBlock: shockBlock })
    type Submitted = { args: { height: bigint; legCount: number } }
    type Final = { args: { height: bigint; seq: number; result: { status: number; reason: Hex } } }
    type Settled = { args: { height: bigint; executed: number; failed: number } }
    const allSettled = async () => {
      const sub = (await events('PlanSubmitted')) as unknown as Submitted[]
      const set = (await events('PlanSettled')) as unknown as Settled[]
      const remote = (await events('ReceiptReceived')).length
      return remote > 0 && sub.length > 0 && sub.every((s) => set.some((e) => e.args.height === s.args.height)) ? { sub, set } : undefined
    }
    // Plans on both chains (one plan, or one per chain as each chain's snapshots reach a quorum), each settled.
    const { sub, set } = await waitFor('submitted plans settled on the hub, with a receipt over LayerZero', allSettled, 40_000, ctx)
    const settledAt = Date.now()
    const heights = sub.map((s) => s.args.height)
    assert.equal(new Set(heights).size, heights.length, `each height submitted once: ${heights.join(',')}`)
    const receipts = (await events('ReceiptReceived')) as unknown as Final[]
    const local = (await events('LegExecuted')) as unknown as Final[]
    assert.ok(receipts.length > 0, 'remote legs came back over LayerZero')
    let legs = 0
    let executed = 0
    for (const s of sub) {
      const h = s.args.height
      const finals = new Set([...receipts, ...local].filter((e) => e.args.height === h).map((e) => e.args.seq))
      assert.equal(finals.size, Number(s.args.legCount), `every leg of height ${h} has its receipt on the hub`)
      const st = set.find((e) => e.args.height === h)!
      assert.equal(Number(st.args.executed) + Number(st.args.failed), Number(s.args.legCount))
      legs += Number(s.args.legCount)
      executed += Number(st.args.executed)
    }
    assert.equal(executed, legs, `executed ${executed} of ${legs} legs: ${JSON.stringify(nodes[0].records.filter((l) => l.msg === 'legs settled'))}`)
    // Liquidated: some of the scenario's liquidatable accounts repaid; healthy accounts left alone.
    const repaid: string[] = []
    for (const chain of devnet.chains)
      for (const name of LIQUIDATABLE) if ((await debtOf(chain, name)) * 100n < before.get(`${chain.name}/${name}`)! * 99n) repaid.push(`${chain.name}/${name}`)
    assert.ok(repaid.length >= 1, 'a liquidatable account was repaid')
    // Healthy accounts were left alone.
    for (const chain of devnet.chains) for (const name of HEALTHY) assert.ok((await debtOf(chain, name)) >= before.get(`${chain.name}/${name}`)!, `${chain.name} ${name} untouched (its debt only accrues interest)`)
    await waitFor('legs settled logged on every node', () => nodes.every((n) => has(n, 'legs settled')), 10_000, ctx)

    // The API serves the plan with its settlement (its plan record follows the decision by a plan rebuild).
    type Served = { items?: { data: { height: string; status: string; legs: unknown[] }; proof: { operator: string } }[] }
    let plans: Served = {}
    const servedOf = (p: Served) => p.items?.filter((x) => heights.includes(BigInt(x.data.height))) ?? []
    const end = Date.now() + 10_000
    do {
      plans = (await (await fetch(`http://127.0.0.1:${n0.ports.api}/v1/plans`)).json()) as Served
      if (servedOf(plans).some((p) => p.data.status === 'settled')) break
      await new Promise((r) => setTimeout(r, 200))
    } while (Date.now() < end)
    const served = servedOf(plans)
    assert.ok(served.length > 0, `plans served: ${JSON.stringify(plans).slice(0, 300)}`)
    assert.ok(served.some((p) => p.data.status === 'settled'), 'a plan served as settled')
    assert.equal(served[0].proof.operator.toLowerCase(), n0.operator.toLowerCase())

    // Graceful stop: SIGTERM, exit 0, within a few seconds.
    const stopAt = Date.now()
    for (const n of nodes) n.child.kill('SIGTERM')
    const codes = await Promise.all(nodes.map((n) => Promise.race([n.exit, new Promise<string>((r) => setTimeout(() => r('timeout'), 15_000))])))
    assert.deepEqual(codes, [0, 0, 0, 0], ctx())
    for (const n of nodes) assert.ok(has(n, 'stopped'))
    console.log(
      JSON.stringify({
        daemon: 'e2e',
        nodesStartMs: started - t0,
        shockToDecidedMs: decidedAt - shockAt,
        repaid,
        shockToSettledMs: settledAt - shockAt,
        plans: heights.length,
        legs,
        executed,
        failed: [...receipts, ...local].filter((e) => e.args.result.status === 3 /* Failed */).map((e) => ({ seq: e.args.seq, ...decodeLegReason(e.args.result.reason) })),
        stopMs: Date.now() - stopAt,
      }),
    )
  })
})
