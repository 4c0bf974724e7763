/**
 * A gossiping liqnet node: libp2p host + level store + validator + gossip service,
 * started in that order and stopped in reverse. The daemon and the tests build on it.
 */
import type { PrivateKey } from '@libp2p/interface'
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import type { Address } from 'viem'
import { createDomainSeparator, type SigningDomain } from '../../protocol/signing/eip712.js'
import { createLiqnetHost, type LiqnetHost, type P2POptions } from '../p2p/host.js'
import { createGossipMetrics, type GossipMetrics } from '../metrics/gossip.js'
import { Store, type StorePruneOptions } from '../store/store.js'
import { formatTopic, gossipTypes } from '../../protocol/topics.js'
import { GossipService, type GossipServiceInit } from './service.js'
import { SyncProtocol, type SyncOptions } from './sync.js'
import { SnapshotValidator, createOperatorSet, type HeadSource, type ValidatorOptions } from './validator.js'

export type GossipNodeOptions = {
  privateKey: PrivateKey
  /** Directory of the level store. */
  storePath: string
  /** Chains whose topics the node subscribes to. */
  chainIds: readonly number[]
  /** Addresses of the operator set. */
  operators: readonly Address[]
  /** EIP-712 domain of the network. @default {} */
  domain?: SigningDomain
  heads?: HeadSource
  p2p?: Omit<P2POptions, 'privateKey' | 'topics'>
  validator?: Partial<Omit<ValidatorOptions, 'domainSeparator' | 'operators' | 'heads'>>
  service?: Partial<Pick<GossipServiceInit, 'queues' | 'maxBatch'>>
  prune?: Partial<StorePruneOptions> & { intervalMs?: number }
  /** Store write-behind of account rows, ms (see StoreOptions.accountFlushMs). */
  accountFlushMs?: number
  /** Catch-up from peers on connect (`/liqnet/sync/1.0.0`); `false` turns it off. */
  sync?: false | Partial<Pick<SyncOptions, 'maxAgeMs' | 'maxRecords' | 'minIntervalMs'>>
  /** Prometheus registry. @default a new Registry */
  register?: Registry
  log?: Logger
  now?: () => number
}

export type GossipNode = {
  host: LiqnetHost
  store: Store
  validator: SnapshotValidator
  service: GossipService
  sync?: SyncProtocol
  metrics: GossipMetrics
  register: Registry
  domainSeparator: Uint8Array
  stop(): Promise<void>
}

/** Opens the store, starts the host and subscribes. @throws StoreOpenError, P2PStartError */
export async function createGossipNode(o: GossipNodeOptions): Promise<GossipNode> {
  const register = o.register ?? new Registry()
  const metrics = createGossipMetrics(register)
  const store = new Store({ path: o.storePath, prune: o.prune, metrics, accountFlushMs: o.accountFlushMs, onError: (err) => o.log?.error({ err }, 'account flush failed') })
  await store.open()
  const domainSeparator = createDomainSeparator(o.domain ?? {})
  const validator = new SnapshotValidator({ ...o.validator, domainSeparator, operators: createOperatorSet(o.operators), heads: o.heads, now: o.now })
  let host: LiqnetHost
  try {
    const topics = o.chainIds.flatMap((chainId) => gossipTypes.map((type) => formatTopic({ type, chainId })))
    host = await createLiqnetHost({ ...o.p2p, privateKey: o.privateKey, topics })
  } catch (err) {
    await store.close()
    throw err
  }
  const service = new GossipService({ ...o.service, pubsub: host.pubsub, store, validator, chainIds: o.chainIds, metrics, log: o.log, now: o.now })
  await service.loadIndexes()
  service.start()
  const sync = o.sync === false ? undefined : new SyncProtocol({ ...o.sync, libp2p: host.libp2p, store, service, chainIds: o.chainIds, now: o.now, log: o.log })
  await sync?.start()
  const onPeers = () => metrics.peers.set(host.libp2p.getPeers().length)
  host.libp2p.addEventListener('peer:connect', onPeers)
  host.libp2p.addEventListener('peer:disconnect', onPeers)
  const pruneEvery = o.prune?.intervalMs ?? 60_000
  const pruner = setInterval(() => void store.prune((o.now ?? Date.now)()).catch((err) => o.log?.error({ err }, 'prune failed')), pruneEvery)
  pruner.unref()
  return {
    host,
    store,
    validator,
    service,
    sync,
    metrics,
    register,
    domainSeparator,
    async stop() {
      clearInterval(pruner)
      await sync?.stop()
      await service.stop()
      await host.stop()
      await store.close()
    },
  }
}
