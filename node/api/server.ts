/**
 * The risk-feed API (fastify 5 + @fastify/websocket), documented in docs/openapi.yaml:
 *
 *   GET /v1/info               operator, EIP-712 domain, risk model parameters
 *   GET /v1/accounts           accounts by chain, protocol, market (health factor, distance, probability)
 *   GET /v1/liquidity          pools by chain and venue (reserves, depth)
 *   GET /v1/plans              certified plans with per-leg settlement, newest first
 *   GET /v1/plans/:height      one plan
 *   GET /v1/stream (WebSocket) the same items as they change, filtered
 *
 * Every item is signed by the serving operator (node/api/signing.ts). Bad query parameters get a
 * 400 naming each one; the stream's filters are checked before the upgrade.
 */
import fastifyWebsocket from '@fastify/websocket'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { bytesToHex, type Address } from 'viem'
import type { z } from 'zod'
import { PayloadKind } from '../../protocol/proto/codec.js'
import { liqnetDomain, type SigningDomain } from '../../protocol/signing/eip712.js'
import type { OperatorSigner } from '../../protocol/signing/envelope.js'
import type { AcceptedEvent } from '../gossip/service.js'
import { listenOrThrow } from '../metrics/server.js'
import { createApiMetrics, type ApiMetrics } from '../metrics/registry.js'
import type { Store } from '../store/store.js'
import { FeedReader, RISK_MODEL, VOLATILITY_ESTIMATOR, planItem, type CollateralResolver, type RiskOptions } from './feed.js'
import type { PlanSource } from './plans.js'
import type { PriceHistory } from './prices.js'
import {
  accountsQuerySchema,
  feedKinds,
  liquidityQuerySchema,
  planHeightSchema,
  plansQuerySchema,
  queryIssues,
  streamQuerySchema,
  type StreamFilter,
} from './query.js'
import { FEED_ITEM_TYPEHASH, FeedSigner, feedKindCode, type FeedKind } from './signing.js'
import { StreamHub, type StreamSocket } from './stream.js'

/** Where accepted snapshots are announced (the GossipService fits). */
export type SnapshotEvents = {
  addEventListener(type: 'snapshot:accepted', listener: (evt: CustomEvent<AcceptedEvent>) => void): void
  removeEventListener(type: 'snapshot:accepted', listener: (evt: CustomEvent<AcceptedEvent>) => void): void
}

export type ApiServerOptions = {
  store: Store
  /** The serving operator's key (signs every item). */
  signer: OperatorSigner
  /** EIP-712 domain of the network. @default {} */
  domain?: SigningDomain
  plans?: PlanSource
  prices?: PriceHistory
  collateral?: CollateralResolver
  /** Source of live updates for /v1/stream. */
  events?: SnapshotEvents
  /** @default '127.0.0.1' */
  host?: string
  /** 0 picks a free port. @default 8080 */
  port?: number
  risk?: Partial<RiskOptions>
  /** @default 1000 */
  maxPageSize?: number
  /** @default 256 */
  maxSubscribers?: number
  /** @default 1 MiB */
  maxBufferedBytes?: number
  /** @default 2000 */
  slowCloseGraceMs?: number
  /** Accepted snapshots waiting to be turned into stream items; beyond this they are dropped (counted). @default 1024 */
  maxPendingEvents?: number
  register?: Registry
  log?: Logger
  now?: () => number
}

export const defaultApiServerOptions = { host: '127.0.0.1', port: 8080, maxPageSize: 1000, maxSubscribers: 256, maxBufferedBytes: 1_048_576, maxPendingEvents: 1024 } as const

export type ApiServer = {
  url: string
  port: number
  feed: FeedReader
  feedSigner: FeedSigner
  hub: StreamHub
  /** Resolves when every stream event received so far has been sent. */
  flush(): Promise<void>
  close(): Promise<void>
}

type ErrorBody = { error: 'BAD_REQUEST' | 'NOT_FOUND' | 'INTERNAL'; message: string; issues?: { path: string; message: string }[] }

function badRequest(reply: FastifyReply, err: z.ZodError): ErrorBody {
  const issues = queryIssues(err)
  reply.code(400)
  return { error: 'BAD_REQUEST', message: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues }
}

/**
 * Starts the API.
 * @throws PortInUseError, ServerListenError
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const o = { ...defaultApiServerOptions, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as ApiServerOptions & typeof defaultApiServerOptions
  const metrics: ApiMetrics | undefined = o.register ? createApiMetrics(o.register) : undefined
  const feedSigner = new FeedSigner({ signer: o.signer, domain: o.domain, now: o.now, onSign: (kind) => metrics?.itemsSigned.inc({ kind }) })
  const feed = new FeedReader({ store: o.store, prices: o.prices, collateral: o.collateral, risk: o.risk })
  const hub = new StreamHub({
    maxSubscribers: o.maxSubscribers,
    maxBufferedBytes: o.maxBufferedBytes,
    slowCloseGraceMs: o.slowCloseGraceMs,
    onSent: (kind) => metrics?.streamSent.inc({ kind }),
    onDrop: (reason) => metrics?.streamDropped.inc({ reason }),
    onCount: (n) => metrics?.subscribers.set(n),
  })

  const app = Fastify({ logger: false })
  await app.register(fastifyWebsocket, { options: { maxPayload: 4096 } })
  app.addHook('onResponse', async (req, reply) => {
    metrics?.requests.inc({ route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) })
  })
  app.setErrorHandler((err, _req, reply) => {
    o.log?.error({ err }, 'api request failed')
    reply.code(500).send({ error: 'INTERNAL', message: 'internal error' } satisfies ErrorBody)
  })
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}; see docs/openapi.yaml` } satisfies ErrorBody)
  })

  const envelope = <T>(extra: T) => ({ operator: feedSigner.operator, ...extra })

  app.get('/v1/info', async () => ({
    operator: feedSigner.operator,
    domain: jsonDomain(feedSigner.domain),
    feedItem: { type: 'FeedItem(uint8 kind,bytes32 contentHash,uint64 servedAt)', typeHash: FEED_ITEM_TYPEHASH, kinds: feedKindCode },
    risk: { model: RISK_MODEL, estimator: VOLATILITY_ESTIMATOR, ...feed.risk },
    stream: { maxBufferedBytes: o.maxBufferedBytes, maxSubscribers: o.maxSubscribers },
  }))

  app.get('/v1/accounts', async (req, reply) => {
    const q = accountsQuerySchema(o.maxPageSize).safeParse(req.query)
    if (!q.success) return badRequest(reply, q.error)
    const { total, items } = await feed.accounts(q.data)
    return envelope({ total, offset: q.data.offset, items: items.map((d) => feedSigner.sign('account', d)) })
  })

  app.get('/v1/liquidity', async (req, reply) => {
    const q = liquidityQuerySchema(o.maxPageSize).safeParse(req.query)
    if (!q.success) return badRequest(reply, q.error)
    const { total, items } = await feed.liquidity(q.data)
    return envelope({ total, offset: q.data.offset, items: items.map((d) => feedSigner.sign('liquidity', d)) })
  })

  app.get('/v1/plans', async (req, reply) => {
    const q = plansQuerySchema(o.maxPageSize).safeParse(req.query)
    if (!q.success) return badRequest(reply, q.error)
    const records = o.plans ? await o.plans.list({ limit: q.data.limit, before: q.data.before }) : []
    return envelope({ items: records.map((r) => feedSigner.sign('plan', planItem(r))) })
  })

  app.get('/v1/plans/:height', async (req, reply) => {
    const p = planHeightSchema.safeParse(req.params)
    if (!p.success) return badRequest(reply, p.error)
    const r = o.plans ? await o.plans.get(p.data.height) : undefined
    if (!r) {
      reply.code(404)
      return { error: 'NOT_FOUND', message: `no plan at height ${p.data.height}` } satisfies ErrorBody
    }
    return envelope({ item: feedSigner.sign('plan', planItem(r)) })
  })

  app.get(
    '/v1/stream',
    {
      websocket: true,
      preValidation: async (req: FastifyRequest, reply: FastifyReply) => {
        const q = streamQuerySchema.safeParse(req.query)
        if (!q.success) return reply.code(400).send(badRequest(reply, q.error))
        ;(req as FastifyRequest & { streamFilter?: StreamFilter }).streamFilter = q.data
      },
    },
    (socket, req) => {
      const filter = (req as FastifyRequest & { streamFilter?: StreamFilter }).streamFilter ?? {}
      const kinds = filter.kinds ?? [...feedKinds]
      const sub = hub.add(socket as unknown as StreamSocket, filter, kinds)
      if (!sub) return
      socket.on('close', () => hub.remove(sub))
      socket.on('error', () => hub.remove(sub))
      // Subscribers only listen; anything they send is ignored.
      socket.on('message', () => {})
      hub.send(sub, JSON.stringify({ type: 'hello', operator: feedSigner.operator, domain: jsonDomain(feedSigner.domain), filter: { ...filter, kinds } }))
    },
  )

  // ---- live updates: accepted snapshots and plan changes, in order, bounded
  let chain: Promise<void> = Promise.resolve()
  let pending = 0
  const enqueue = (work: () => Promise<void> | void) => {
    if (pending >= o.maxPendingEvents) {
      metrics?.streamDropped.inc({ reason: 'EVENT_BACKLOG' })
      return
    }
    pending++
    chain = chain
      .then(work)
      .catch((err) => o.log?.error({ err }, 'stream update failed'))
      .finally(() => void pending--)
  }
  const publish = (kind: FeedKind, data: unknown) => hub.publish(feedSigner.sign(kind, data))
  // One stream update per market (part) or pair and block: the first operator's snapshot of a block is streamed,
  // the other operators' copies of the same block are not (the HTTP API serves every attestation).
  const streamedBlock = new Map<string, number>()
  const firstOfBlock = (key: string, block: number) => {
    if ((streamedBlock.get(key) ?? -1) >= block) return false
    streamedBlock.set(key, block)
    return true
  }
  const onAccepted = (evt: CustomEvent<AcceptedEvent>) => {
    const a = evt.detail.accepted
    if (!a.updatesLatest) return
    const chainId = a.snapshot.chainId
    if (a.kind === PayloadKind.healthSnapshot) {
      feed.learnSnapshot(a.snapshot)
      if (!hub.wants('account', chainId)) return
      if (!firstOfBlock(`h:${chainId}:${bytesToHex(a.snapshot.market)}:${a.snapshot.part}`, Number(a.snapshot.blockNumber))) return
      const snapshot = a.snapshot
      const operator = bytesToHex(a.record.operator) as Address
      enqueue(async () => {
        for (const item of await feed.accountItemsOfSnapshot(snapshot, operator)) publish('account', item)
      })
    } else {
      if (!hub.wants('liquidity', chainId)) return
      if (!firstOfBlock(`l:${chainId}:${bytesToHex(a.snapshot.pair)}`, Number(a.snapshot.blockNumber))) return
      const item = feed.liquidityItem(a.snapshot, [bytesToHex(a.record.operator) as Address])
      enqueue(() => void publish('liquidity', item))
    }
  }
  o.events?.addEventListener('snapshot:accepted', onAccepted)
  const unsubscribePlans = o.plans?.subscribe((r) => {
    if (hub.wants('plan')) enqueue(() => void publish('plan', planItem(r)))
  })

  let port: number
  try {
    port = await listenOrThrow(app, o.host, o.port, 'risk-feed API', 'api.port')
  } catch (err) {
    o.events?.removeEventListener('snapshot:accepted', onAccepted)
    unsubscribePlans?.()
    throw err
  }
  return {
    url: `http://${o.host}:${port}`,
    port,
    feed,
    feedSigner,
    hub,
    flush: async () => {
      let c: Promise<void>
      do {
        c = chain
        await c
      } while (c !== chain)
    },
    async close() {
      o.events?.removeEventListener('snapshot:accepted', onAccepted)
      unsubscribePlans?.()
      hub.closeAll()
      await app.close()
    },
  }
}

/** The EIP-712 domain as JSON (chainId as a number). */
function jsonDomain(d: SigningDomain) {
  const full = liqnetDomain(d)
  return { name: full.name, version: full.version, ...(full.chainId !== undefined ? { chainId: Number(full.chainId) } : {}), ...(full.verifyingContract ? { verifyingContract: full.verifyingContract } : {}) }
}
