/**
 * Justification predicates (Moniz 2020, Algorithm 4) and quorum-certificate checks.
 *
 * - JustifyRoundChange(Qrc) = J1 ∨ J2 (Algorithm 4:1-6): J1, no message of Qrc is prepared;
 *   J2, there is a quorum of valid PREPAREs for HighestPrepared(Qrc).
 * - JustifyPrePrepare(m) (Algorithm 4:7-12): round 0 (the paper's round 1), or a quorum Qrc of
 *   ROUND-CHANGEs for m's round with J1 (any value) or J2 with m's value = HighestPrepared(Qrc)'s value.
 * - A ROUND-CHANGE that claims (pr, pv) carries the PREPARE quorum that made it prepared; it is
 *   checked on receipt, so Qrc built from received ROUND-CHANGEs always satisfies J1 ∨ J2.
 *
 * Every signed message in a justification is checked: kind, height, round (and digest), signer
 * in the validator set, distinct signers, and a signature that recovers to the signer.
 */
import type { Address, Hex } from 'viem'
import { ZERO_DIGEST } from './constants.js'
import { keccakValueDigest } from './keys.js'
import { messageKey, verifyQbftSignature } from './messages.js'
import {
  MessageKind,
  type CommitSealer,
  type CommitSealEntry,
  type Decision,
  type ProposalPacket,
  type QbftMessage,
  type RejectReason,
  type RoundChangePacket,
  type SealedCommit,
  type SignedQbftMessage,
} from './types.js'
import type { ValidatorSet } from './validators.js'

/** Remembers signatures already verified (key: message identity and signature). */
export class SignatureCache {
  private readonly seen = new Set<string>()
  constructor(private readonly max = 4096) {}
  key(s: SignedQbftMessage): string {
    return `${messageKey(s)}:${Buffer.from(s.signature.buffer, s.signature.byteOffset, 65).toString('hex')}`
  }
  has(s: SignedQbftMessage): boolean {
    return this.seen.has(this.key(s))
  }
  add(s: SignedQbftMessage): void {
    if (this.seen.size >= this.max) this.seen.clear()
    this.seen.add(this.key(s))
  }
}

/** What the checks need. */
export type VerifyContext = {
  vset: ValidatorSet
  domainSeparator: Uint8Array
  cache?: SignatureCache
}

/** True iff `s` is signed by its claimed signer (using and filling the cache). */
export function checkSignature(ctx: VerifyContext, s: SignedQbftMessage): boolean {
  if (ctx.cache?.has(s)) return true
  const ok = verifyQbftSignature(ctx.domainSeparator, s)
  if (ok) ctx.cache?.add(s)
  return ok
}

export type Check = { ok: true } | { ok: false; rule: string }

/**
 * Checks that `msgs` hold at least `quorum` messages from distinct validators, each matching
 * `expect` (kind, height, round, digest when given) and validly signed.
 */
export function checkQuorum(
  ctx: VerifyContext,
  msgs: readonly SignedQbftMessage[],
  expect: { kind: MessageKind; height: bigint; round?: number; digest?: Hex },
  what: string,
): Check {
  if (msgs.length < ctx.vset.quorum) return { ok: false, rule: `${what}: ${msgs.length} messages, fewer than the quorum ${ctx.vset.quorum}` }
  const signers = new Set<string>()
  for (const s of msgs) {
    const m = s.message
    if (m.kind !== expect.kind) return { ok: false, rule: `${what}: wrong message kind ${m.kind}` }
    if (m.height !== expect.height) return { ok: false, rule: `${what}: wrong height ${m.height}` }
    if (expect.round !== undefined && m.round !== expect.round) return { ok: false, rule: `${what}: wrong round ${m.round}` }
    if (expect.digest !== undefined && m.digest !== expect.digest) return { ok: false, rule: `${what}: wrong digest` }
    if (!ctx.vset.index.has(s.signer)) return { ok: false, rule: `${what}: unknown signer ${s.signer}` }
    if (signers.has(s.signer)) return { ok: false, rule: `${what}: duplicate signer ${s.signer}` }
    signers.add(s.signer)
  }
  // Signatures last: the cheap checks above reject most bad lists without any ECDSA work.
  for (const s of msgs) if (!checkSignature(ctx, s)) return { ok: false, rule: `${what}: bad signature of ${s.signer}` }
  return { ok: true }
}

/**
 * A ROUND-CHANGE's own justification: when prepared (pr, pv), a quorum of PREPAREs for
 * (height, pr, pv) (Algorithm 4, J2 for a single message); when not prepared, nothing.
 */
export function justifyRoundChange(ctx: VerifyContext, p: RoundChangePacket): Check {
  const m = p.signed.message
  if (m.preparedDigest === ZERO_DIGEST) {
    return p.prepareJustification.length === 0 ? { ok: true } : { ok: false, rule: 'unprepared ROUND-CHANGE with a PREPARE justification' }
  }
  return checkQuorum(
    ctx,
    p.prepareJustification,
    { kind: MessageKind.prepare, height: m.height, round: m.preparedRound, digest: m.preparedDigest },
    'ROUND-CHANGE prepare justification',
  )
}

/**
 * The highest prepared (round, digest) among ROUND-CHANGE messages (Algorithm 4, HighestPrepared),
 * or undefined when none is prepared (J1). Ties at the highest round return every digest claimed there.
 */
export function highestPrepared(rcs: readonly QbftMessage[]): { round: number; digests: Set<Hex> } | undefined {
  let best: { round: number; digests: Set<Hex> } | undefined
  for (const m of rcs) {
    if (m.preparedDigest === ZERO_DIGEST) continue
    if (!best || m.preparedRound > best.round) best = { round: m.preparedRound, digests: new Set([m.preparedDigest]) }
    else if (m.preparedRound === best.round) best.digests.add(m.preparedDigest)
  }
  return best
}

/** JustifyPrePrepare (Algorithm 4:7-12) for a PROPOSAL. */
export function justifyProposal(ctx: VerifyContext, p: ProposalPacket): Check {
  const m = p.signed.message
  if (m.round === 0) {
    // Algorithm 4:8 — the first round needs no justification.
    return p.roundChangeJustification.length === 0 && p.prepareJustification.length === 0
      ? { ok: true }
      : { ok: false, rule: 'a round-0 PROPOSAL carries no justification' }
  }
  // Algorithm 4:9 — a quorum Qrc of ROUND-CHANGE messages for this round.
  const rc = checkQuorum(ctx, p.roundChangeJustification, { kind: MessageKind.roundChange, height: m.height, round: m.round }, 'round-change justification')
  if (!rc.ok) return rc
  const hp = highestPrepared(p.roundChangeJustification.map((s) => s.message))
  if (!hp) {
    // J1 (Algorithm 4:10): nobody prepared; any value may be proposed.
    return p.prepareJustification.length === 0 ? { ok: true } : { ok: false, rule: 'PREPARE justification without a prepared ROUND-CHANGE' }
  }
  // J2 (Algorithm 4:11): the value is HighestPrepared's, backed by a PREPARE quorum.
  if (!hp.digests.has(m.digest)) return { ok: false, rule: 'the proposed value is not the highest prepared value' }
  return checkQuorum(
    ctx,
    p.prepareJustification,
    { kind: MessageKind.prepare, height: m.height, round: hp.round, digest: m.digest },
    'prepare justification',
  )
}

/** Result of {@link verifyDecision}. */
export type DecisionCheck = { ok: true; decision: Decision } | { ok: false; reason: RejectReason; rule: string }

/**
 * Verifies a decision certificate (a DECIDED packet, or a stored {@link Decision}): the value's
 * digest, a quorum of COMMITs from distinct validators for one (height, round, digest), valid
 * signatures and valid commit seals. Never throws.
 */
export function verifyDecision(
  params: { vset: ValidatorSet; domainSeparator: Uint8Array; sealer: CommitSealer; valueDigest?: (v: Uint8Array) => Hex; cache?: SignatureCache },
  d: { height: bigint; value: Uint8Array; commits: readonly SealedCommit[] },
): DecisionCheck {
  try {
    const digest = (params.valueDigest ?? keccakValueDigest)(d.value)
    if (d.commits.length === 0) return { ok: false, reason: 'INVALID_JUSTIFICATION', rule: 'no commits' }
    const round = d.commits[0].commit.message.round
    const q = checkQuorum(params, d.commits.map((c) => c.commit), { kind: MessageKind.commit, height: d.height, round, digest }, 'decision certificate')
    if (!q.ok) return { ok: false, reason: d.commits.some((c) => c.commit.message.digest !== digest) ? 'DIGEST_MISMATCH' : 'INVALID_JUSTIFICATION', rule: q.rule }
    const seals: CommitSealEntry[] = []
    for (const c of d.commits) {
      if (!params.sealer.verify(d.height, d.value, c.seal, c.commit.signer))
        return { ok: false, reason: 'INVALID_SEAL', rule: `bad commit seal of ${c.commit.signer}` }
      seals.push({ signer: c.commit.signer, seal: c.seal })
    }
    const commits = [...d.commits].sort((a, b) => cmp(a.commit.signer, b.commit.signer))
    seals.sort((a, b) => cmp(a.signer, b.signer))
    return { ok: true, decision: { height: d.height, round, value: d.value, digest, seals, commits } }
  } catch (err) {
    return { ok: false, reason: 'MALFORMED', rule: err instanceof Error ? err.message : String(err) }
  }
}

function cmp(a: Address, b: Address): number {
  return a < b ? -1 : a > b ? 1 : 0
}
