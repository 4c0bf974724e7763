/**
 * PROPOSAL (the paper's PRE-PREPARE): sending it as the leader (Algorithm 1:7-8, Algorithm 3:10-15)
 * and accepting it (Algorithm 2:1-3, JustifyPrePrepare of Algorithm 4).
 *
 * As in SSV, a justified PROPOSAL for a round above the current one moves this node to that
 * round (its justification carries the ROUND-CHANGE quorum that let the leader propose).
 */
import type { Hex } from 'viem'
import { checkCommitsFor } from './commit.js'
import { accepted, ignored, rejected, type QbftInstance } from './instance.js'
import { checkSignature, justifyProposal } from './justification.js'
import { makeMessage, messageKey } from './messages.js'
import { checkPrepareQuorum, sendPrepare } from './prepare.js'
import { MessageKind, type ProposalPacket, type ReceiveOutcome, type SignedQbftMessage } from './types.js'
import { leaderOf } from './validators.js'

/** Algorithm 1:7-8 — at round 0 the leader proposes its input value. */
export function proposeRoundZero(inst: QbftInstance): void {
  if (leaderOf(inst.deps.vset, inst.height, 0) !== inst.deps.self) return
  void propose(inst, 0, undefined, [], [])
}

/**
 * Sends a PROPOSAL for `round`: `fixed` is HighestPrepared(Qrc)'s value when there is one
 * (Algorithm 3:11-12), otherwise the input value (Algorithm 3:14), from `StartInput`.
 */
export async function propose(
  inst: QbftInstance,
  round: number,
  fixed: { digest: Hex; value: Uint8Array } | undefined,
  roundChangeJustification: SignedQbftMessage[],
  prepareJustification: SignedQbftMessage[],
): Promise<void> {
  if (inst.proposed.has(round) || inst.done) return
  inst.proposed.add(round)
  let value: Uint8Array
  if (fixed) value = fixed.value
  else if ('value' in inst.input) value = inst.input.value
  else {
    try {
      value = await inst.input.getValue(inst.height, round)
    } catch {
      return // no value to propose: the round times out and the next leader proposes
    }
    if (!(value instanceof Uint8Array) || value.length === 0) return
  }
  if (inst.done || inst.round > round) return
  const digest = fixed ? fixed.digest : inst.deps.valueDigest(value)
  const signed = await inst.signMessage(makeMessage(MessageKind.proposal, inst.height, round, digest))
  if (!signed || inst.done) return
  await inst.emit({ type: 'proposal', signed, value, roundChangeJustification, prepareJustification })
}

/** Algorithm 2:1-3 — upon a valid, justified PROPOSAL from leader(λ, r): PREPARE it. */
export async function onProposal(inst: QbftInstance, p: ProposalPacket, own: boolean): Promise<ReceiveOutcome> {
  const m = p.signed.message
  const r = m.round
  const windowReason = inst.roundWindow(r, false)
  if (windowReason) return ignored(windowReason)
  if (p.signed.signer !== leaderOf(inst.deps.vset, inst.height, r)) return rejected('WRONG_LEADER')
  const key = messageKey(p.signed)
  const seen = inst.proposalSeen.get(r)
  if (seen === key) return ignored('DUPLICATE')
  if (!own) {
    if (!checkSignature(inst.deps, p.signed)) return rejected('BAD_SIGNATURE')
    if (seen !== undefined) return rejected('EQUIVOCATION')
    if (inst.deps.valueDigest(p.value) !== m.digest) return rejected('DIGEST_MISMATCH')
    const j = justifyProposal(inst.deps, p)
    if (!j.ok) return rejected('INVALID_JUSTIFICATION')
  } else if (seen !== undefined) return rejected('EQUIVOCATION')
  // First valid proposal of this round: later different ones are equivocation.
  inst.proposalSeen.set(r, key)
  if (!own) {
    let verdict
    try {
      verdict = await inst.deps.validateValue(inst.height, p.value)
    } catch {
      verdict = { ok: false as const, reason: 'validator-error' }
    }
    if (!verdict.ok) return rejected('INVALID_VALUE')
    if (inst.done) return ignored('DECIDED')
    if (inst.round > r) return ignored('OLD_ROUND')
  }
  if (r > inst.round) inst.enterRound(r, 'proposal')
  inst.acceptedProposal.set(r, { digest: m.digest, value: p.value })
  inst.values.set(m.digest, p.value)
  checkCommitsFor(inst, m.digest)
  if (inst.done) return accepted
  // Algorithm 2:2 — (re)start the round timer on the accepted proposal.
  inst.restartTimer()
  // Algorithm 2:3 — broadcast PREPARE.
  void sendPrepare(inst, r, m.digest)
  checkPrepareQuorum(inst, r)
  return accepted
}
