/**
 * The gossip service: subscribes to the topics of the chains the node follows, puts every
 * received message in its topic's bounded queue, validates in batches (SnapshotValidator),
 * reports each outcome to gossipsub at once (ACCEPT forwards, REJECT lowers the peer's
 * score), counts it by code, and writes the accepted snapshots to the store in one batch.
 * Own snapshots are published and go through the same validation into the store.
 */
import type { GossipSub, GossipsubMessage } from '@chainsafe/libp2p-gossipsub'
import { TopicValidatorResult, TypedEventEmitter } from '@libp2p/interface'
import type { Logger } from 'pino'
import { PayloadKind } from '../../protocol/proto/codec.js'
import { GossipType, formatTopic, gossipTypes, parseTopic, type GossipTopic } from '../../protocol/topics.js'
import type { GossipMetrics } from '../metrics/gossip.js'
import type { AcceptedSnapshot, Store } from '../store/store.js'
import { GossipAction, GossipErrorCode, GossipValidationError } from './errors.js'
import { BoundedQueue, gossipQueueOptions, type GossipQueueOptions } from './queue.js'
import type { SnapshotValidator, ValidationOutcome } from './validator.js'

export type GossipServiceInit = {
  pubsub: GossipSub
  store: Store
  validator: SnapshotValidator
  /** Chains whose topics the node subscribes to. */
  chainIds: readonly number[]
  /** Topic types subscribed. @default every GossipType */
  types?: readonly GossipType[]
  metrics?: GossipMetrics
  log?: Logger
  /** Queue overrides per topic type. */
  queues?: Partial<{ [K in GossipType]: GossipQueueOptions }>
  /** Most messages validated before one store write. @default 64 */
  maxBatch?: number
  /** @default Date.now */
  now?: () => number
}

/** Detail of `snapshot:accepted`. */
export type AcceptedEvent = { accepted: AcceptedSnapshot; topic: GossipTopic; validatedAt: number; source: 'gossip' | 'local' }
export type GossipServiceEvents = {
  'snapshot:accepted': CustomEvent<AcceptedEvent>
  'snapshot:equivocation': CustomEvent<AcceptedEvent>
  'snapshot:invalid': CustomEvent<{ topic: GossipTopic; code: GossipErrorCode; action: GossipAction; error: GossipValidationError }>
}

type Pending = {
  topic: GossipTopic
  data: Uint8Array
  receivedAt: number
  msgId?: string
  from?: string
  source: 'gossip' | 'local'
  done?: (o: ValidationOutcome) => void
}

type Validated = { p: Pending; outcome: ValidationOutcome & { action: GossipAction.ACCEPT }; validatedAt: number }

const toResult: { [K in GossipAction]: TopicValidatorResult } = {
  [GossipAction.ACCEPT]: TopicValidatorResult.Accept,
  [GossipAction.IGNORE]: TopicValidatorResult.Ignore,
  [GossipAction.REJECT]: TopicValidatorResult.Reject,
}

export class GossipService extends TypedEventEmitter<GossipServiceEvents> {
  private readonly queues: { [K in GossipType]: BoundedQueue<Pending> }
  private readonly types: readonly GossipType[]
  private readonly topics: string[]
  private readonly now: () => number
  private readonly maxBatch: number
  private running = false
  /** True while a drain loop runs; cleared synchronously when it finds every queue empty. */
  private active = false
  private draining: Promise<void> | undefined
  private readonly onMessage = (evt: CustomEvent<GossipsubMessage>) => this.receive(evt.detail)
  /** The subscribed topics, parsed once. */
  private readonly parsed = new Map<string, GossipTopic>()

  constructor(private readonly init: GossipServiceInit) {
    super()
    this.types = init.types ?? gossipTypes
    this.queues = Object.fromEntries(gossipTypes.map((t) => [t, new BoundedQueue<Pending>({ ...gossipQueueOptions[t], ...init.queues?.[t] })])) as {
      [K in GossipType]: BoundedQueue<Pending>
    }
    this.topics = init.chainIds.flatMap((chainId) => this.types.map((type) => formatTopic({ type, chainId })))
    for (const t of this.topics) this.parsed.set(t, parseTopic(t))
    this.now = init.now ?? Date.now
    this.maxBatch = init.maxBatch ?? 64
  }

  /** The topic names this service subscribes to. */
  get subscribedTopics(): readonly string[] {
    return this.topics
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.init.pubsub.addEventListener('gossipsub:message', this.onMessage)
    for (const t of this.topics) this.init.pubsub.subscribe(t)
  }

  /** Unsubscribes, drops what is queued (IGNORE) and waits for the batch in flight to be written. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.init.pubsub.removeEventListener('gossipsub:message', this.onMessage)
    for (const t of this.topics) {
      try {
        this.init.pubsub.unsubscribe(t)
      } catch {
        // pubsub already stopped
      }
    }
    for (const type of gossipTypes) for (const p of this.queues[type].clear()) this.report(p, GossipAction.IGNORE)
    await this.draining
  }

  private receive(m: GossipsubMessage): void {
    // Other services share the host's gossipsub (the consensus topic): their messages are theirs to validate.
    const topic = this.parsed.get(m.msg.topic)
    if (topic === undefined) return
    this.enqueue({ topic, data: m.msg.data, receivedAt: this.now(), msgId: m.msgId, from: m.propagationSource.toString(), source: 'gossip' })
  }

  private enqueue(p: Pending): void {
    const q = this.queues[p.topic.type]
    const dropped = q.push(p)
    if (dropped) {
      this.init.metrics?.queueDropped.inc({ type: p.topic.type })
      this.count(dropped.topic.type, GossipAction.IGNORE, GossipErrorCode.QUEUE_FULL)
      this.report(dropped, GossipAction.IGNORE)
      dropped.done?.({ action: GossipAction.IGNORE, code: GossipErrorCode.QUEUE_FULL, error: new GossipValidationError(GossipErrorCode.QUEUE_FULL, 'Validation queue full.') })
    }
    this.init.metrics?.queueLength.set({ type: p.topic.type }, q.length)
    if (!this.active) {
      this.active = true
      this.draining = this.drain()
    }
  }

  /**
   * Validates and stores a message as if it had arrived on `topic` (own snapshots, sync,
   * benchmarks). Resolves with the outcome once the message is written (or refused).
   */
  submit(topic: GossipTopic, data: Uint8Array, source: 'gossip' | 'local' = 'local'): Promise<ValidationOutcome> {
    return new Promise((resolve) => this.enqueue({ topic, data, receivedAt: this.now(), source, done: resolve }))
  }

  /**
   * Publishes an own signed message (SignedEnvelope bytes): validates it first, exactly as peers
   * will (so the node never publishes what it would itself refuse, nor two different snapshots
   * for one block), publishes it on its topic, then stores it. Resolves with the outcome.
   */
  async publish(topic: GossipTopic, data: Uint8Array): Promise<ValidationOutcome> {
    const { validator, store, metrics } = this.init
    const outcome = validator.validate(topic.type, topic.chainId, data, this.now())
    this.count(topic.type, outcome.action, outcome.code)
    if (outcome.action !== GossipAction.ACCEPT || outcome.code !== undefined) {
      metrics?.publishErrors.inc({ type: topic.type, code: outcome.code ?? 'REFUSED' })
      return outcome
    }
    const validatedAt = this.now()
    const name = formatTopic(topic)
    try {
      await this.init.pubsub.publish(name, data)
      metrics?.published.inc({ type: topic.type })
    } catch (err) {
      metrics?.publishErrors.inc({ type: topic.type, code: (err as Error).name ?? 'Error' })
      this.init.log?.warn({ err, topic: name }, 'publish failed')
    }
    try {
      metrics?.accountsStored.inc(await store.writeAccepted([outcome.accepted]))
    } catch (err) {
      this.init.log?.error({ err }, 'store write failed')
    }
    this.safeDispatch('snapshot:accepted', { accepted: outcome.accepted, topic, validatedAt, source: 'local' })
    return outcome
  }

  private report(p: Pending, action: GossipAction): void {
    if (p.msgId === undefined || p.from === undefined) return
    try {
      this.init.pubsub.reportMessageValidationResult(p.msgId, p.from, toResult[action])
    } catch {
      // pubsub stopped meanwhile
    }
  }

  private count(type: GossipType, action: GossipAction, code?: GossipErrorCode): void {
    this.init.metrics?.messages.inc({ type, outcome: action })
    if (code) this.init.metrics?.validationErrors.inc({ type, outcome: action, code })
  }

  private next(): Pending | undefined {
    // Round-robin over topic types so that one flooded topic cannot starve the other.
    for (let i = 0; i < gossipTypes.length; i++) {
      const type = gossipTypes[(this.rr + i) % gossipTypes.length]
      const p = this.queues[type].next()
      if (p) {
        this.rr = (this.rr + i + 1) % gossipTypes.length
        this.init.metrics?.queueLength.set({ type }, this.queues[type].length)
        return p
      }
    }
    return undefined
  }
  private rr = 0

  /**
   * Validates batches of queued messages and writes each batch in one level batch. The write
   * of batch k (LevelDB works on libuv's threads) overlaps the validation of batch k+1; at most
   * one write is in flight, and outcomes are delivered in order.
   */
  private async drain(): Promise<void> {
    const { validator, metrics } = this.init
    let inflight: Promise<void> | undefined
    for (;;) {
      const accepted: Validated[] = []
      const equivocations: Validated[] = []
      const refused: { p: Pending; outcome: ValidationOutcome }[] = []
      for (let n = 0; n < this.maxBatch; n++) {
        const p = this.next()
        if (!p) break
        const t0 = performance.now()
        const outcome = validator.validate(p.topic.type, p.topic.chainId, p.data, p.receivedAt)
        metrics?.validationSeconds.observe({ type: p.topic.type }, (performance.now() - t0) / 1000)
        this.report(p, outcome.action)
        this.count(p.topic.type, outcome.action, outcome.code)
        const validatedAt = this.now()
        if (outcome.action === GossipAction.ACCEPT) {
          if (outcome.code === GossipErrorCode.EQUIVOCATION) equivocations.push({ p, outcome, validatedAt })
          else accepted.push({ p, outcome, validatedAt })
        } else refused.push({ p, outcome })
      }
      if (accepted.length === 0 && equivocations.length === 0 && refused.length === 0) {
        if (inflight) {
          await inflight
          inflight = undefined
          continue
        }
        this.active = false
        return
      }
      const previous = inflight
      inflight = this.commit(previous, accepted, equivocations, refused)
      // Validate the next batch while this one is written, but never run two batches ahead.
      if (previous) await previous
      else await new Promise((r) => setImmediate(r))
    }
  }

  private async commit(previous: Promise<void> | undefined, accepted: Validated[], equivocations: Validated[], refused: { p: Pending; outcome: ValidationOutcome }[]): Promise<void> {
    const { store, metrics } = this.init
    if (previous) await previous
    if (accepted.length) {
      try {
        const n = await store.writeAccepted(accepted.map((a) => a.outcome.accepted))
        metrics?.accountsStored.inc(n)
      } catch (err) {
        this.init.log?.error({ err }, 'store write failed')
      }
    }
    for (const e of equivocations) await this.recordEquivocation(e.outcome, e.validatedAt)
    for (const a of accepted) {
      const s = a.outcome.accepted.snapshot
      metrics?.propagationSeconds.observe({ type: a.p.topic.type }, Math.max(0, a.validatedAt - s.observedAt) / 1000)
      a.p.done?.(a.outcome)
      this.safeDispatch('snapshot:accepted', { accepted: a.outcome.accepted, topic: a.p.topic, validatedAt: a.validatedAt, source: a.p.source })
    }
    for (const e of equivocations) {
      e.p.done?.(e.outcome)
      this.safeDispatch('snapshot:equivocation', { accepted: e.outcome.accepted, topic: e.p.topic, validatedAt: e.validatedAt, source: e.p.source })
    }
    for (const r of refused) {
      r.p.done?.(r.outcome)
      if (r.outcome.action !== GossipAction.ACCEPT)
        this.safeDispatch('snapshot:invalid', { topic: r.p.topic, code: r.outcome.code, action: r.outcome.action, error: r.outcome.error })
    }
  }

  private safeDispatch<K extends keyof GossipServiceEvents>(type: K, detail: GossipServiceEvents[K] extends CustomEvent<infer D> ? D : never): void {
    try {
      this.safeDispatchEvent(type, { detail } as never)
    } catch (err) {
      this.init.log?.error({ err, type }, 'event listener failed')
    }
  }

  private async recordEquivocation(outcome: ValidationOutcome & { action: GossipAction.ACCEPT }, at: number): Promise<void> {
    if (outcome.code !== GossipErrorCode.EQUIVOCATION) return
    const { conflict, accepted } = outcome
    this.init.metrics?.equivocations.inc()
    try {
      const first = await this.init.store.history.get(conflict.kind, conflict.chainId, conflict.scope, conflict.blockNumber, conflict.part, conflict.operator)
      await this.init.store.writeEvidence({
        chainId: conflict.chainId,
        scope: conflict.scope,
        blockNumber: conflict.blockNumber,
        part: conflict.part,
        records: first ? [first, accepted.record] : [accepted.record],
        flaggedAt: at,
      })
      this.init.log?.warn({ operator: Buffer.from(conflict.operator).toString('hex'), chainId: conflict.chainId, block: conflict.blockNumber }, 'operator equivocated')
    } catch (err) {
      this.init.log?.error({ err }, 'evidence write failed')
    }
  }

  /** Seeds the validator's dedupe and latest indexes from the store (call after a restart, before start). */
  async loadIndexes(): Promise<number> {
    let n = 0
    for (const { record } of await this.init.store.latestHealth.list()) {
      this.init.validator.seed(record)
      n++
    }
    for (const chainId of this.init.chainIds) {
      for (const { record } of await this.init.store.liquidity.listVenue(chainId, 1)) {
        this.init.validator.seed(record)
        n++
      }
    }
    return n
  }
}

export { PayloadKind }
