import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getAddress, hexToBytes, type Address, type Hex } from 'viem'
import { FeedHttpError, FeedVerificationError, createFeedClient, type SignedFeedItem } from '../../../client/index.js'
import { LendingProtocol, PayloadKind, healthSnapshotToWire, type HealthSnapshot } from '../../../protocol/proto/codec.js'
import type { Leg, Plan } from '../../../protocol/planner/types.js'
import { createOperatorSigner, signPayload } from '../../../protocol/signing/envelope.js'
import { GossipType } from '../../../protocol/topics.js'
import { FeedReader, InMemoryPlanSource, LevelPriceHistory, STREAM_CLOSE, startApiServer, type AccountItem, type ApiServer, type LiquidityItem, type PlanItem } from '../../../node/api/index.js'
import { createGossipNode, type GossipNode } from '../../../node/gossip/node.js'
import { peerKeyFromSeed } from '../../../node/p2p/keys.js'
import { TEST_KEYS, bytesOf, hexOf, makeHealthSnapshot, makeWireLiquiditySnapshot } from '../../unit/gossip/fixtures.js'
import { anvilOf, applyPriceSteps, startDevnet } from '../../../chains/devnet/devnet.js'
import { devnetChainConfig } from '../../../chains/devnet/node-config.js'
import { devnetOperatorKeys } from '../../../chains/devnet/operators.js'
import type { Devnet, DevnetChain } from '../../../chains/devnet/types.js'
import { nodeConfigSchema } from '../../../node/config/index.js'
import { startDaemon, type Daemon } from '../../../node/daemon/daemon.js'
import { BASE_CURRENCY, InvalidPricePointError, type PriceHistory, type PricePoint } from '../../../node/api/prices.js'
import { PriceRecorder, createPriceRecorderMetrics, pricePointsOf } from '../../../node/daemon/prices.js'
import { Registry } from 'prom-client'

const WAD = 10n ** 18n
const MAX = (1n << 256n) - 1n
const A = 31337
const B = 31338
const ops = TEST_KEYS.slice(0, 4).map((k) => createOperatorSigner(k))
const server0 = ops[0] // the serving operator
const MORPHO = hexOf('api/morpho-market', 32)
const AAVE = `0x${'00'.repeat(12)}${'aa'.repeat(20)}` as Hex
const WETH = getAddress(hexOf('api/weth', 20))
const HFS = [(95n * WAD) / 100n, (105n * WAD) / 100n, (125n * WAD) / 100n, 2n * WAD, MAX]

/** A snapshot of the five accounts with the HFs above (Morpho or Aave), at `block`. */
function snapshot(chainId: number, protocol: LendingProtocol, market: Hex, block: number, observedAt: number, tweak?: (a: HealthSnapshot['accounts'][number], i: number) => void): HealthSnapshot {
  const s = makeHealthSnapshot({ chainId, market, blockNumber: BigInt(block), observedAt, seed: `api/${market}`, n: HFS.length })
  s.protocol = protocol
  if (protocol === LendingProtocol.aaveV3) s.morpho = undefined
  s.accounts.forEach((a, i) => {
    a.healthFactor = HFS[i]
    a.liquidatable = HFS[i] < WAD
    a.maxSeizable = a.liquidatable ? 10n ** 20n : 0n
    if (HFS[i] === MAX) a.borrowAssets = 0n
    if (protocol === LendingProtocol.aaveV3) a.borrowShares = 0n
    tweak?.(a, i)
  })
  return s
}

function leg(seq: number, chainId: number, pad = 0): Leg {
  return {
    seq,
    kind: 'liquidate',
    chainId,
    protocol: 'morpho',
    market: MORPHO,
    borrower: hexOf(`api/leg/${seq}`, 20),
    collateralAsset: 'WETH',
    debtAsset: 'USDC',
    mode: 'seizedAssets',
    repaidShares: 0n,
    repaidAssets: 10n ** 9n + BigInt(pad),
    debtToCover: 0n,
    seizedAssets: 5n * 10n ** 17n,
    badDebtAssets: 0n,
    incentive: 10n ** 7n,
    outcome: 'restored',
    healthFactorBefore: (95n * WAD) / 100n,
    healthFactorAfter: (115n * WAD) / 100n,
    refPrice: 2000n * 10n ** 24n,
    execution: 'amm',
    venues: [{ chainId, pool: hexOf('api/pool', 20), amountIn: 5n * 10n ** 17n, expectedAmountOut: 99n * 10n ** 7n, minAmountOut: 98n * 10n ** 7n }],
    auction: { amount: 0n, startPrice: 0n, decayPerSecond: 0n, floorPrice: 0n, startTime: 0n, endTime: 0n },
    heldAmount: 0n,
    deadline: 1_700_000_600n,
  }
}
const planOf = (legs: Leg[]): Plan => ({ version: 1, legs, schedule: [], deferred: [], poolsAfter: [], oraclesAfter: [] })

describe('risk-feed API (real gossip node, level store, HTTP and WebSocket)', function () {
  this.timeout(60_000)
  let dir: string
  let node: GossipNode
  let api: ApiServer
  const plans = new InMemoryPlanSource()
  let now = Date.now()

  const publishHealth = async (signerIdx: number, s: HealthSnapshot) => {
    const m = signPayload({ kind: PayloadKind.healthSnapshot, snapshot: healthSnapshotToWire(s) }, ops[signerIdx], node.domainSeparator)
    const outcome = await node.service.publish({ type: GossipType.health, chainId: s.chainId }, m.bytes)
    assert.equal(outcome.code, undefined, `publish refused: ${outcome.code}`)
  }
  const publishLiquidity = async (signerIdx: number, chainId: number, block: number) => {
    const snap = makeWireLiquiditySnapshot({ chainId, blockNumber: BigInt(block), observedAt: now, seed: 'api/pool' })
    const m = signPayload({ kind: PayloadKind.liquiditySnapshot, snapshot: snap }, ops[signerIdx], node.domainSeparator)
    const outcome = await node.service.publish({ type: GossipType.liquidity, chainId }, m.bytes)
    assert.equal(outcome.code, undefined, `publish refused: ${outcome.code}`)
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'liqnet-api-'))
    node = await createGossipNode({
      privateKey: await peerKeyFromSeed(bytesOf('api/peer', 32)),
      storePath: join(dir, 'store'),
      chainIds: [A, B],
      operators: ops.map((o) => o.address),
      p2p: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      sync: false,
    })
    // Three operators agree on the Morpho market at block 100; the fourth disagrees on one account.
    for (const i of [0, 1, 2]) await publishHealth(i, snapshot(A, LendingProtocol.morphoBlue, MORPHO, 100, now))
    await publishHealth(3, snapshot(A, LendingProtocol.morphoBlue, MORPHO, 100, now, (a, i) => void (i === 2 && (a.healthFactor = 3n * WAD))))
    for (const i of [0, 1]) await publishHealth(i, snapshot(B, LendingProtocol.aaveV3, AAVE, 50, now))
    for (const i of [0, 1]) await publishLiquidity(i, A, 100)
    // An hour of WETH prices on chain A, one per 12 s block, alternating ±1 %.
    const prices = new LevelPriceHistory(node.store.db, { maxPointsPerAsset: 256 })
    let p = 2000n * 10n ** 8n
    const points = []
    for (let i = 0; i < 300; i++) {
      p = i % 2 ? (p * 101n) / 100n : (p * 100n) / 101n
      points.push({ chainId: A, asset: WETH, blockNumber: BigInt(i), timestamp: now - (300 - i) * 12_000, price: p })
    }
    await prices.append(points)
    assert.equal((await prices.window(A, WETH, 1000)).length, 256)
    plans.put({ height: 1n, round: 0, planHash: hexOf('api/plan/1', 32), certifiedAt: now, signers: ops.slice(0, 3).map((o) => o.address), plan: planOf([leg(0, A), leg(1, B)]) })
    api = await startApiServer({
      store: node.store,
      signer: server0,
      port: 0,
      plans,
      prices,
      collateral: (chainId, protocol) => (chainId === A && protocol === 'morpho-blue' ? WETH : undefined),
      events: node.service,
      risk: { horizonSeconds: 86_400, volatilityWindow: 200 },
    })
  })
  after(async () => {
    await api?.close()
    await node?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const get = async (path: string) => {
    const r = await fetch(`${api.url}${path}`)
    return { status: r.status, body: (await r.json()) as any }
  }

  it('serves accounts riskiest first, with health factor, distance, probability and the agreeing operators', async () => {
    const client = createFeedClient({ url: api.url, trustedOperators: [server0.address] })
    const page = await client.accounts({ chainId: A, protocol: 'morpho-blue' })
    assert.equal(page.total, 5)
    const items = page.items.map((i) => i.data)
    assert.deepEqual(items.map((i) => BigInt(i.healthFactor)), HFS)
    assert.deepEqual(items.map((i) => i.risk.distanceBps), [0, 476, 2000, 5000, 10_000])
    assert.equal(items[0].liquidatable, true)
    assert.equal(items[0].risk.probability, 1)
    assert.equal(items[4].risk.probability, 0)
    const vol = items[2].risk.volatility!
    assert.ok(vol > 1 && vol < 100, String(vol)) // ±1 % every 12 s is a very volatile asset
    assert.equal(items[2].risk.volatilitySamples, 199)
    assert.equal(items[2].risk.collateralAsset, WETH)
    assert.ok(items[1].risk.probability! > items[2].risk.probability! && items[2].risk.probability! > items[3].risk.probability!)
    assert.equal(items[0].risk.model, 'driftless-lognormal-first-passage')
    assert.equal(items[0].risk.estimator, 'close-to-close-realized')
    // Operators 0–2 agree everywhere; operator 3 disagrees on the third account only.
    assert.equal(items[0].attestedBy.length, 4)
    assert.deepEqual(items[2].attestedBy, ops.slice(0, 3).map((o) => getAddress(o.address)).sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())))
    assert.equal(items[0].blockNumber, '100')
    for (const i of page.items) assert.equal(i.proof.operator, getAddress(server0.address))
  })

  it('filters by chain, protocol, market, borrower and liquidatability, and pages', async () => {
    const client = createFeedClient({ url: api.url })
    const aave = await client.accounts({ protocol: 'aave-v3' })
    assert.equal(aave.total, 5)
    assert.ok(aave.items.every((i) => i.data.chainId === B && i.data.market === AAVE && i.data.risk.volatility === null))
    assert.equal(aave.items[2].data.risk.probability, null) // no price history for it
    assert.equal((await client.accounts({})).total, 10)
    assert.equal((await client.accounts({ market: MORPHO })).total, 5)
    const borrower = (await client.accounts({ chainId: A })).items[1].data.borrower
    const one = await client.accounts({ chainId: A, borrower })
    assert.equal(one.total, 1)
    assert.equal(one.items[0].data.borrower, borrower)
    assert.equal((await client.accounts({ liquidatable: true })).total, 2)
    const paged = await client.accounts({ limit: 3, offset: 8 })
    assert.equal(paged.total, 10)
    assert.equal(paged.items.length, 2)
    assert.equal((await client.accounts({ chainId: 1 })).total, 0)
    // Without a resolver, a Morpho market's collateral comes from its snapshots' market state.
    const bare = await new FeedReader({ store: node.store }).accounts({ chainId: A, limit: 1, offset: 0 })
    assert.equal(bare.items[0].risk.collateralAsset, getAddress(hexOf(`api/${MORPHO}/coll`, 20)))
  })

  it('refuses bad parameters with 400 naming each one', async () => {
    let r = await get('/v1/accounts?chainId=abc&protocol=compound&limit=0&foo=1')
    assert.equal(r.status, 400)
    assert.equal(r.body.error, 'BAD_REQUEST')
    assert.deepEqual(r.body.issues.map((i: { path: string }) => i.path).sort(), ['chainId', 'foo', 'limit', 'protocol'])
    assert.match(r.body.message, /chainId: expected a non-negative integer/)
    assert.match(r.body.message, /foo: unknown parameter/)
    r = await get('/v1/accounts?market=0x1234')
    assert.match(r.body.message, /market: expected a 32-byte 0x-hex market id/)
    r = await get('/v1/accounts?limit=100000')
    assert.match(r.body.message, /limit: must be at most 1000/)
    r = await get('/v1/liquidity?venue=curve')
    assert.match(r.body.message, /venue: expected uniswap-v2/)
    r = await get('/v1/plans/abc')
    assert.equal(r.status, 400)
    r = await get('/v1/nope')
    assert.equal(r.status, 404)
    await assert.rejects(createFeedClient({ url: api.url }).accounts({ chainId: -1 }), (e: unknown) => e instanceof FeedHttpError && e.status === 400)
  })

  it('serves liquidity by venue with the agreeing operators', async () => {
    const client = createFeedClient({ url: api.url })
    const page = await client.liquidity({ chainId: A, venue: 'uniswap-v2' })
    assert.equal(page.total, 1)
    const pool: LiquidityItem = page.items[0].data
    assert.equal(pool.reserve0, (5n * 10n ** 24n).toString())
    assert.equal(pool.depth.length, 8)
    assert.equal(pool.attestedBy.length, 2)
    assert.equal((await client.liquidity({})).total, 1)
    assert.equal((await client.liquidity({ chainId: B })).total, 0)
  })

  it('serves plans with per-leg settlement status', async () => {
    const client = createFeedClient({ url: api.url })
    plans.updateLeg(1n, { seq: 0, status: 'dispatched', guid: hexOf('api/guid', 32), updatedAt: now })
    const p = (await client.plan(1n))!
    const item: PlanItem = p.data
    assert.equal(item.status, 'settling')
    assert.deepEqual(item.counts, { planned: 1, dispatched: 1, executed: 0, failed: 0 })
    assert.equal(item.legs[0].settlement.status, 'dispatched')
    assert.equal(item.legs[0].repaidAssets, (10n ** 9n).toString())
    assert.equal((await client.plans()).length, 1)
    assert.equal(await client.plan(99n), undefined)
    const info = await client.info()
    assert.equal(info.operator, getAddress(server0.address))
    assert.equal(info.risk.horizonSeconds, 86_400)
  })

  it('the client rejects tampered items, foreign signers and a wrong domain', async () => {
    const tamper = (body: string) => body.replace(/"healthFactor":"950000000000000000"/, '"healthFactor":"1950000000000000000"')
    const tampering: typeof fetch = async (input, init) => {
      const r = await fetch(input, init)
      return new Response(tamper(await r.text()), { status: r.status, headers: r.headers })
    }
    await assert.rejects(createFeedClient({ url: api.url, fetch: tampering }).accounts({ chainId: A }), (e: unknown) => e instanceof FeedVerificationError && e.reason === 'CONTENT_HASH_MISMATCH')
    const skipped = await createFeedClient({ url: api.url, fetch: tampering, onInvalid: 'skip' }).accounts({ chainId: A })
    assert.equal(skipped.items.length, 4)
    await assert.rejects(createFeedClient({ url: api.url, trustedOperators: [ops[1].address] }).accounts({}), (e: unknown) => e instanceof FeedVerificationError && e.reason === 'UNTRUSTED_SIGNER')
    await assert.rejects(createFeedClient({ url: api.url, domain: { chainId: 1 } }).liquidity({}), (e: unknown) => e instanceof FeedVerificationError && e.reason === 'BAD_SIGNATURE')
  })

  it('streams the same items over WebSocket, filtered, verified', async () => {
    const client = createFeedClient({ url: api.url, trustedOperators: [server0.address] })
    const onlyB: SignedFeedItem[] = []
    const planItems: SignedFeedItem[] = []
    const all: SignedFeedItem[] = []
    const subB = await client.subscribe({ chainId: B, kinds: ['account'] }, { onItem: (i) => onlyB.push(i) })
    const subPlans = await client.subscribe({ kinds: ['plan'] }, { onItem: (i) => planItems.push(i) })
    const subAll = await client.subscribe({ chainId: A, protocol: 'morpho-blue', market: MORPHO }, { onItem: (i) => all.push(i) })
    assert.deepEqual(subB.hello.filter, { chainId: B, kinds: ['account'] })
    assert.equal(api.hub.size, 3)

    now = Date.now()
    await publishHealth(0, snapshot(A, LendingProtocol.morphoBlue, MORPHO, 101, now, (a, i) => void (i === 1 && (a.healthFactor = (99n * WAD) / 100n))))
    await publishHealth(2, snapshot(B, LendingProtocol.aaveV3, AAVE, 51, now))
    await publishLiquidity(0, A, 101)
    plans.updateLeg(1n, { seq: 1, status: 'executed', txHash: hexOf('api/tx', 32), updatedAt: now })
    await api.flush()
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 20))
      assert.ok(cond(), `onlyB ${onlyB.length} plans ${planItems.length} all ${all.length}`)
    }
    await until(() => onlyB.length === 5 && planItems.length === 1 && all.length === 6)
    assert.ok(onlyB.every((i) => i.kind === 'account' && (i.data as AccountItem).chainId === B && (i.data as AccountItem).attestedBy[0] === getAddress(ops[2].address)))
    // The pool update is filtered out by the market filter; plans are selected by kind only.
    assert.deepEqual(all.map((i) => i.kind).sort(), ['account', 'account', 'account', 'account', 'account', 'plan'])
    const accounts = all.filter((i) => i.kind === 'account')
    assert.ok(accounts.every((i) => (i.data as AccountItem).market === MORPHO))
    const moved = accounts.map((i) => i.data as AccountItem).find((a) => a.healthFactor === ((99n * WAD) / 100n).toString())!
    assert.ok(moved && moved.liquidatable === false && moved.risk.distanceBps === 0)
    assert.equal((planItems[0].data as PlanItem).status, 'settling')
    assert.equal((planItems[0].data as PlanItem).legs[1].settlement.status, 'executed')
    // The HTTP view moved too: operator 0 alone at block 101.
    const http = await client.accounts({ chainId: A, borrower: moved.borrower })
    assert.equal(http.items[0].data.blockNumber, '101')
    subB.close()
    subPlans.close()
    subAll.close()
    assert.equal((await subB.closed).code, 1000)
    await until(() => api.hub.size === 0)
  })

  it('records one price point per series and block, prefers its own snapshots, and counts failed appends', async () => {
    const appended: PricePoint[][] = []
    let fail = false
    const history: PriceHistory = {
      async append(points) {
        if (fail) throw new Error('disk full')
        appended.push([...points])
      },
      window: async () => [],
    }
    const register = new Registry()
    const rec = new PriceRecorder({ history, flushDelayMs: 5, metrics: createPriceRecorderMetrics(register) })
    const morpho = (block: number) => healthSnapshotToWire(snapshot(B + 1, LendingProtocol.morphoBlue, MORPHO, block, now))
    const points = pricePointsOf(morpho(7))
    assert.equal(points.length, 1)
    assert.equal(points[0].quote, getAddress(hexOf(`api/${MORPHO}/loan`, 20)))
    rec.observe(morpho(7), 'gossip')
    rec.observe(morpho(7), 'gossip') // the same block from another operator
    rec.observe(morpho(8), 'local')
    rec.observe(morpho(6), 'local') // older than what is recorded
    rec.observe(morpho(9), 'gossip') // a chain the node reads itself: its own prices only
    await rec.flush()
    assert.deepEqual(appended.map((b) => b.map((p) => p.blockNumber)), [[7n, 8n]])
    fail = true
    rec.observe(morpho(10), 'local')
    await rec.flush()
    const counts = (await register.getSingleMetric('liqnet_price_history_points_total')!.get()).values.map((v) => [v.labels.outcome, v.value])
    assert.deepEqual(counts.sort(), [['appended', 2], ['failed', 1]])
    await rec.close()
    // The level history refuses a bad point, naming the field.
    const level = new LevelPriceHistory(node.store.db)
    await assert.rejects(level.append([{ ...points[0], price: 0n }]), (e: unknown) => e instanceof InvalidPricePointError && /price must be > 0/.test(e.shortMessage))
  })

  it('refuses a bad stream filter before the upgrade', async () => {
    const client = createFeedClient({ url: api.url })
    await assert.rejects(client.subscribe({ kinds: ['accounts' as never] }, { onItem() {} }), (e: unknown) => e instanceof FeedHttpError && e.status === 400 && /kinds/.test(e.shortMessage))
  })

  it('drops a subscriber that stops reading with close code 4001, and keeps serving', async () => {
    const small = await startApiServer({ store: node.store, signer: server0, port: 0, plans, maxBufferedBytes: 256 * 1024, slowCloseGraceMs: 10_000 })
    try {
      const { WebSocket } = createRequire(import.meta.url)('ws') as { WebSocket: new (url: string) => any }
      const ws = new WebSocket(`${small.url.replace('http', 'ws')}/v1/stream?kinds=plan`)
      const closed = new Promise<number>((resolve) => ws.on('close', (code: number) => resolve(code)))
      await new Promise<void>((resolve) => ws.once('message', () => resolve())) // hello
      ws._socket.pause() // stop reading: the kernel buffers fill, then the server's queue
      const bigPlan = planOf(Array.from({ length: 400 }, (_, i) => leg(i, A)))
      for (let h = 0; h < 60 && small.hub.size > 0; h++) {
        plans.put({ height: 100n + BigInt(h), round: 0, planHash: hexOf(`api/big/${h}`, 32), certifiedAt: now, signers: [], plan: bigPlan })
        await small.flush()
        await new Promise((r) => setTimeout(r, 5))
      }
      assert.equal(small.hub.size, 0, 'the stalled subscriber is still connected')
      ws._socket.resume()
      assert.equal(await closed, STREAM_CLOSE.slowConsumer)
      // The server still serves.
      assert.equal((await fetch(`${small.url}/v1/info`)).status, 200)
    } finally {
      await small.close()
    }
  })
})

describe('risk feed of a running node: price history from its snapshots (anvil chain, startDaemon)', function () {
  this.timeout(60_000)
  let dir: string
  let devnet: Devnet
  let alpha: DevnetChain
  let daemon: Daemon
  let chainId: number
  const horizonSeconds = 3600

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'liqnet-api-prices-'))
    devnet = await startDevnet({ scenario: 'scenarios/devnet/test.yaml' })
    alpha = devnet.chains.find((c) => c.name === 'alpha')!
    chainId = alpha.chainId
    const [key] = devnetOperatorKeys(1)
    const config = nodeConfigSchema.parse({
      dataDir: join(dir, 'data'),
      chains: [devnetChainConfig(alpha, 50)],
      // The operator set is this node alone, without a hub: it observes, gossips and serves the feed.
      network: { operators: [key.address] },
      p2p: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      // Every account in every block's snapshot.
      publish: { nearLiquidationHfWad: (100n * WAD).toString() },
      api: { port: 0, horizonSeconds, minVolatilitySamples: 3 },
      metrics: { port: 0 },
      log: { level: 'silent' },
    })
    daemon = await startDaemon({ config, operatorKey: hexToBytes(key.privateKey), peerKey: await peerKeyFromSeed(bytesOf('api/prices/peer', 32)) })
  })
  after(async () => {
    await daemon?.stop()
    await devnet?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const accounts = async (): Promise<AccountItem[]> => {
    const r = await fetch(`${daemon.api!.url}/v1/accounts?chainId=${chainId}`)
    assert.equal(r.status, 200)
    return ((await r.json()) as { items: { data: AccountItem }[] }).items.map((i) => i.data)
  }
  /** Waits until the API serves every account at `block` or later. */
  const servedAt = async (block: bigint): Promise<AccountItem[]> => {
    let items: AccountItem[] = []
    for (let i = 0; i < 150; i++) {
      items = await accounts()
      if (items.length === 5 && items.every((a) => BigInt(a.blockNumber) >= block)) return items
      await new Promise((r) => setTimeout(r, 40))
    }
    throw new Error(`accounts not served at block ${block}: ${items.map((a) => a.blockNumber).join(',')}`)
  }
  /** 12-second blocks: the next block is mined 12 s after the previous one (chain time). */
  const nextBlockIn12s = () => anvilOf(alpha)!.request('evm_increaseTime', [12])
  const head = async () => BigInt(await anvilOf(alpha)!.request<string>('eth_blockNumber'))
  const byProtocol = (items: AccountItem[], p: string) => items.filter((a) => a.protocol === p)

  it('a flat price: volatility 0, probability 0 for a healthy account with debt (and every model field)', async () => {
    await servedAt(await head())
    for (let i = 0; i < 5; i++) {
      await nextBlockIn12s()
      await anvilOf(alpha)!.request('evm_mine')
      await servedAt(await head())
    }
    const items = await servedAt(await head())
    for (const a of items) {
      assert.equal(a.risk.model, 'driftless-lognormal-first-passage')
      assert.equal(a.risk.estimator, 'close-to-close-realized')
      assert.equal(a.risk.horizonSeconds, horizonSeconds)
      assert.ok(a.risk.volatilitySamples >= 3, `${a.protocol} ${a.risk.volatilitySamples} samples`)
      assert.equal(a.risk.volatility, 0)
      assert.ok(a.risk.distanceBps > 0 && a.risk.distanceBps < 10_000)
      assert.equal(a.risk.probability, 0, 'a driftless price with σ = 0 never moves')
    }
    // The series behind them: WETH in USDC (Morpho oracle, 1e36-scaled) and WETH in USD (Aave oracle, 1e8).
    const weth = alpha.deployment.tokens.WETH.address
    const usdc = alpha.deployment.tokens.USDC.address
    assert.equal(byProtocol(items, 'morpho-blue')[0].risk.collateralAsset, getAddress(weth))
    assert.equal(byProtocol(items, 'aave-v3')[0].risk.collateralAsset, getAddress(weth))
    const history = new LevelPriceHistory(daemon.gossip.store.db)
    const morpho = await history.window(chainId, weth, 3, usdc)
    const aave = await history.window(chainId, weth, 3, BASE_CURRENCY)
    assert.equal(morpho.length, 3)
    assert.equal(morpho[2].price, 3000n * 10n ** 24n) // 3000 USDC (1e6) per WETH (1e18), scaled 1e36
    assert.equal(aave[2].price, 3000n * 10n ** 8n)
    assert.ok(morpho[1].blockNumber > morpho[0].blockNumber && morpho[2].timestamp - morpho[1].timestamp >= 12_000)
  })

  it('moving prices: a volatility > 0 and a probability strictly between 0 and 1, larger nearer liquidation', async () => {
    const before = (await accounts())[0].risk.volatilitySamples
    // WETH ±1 % every 12-second block (each setAnswer is one block).
    for (let i = 0; i < 6; i++) {
      await nextBlockIn12s()
      await applyPriceSteps({ chains: [alpha] }, [{ atSeconds: 0, symbol: 'WETH', priceUsd: i % 2 ? '3000' : '3030' }])
      await servedAt(await head())
    }
    const items = await servedAt(await head())
    for (const p of ['morpho-blue', 'aave-v3']) {
      const list = byProtocol(items, p)
      for (const a of list) {
        assert.ok(a.risk.volatility! > 0, `${p} volatility ${a.risk.volatility}`)
        assert.ok(a.risk.volatilitySamples > before)
        assert.equal(typeof a.risk.probability, 'number')
        assert.ok(a.risk.probability! > 0 && a.risk.probability! < 1, `${p} probability ${a.risk.probability}`)
      }
      // Riskiest first: a smaller distance, a larger probability.
      for (let i = 1; i < list.length; i++) assert.ok(list[i - 1].risk.probability! >= list[i].risk.probability!)
    }
    const text = await (await fetch(`${daemon.metrics!.url}/metrics`)).text()
    assert.match(text, /liqnet_price_history_points_total\{[^}]*outcome="appended"[^}]*\} [1-9]/)
  })
})
