/**
 * One QBFT instance: the state of one height (the paper's λ), tying the phases together.
 *
 * State per height (Moniz 2020, Algorithm 1): the round r_i, the prepared round and value
 * (pr_i, pv_i), the input value, the round timer, and a bounded message log per round.
 * The phases live in proposal.ts (Algorithm 2:1-3, 3:10-15), prepare.ts (Algorithm 2:4-7),
 * commit.ts (Algorithm 2:8-10 and DECIDED catch-up) and round-change.ts (Algorithm 3).
 *
 * Own messages: each is signed through the injected `sign`, broadcast, then delivered to this
 * instance directly (self-delivery, without signature or value re-checks); the transport is not
 * expected to loop back.
 */
import type { Address, Hex } from 'viem'
import { onCommit, onDecided } from './commit.js'
import type { SignatureCache } from './justification.js'
import { encodePacket, qbftMessageDigest } from './messages.js'
import { onPrepare } from './prepare.js'
import { onProposal, proposeRoundZero } from './proposal.js'
import { onRoundChange, onRoundTimeout, roundTimeoutMs } from './round-change.js'
import type {
  Clock,
  CommitSealer,
  Decision,
  QbftEvents,
  QbftMessage,
  QbftOptions,
  QbftPacket,
  QbftSignFn,
  QbftStats,
  QbftTransport,
  ReceiveOutcome,
  RejectReason,
  RoundChangePacket,
  SignedQbftMessage,
  StartInput,
  TimerFactory,
  TimerHandle,
  ValueValidator,
} from './types.js'
import type { ValidatorSet } from './validators.js'

/** What an instance needs from the node (all injected; see QbftConfig). */
export type InstanceDeps = {
  vset: ValidatorSet
  self: Address
  domainSeparator: Uint8Array
  sign: QbftSignFn
  sealer: CommitSealer
  validateValue: ValueValidator
  valueDigest: (value: Uint8Array) => Hex
  transport: QbftTransport
  timers: TimerFactory
  clock: Clock
  events: QbftEvents
  options: QbftOptions
  stats: QbftStats
  cache: SignatureCache
  /** Called once when the instance decides. */
  onDecide(decision: Decision): void
}

/** A commit as logged: its seal is checked once the value is known. */
export type LoggedCommit = { signed: SignedQbftMessage; seal: Uint8Array; sealChecked: boolean }

export const accepted: ReceiveOutcome = { status: 'accepted' }
export function ignored(reason: RejectReason): ReceiveOutcome {
  return { status: 'ignored', reason }
}
export function rejected(reason: RejectReason): ReceiveOutcome {
  return { status: 'rejected', reason }
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key)
  if (v === undefined) {
    v = make()
    map.set(key, v)
  }
  return v
}

export class QbftInstance {
  /** r_i (0-based: the paper's round 1 is round 0 here). */
  round = 0
  /** (pr_i, pv_i) and the PREPARE quorum that made this node prepared (sent in ROUND-CHANGE). */
  prepared: { round: number; digest: Hex; value: Uint8Array; justification: SignedQbftMessage[] } | undefined
  decision: Decision | undefined
  stopped = false

  /** Round → message identity of the first valid PROPOSAL seen (equivocation detection). */
  readonly proposalSeen = new Map<number, string>()
  /** Round → the PROPOSAL accepted (validated) in that round. */
  readonly acceptedProposal = new Map<number, { digest: Hex; value: Uint8Array }>()
  readonly prepares = new Map<number, Map<Address, SignedQbftMessage>>()
  readonly commits = new Map<number, Map<Address, LoggedCommit>>()
  readonly roundChanges = new Map<number, Map<Address, RoundChangePacket>>()
  /** Values known by digest (from validated proposals and justified ROUND-CHANGEs); bounded by the round window. */
  readonly values = new Map<Hex, Uint8Array>()

  readonly sentPrepare = new Set<number>()
  readonly sentCommit = new Set<number>()
  readonly sentRoundChange = new Set<number>()
  readonly proposed = new Set<number>()

  private timer: TimerHandle | undefined
  private timerToken = 0

  constructor(
    readonly deps: InstanceDeps,
    readonly height: bigint,
    readonly input: StartInput,
  ) {}

  // ------------------------------------------------------------ lifecycle

  /** Algorithm 1:1-9: round 0, nothing prepared, the leader proposes, the timer starts. */
  start(): void {
    this.round = 0
    this.restartTimer()
    proposeRoundZero(this)
  }

  stop(): void {
    this.stopped = true
    this.cancelTimer()
  }

  get done(): boolean {
    return this.stopped || this.decision !== undefined
  }

  /** Dispatches a decoded packet of this height (height and signer membership checked by the caller). */
  async handle(p: QbftPacket, own: boolean): Promise<ReceiveOutcome> {
    if (this.decision) return ignored('DECIDED')
    if (this.stopped) return ignored('NOT_STARTED')
    switch (p.type) {
      case 'proposal':
        return onProposal(this, p, own)
      case 'prepare':
        return onPrepare(this, p, own)
      case 'commit':
        return onCommit(this, p, own)
      case 'roundChange':
        return onRoundChange(this, p, own)
      case 'decided':
        return onDecided(this, p)
    }
  }

  // ------------------------------------------------------------ rounds and the timer

  /** Starts (or restarts) the round timer for the current round: t(r) = base · 2^r. */
  restartTimer(): void {
    this.cancelTimer()
    const token = ++this.timerToken
    const round = this.round
    this.timer = this.deps.timers.start(roundTimeoutMs(this.deps.options, round), () => {
      if (token !== this.timerToken || this.done) return
      this.timer = undefined
      onRoundTimeout(this, round)
    })
  }

  cancelTimer(): void {
    this.timerToken++
    this.timer?.cancel()
    this.timer = undefined
  }

  /** Moves to a later round: prunes the logs of rounds that can no longer matter and restarts the timer. */
  enterRound(round: number, cause: 'timeout' | 'f+1' | 'proposal'): void {
    if (round <= this.round) return
    this.round = round
    for (const map of [this.prepares, this.roundChanges] as Map<number, unknown>[]) for (const r of map.keys()) if (r < round) map.delete(r)
    for (const r of this.proposalSeen.keys()) if (r < round) this.proposalSeen.delete(r)
    // Commits of earlier rounds are kept: a quorum of them still decides (and they are few).
    this.restartTimer()
    this.deps.events.roundChanged?.(this.height, round, cause, this.deps.clock.now())
  }

  /** Whether a message round is inside the window kept for this height. */
  roundWindow(round: number, allowPast: boolean): RejectReason | undefined {
    if (!allowPast && round < this.round) return 'OLD_ROUND'
    if (round > this.round + this.deps.options.maxFutureRounds) return 'FUTURE_ROUND'
    return undefined
  }

  preparesOf(round: number): Map<Address, SignedQbftMessage> {
    return getOrCreate(this.prepares, round, () => new Map())
  }
  commitsOf(round: number): Map<Address, LoggedCommit> {
    return getOrCreate(this.commits, round, () => new Map())
  }
  roundChangesOf(round: number): Map<Address, RoundChangePacket> {
    return getOrCreate(this.roundChanges, round, () => new Map())
  }

  // ------------------------------------------------------------ sending

  /** Signs through the injected `sign`; undefined (counted, reported) when it refuses or fails. */
  async signMessage(message: QbftMessage): Promise<SignedQbftMessage | undefined> {
    const digest = qbftMessageDigest(this.deps.domainSeparator, message)
    let reason: string
    try {
      const res = await this.deps.sign({ message, digest })
      if (res.ok) return { message, signer: this.deps.self, signature: res.signature }
      reason = res.reason
    } catch (err) {
      reason = err instanceof Error ? `sign-error: ${err.name}` : 'sign-error'
    }
    this.deps.stats.signRefused++
    this.deps.events.signRefused?.(message, reason, this.deps.clock.now())
    return undefined
  }

  /** Broadcasts a packet and delivers it to this instance. */
  async emit(packet: QbftPacket): Promise<void> {
    let bytes: Uint8Array
    try {
      bytes = encodePacket(packet)
    } catch {
      return // cannot happen for packets built here; never send what does not encode
    }
    try {
      this.deps.transport.broadcast(packet, bytes)
    } catch {
      // transport errors are the transport's to count; the protocol tolerates lost messages
    }
    this.deps.events.sent?.(packet, this.deps.clock.now())
    await this.handle(packet, true)
  }

  /** Sends to one validator (DECIDED catch-up), falling back to broadcast. */
  sendTo(to: Address, packet: QbftPacket): void {
    let bytes: Uint8Array
    try {
      bytes = encodePacket(packet)
    } catch {
      return
    }
    try {
      if (this.deps.transport.sendTo) this.deps.transport.sendTo(to, packet, bytes)
      else this.deps.transport.broadcast(packet, bytes)
    } catch {
      // as in emit
    }
  }
}
