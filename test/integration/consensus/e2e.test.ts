/**
 * End to end: 4 operators (real libp2p nodes on loopback, gossip + consensus on one host each) read 2 anvil chains
 * with their own chain readers, publish signed snapshots at the same block after a −20 % WETH shock, and certify a
 * plan built from those snapshots; the certified plan's commit seals verify with viem.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex, keccak256, pad, recoverTypedDataAddress, toHex, type Address } from 'viem'
import { AaveTracker, readAaveReserves } from '../../../chains/aave/reader.js'
import { applyPriceSteps, startDevnet } from '../../../chains/devnet/devnet.js'
import { devnetNetwork } from '../../../chains/devnet/network.js'
import { devnetOperatorKeys } from '../../../chains/devnet/operators.js'
import { getFreePort } from '../../../chains/devnet/ports.js'
import type { Devnet, DevnetChain } from '../../../chains/devnet/types.js'
import { createChainClient, readBlockRef, type ChainClient } from '../../../chains/evm/client.js'
import { MorphoTracker, readMorphoMarkets } from '../../../chains/morpho/reader.js'
import { readUniswapV2Pools } from '../../../chains/uniswap-v2/reader.js'
import { createConsensusNode, type ConsensusNode } from '../../../node/consensus/index.js'
import type { CertifiedPlan } from '../../../node/consensus/service.js'
import { SnapshotFetchProtocol, createConsensusValues } from '../../../node/consensus/values.js'
import { createGossipNode, type GossipNode } from '../../../node/gossip/node.js'
import { peerKeyFromSeed } from '../../../node/p2p/keys.js'
import { trackersSource } from '../../../node/publish/chains-source.js'
import { SnapshotPublisher } from '../../../node/publish/publisher.js'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Network } from '../../../protocol/network.js'
import { defaultPlanParams } from '../../../protocol/planner/index.js'
import { decodeProposalValue } from '../../../protocol/proposal/index.js'
import { commitSealTypedData, settlementPlanDigest } from '../../../protocol/settlement/plan.js'
import { createDomainSeparator } from '../../../protocol/signing/eip712.js'
import { createOperatorSigner } from '../../../protocol/signing/envelope.js'

const SCENARIO = 'scenarios/devnet/test.yaml'
const N = 4

/** A SnapshotSource over one devnet chain's Morpho market, Aave pool and Uniswap V2 pairs (own trackers). */
function devnetSource(chain: DevnetChain, client: ChainClient) {
  const d = chain.deployment
  const markets = Object.values(d.morpho!.markets)
  const aave = { pool: d.aave!.pool, dataProvider: d.aave!.dataProvider, oracle: d.aave!.oracle, startBlock: d.aave!.startBlock }
  const pairs = Object.values(d.uniswapV2!.pairs).map((p) => ({ address: p.address, token0: p.token0, token1: p.token1 }))
  return trackersSource({
    chainId: chain.chainId,
    morpho: [new MorphoTracker(client, { morpho: d.morpho!.address, markets: markets.map((m) => ({ id: m.id, startBlock: m.startBlock })) })],
    aave: [new AaveTracker(client, aave)],
    pools: async (block) => (await readUniswapV2Pools(client, pairs, { block })).map((state) => ({ state, depths: [] })),
    morphoMarkets: (block) => readMorphoMarkets(client, d.morpho!.address, markets.map((m) => m.id), block),
    aaveReserves: async (block) => [{ pool: aave.pool, reserves: await readAaveReserves(client, aave, block) }],
  })
}

type Operator = { gossip: GossipNode; consensus: ConsensusNode; fetch: SnapshotFetchProtocol; publisher: SnapshotPublisher; decided: CertifiedPlan[] }

describe('consensus end to end: plans built from real snapshots of 2 anvil chains are certified (n = 4)', function () {
  this.timeout(120_000)
  let devnet: Devnet
  let network: Network
  let dir: string
  const ops: Operator[] = []

  before(async function () {
    this.timeout(150_000)
    dir = mkdtempSync(join(tmpdir(), 'liqnet-e2e-'))
    devnet = await startDevnet({ scenario: SCENARIO })
    network = devnetNetwork(devnet.chains)
    assert.equal(network.operators.length, N)
  })

  after(async () => {
    for (const o of ops) {
      await o.consensus.stop().catch(() => undefined)
      await o.fetch.stop().catch(() => undefined)
      await o.gossip.stop().catch(() => undefined)
    }
    await devnet?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('shocks WETH, publishes at one block per chain, and certifies one plan whose seals verify with viem', async () => {
    const t0 = Date.now()
    const keys = devnetOperatorKeys(N)
    const domain = { chainId: network.hub.chainId, verifyingContract: network.hub.address }
    const domainSeparator = createDomainSeparator(domain)
    const chainIds = devnet.chains.map((c) => c.chainId)
    const members = await Promise.all(
      keys.map(async (_, i) => {
        const peerKey = await peerKeyFromSeed(Buffer.from(keccak256(toHex(`e2e/peer/${i}`)).slice(2), 'hex'))
        const port = await getFreePort()
        return { peerKey, port, addr: `/ip4/127.0.0.1/tcp/${port}/p2p/${peerIdFromPrivateKey(peerKey).toString()}` }
      }),
    )
    const params = { ...defaultPlanParams }
    for (let i = 0; i < N; i++) {
      const gossip = await createGossipNode({
        privateKey: members[i].peerKey,
        storePath: join(dir, `node${i}`, 'store'),
        chainIds,
        operators: network.operators,
        domain,
        p2p: {
          listen: [`/ip4/127.0.0.1/tcp/${members[i].port}`],
          staticPeers: members.filter((_, j) => j > i).map((m) => m.addr),
          directPeers: members.filter((_, j) => j !== i).map((m) => m.addr),
          gossipsub: { floodPublish: true, D: 4, Dlo: 3, Dhi: 6, Dout: 1, Dlazy: 3 },
        },
      })
      const fetch = new SnapshotFetchProtocol({ libp2p: gossip.host.libp2p, store: gossip.store })
      await fetch.start()
      const values = createConsensusValues({ store: gossip.store, network, params, domainSeparator, fetcher: fetch, missingWaitMs: 2000 })
      const consensus = await createConsensusNode({
        // Heights start on trigger() (below) and on peers' messages.
        heightIntervalMs: 0,
        dataDir: join(dir, `node${i}`),
        pubsub: gossip.host.pubsub,
        values,
        operators: network.operators,
        privateKey: keys[i].privateKey,
        hub: network.hub,
      })
      const clients = new Map(devnet.chains.map((c) => [c.chainId, createChainClient({ chainId: c.chainId, rpcUrls: [c.rpcUrl], retryCount: 1 })]))
      const sources = new Map(devnet.chains.map((c) => [c.chainId, devnetSource(c, clients.get(c.chainId)!)]))
      const publisher = new SnapshotPublisher({
        source: { read: (chainId, block) => sources.get(chainId)!.read(chainId, block) },
        sink: gossip.service,
        signer: createOperatorSigner(keys[i].privateKey),
        domainSeparator,
      })
      const decided: CertifiedPlan[] = []
      consensus.service.addEventListener('consensus:decided', (e) => decided.push(e.detail))
      ops.push({ gossip, consensus, fetch, publisher, decided })
    }
    const started = Date.now()

    // The shock, then every operator publishes the newest block of each chain.
    await applyPriceSteps(devnet, devnet.scenario.pricePath)
    const heads = await Promise.all(devnet.chains.map(async (c) => (await readBlockRef(createChainClient({ chainId: c.chainId, rpcUrls: [c.rpcUrl] }))).blockNumber))
    // Wait for the gossip mesh so that snapshots reach every node.
    const until = Date.now() + 15_000
    while (Date.now() < until && !ops.every((o) => o.gossip.host.pubsub.getPeers().length >= N - 1)) await new Promise((r) => setTimeout(r, 50))
    await Promise.all(devnet.chains.flatMap((c, k) => ops.map((o) => o.publisher.onBlock(c.chainId, heads[k]))))
    const published = Date.now()
    // Every node holds every operator's snapshots of every scope at the heads (gossip delivered them).
    const scopes = devnet.chains.flatMap((c) => [
      ...Object.values(c.deployment.morpho!.markets).map((m) => ({ kind: 1, chainId: c.chainId, scope: m.id })),
      { kind: 1, chainId: c.chainId, scope: pad(c.deployment.aave!.pool, { size: 32 }) },
      ...Object.values(c.deployment.uniswapV2!.pairs).map((p) => ({ kind: 2, chainId: c.chainId, scope: pad(p.address, { size: 32 }) })),
    ])
    const delivered = async () => {
      for (const o of ops)
        for (const s of scopes) {
          const head = heads[devnet.chains.findIndex((c) => c.chainId === s.chainId)]
          const recs = await o.gossip.store.history.latestOfScope(s.kind, s.chainId, s.scope, 64)
          if (new Set(recs.filter((r) => r.blockNumber === head).map((r) => r.operator)).size < N) return false
        }
      return true
    }
    const until2 = Date.now() + 15_000
    while (Date.now() < until2 && !(await delivered())) await new Promise((r) => setTimeout(r, 50))
    const gossiped = Date.now()

    // Consensus: every node starts the height; the leader builds the value from its store.
    for (const o of ops) o.consensus.service.trigger()
    const deadline = Date.now() + 45_000
    while (Date.now() < deadline && !ops.every((o) => o.decided.length > 0)) await new Promise((r) => setTimeout(r, 50))
    assert.ok(ops.every((o) => o.decided.length > 0), `decided: ${ops.map((o) => o.decided.length).join(',')}`)
    const certified = ops.map((o) => o.decided[0])
    assert.equal(new Set(certified.map((c) => c.digest)).size, 1, 'every node decided the same value')
    const c = certified[0]

    // The value: pins on both chains at the published heads, quorum-covered snapshots, the plan.
    const value = decodeProposalValue(c.value)
    assert.deepEqual(value.pins.map((p) => p.blockNumber), heads)
    assert.ok(value.snapshots.length >= network.quorum * 4 * 2, `${value.snapshots.length} snapshot references`)
    assert.equal(settlementPlanDigest(value.settlementPlan), c.planDigest)
    const borrowers = new Set(value.settlementPlan.legs.map((l) => `${l.eid}:${l.borrower.toLowerCase()}`))
    for (const chain of devnet.chains) {
      const acc = chain.accounts.borrowers
      for (const name of ['morpho-below', 'aave-below', 'aave-deep']) assert.ok(borrowers.has(`${chain.eid}:${acc[name].address.toLowerCase()}`), `${chain.name} ${name} liquidated`)
      for (const name of ['morpho-above', 'aave-above']) assert.ok(!borrowers.has(`${chain.eid}:${acc[name].address.toLowerCase()}`), `${chain.name} ${name} left alone`)
    }

    // The seals: a quorum of distinct operators, each recovering with viem over (hub domain, height, plan digest).
    assert.ok(c.seals.length >= network.quorum)
    const signers = new Set<Address>()
    for (const s of c.seals) {
      const recovered = await recoverTypedDataAddress({ ...commitSealTypedData(domain, c.height, c.planDigest), signature: bytesToHex(s.seal) })
      assert.equal(recovered.toLowerCase(), s.signer.toLowerCase())
      assert.ok(network.operators.some((o) => o.toLowerCase() === recovered.toLowerCase()))
      signers.add(recovered.toLowerCase() as Address)
    }
    assert.ok(signers.size >= network.quorum)
    console.log(
      JSON.stringify({
        e2e: 'consensus',
        setupMs: started - t0,
        publishMs: published - started,
        gossipMs: gossiped - published,
        certifyMs: Math.max(...certified.map((x) => x.decidedAt)) - gossiped,
        legs: value.settlementPlan.legs.length,
        valueBytes: c.value.length,
      }),
    )
  })
})
