/**
 * COMMIT (Moniz 2020, Algorithm 2:7-10): sending it with a commit seal, and deciding on a quorum
 * Qcommit of COMMITs for (λ, r, value) — from any round, since a commit quorum in any round
 * implies that value is the only one that can be decided at λ.
 *
 * Commit seals are checked with the injected `sealer.verify` as soon as the value of the COMMIT's
 * digest is known here (from a validated PROPOSAL or a justified ROUND-CHANGE); a COMMIT whose
 * seal fails is dropped (INVALID_SEAL) and does not count towards the quorum.
 *
 * DECIDED (catch-up): a certificate of a quorum of sealed COMMITs and the value, checked in full
 * by `verifyDecision`, decides the height directly.
 */
import type { Hex } from 'viem'
import { accepted, ignored, rejected, type QbftInstance } from './instance.js'
import { checkSignature, verifyDecision } from './justification.js'
import { makeMessage, messageKey } from './messages.js'
import { MessageKind, type CommitPacket, type DecidedPacket, type Decision, type ReceiveOutcome, type SealedCommit } from './types.js'

/** Algorithm 2:7 — broadcast ⟨COMMIT, λ, r, value⟩ with this node's commit seal (once per round). */
export async function sendCommit(inst: QbftInstance, round: number, digest: Hex, value: Uint8Array): Promise<void> {
  if (inst.sentCommit.has(round) || inst.done) return
  inst.sentCommit.add(round)
  const signed = await inst.signMessage(makeMessage(MessageKind.commit, inst.height, round, digest))
  if (!signed || inst.done) return
  let commitSeal: Uint8Array
  try {
    commitSeal = await inst.deps.sealer.seal(inst.height, value)
  } catch (err) {
    inst.deps.stats.sealRefused++
    inst.deps.events.signRefused?.(signed.message, err instanceof Error ? `seal-refused: ${err.name}` : 'seal-refused', inst.deps.clock.now())
    return
  }
  if (inst.done) return
  await inst.emit({ type: 'commit', signed, commitSeal })
}

/** Logs a COMMIT (one per signer and round) and checks the quorum of Algorithm 2:8. */
export function onCommit(inst: QbftInstance, p: CommitPacket, own: boolean): ReceiveOutcome {
  const m = p.signed.message
  const windowReason = inst.roundWindow(m.round, true)
  if (windowReason) return ignored(windowReason)
  const log = inst.commitsOf(m.round)
  const prev = log.get(p.signed.signer)
  if (prev && messageKey(prev.signed) === messageKey(p.signed)) return ignored('DUPLICATE')
  if (!own && !checkSignature(inst.deps, p.signed)) return rejected('BAD_SIGNATURE')
  if (prev) return rejected('EQUIVOCATION')
  const value = inst.values.get(m.digest)
  let sealChecked = own
  if (!own && value) {
    if (!inst.deps.sealer.verify(inst.height, value, p.commitSeal, p.signed.signer)) return rejected('INVALID_SEAL')
    sealChecked = true
  }
  log.set(p.signed.signer, { signed: p.signed, seal: p.commitSeal, sealChecked })
  checkCommitQuorum(inst, m.round, m.digest)
  return accepted
}

/** Re-checks every round's commits for `digest` (called when its value becomes known). */
export function checkCommitsFor(inst: QbftInstance, digest: Hex): void {
  for (const round of [...inst.commits.keys()]) {
    if (inst.done) return
    checkCommitQuorum(inst, round, digest)
  }
}

/** Algorithm 2:8-10 — upon a quorum Qcommit of valid COMMITs for (λ, round, value): Decide(λ, value, Qcommit). */
export function checkCommitQuorum(inst: QbftInstance, round: number, digest: Hex): void {
  if (inst.done) return
  const value = inst.values.get(digest)
  if (!value) return
  const log = inst.commits.get(round)
  if (!log || log.size < inst.deps.vset.quorum) return
  let matching = [...log.values()].filter((c) => c.signed.message.digest === digest)
  if (matching.length < inst.deps.vset.quorum) return
  for (const c of matching) {
    if (c.sealChecked) continue
    if (inst.deps.sealer.verify(inst.height, value, c.seal, c.signed.signer)) c.sealChecked = true
    else {
      log.delete(c.signed.signer)
      inst.deps.stats.rejected.INVALID_SEAL = (inst.deps.stats.rejected.INVALID_SEAL ?? 0) + 1
    }
  }
  matching = matching.filter((c) => c.sealChecked)
  if (matching.length < inst.deps.vset.quorum) return
  const commits: SealedCommit[] = matching
    .map((c) => ({ commit: c.signed, seal: c.seal }))
    .sort((a, b) => (a.commit.signer < b.commit.signer ? -1 : 1))
  decide(inst, {
    height: inst.height,
    round,
    value,
    digest,
    seals: commits.map((c) => ({ signer: c.commit.signer, seal: c.seal })),
    commits,
  })
}

/** Algorithm 2:9-10 — stop the timer and decide. */
export function decide(inst: QbftInstance, decision: Decision): void {
  if (inst.done) return
  inst.decision = decision
  inst.cancelTimer()
  inst.deps.onDecide(decision)
}

/** A DECIDED certificate for this height: verified in full, it decides directly. */
export function onDecided(inst: QbftInstance, p: DecidedPacket): ReceiveOutcome {
  const check = verifyDecision(
    { vset: inst.deps.vset, domainSeparator: inst.deps.domainSeparator, sealer: inst.deps.sealer, valueDigest: inst.deps.valueDigest, cache: inst.deps.cache },
    p,
  )
  if (!check.ok) return rejected(check.reason)
  if (inst.done) return ignored('DECIDED')
  decide(inst, check.decision)
  return accepted
}
