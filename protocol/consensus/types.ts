/**
 * Public types of the QBFT state machine (Moniz 2020, "The Istanbul BFT Consensus
 * Algorithm", arXiv 2002.03613, as SSV and Obol run it).
 *
 * Conventions (see docs/consensus.md):
 * - **Height** (`bigint`, uint64 on the wire and in EIP-712): the plan sequence number,
 *   the paper's consensus instance λ. Heights are decided one after another.
 * - **Round** (`number`, uint32): starts at 0 at every height. Round 0 here is the paper's
 *   round 1, so the paper's "round = 1" reads "round = 0" in this code.
 * - **Leader**: `validators[(height + round) mod n]` over the validator list sorted by
 *   ascending address (bytes order = lowercase hex order).
 * - **Quorum**: 2f+1 with f = floor((n-1)/3).
 * - **Addresses** are lowercase 0x-hex everywhere this module hands them out; inputs are
 *   accepted in any case and lowercased.
 * - **Digests** (`Hex`, 32 bytes): a value's digest is `config.valueDigest(value)`,
 *   keccak256 of the value bytes by default. The all-zero digest means "none" (⊥).
 *
 * Nothing here does I/O: the transport, the timer factory, the clock, signing, sealing
 * and value validation are injected through {@link QbftConfig}.
 */
import type { Address, Hex } from 'viem'

// ---------------------------------------------------------------- signed messages

/** The `uint8 kind` of a signed QBFT message. Numbers are part of the wire and the EIP-712 type: never reuse. */
export enum MessageKind {
  /** The paper's PRE-PREPARE. */
  proposal = 1,
  prepare = 2,
  commit = 3,
  roundChange = 4,
}

/**
 * The signed part of every QBFT message: exactly the fields of the EIP-712 type
 * `QbftMessage(uint8 kind,uint64 height,uint32 round,bytes32 digest,uint32 preparedRound,bytes32 preparedDigest)`
 * in domain `liqnet` v1.
 *
 * - PROPOSAL, PREPARE, COMMIT: `digest` is the value's digest; `preparedRound` 0 and `preparedDigest` zero.
 * - ROUND-CHANGE: `digest` zero; `(preparedRound, preparedDigest)` is the sender's (pr, pv) of
 *   the paper, or (0, zero) when it has not prepared (⊥). A non-zero `preparedDigest` makes
 *   `preparedRound` meaningful (round 0 can be prepared), and it must be below `round`.
 */
export type QbftMessage = {
  kind: MessageKind
  height: bigint
  round: number
  digest: Hex
  preparedRound: number
  preparedDigest: Hex
}

/** A {@link QbftMessage} with its sender and 65-byte signature (r ‖ s ‖ v, v ∈ {27, 28}, low s). */
export type SignedQbftMessage = {
  message: QbftMessage
  /** Claimed sender; the receiver checks it equals the address recovered from `signature`. Lowercase. */
  signer: Address
  signature: Uint8Array
}

/** A COMMIT as it enters a decision certificate: the signed message and its commit seal. */
export type SealedCommit = { commit: SignedQbftMessage; seal: Uint8Array }

// ---------------------------------------------------------------- packets (what travels on the wire)

/** PROPOSAL (Algorithm 1:8, Algorithm 3:15). For round > 0 it carries its justification (Algorithm 4). */
export type ProposalPacket = {
  type: 'proposal'
  signed: SignedQbftMessage
  /** The proposed value, opaque bytes (a plan, for liqnet); `valueDigest(value)` must equal `signed.message.digest`. */
  value: Uint8Array
  /** Round > 0: a quorum of ROUND-CHANGE messages for this round. Empty at round 0. */
  roundChangeJustification: SignedQbftMessage[]
  /** Round > 0 with a prepared highest ROUND-CHANGE: a quorum of PREPAREs for it. Otherwise empty. */
  prepareJustification: SignedQbftMessage[]
}
/** PREPARE (Algorithm 2:3). */
export type PreparePacket = { type: 'prepare'; signed: SignedQbftMessage }
/** COMMIT (Algorithm 2:7), with the sender's commit seal over (height, value). */
export type CommitPacket = { type: 'commit'; signed: SignedQbftMessage; commitSeal: Uint8Array }
/** ROUND-CHANGE (Algorithm 3:4, 3:9). */
export type RoundChangePacket = {
  type: 'roundChange'
  signed: SignedQbftMessage
  /** The prepared value (pv) when `preparedDigest` is non-zero, so the next leader can propose it; else absent. */
  preparedValue?: Uint8Array
  /** A quorum of PREPAREs for (preparedRound, preparedDigest) when prepared; else empty. */
  prepareJustification: SignedQbftMessage[]
}
/**
 * DECIDED: a decision certificate (the value and a quorum of sealed COMMITs of one round),
 * sent to a node that is still working on a height the sender has decided (catch-up).
 * Not signed as a whole: each COMMIT is.
 */
export type DecidedPacket = { type: 'decided'; height: bigint; value: Uint8Array; commits: SealedCommit[] }

export type QbftPacket = ProposalPacket | PreparePacket | CommitPacket | RoundChangePacket | DecidedPacket
export type QbftPacketType = QbftPacket['type']

// ---------------------------------------------------------------- decisions

/** One commit seal of a decision. */
export type CommitSealEntry = { signer: Address; seal: Uint8Array }

/**
 * What a height decides (Algorithm 2:10, "Decide(λ, value, Qcommit)"): the value, its digest,
 * the round, and at least a quorum of commit seals (sorted by signer) that `sealer.verify` accepted,
 * plus the COMMIT messages themselves (so the decision can be forwarded as a DECIDED certificate).
 */
export type Decision = {
  height: bigint
  round: number
  value: Uint8Array
  digest: Hex
  seals: CommitSealEntry[]
  commits: SealedCommit[]
}

// ---------------------------------------------------------------- injected parts

/** What the instance asks to be signed: the message and its 32-byte EIP-712 digest. */
export type SignRequest = { message: QbftMessage; digest: Uint8Array }
/** A signature, or a refusal (e.g. signing protection found a conflicting record). */
export type SignResult = { ok: true; signature: Uint8Array } | { ok: false; reason: string }
/**
 * Signs an outgoing message, usually behind signing protection: it may persist
 * (height, round, digest) before signing and refuse conflicts. A refusal (or a throw) means the
 * message is not sent; it is counted as `signRefused`.
 */
export type QbftSignFn = (request: SignRequest) => Promise<SignResult>

/**
 * Commit seals (the paper's "commit seal", verified on-chain). For liqnet: EIP-712
 * `CommitSeal(uint64 height,bytes32 planDigest)` by the operator key over the settlement plan.
 */
export interface CommitSealer {
  /** Seals (height, value); 65 bytes. A throw means no COMMIT is sent (counted as `sealRefused`). */
  seal(height: bigint, value: Uint8Array): Promise<Uint8Array>
  /** True iff `seal` is `signer`'s valid seal over (height, value). Must not throw. */
  verify(height: bigint, value: Uint8Array, seal: Uint8Array, signer: Address): boolean
}

/** Outcome of value validation. `reason` is a short code (a metric label), not free text. */
export type ValueValidation = { ok: true } | { ok: false; reason: string }
/** Validates a proposed value (for liqnet: recompute the plan). A node that finds it invalid does not PREPARE. */
export type ValueValidator = (height: bigint, value: Uint8Array) => Promise<ValueValidation>

/** Where this node's value comes from when it leads a round with nothing prepared (Algorithm 1:6, 3:14). */
export type ValueProvider = (height: bigint, round: number) => Promise<Uint8Array>

/**
 * Outgoing messages. The instance delivers its own messages to itself (it does not need the
 * transport to loop back; if it does, the copies are ignored as DUPLICATE).
 */
export interface QbftTransport {
  /** Sends a packet to every other validator. `bytes` is its canonical encoding. Must not throw. */
  broadcast(packet: QbftPacket, bytes: Uint8Array): void
  /** Sends to one validator (used for DECIDED catch-up replies); falls back to `broadcast` when absent. */
  sendTo?(to: Address, packet: QbftPacket, bytes: Uint8Array): void
}

/** A running timer. */
export interface TimerHandle {
  cancel(): void
}
/** Timer factory: calls `onExpire` once after `delayMs` milliseconds unless cancelled. */
export interface TimerFactory {
  start(delayMs: number, onExpire: () => void): TimerHandle
}
/** Clock, milliseconds since the Unix epoch (only used for event timestamps, never for decisions). */
export interface Clock {
  now(): number
}

// ---------------------------------------------------------------- receive outcomes

/**
 * Why a message was not (or not yet) used. Codes are metric labels; never renamed.
 * - MALFORMED: not a canonical consensus packet, or a field breaks a rule (wrong size, kind/field mix).
 * - OVERSIZED: the packet is larger than `maxPacketBytes`, or the value larger than `maxValueBytes`.
 * - TOO_MANY_JUSTIFICATIONS: a justification list longer than the validator count (or the hard cap).
 * - UNKNOWN_SIGNER: the signer is not in the validator set.
 * - BAD_SIGNATURE: the recovered address is not the claimed signer.
 * - OLD_HEIGHT: the height is below the current one (already decided or never started).
 * - FUTURE_HEIGHT: the height is more than `maxFutureHeights` ahead.
 * - BUFFER_FULL: a future-height message that the bounded buffer has no room for.
 * - OLD_ROUND / FUTURE_ROUND: the round is outside the window kept for the height.
 * - DUPLICATE: the same message was already received.
 * - EQUIVOCATION: the signer already sent a different message of this kind for this (height, round).
 * - WRONG_LEADER: a PROPOSAL not signed by leader(height, round).
 * - INVALID_JUSTIFICATION: a justification that does not satisfy Algorithm 4 (J1/J2), or a
 *   ROUND-CHANGE whose PREPARE quorum does not match its (preparedRound, preparedDigest).
 * - DIGEST_MISMATCH: `valueDigest(value)` differs from the signed digest.
 * - INVALID_VALUE: the injected validator refused the value.
 * - INVALID_SEAL: a COMMIT's seal does not verify.
 * - DECIDED: the height is already decided here.
 * - NOT_STARTED: no height is running and the message is not for a future height.
 */
export type RejectReason =
  | 'MALFORMED'
  | 'OVERSIZED'
  | 'TOO_MANY_JUSTIFICATIONS'
  | 'UNKNOWN_SIGNER'
  | 'BAD_SIGNATURE'
  | 'OLD_HEIGHT'
  | 'FUTURE_HEIGHT'
  | 'BUFFER_FULL'
  | 'OLD_ROUND'
  | 'FUTURE_ROUND'
  | 'DUPLICATE'
  | 'EQUIVOCATION'
  | 'WRONG_LEADER'
  | 'INVALID_JUSTIFICATION'
  | 'DIGEST_MISMATCH'
  | 'INVALID_VALUE'
  | 'INVALID_SEAL'
  | 'DECIDED'
  | 'NOT_STARTED'

/**
 * The result of {@link Qbft.receive}; never a throw.
 * - `accepted`: the message entered the state of the current height.
 * - `buffered`: a valid message for a future height, replayed when that height starts.
 * - `ignored`: harmless (duplicate, old height, already decided...): do not penalise the peer.
 * - `rejected`: invalid (bad signature, unknown signer, malformed...): the sender misbehaves.
 */
export type ReceiveOutcome =
  | { status: 'accepted' }
  | { status: 'buffered' }
  | { status: 'ignored'; reason: RejectReason }
  | { status: 'rejected'; reason: RejectReason }

// ---------------------------------------------------------------- configuration

/** Tunables. Defaults in `constants.ts` ({@link defaultQbftOptions}). */
export type QbftOptions = {
  /** Round timer base: round r lasts `roundTimeoutBaseMs * 2^r` ms (capped at `maxRoundTimeoutMs`). @default 1000 */
  roundTimeoutBaseMs: number
  /** Upper bound of one round's timer. @default 600000 */
  maxRoundTimeoutMs: number
  /** Messages for heights more than this far above the current one are rejected (FUTURE_HEIGHT). @default 2n */
  maxFutureHeights: bigint
  /** Rounds more than this far above the current round are ignored (FUTURE_ROUND). @default 16 */
  maxFutureRounds: number
  /** Most messages buffered per future height (over all signers). @default 4 * 8 * n (set at creation) */
  maxBufferedPerHeight: number
  /** Most messages buffered per future height per signer. @default 32 */
  maxBufferedPerSigner: number
  /** Largest value (proposal or prepared value), in bytes. @default 1 MiB */
  maxValueBytes: number
  /** Largest encoded packet, in bytes (checked before decoding). @default maxValueBytes + 64 KiB */
  maxPacketBytes: number
  /** Decisions kept for DECIDED catch-up replies. @default 4 */
  keepDecisions: number
}

/** Observability hooks (all optional; must not throw). */
export interface QbftEvents {
  /** A height was decided (also delivered through `onDecide`). */
  decided?(decision: Decision, atMs: number): void
  /** This node entered a new round (timeout, f+1 rule, or a justified proposal for a later round). */
  roundChanged?(height: bigint, round: number, cause: 'timeout' | 'f+1' | 'proposal' | 'decided', atMs: number): void
  /** A message was proposed/sent by this node. */
  sent?(packet: QbftPacket, atMs: number): void
  /** A message was rejected or ignored. */
  dropped?(reason: RejectReason, status: 'rejected' | 'ignored', packetType: QbftPacketType | undefined, atMs: number): void
  /** The sign function or the sealer refused (the message was not sent). */
  signRefused?(message: QbftMessage, reason: string, atMs: number): void
}

/** Everything a {@link Qbft} node needs. */
export type QbftConfig = {
  /** This node's operator address (must be in `validators`). */
  self: Address
  /** The validator set (any order, no duplicates; sorted by address internally). */
  validators: readonly Address[]
  /** EIP-712 domain separator of domain `liqnet` v1 (`createDomainSeparator` in protocol/signing/eip712.ts). */
  domainSeparator: Uint8Array
  sign: QbftSignFn
  sealer: CommitSealer
  validateValue: ValueValidator
  /** Digest of a value. @default keccak256(value) */
  valueDigest?: (value: Uint8Array) => Hex
  transport: QbftTransport
  timers: TimerFactory
  clock: Clock
  /** Called once per decided height, before `decided` events. The driver then starts height + 1. */
  onDecide(decision: Decision): void
  events?: QbftEvents
  options?: Partial<QbftOptions>
  /** The first height this node will run (heights below are OLD_HEIGHT). @default 0n */
  firstHeight?: bigint
}

/** How a height starts: with a fixed input value, or a provider called when this node leads. */
export type StartInput = { value: Uint8Array } | { getValue: ValueProvider }

/** Counters (for metrics). */
export type QbftStats = {
  accepted: number
  buffered: number
  rejected: Partial<Record<RejectReason, number>>
  ignored: Partial<Record<RejectReason, number>>
  signRefused: number
  sealRefused: number
  timeouts: number
  decided: number
}

/** The multi-height QBFT node. */
export interface Qbft {
  /** The height being run, or the next height to run when idle (after a decision, before `start`). */
  readonly height: bigint
  /** The current round at the running height (0 when idle). */
  readonly round: number
  /** True between `start` and the decision of that height. */
  readonly running: boolean
  /**
   * Starts `height` (Algorithm 1:1-9): must be ≥ the current height and not already decided.
   * Buffered messages for it are replayed. @throws QbftStartError otherwise.
   */
  start(height: bigint, input: StartInput): void
  /** Feeds an inbound packet (encoded bytes or decoded). Never throws. */
  receive(input: Uint8Array | QbftPacket): Promise<ReceiveOutcome>
  /** The decision of a recent height, if kept. */
  decision(height: bigint): Decision | undefined
  stats(): QbftStats
  /** Cancels timers; later calls to receive are ignored. */
  stop(): void
}
