/**
 * The operator key behind signing protection: the QBFT sign function and the commit sealer
 * the consensus node hands to protocol/consensus.
 *
 * - PROPOSAL, PREPARE and COMMIT: (kind, height, round, value digest) is recorded and fsynced by
 *   {@link SigningProtection.guard} before the key signs; a ROUND-CHANGE signs no value and is
 *   signed without a record (only the height distance is checked).
 * - Commit seals: EIP-712 `CommitSeal(uint64 height,bytes32 planDigest)` in the hub's domain, over
 *   `settlementPlanDigest(values.settlementPlan(value))`; (height, planDigest) is recorded first,
 *   and a seal for another plan at the same height is refused.
 */
import { bytesToHex, type Address, type Hex } from 'viem'
import { MessageKind, type CommitSealer, type QbftSignFn } from '../../protocol/consensus/index.js'
import { commitSealDigest, settlementPlanDigest, signCommitSeal, type SettlementPlan } from '../../protocol/settlement/plan.js'
import { defaultBackend, recoverAddressBytes, type Secp256k1Backend } from '../../protocol/signing/secp256k1.js'
import { BaseError } from '../../protocol/errors.js'
import { ProtectedKind, RefusalCode, SigningRefusedError, type ProtectedSignature, type SigningProtection } from './protection.js'

/** The part of the value layer the sealer needs (see ConsensusValues). */
export type SettlementPlanSource = {
  valueDigest(value: Uint8Array): Hex
  settlementPlan(value: Uint8Array): SettlementPlan
}

const protectedKindOf: Partial<Record<MessageKind, ProtectedKind.proposal | ProtectedKind.prepare | ProtectedKind.commit>> = {
  [MessageKind.proposal]: ProtectedKind.proposal,
  [MessageKind.prepare]: ProtectedKind.prepare,
  [MessageKind.commit]: ProtectedKind.commit,
}

/**
 * A QBFT sign function behind signing protection. Refusals come back as `{ ok: false, reason: <RefusalCode> }`.
 * @param privateKey the operator's 32-byte secp256k1 key.
 * @param planDigestOf the settlement plan digest of a value digest, when known: a COMMIT is then recorded together with
 *   the commit seal that follows it (one fsync instead of two; the seal's own guard finds it recorded).
 */
export function createProtectedSign(
  protection: SigningProtection,
  privateKey: Uint8Array,
  backend: Secp256k1Backend = defaultBackend,
  planDigestOf?: (valueDigest: Hex) => Hex | undefined,
): QbftSignFn {
  return async ({ message, digest }) => {
    const kind = protectedKindOf[message.kind]
    try {
      if (kind !== undefined) {
        const requests: ProtectedSignature[] = [{ kind, height: message.height, round: message.round, digest: message.digest }]
        const planDigest = kind === ProtectedKind.commit ? planDigestOf?.(message.digest) : undefined
        // Only when the seal is allowed too: otherwise the COMMIT alone is judged (and the seal refused later).
        if (planDigest && protection.check({ kind: ProtectedKind.seal, height: message.height, digest: planDigest }) === undefined)
          requests.push({ kind: ProtectedKind.seal, height: message.height, digest: planDigest })
        await protection.guard(requests)
      }
      else if (protection.isTooFarAhead(message.height)) return { ok: false, reason: RefusalCode.TOO_FAR_AHEAD }
    } catch (err) {
      if (err instanceof SigningRefusedError) return { ok: false, reason: err.code }
      throw err
    }
    return { ok: true, signature: backend.sign(digest, privateKey) }
  }
}

export class SettlementPlanHeightError extends BaseError {
  override name = 'SettlementPlanHeightError'
  constructor(height: bigint, planHeight: bigint) {
    super(`Refusing to seal: the settlement plan carries height ${planHeight}, the QBFT height is ${height}.`, {
      metaMessages: ['A value must encode a settlement plan of the height it is proposed at.'],
    })
  }
}

export class UnsealableValueError extends BaseError {
  override name = 'UnsealableValueError'
  constructor() {
    super('Refusing to seal: the value has no settlement plan.', { metaMessages: ['Only values whose settlement plan encodes are sealed.'] })
  }
}

export type PlanSealerInit = {
  values: SettlementPlanSource
  /** `sealDomainSeparator({ chainId: hubChainId, verifyingContract: hub })`. */
  domainSeparator: Uint8Array
  privateKey: Uint8Array
  protection: SigningProtection
  backend?: Secp256k1Backend
  /** Plan digests remembered by value digest. @default 64 */
  cacheSize?: number
}

/**
 * Commit seals over settlement plans (protocol/settlement/plan.ts), the signatures the hub verifies.
 * `seal` throws SigningRefusedError (protection) or SettlementPlanHeightError; `verify` never throws.
 */
export class PlanSealer implements CommitSealer {
  /** value digest → the plan's (height, digest), or null when the value has no valid plan. Insertion-ordered, bounded. */
  private readonly cache = new Map<Hex, { height: bigint; digest: Hex } | null>()
  private readonly backend: Secp256k1Backend
  constructor(private readonly init: PlanSealerInit) {
    this.backend = init.backend ?? defaultBackend
  }

  private plan(value: Uint8Array): { height: bigint; digest: Hex } | null {
    let key: Hex
    try {
      key = this.init.values.valueDigest(value)
    } catch {
      return null
    }
    const hit = this.cache.get(key)
    if (hit !== undefined) return hit
    let entry: { height: bigint; digest: Hex } | null
    try {
      const plan = this.init.values.settlementPlan(value)
      entry = { height: plan.height, digest: settlementPlanDigest(plan) }
    } catch {
      entry = null
    }
    if (this.cache.size >= (this.init.cacheSize ?? 64)) this.cache.delete(this.cache.keys().next().value as Hex)
    this.cache.set(key, entry)
    return entry
  }

  /** settlementPlanDigest of a value's plan, or null when the value has no valid plan. Cached by value digest. */
  planDigest(value: Uint8Array): Hex | null {
    return this.plan(value)?.digest ?? null
  }

  /** The plan digest of a value digest already seen by {@link planDigest}, without computing anything. */
  cachedPlanDigest(valueDigest: Hex): Hex | undefined {
    return this.cache.get(valueDigest)?.digest
  }

  async seal(height: bigint, value: Uint8Array): Promise<Uint8Array> {
    const plan = this.plan(value)
    if (!plan) {
      this.init.values.settlementPlan(value) // throws the value layer's own error, if it has one
      throw new UnsealableValueError()
    }
    if (plan.height !== height) throw new SettlementPlanHeightError(height, plan.height)
    await this.init.protection.guard([{ kind: ProtectedKind.seal, height, digest: plan.digest }])
    return signCommitSeal(this.init.domainSeparator, height, plan.digest, this.init.privateKey, this.backend)
  }

  verify(height: bigint, value: Uint8Array, seal: Uint8Array, signer: Address): boolean {
    try {
      const plan = this.plan(value)
      if (!plan || plan.height !== height) return false
      const a = recoverAddressBytes(commitSealDigest(this.init.domainSeparator, height, plan.digest), seal, this.backend)
      return a !== undefined && bytesToHex(a) === signer.toLowerCase()
    } catch {
      return false
    }
  }
}
