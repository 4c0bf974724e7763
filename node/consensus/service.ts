/**
 * The consensus service: runs QBFT heights one after another over the consensus transport,
 * with the operator key behind signing protection, and hands out each decision as a
 * certified plan (the value, its settlement plan and a quorum of commit seals: exactly what
 * `LiquidationHub.submitPlan(plan, seals)` takes).
 *
 * When a height starts (it is the next plan sequence number):
 * - `trigger()`: the node saw liquidatable accounts (an event of the gossip service);
 * - every `heightIntervalMs` while idle, if `values.buildValue` has something to propose;
 * - a peer's valid message for the next height (followers join the leader's height);
 * - catch-up: the node sees validators working on later heights (it was down or slow).
 * A node that is far behind (f+1 validators validly signing at least `jumpHeights` above its
 * height) jumps to their height; the heights in between are recorded as skipped.
 *
 * Decided heights are persisted (fsynced) before the `consensus:decided` event; a restarted node
 * resumes at the height after the last one recorded.
 */
import { TypedEventEmitter } from '@libp2p/interface'
import type { Logger } from 'pino'
import { bytesToHex, type Address, type Hex } from 'viem'
import {
  createQbft,
  createValidatorSet,
  verifyQbftSignature,
  type CommitSealEntry,
  type Decision,
  type Qbft,
  type QbftOptions,
  type QbftPacket,
  type ReceiveOutcome,
  type TimerFactory,
  type Clock,
  type ValidatorSet,
} from '../../protocol/consensus/index.js'
import { defaultQbftOptions } from '../../protocol/consensus/index.js'
import { BaseError } from '../../protocol/errors.js'
import { settlementPlanDigest, type SettlementPlan } from '../../protocol/settlement/plan.js'
import { privateKeyToAddressBytes } from '../../protocol/signing/secp256k1.js'
import type { ConsensusMetrics } from '../metrics/consensus.js'
import type { DecisionStore, StoredDecision } from './decisions.js'
import type { SigningProtection } from './protection.js'
import { PlanSealer, createProtectedSign } from './signer.js'
import type { ConsensusTransport } from './transport.js'

/** The value layer (node/consensus/values.ts implements it). */
export interface ConsensusValues {
  /** Called when this node leads `height`: the encoded proposal value, or null when there is nothing to liquidate. */
  buildValue(height: bigint): Promise<Uint8Array | null>
  /** Followers: decode, check inputs (signatures, f+1 attestations, pinned blocks), recompute the plan; never throws. */
  validateValue(height: bigint, value: Uint8Array): Promise<{ ok: true } | { ok: false; reason: string }>
  /** 32-byte digest of a value (what PREPARE/COMMIT carry). */
  valueDigest(value: Uint8Array): `0x${string}`
  /** The settlement plan a value certifies (commit seals sign settlementPlanDigest of it). */
  settlementPlan(value: Uint8Array): SettlementPlan
}

/** A decided height: the certified plan. `seals` are sorted by signer, at least a quorum (2f+1). */
export type CertifiedPlan = {
  height: bigint
  round: number
  value: Uint8Array
  /** Value digest (what PREPARE/COMMIT carried). */
  digest: Hex
  settlementPlan: SettlementPlan
  /** settlementPlanDigest(settlementPlan): what every seal signs with the height. */
  planDigest: Hex
  seals: CommitSealEntry[]
  /** `consensus`: this node ran the height; `catchup`: adopted from a DECIDED certificate while behind. */
  source: 'consensus' | 'catchup'
  /** When this node sent or accepted the PROPOSAL of the deciding round (ms epoch), if it saw it. */
  proposedAt?: number
  /** ms epoch. */
  decidedAt: number
}

export type HeightStartCause = 'trigger' | 'timer' | 'peer' | 'catchup' | 'jump'

export type ConsensusServiceEvents = {
  'consensus:decided': CustomEvent<CertifiedPlan>
  'consensus:height': CustomEvent<{ height: bigint; cause: HeightStartCause }>
  'consensus:round': CustomEvent<{ height: bigint; round: number; cause: string }>
  'consensus:skipped': CustomEvent<{ from: bigint; to: bigint }>
}

export type ConsensusServiceOptions = {
  /** QBFT tunables (round timer base, windows, sizes). */
  qbft?: Partial<QbftOptions>
  /**
   * While idle, try to start the next height this often (ms): it starts if `buildValue` returns a value.
   * 0 turns the timer off (heights then start on `trigger()` and on peers' messages). @default 1000
   */
  heightIntervalMs?: number
  /** The first height of a new network (plan sequence numbers start here). @default 1n */
  firstHeight?: bigint
  /** Jump when f+1 validators sign at least this many heights above ours. @default 2n */
  jumpHeights?: bigint
}

export const defaultConsensusServiceOptions = { heightIntervalMs: 1000, firstHeight: 1n, jumpHeights: 2n } as const

export type ConsensusServiceInit = ConsensusServiceOptions & {
  values: ConsensusValues
  /** The operator addresses (the hub's set). */
  operators: readonly Address[]
  /** This operator's 32-byte secp256k1 key (signs QBFT messages and commit seals). */
  privateKey: Uint8Array
  /** The hub that verifies the seals: its chain id and address (the EIP-712 domain of seals and messages). */
  domainSeparator: Uint8Array
  protection: SigningProtection
  decisions: DecisionStore
  transport: ConsensusTransport
  metrics?: ConsensusMetrics
  log?: Logger
  /** @default setTimeout-based */
  timers?: TimerFactory
  /** @default Date.now */
  clock?: Clock
}

export class ConsensusServiceError extends BaseError {
  override name = 'ConsensusServiceError'
  constructor(message: string, cause?: unknown) {
    super(message, { cause, metaMessages: ['See docs/consensus.md.'] })
  }
}

export const realTimers: TimerFactory = {
  start(delayMs, onExpire) {
    const t = setTimeout(onExpire, delayMs)
    return { cancel: () => clearTimeout(t) }
  },
}

const heightOf = (p: QbftPacket): bigint => (p.type === 'decided' ? p.height : p.signed.message.height)

/**
 * @example
 * const service = new ConsensusService({ values, operators, privateKey, domainSeparator: sealDomainSeparator({ chainId, verifyingContract: hub }),
 *   protection, decisions, transport })
 * service.addEventListener('consensus:decided', (e) => transmitter.submit(e.detail.settlementPlan, e.detail.seals))
 * await service.start()
 * gossip.addEventListener('snapshot:accepted', () => service.trigger())
 */
export class ConsensusService extends TypedEventEmitter<ConsensusServiceEvents> {
  readonly self: Address
  readonly vset: ValidatorSet
  private qbft: Qbft | undefined
  private readonly sealer: PlanSealer
  private readonly clock: Clock
  private readonly timers: TimerFactory
  private readonly o: Required<ConsensusServiceOptions>
  private running = false
  private tickTimer: ReturnType<typeof setTimeout> | undefined
  private ticking = false
  /** Values this node built, by height (its input when it leads). */
  private readonly built = new Map<bigint, Uint8Array>()
  /** When the PROPOSAL of (height, round) was sent or accepted here. */
  private readonly proposedAt = new Map<string, number>()
  /** Highest height each validator validly signed for (catch-up and jumps). */
  private readonly seenAt = new Map<Address, bigint>()
  private persisting: Promise<void> = Promise.resolve()
  private lastDecided: bigint | undefined

  constructor(private readonly init: ConsensusServiceInit) {
    super()
    this.vset = createValidatorSet(init.operators)
    this.self = bytesToHex(privateKeyToAddressBytes(init.privateKey)) as Address
    if (!this.vset.index.has(this.self)) throw new ConsensusServiceError(`The operator key (${this.self}) is not in the operator set.`)
    this.o = {
      qbft: init.qbft ?? {},
      heightIntervalMs: init.heightIntervalMs ?? defaultConsensusServiceOptions.heightIntervalMs,
      firstHeight: init.firstHeight ?? defaultConsensusServiceOptions.firstHeight,
      jumpHeights: init.jumpHeights ?? defaultConsensusServiceOptions.jumpHeights,
    }
    this.clock = init.clock ?? { now: Date.now }
    this.timers = init.timers ?? realTimers
    this.sealer = new PlanSealer({ values: init.values, domainSeparator: init.domainSeparator, privateKey: init.privateKey, protection: init.protection })
  }

  /** The height being run, or the next one when idle. */
  get height(): bigint {
    return this.qbft?.height ?? this.o.firstHeight
  }
  get round(): number {
    return this.qbft?.round ?? 0
  }
  /** True while a height runs. */
  get busy(): boolean {
    return this.qbft?.running ?? false
  }

  /** Resumes after the last recorded height, subscribes, and starts the height timer. */
  async start(): Promise<void> {
    if (this.running) return
    const last = await this.init.decisions.last()
    const first = last ? last.height + 1n : this.o.firstHeight
    this.lastDecided = last?.height
    const m = this.init.metrics
    this.qbft = createQbft({
      self: this.self,
      validators: this.vset.list,
      domainSeparator: this.init.domainSeparator,
      sign: createProtectedSign(this.init.protection, this.init.privateKey, undefined, (d) => this.sealer.cachedPlanDigest(d)),
      sealer: this.sealer,
      validateValue: async (h, v) => {
        const t0 = performance.now()
        try {
          const res = await this.init.values.validateValue(h, v)
          // Known plan digest: the COMMIT and its seal are then recorded in one fsynced write.
          if (res.ok) this.sealer.planDigest(v)
          return res
        } finally {
          m?.validateSeconds.observe((performance.now() - t0) / 1000)
        }
      },
      valueDigest: (v) => this.init.values.valueDigest(v),
      transport: this.init.transport,
      timers: this.timers,
      clock: this.clock,
      onDecide: (d) => this.onDecide(d, 'consensus'),
      options: this.o.qbft,
      firstHeight: first,
      events: {
        roundChanged: (height, round, cause) => {
          m?.roundChanges.inc({ cause })
          m?.round.set(round)
          this.init.log?.info({ height, round, cause }, 'round change')
          this.emit('consensus:round', { height, round, cause })
        },
        sent: (packet, at) => {
          if (packet.type === 'proposal') this.proposedAt.set(`${packet.signed.message.height}:${packet.signed.message.round}`, at)
        },
        signRefused: (message, reason) => this.init.log?.warn({ height: message.height, round: message.round, kind: message.kind, reason }, 'signature refused'),
      },
    })
    this.init.protection.setLocalHeight(first)
    m?.height.set(Number(first))
    this.running = true
    this.init.transport.start((packet, bytes) => this.onPacket(packet, bytes))
    this.scheduleTick()
    this.init.log?.info({ height: first, self: this.self, n: this.vset.n }, 'consensus started')
  }

  /** Stops the height, the timer and the transport; waits for the last decision to be written. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    if (this.tickTimer) clearTimeout(this.tickTimer)
    this.qbft?.stop()
    await this.init.transport.stop()
    await this.persisting
  }

  /** Starts the next height now, if none is running (the node saw liquidatable accounts). */
  trigger(): void {
    this.startHeight('trigger')
  }

  private startHeight(cause: HeightStartCause, height?: bigint): boolean {
    const q = this.qbft
    if (!this.running || !q) return false
    const h = height ?? q.height
    if (q.running && (height === undefined || h <= q.height)) return false
    try {
      q.start(h, { getValue: (hh) => this.getValue(hh) })
    } catch (err) {
      this.init.log?.warn({ err, height: h }, 'cannot start height')
      return false
    }
    for (const k of this.built.keys()) if (k < h) this.built.delete(k)
    for (const k of this.proposedAt.keys()) if (BigInt(k.split(':')[0]) < h) this.proposedAt.delete(k)
    this.init.protection.setLocalHeight(h)
    this.init.metrics?.height.set(Number(h))
    this.init.metrics?.round.set(0)
    this.emit('consensus:height', { height: h, cause })
    return true
  }

  /** The leader's value: the one built by the timer for this height, or a fresh one. Throws when there is none (the round then times out). */
  private async getValue(height: bigint): Promise<Uint8Array> {
    const cached = this.built.get(height)
    if (cached) return cached
    const v = await this.init.values.buildValue(height)
    if (!v) {
      this.init.metrics?.emptyHeights.inc()
      throw new ConsensusServiceError(`Nothing to propose at height ${height}.`)
    }
    this.built.set(height, v)
    this.sealer.planDigest(v)
    return v
  }

  private scheduleTick(): void {
    if (!this.running || !this.o.heightIntervalMs) return
    if (this.tickTimer) clearTimeout(this.tickTimer)
    this.tickTimer = setTimeout(() => void this.tick(), this.o.heightIntervalMs)
    this.tickTimer.unref?.()
  }

  /** Timer: if idle and this node has something to propose, start the next height. */
  private async tick(): Promise<void> {
    if (!this.running || this.ticking) return
    this.ticking = true
    try {
      const q = this.qbft!
      if (!q.running) {
        const h = q.height
        const v = await this.init.values.buildValue(h).catch((err: unknown) => {
          this.init.log?.warn({ err, height: h }, 'buildValue failed')
          return null
        })
        if (v && !q.running && q.height === h) {
          this.built.set(h, v)
          this.sealer.planDigest(v)
          this.startHeight('timer')
        } else if (!v) this.init.metrics?.emptyHeights.inc()
      }
    } finally {
      this.ticking = false
      this.scheduleTick()
    }
  }

  private async onPacket(packet: QbftPacket, bytes: Uint8Array): Promise<ReceiveOutcome> {
    const q = this.qbft
    if (!q) return { status: 'ignored', reason: 'NOT_STARTED' }
    const outcome = await q.receive(bytes)
    const h = heightOf(packet)
    if (packet.type === 'proposal' && outcome.status === 'accepted') {
      const key = `${h}:${packet.signed.message.round}`
      if (!this.proposedAt.has(key)) this.proposedAt.set(key, this.clock.now())
    }
    if (packet.type !== 'decided') {
      const signed = outcome.status === 'accepted' || outcome.status === 'buffered'
      const future = outcome.status !== 'accepted' && outcome.status !== 'buffered' && outcome.reason === 'FUTURE_HEIGHT'
      if ((signed || (future && this.vset.index.has(packet.signed.signer) && verifyQbftSignature(this.init.domainSeparator, packet.signed))) && h > (this.seenAt.get(packet.signed.signer) ?? -1n))
        this.seenAt.set(packet.signed.signer, h)
    }
    if (!q.running && h >= q.height && (outcome.status === 'buffered' || outcome.status === 'accepted')) {
      // The leader proposed our next height, or f+1 validators (one honest at least) work on it: we follow.
      // f+1 validators on later heights: we are behind, run ours to get its DECIDED certificate.
      // (One Byzantine validator alone cannot make honest nodes start heights that have no value.)
      if (h === q.height && (packet.type === 'proposal' || this.signersAtLeast(h) > this.vset.f)) this.startHeight('peer')
      else if (this.signersAtLeast(q.height + 1n) > this.vset.f) this.startHeight('catchup')
    }
    this.maybeJump()
    return outcome
  }

  /** f+1 validators signing at ≥ base + jumpHeights: at least one honest validator decided everything below. */
  private maybeJump(): void {
    const q = this.qbft!
    const heights = [...this.seenAt.values()].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))
    const f = this.vset.f
    if (heights.length < f + 1) return
    const target = heights[f]
    if (target < q.height + this.o.jumpHeights) return
    const from = q.height
    this.init.log?.warn({ from, to: target }, 'behind the network: jumping')
    const skipped: StoredDecision[] = []
    for (let h = from; h < target; h++) skipped.push({ height: h, status: 'skipped', decidedAt: this.clock.now() })
    this.persisting = this.persisting.then(() => this.init.decisions.putMany(skipped)).catch((err) => this.init.log?.error({ err }, 'cannot record skipped heights'))
    this.emit('consensus:skipped', { from, to: target })
    this.startHeight('jump', target)
  }

  private onDecide(d: Decision, source: CertifiedPlan['source']): void {
    let settlementPlan: SettlementPlan
    let planDigest: Hex
    try {
      settlementPlan = this.init.values.settlementPlan(d.value)
      planDigest = settlementPlanDigest(settlementPlan)
    } catch (err) {
      // Cannot happen for a value whose seals verified (the sealer recomputed the same plan).
      this.init.log?.error({ err, height: d.height }, 'decided value has no settlement plan')
      return
    }
    const proposedAt = this.proposedAt.get(`${d.height}:${d.round}`)
    const decidedAt = this.clock.now()
    const plan: CertifiedPlan = { height: d.height, round: d.round, value: d.value, digest: d.digest, settlementPlan, planDigest, seals: d.seals, source, proposedAt, decidedAt }
    // A node that did not see the deciding round's proposal adopted the decision from a certificate.
    if (proposedAt === undefined && !this.seenProposal(d)) plan.source = 'catchup'
    const m = this.init.metrics
    m?.decisions.inc({ source: plan.source })
    if (proposedAt !== undefined) m?.certifySeconds.observe(Math.max(0, decidedAt - proposedAt) / 1000)
    this.lastDecided = d.height
    this.init.log?.info({ height: d.height, round: d.round, legs: settlementPlan.legs.length, seals: d.seals.length }, 'certified plan')
    const record: StoredDecision = { height: d.height, status: 'decided', round: d.round, value: d.value, digest: d.digest, planDigest, seals: d.seals, decidedAt }
    this.persisting = this.persisting
      .then(() => this.init.decisions.put(record))
      .then(
        () => this.emit('consensus:decided', plan),
        (err) => this.init.log?.error({ err, height: d.height }, 'cannot persist decision'),
      )
    // f+1 validators already on later heights: run the next height at once (its messages are buffered).
    if (this.signersAtLeast(d.height + 1n) > this.vset.f) queueMicrotask(() => this.startHeight('catchup'))
    else this.scheduleTick()
  }

  /** How many validators validly signed a message for `height` or above. */
  private signersAtLeast(height: bigint): number {
    let n = 0
    for (const h of this.seenAt.values()) if (h >= height) n++
    return n
  }

  private seenProposal(d: Decision): boolean {
    return d.commits.some((c) => c.commit.signer === this.self)
  }

  /** The last decided height (undefined before the first). */
  get lastDecidedHeight(): bigint | undefined {
    return this.lastDecided
  }

  /** Waits until the decisions so far are written. */
  flush(): Promise<void> {
    return this.persisting
  }

  private emit<K extends keyof ConsensusServiceEvents>(type: K, detail: ConsensusServiceEvents[K] extends CustomEvent<infer D> ? D : never): void {
    try {
      this.safeDispatchEvent(type, { detail } as never)
    } catch (err) {
      this.init.log?.error({ err, type }, 'event listener failed')
    }
  }
}

export { defaultQbftOptions }
