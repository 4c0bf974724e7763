/**
 * ROUND-CHANGE (Moniz 2020, Algorithm 3): the round timer, moving to the smallest round that
 * f+1 validators moved past, and the new leader's PROPOSAL on a justified ROUND-CHANGE quorum.
 */
import { checkCommitsFor } from './commit.js'
import { accepted, ignored, rejected, type QbftInstance } from './instance.js'
import { checkSignature, justifyRoundChange } from './justification.js'
import { makeRoundChange, messageKey } from './messages.js'
import { propose } from './proposal.js'
import type { QbftOptions, ReceiveOutcome, RoundChangePacket } from './types.js'
import { leaderOf } from './validators.js'

/** t(r) = roundTimeoutBaseMs · 2^r, capped at maxRoundTimeoutMs (round 0 lasts the base). */
export function roundTimeoutMs(options: Pick<QbftOptions, 'roundTimeoutBaseMs' | 'maxRoundTimeoutMs'>, round: number): number {
  return Math.min(options.roundTimeoutBaseMs * 2 ** Math.min(round, 60), options.maxRoundTimeoutMs)
}

/** Algorithm 3:1-4 — upon Expire(timer): r_i ← r_i + 1, restart the timer, broadcast ROUND-CHANGE. */
export function onRoundTimeout(inst: QbftInstance, round: number): void {
  if (inst.done || round !== inst.round) return
  inst.deps.stats.timeouts++
  inst.enterRound(round + 1, 'timeout')
  void sendRoundChange(inst, inst.round)
  tryLeadRound(inst)
}

/** Algorithm 3:4 and 3:9 — broadcast ⟨ROUND-CHANGE, λ, r, pr_i, pv_i⟩ with pv_i and its PREPARE quorum (once per round). */
export async function sendRoundChange(inst: QbftInstance, round: number): Promise<void> {
  if (inst.sentRoundChange.has(round) || inst.done) return
  inst.sentRoundChange.add(round)
  const prepared = inst.prepared
  const signed = await inst.signMessage(makeRoundChange(inst.height, round, prepared && { round: prepared.round, digest: prepared.digest }))
  if (!signed || inst.done) return
  const packet: RoundChangePacket = prepared
    ? { type: 'roundChange', signed, preparedValue: prepared.value, prepareJustification: prepared.justification }
    : { type: 'roundChange', signed, prepareJustification: [] }
  await inst.emit(packet)
}

/** Logs a justified ROUND-CHANGE, then applies Algorithm 3:5-9 and 3:10-15. */
export function onRoundChange(inst: QbftInstance, p: RoundChangePacket, own: boolean): ReceiveOutcome {
  const m = p.signed.message
  const windowReason = inst.roundWindow(m.round, false)
  if (windowReason) return ignored(windowReason)
  const log = inst.roundChangesOf(m.round)
  const prev = log.get(p.signed.signer)
  if (prev && messageKey(prev.signed) === messageKey(p.signed)) return ignored('DUPLICATE')
  if (!own) {
    if (!checkSignature(inst.deps, p.signed)) return rejected('BAD_SIGNATURE')
    if (prev) return rejected('EQUIVOCATION')
    if (p.preparedValue && inst.deps.valueDigest(p.preparedValue) !== m.preparedDigest) return rejected('DIGEST_MISMATCH')
    if (!justifyRoundChange(inst.deps, p).ok) return rejected('INVALID_JUSTIFICATION')
  } else if (prev) return rejected('EQUIVOCATION')
  log.set(p.signed.signer, p)
  if (p.preparedValue && !inst.values.has(m.preparedDigest)) {
    inst.values.set(m.preparedDigest, p.preparedValue)
    checkCommitsFor(inst, m.preparedDigest)
    if (inst.done) return accepted
  }
  followFPlusOne(inst)
  tryLeadRound(inst)
  return accepted
}

/**
 * Algorithm 3:5-9 — upon f+1 ROUND-CHANGEs from distinct validators for rounds above r_i: move to
 * the smallest of those rounds (choosing the f+1 highest, so the largest such minimum) and
 * broadcast ROUND-CHANGE for it.
 */
export function followFPlusOne(inst: QbftInstance): void {
  const highest = new Map<string, number>()
  for (const [round, log] of inst.roundChanges) {
    if (round <= inst.round) continue
    for (const signer of log.keys()) if ((highest.get(signer) ?? -1) < round) highest.set(signer, round)
  }
  const need = inst.deps.vset.f + 1
  if (highest.size < need) return
  const rounds = [...highest.values()].sort((a, b) => b - a)
  const rmin = rounds[need - 1]
  inst.enterRound(rmin, 'f+1')
  void sendRoundChange(inst, rmin)
}

/**
 * Algorithm 3:10-15 — upon a quorum Qrc of ROUND-CHANGEs for r_i when leader(λ, r_i) is this node
 * (JustifyRoundChange holds: every logged ROUND-CHANGE carried its PREPARE quorum): propose
 * HighestPrepared(Qrc)'s value, or the input value when nothing is prepared.
 */
export function tryLeadRound(inst: QbftInstance): void {
  const r = inst.round
  if (r === 0 || inst.done || inst.proposed.has(r)) return
  if (leaderOf(inst.deps.vset, inst.height, r) !== inst.deps.self) return
  const log = inst.roundChanges.get(r)
  if (!log || log.size < inst.deps.vset.quorum) return
  // Highest prepared first, so the quorum sent as justification contains HighestPrepared(Qrc).
  const qrc = [...log.values()]
    .sort((a, b) => prepRank(b) - prepRank(a))
    .slice(0, inst.deps.vset.quorum)
  const top = qrc[0]
  const fixed = top.preparedValue ? { digest: top.signed.message.preparedDigest, value: top.preparedValue } : undefined
  void propose(inst, r, fixed, qrc.map((x) => x.signed), fixed ? top.prepareJustification : [])
}

function prepRank(p: RoundChangePacket): number {
  return p.preparedValue ? p.signed.message.preparedRound : -1
}
