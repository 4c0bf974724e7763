/**
 * PREPARE (Moniz 2020, Algorithm 2:3-7): sending it for an accepted proposal, and on a quorum of
 * PREPAREs for (λ, r_i, value) becoming prepared (pr_i ← r_i, pv_i ← value) and sending COMMIT.
 *
 * This node commits only a value whose PROPOSAL it accepted (validated) in that round, so it
 * never seals a plan it has not recomputed itself.
 */
import type { Hex } from 'viem'
import { sendCommit } from './commit.js'
import { accepted, ignored, rejected, type QbftInstance } from './instance.js'
import { checkSignature } from './justification.js'
import { makeMessage, messageKey } from './messages.js'
import { MessageKind, type PreparePacket, type ReceiveOutcome } from './types.js'

/** Algorithm 2:3 — broadcast ⟨PREPARE, λ, r, value⟩ (once per round). */
export async function sendPrepare(inst: QbftInstance, round: number, digest: Hex): Promise<void> {
  if (inst.sentPrepare.has(round) || inst.done) return
  inst.sentPrepare.add(round)
  const signed = await inst.signMessage(makeMessage(MessageKind.prepare, inst.height, round, digest))
  if (!signed || inst.done) return
  await inst.emit({ type: 'prepare', signed })
}

/** Logs a PREPARE (one per signer and round), then checks the quorum of Algorithm 2:4. */
export function onPrepare(inst: QbftInstance, p: PreparePacket, own: boolean): ReceiveOutcome {
  const m = p.signed.message
  const windowReason = inst.roundWindow(m.round, false)
  if (windowReason) return ignored(windowReason)
  const log = inst.preparesOf(m.round)
  const prev = log.get(p.signed.signer)
  if (prev && messageKey(prev) === messageKey(p.signed)) return ignored('DUPLICATE')
  if (!own && !checkSignature(inst.deps, p.signed)) return rejected('BAD_SIGNATURE')
  if (prev) return rejected('EQUIVOCATION')
  log.set(p.signed.signer, p.signed)
  checkPrepareQuorum(inst, m.round)
  return accepted
}

/**
 * Algorithm 2:4-7 — upon a quorum of PREPAREs for (λ, r_i, value) where value is the accepted
 * proposal's: pr_i ← r_i, pv_i ← value, broadcast COMMIT.
 */
export function checkPrepareQuorum(inst: QbftInstance, round: number): void {
  if (round !== inst.round || inst.sentCommit.has(round) || inst.done) return
  const proposal = inst.acceptedProposal.get(round)
  if (!proposal) return
  const log = inst.prepares.get(round)
  if (!log || log.size < inst.deps.vset.quorum) return
  const quorum = [...log.values()].filter((s) => s.message.digest === proposal.digest)
  if (quorum.length < inst.deps.vset.quorum) return
  // Algorithm 2:5-6.
  inst.prepared = { round, digest: proposal.digest, value: proposal.value, justification: quorum.slice(0, inst.deps.vset.quorum) }
  // Algorithm 2:7.
  void sendCommit(inst, round, proposal.digest, proposal.value)
}
