/**
 * The liqnet daemon (`liqnet start`): one process that assembles every part of a node, like a beacon node
 * assembles its modules, starts them in order and stops them in reverse:
 *
 *   metrics + health server → chains (clients, block followers, readers) → gossip (store, host, validator,
 *   service, sync) → price history (accepted snapshots' prices, for the feed's volatility) → publishers (one
 *   signed snapshot set per block per chain) → consensus (value layer over the store, QBFT over the host's
 *   gossipsub) → settlement (outbox, transmitter, tracker) → risk-feed API.
 *
 * A decided height is handed to the transmitter (staggered submission to the hub) and to the tracker (each leg
 * to its receipt), which is also the API's plan source. Consensus and settlement run only when the
 * configuration describes the network (operators, hub, each chain's EID and tokens); without it the node
 * observes, gossips and serves the feed.
 *
 * An unreachable RPC does not stop the node: it runs degraded (`/readyz` names the chain) and recovers when the
 * RPC answers again. A chain answering with the wrong chain id, a wrong keystore password or a port in use
 * fail the start.
 */
import { join } from 'node:path'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { bytesToHex, type Address, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { AaveTracker, readAaveReserves } from '../../chains/aave/reader.js'
import { ChainIdMismatchError, assertChainId, createChainClient, type ChainClient } from '../../chains/evm/client.js'
import { createBlockFollower, type BlockFollower } from '../../chains/evm/follower.js'
import { MorphoTracker, readMorphoMarkets } from '../../chains/morpho/reader.js'
import { readUniswapV2Pools } from '../../chains/uniswap-v2/reader.js'
import { BaseError } from '../../protocol/errors.js'
import type { Network } from '../../protocol/network.js'
import { defaultPlanParams } from '../../protocol/planner/index.js'
import type { PlanParams } from '../../protocol/planner/types.js'
import { createOperatorSigner, type OperatorSigner } from '../../protocol/signing/envelope.js'
import { LevelPriceHistory } from '../api/prices.js'
import { startApiServer, type ApiServer } from '../api/server.js'
import { chainClientOptionsOf, gossipNodeOptionsOf, networkGapsOf, networkOf, publisherThresholdsOf, signingDomainOf, type ChainConfig, type NodeConfig } from '../config/index.js'
import { createConsensusNode, type CertifiedPlan, type ConsensusNode } from '../consensus/index.js'
import { SnapshotFetchProtocol, createConsensusValues } from '../consensus/values.js'
import { createGossipNode, type GossipNode } from '../gossip/node.js'
import { createLogger, type Logger } from '../log/index.js'
import { createMetricsRegistry } from '../metrics/registry.js'
import { peersCheck, rpcCheck, startMetricsServer, storeCheck, type MetricsServer } from '../metrics/server.js'
import { createSettlementMetrics } from '../metrics/settlement.js'
import { trackersSource } from '../publish/chains-source.js'
import { SnapshotPublisher } from '../publish/publisher.js'
import { SettlementOutbox } from '../settlement/outbox.js'
import { SettlementTracker, type PlanStatusView, type TrackedContract } from '../settlement/tracker.js'
import { Transmitter, transmitRank } from '../settlement/transmitter.js'
import { DecidedPlanSource } from './plans.js'
import { LegGuard } from './guard.js'
import { createPriceRecorderMetrics, recordPrices } from './prices.js'

/** What the daemon needs besides the configuration. */
export type DaemonInit = {
  config: NodeConfig
  /** The unlocked operator key (node/keystore `unlockOperatorKey`). */
  operatorKey: Uint8Array | OperatorSigner
  /** The libp2p identity (node/p2p/keys.ts `loadOrCreatePeerKey`). */
  peerKey: PrivateKey
  /** @default a pino logger at `config.log.level` on stderr */
  log?: Logger
  /** Planner parameters; every node of a network must use the same. @default defaultPlanParams */
  params?: PlanParams
  /** How long the start waits for each chain's eth_chainId before going on degraded, ms. @default 3000 */
  chainCheckTimeoutMs?: number
}

/** A running node. */
export type Daemon = {
  operator: Address
  peerId: string
  /** The network description, when the configuration has one (consensus and settlement run). */
  network?: Network
  gossip: GossipNode
  consensus?: ConsensusNode
  tracker?: SettlementTracker
  api?: ApiServer
  metrics?: MetricsServer
  /** Stops everything in reverse start order; flushes and closes the stores. Idempotent. */
  stop(): Promise<void>
}

/** The start failed: what failed, and what to fix. */
export class DaemonStartError extends BaseError {
  override name = 'DaemonStartError'
  constructor(shortMessage: string, cause?: unknown) {
    super(shortMessage, { cause })
  }
}

type Part = { name: string; stop: () => Promise<void> | void }

/** A chain the node follows: its client, block follower and publisher loop. */
type FollowedChain = { config: ChainConfig; client: ChainClient; follower: BlockFollower }

/**
 * Starts a node. On a failure part-way, whatever started is stopped again before the error is thrown.
 * @throws PortInUseError / ServerListenError (metrics, API), ChainIdMismatchError, StoreOpenError, P2PStartError,
 *         SigningProtectionOpenError, NetworkConfigError, DaemonStartError
 */
export async function startDaemon(init: DaemonInit): Promise<Daemon> {
  const c = init.config
  const log = init.log ?? createLogger({ level: c.log.level })
  const signer = init.operatorKey instanceof Uint8Array ? createOperatorSigner(init.operatorKey) : init.operatorKey
  const peerId = peerIdFromPrivateKey(init.peerKey).toString()
  const params = init.params ?? defaultPlanParams
  const parts: Part[] = []
  let stopped = false
  const stopAll = async () => {
    if (stopped) return
    stopped = true
    for (const p of parts.reverse()) {
      try {
        await p.stop()
      } catch (err) {
        log.warn({ err, part: p.name }, 'stop failed')
      }
    }
  }

  try {
    const register = createMetricsRegistry({ labels: { operator: signer.address.toLowerCase() } })

    // Metrics and health first: a port in use fails before anything else starts.
    let metrics: MetricsServer | undefined
    if (c.metrics.enabled) {
      metrics = await startMetricsServer({ register, host: c.metrics.host, port: c.metrics.port })
      parts.push({ name: 'metrics', stop: () => metrics!.close() })
      log.info({ url: metrics.url }, 'metrics and health served')
    }

    // Chains: a client and a block follower each; the chain id is checked when the RPC answers.
    const chains = new Map<number, FollowedChain>()
    for (const ch of c.chains) {
      const client = createChainClient(chainClientOptionsOf(ch))
      chains.set(ch.chainId, { config: ch, client, follower: createBlockFollower(client) })
      metrics?.addCheck(rpcCheck(ch.name, client))
    }
    const reachable = await Promise.all(
      [...chains.values()].map(async (fc) => {
        try {
          await withTimeout(assertChainId(fc.client), init.chainCheckTimeoutMs ?? 3000)
          return true
        } catch (err) {
          if (err instanceof ChainIdMismatchError) throw err
          log.warn({ chain: fc.config.name, err: err instanceof BaseError ? err.shortMessage : String(err) }, 'RPC unreachable: running degraded until it answers')
          return false
        }
      }),
    )
    log.info({ chains: c.chains.map((ch, i) => ({ name: ch.name, chainId: ch.chainId, reachable: reachable[i] })) }, 'chains up')

    // Gossip: store, host, validator (heads from the followers), service, sync.
    const heads = { head: (chainId: number) => chains.get(chainId)?.follower.head?.number }
    const gopts = gossipNodeOptionsOf(c, init.peerKey)
    const gossip = await createGossipNode({
      ...gopts,
      heads,
      register,
      log: log.child({ module: 'gossip' }),
      // Consensus messages share the host: send them to every operator (explicit peers) at once.
      p2p: { ...gopts.p2p, gossipsub: { floodPublish: true } },
    })
    parts.push({ name: 'gossip', stop: () => gossip.stop() })
    metrics?.addCheck(storeCheck(gossip.store))
    // Price history (store bucket 7): the prices of every accepted health snapshot, for the feed's volatility.
    const prices = new LevelPriceHistory(gossip.store.db, { maxPointsPerAsset: c.store.maxPricePoints })
    const priceRecording = recordPrices(gossip.service, prices, { metrics: createPriceRecorderMetrics(register), log: log.child({ module: 'prices' }) })
    parts.push({ name: 'prices', stop: () => priceRecording.stop() })
    const wantPeers = new Set([...c.p2p.peers, ...c.p2p.directPeers].map((a) => a.split('/p2p/')[1])).size
    metrics?.addCheck(peersCheck(gossip.host.libp2p, wantPeers > 0 ? 1 : 0))
    let peersLogged = false
    const onPeer = () => {
      const n = gossip.host.libp2p.getPeers().length
      if (!peersLogged && wantPeers > 0 && n >= wantPeers) {
        peersLogged = true
        log.info({ peers: n }, 'peers connected')
      }
    }
    gossip.host.libp2p.addEventListener('peer:connect', onPeer)
    log.info({ peerId, listen: gossip.host.libp2p.getMultiaddrs().map((m) => m.toString()) }, 'gossip started')

    // Publishers: every block of every chain, read, signed and published; a slow read skips to the newest block.
    const publisher = new SnapshotPublisher({
      source: { read: (chainId, block) => sourceOf(chains.get(chainId)!).read(chainId, block) },
      sink: gossip.service,
      signer,
      domainSeparator: gossip.domainSeparator,
      ...publisherThresholdsOf(c),
    })
    const sources = new Map<number, ReturnType<typeof trackersSource>>()
    const sourceOf = (fc: FollowedChain) => {
      let s = sources.get(fc.config.chainId)
      if (!s) sources.set(fc.config.chainId, (s = chainSource(fc)))
      return s
    }
    for (const fc of chains.values()) {
      let next: bigint | undefined
      let running = false
      let flowing = false
      let failing = false
      let current: Promise<void> = Promise.resolve()
      const drain = async () => {
        if (running) return
        running = true
        try {
          while (next !== undefined && !stopped) {
            const b = next
            next = undefined
            try {
              const s = await publisher.onBlock(fc.config.chainId, b)
              if (!flowing || failing) log.info({ chain: fc.config.name, block: s.blockNumber, messages: s.messages, accounts: s.accounts }, 'snapshots flowing')
              flowing = true
              failing = false
            } catch (err) {
              if (!failing) log.warn({ chain: fc.config.name, block: b, err: err instanceof BaseError ? err.shortMessage : String(err) }, 'publish failed; the next block retries')
              failing = true
            }
          }
        } finally {
          running = false
        }
      }
      fc.follower.addEventListener('follower:block', (e) => {
        next = e.detail.blockNumber
        if (!running) current = drain()
      })
      fc.follower.addEventListener('follower:error', (e) => log.debug({ chain: fc.config.name, err: e.detail.shortMessage }, 'block follower error'))
      await fc.follower.start()
      // Stopping waits for the block being published, so nothing is written after the store closes.
      parts.push({ name: `follower:${fc.config.name}`, stop: async () => (await fc.follower.stop(), await current) })
    }

    // Consensus and settlement need the network description.
    const network = networkOf(c)
    let consensus: ConsensusNode | undefined
    let tracker: SettlementTracker | undefined
    let plans: DecidedPlanSource | undefined
    if (!network) {
      log.warn({ missing: networkGapsOf(c) }, 'no network description: consensus and settlement are off (observing and gossiping only)')
    } else {
      const guard = new LegGuard({ cooldownMs: numberOr(c.consensus.replanCooldownMs, 1000), chainIdOfEid: (eid) => network.chains.find((x) => x.eid === eid)?.chainId })
      const settlementMetrics = createSettlementMetrics(register)
      if (c.settlement.enabled !== false) {
        const hubChain = chains.get(network.hub.chainId)
        if (!hubChain) throw new DaemonStartError(`network.hubChainId ${network.hub.chainId} is not a configured chain.`)
        const tracked = (fc: FollowedChain, address: Address): TrackedContract => ({
          eid: fc.config.eid!,
          client: fc.client,
          address,
          ...(fc.config.endpoint ? { endpoint: fc.config.endpoint as Address } : {}),
          fromBlock: BigInt(fc.config.settlementFromBlock),
        })
        tracker = new SettlementTracker({
          hub: tracked(hubChain, network.hub.address),
          spokes: [...chains.values()].filter((fc) => fc.config.spoke && fc.config.chainId !== network.hub.chainId).map((fc) => tracked(fc, fc.config.spoke as Address)),
          pollMs: numberOr(c.settlement.pollMs, 500),
          metrics: settlementMetrics,
          log: log.child({ module: 'settlement' }),
        })
        tracker.start()
        parts.push({ name: 'tracker', stop: () => tracker!.stop() })
        const settled = new Set<bigint>()
        tracker.subscribe((p: PlanStatusView) => {
          if (p.submitted) guard.submitted(p.height)
          if (!p.settled || settled.has(p.height)) return
          settled.add(p.height)
          guard.settled(p.height)
          const counts: Record<string, number> = {}
          for (const l of p.legs) counts[l.state] = (counts[l.state] ?? 0) + 1
          log.info({ height: p.height, legs: p.legs.length, ...counts, failed: p.legs.filter((l) => l.state === 'failed').map((l) => ({ seq: l.seq, reason: l.reasonCode })) }, 'legs settled')
        })
      }
      plans = new DecidedPlanSource({ store: gossip.store, network, params, domainSeparator: gossip.domainSeparator, settlement: tracker, log })
      parts.push({ name: 'plans', stop: () => plans!.close() })

      const fetch = new SnapshotFetchProtocol({ libp2p: gossip.host.libp2p, store: gossip.store, log })
      await fetch.start()
      parts.push({ name: 'snapshot-fetch', stop: () => fetch.stop() })
      let accepted = 0
      gossip.service.addEventListener('snapshot:accepted', () => accepted++)
      const values = createConsensusValues({ store: gossip.store, network, params, domainSeparator: gossip.domainSeparator, fetcher: fetch, generation: () => accepted, log: log.child({ module: 'values' }) })
      consensus = await createConsensusNode({
        heightIntervalMs: numberOr(c.consensus.heightIntervalMs, 1000),
        qbft: { roundTimeoutBaseMs: c.consensus.roundTimeoutBaseMs },
        dataDir: join(c.dataDir, 'consensus'),
        pubsub: gossip.host.pubsub,
        values: guard.wrap(values),
        operators: network.operators,
        privateKey: signer.privateKey,
        hub: network.hub,
        register,
        log: log.child({ module: 'consensus' }),
      })
      parts.push({ name: 'consensus', stop: () => consensus!.stop() })

      let transmitter: Transmitter | undefined
      if (tracker) {
        const hubChain = chains.get(network.hub.chainId)!
        const outbox = new SettlementOutbox({ path: join(c.dataDir, 'outbox') })
        await outbox.open()
        parts.push({ name: 'outbox', stop: () => outbox.close() })
        transmitter = new Transmitter({
          client: hubChain.client,
          chainId: network.hub.chainId,
          hub: network.hub.address,
          account: privateKeyToAccount(bytesToHex(signer.privateKey) as Hex),
          self: signer.address,
          outbox,
          staggerMs: numberOr(c.settlement.staggerMs, 4000),
          hubStartBlock: BigInt(hubChain.config.settlementFromBlock),
          metrics: settlementMetrics,
          log: log.child({ module: 'transmitter' }),
        })
        // Resume submissions the outbox holds (a restart mid-submission).
        void transmitter.start().catch((err) => log.warn({ err: err instanceof BaseError ? err.shortMessage : String(err) }, 'cannot resume submissions yet'))
        parts.push({ name: 'transmitter', stop: () => transmitter!.stop() })
      }

      consensus.service.addEventListener('consensus:decided', (e) => {
        // A height decided while stopping (the transmitter and outbox are already stopped) is left to the other
        // operators' transmitters (staggered ranks).
        if (stopped) return
        const d: CertifiedPlan = e.detail
        guard.decided(d.height, d.settlementPlan)
        log.info({ height: d.height, round: d.round, source: d.source, legs: d.settlementPlan.legs.length, planDigest: d.planDigest, seals: d.seals.length }, 'height decided')
        if (!tracker || !transmitter) {
          void plans!.add(d)
          return
        }
        tracker.expect(d.settlementPlan, d.planDigest)
        // The designated transmitter (rank 0) signs first: its node's proposal builds (synchronous planning) wait
        // until the submission is signed, at most 3 s.
        let released = false
        const tx = transmitter
        const release = () => {
          if (released) return
          released = true
          tx.removeEventListener('transmitter:signed', onSigned)
          guard.release()
        }
        const onSigned = (ev: Event) => {
          if ((ev as CustomEvent<{ height: bigint }>).detail.height === d.height) release()
        }
        if (transmitRank(d.height, network.operators, signer.address) === 0) {
          guard.hold(3000)
          tx.addEventListener('transmitter:signed', onSigned)
          setTimeout(release, 3000).unref()
        } else release()
        const submission = transmitter.transmit(d).finally(release)
        // The API's plan record (a plan rebuild) once the transmitter's first request is out.
        void plans!.add(d)
        submission
          .then((r) => {
            const fields = { height: r.height, rank: r.rank, txHash: r.txHash, landedBy: r.landedBy, gasUsed: r.gasUsed, bumps: r.bumps, reason: r.reason }
            if (r.state === 'failed') log.warn(fields, 'plan submission failed')
            else log.info({ ...fields, state: r.state }, 'plan landed')
          })
          .catch((err) => log.warn({ height: d.height, err: err instanceof BaseError ? err.shortMessage : String(err) }, 'plan submission stopped'))
      })
      log.info({ operators: network.operators.length, quorum: network.quorum, hub: network.hub, self: signer.address }, 'consensus started')
    }

    // The risk-feed API last: it serves what the parts above produce.
    let api: ApiServer | undefined
    if (c.api.enabled) {
      api = await startApiServer({
        store: gossip.store,
        signer,
        domain: signingDomainOf(c),
        plans,
        prices,
        events: gossip.service,
        host: c.api.host,
        port: c.api.port,
        risk: { horizonSeconds: c.api.horizonSeconds, volatilityWindow: c.api.volatilityWindow, minVolatilitySamples: c.api.minVolatilitySamples },
        maxPageSize: c.api.maxPageSize,
        maxSubscribers: c.api.maxSubscribers,
        maxBufferedBytes: c.api.maxBufferedBytes,
        register,
        log: log.child({ module: 'api' }),
      })
      parts.push({ name: 'api', stop: () => api!.close() })
      log.info({ url: api.url }, 'risk-feed API served')
    }

    // Stop order is the reverse of `parts`: API, transmitter, outbox, consensus, fetch, plans, tracker, followers
    // (publishers end), prices (appends what is queued), gossip (flushes and closes the store), metrics.
    log.info({ operator: signer.address, peerId, api: api?.url, metrics: metrics?.url }, 'node started')
    return {
      operator: signer.address,
      peerId,
      network,
      gossip,
      consensus,
      tracker,
      api,
      metrics,
      async stop() {
        log.info('stopping')
        await stopAll()
        log.info('stopped')
      },
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}

/** The snapshot source of one configured chain: Morpho and Aave trackers, Uniswap V2 pairs, market states. */
function chainSource(fc: FollowedChain) {
  const { client, config: ch } = fc
  const morpho = ch.morpho
  const aave = ch.aave ? { pool: ch.aave.pool as Address, dataProvider: ch.aave.dataProvider as Address, oracle: ch.aave.oracle as Address, startBlock: BigInt(ch.aave.fromBlock) } : undefined
  const pairs = (ch.uniswapV2?.pairs ?? []).map((address) => ({ address: address as Address }))
  return trackersSource({
    chainId: ch.chainId,
    morpho: morpho ? [new MorphoTracker(client, { morpho: morpho.address as Address, markets: morpho.markets.map((id) => ({ id: id as Hex, startBlock: BigInt(morpho.fromBlock) })) })] : [],
    aave: aave ? [new AaveTracker(client, aave)] : [],
    pools: pairs.length ? async (block) => (await readUniswapV2Pools(client, pairs, { block })).map((state) => ({ state, depths: [] })) : undefined,
    morphoMarkets: morpho ? (block) => readMorphoMarkets(client, morpho.address as Address, morpho.markets as Hex[], block) : undefined,
    aaveReserves: aave ? async (block) => [{ pool: aave.pool, reserves: await readAaveReserves(client, aave, block) }] : undefined,
  })
}

const numberOr = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d)

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new DaemonStartError(`no answer within ${ms} ms`)), ms)
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    )
  })
}
