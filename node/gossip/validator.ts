/**
 * Validation of gossip messages, in the order docs/wire.md gives:
 *   1. decode (envelope, then payload; kind and chain must match the topic)
 *   2. size (the topic's byte limit; item counts are checked by the decoder)
 *   3. signer in the operator set, and the signature recovers to it
 *   4. freshness window on observedAt
 *   5. block sanity against the node's own head of that chain (only chains it follows)
 *   6. dedupe (same operator, scope, block and part, same digest)
 *   7. equivocation (same key, different digest): both kept as evidence, operator flagged
 * Each failure is a {@link GossipValidationError} carrying its code and action.
 *
 * Synchronous and CPU-only: the caller (the gossip service) queues, batches and writes.
 */
import { bytesToHex, type Address } from 'viem'
import {
  PayloadKind,
  WireDecodeError,
  decodeEnvelope,
  decodeHealthSnapshot,
  decodeLiquiditySnapshot,
  type WireEnvelope,
  type WireHealthSnapshot,
  type WireLiquiditySnapshot,
} from '../../protocol/proto/codec.js'
import { payloadDigest } from '../../protocol/signing/eip712.js'
import { defaultBackend, recoverAddressBytes, type Secp256k1Backend } from '../../protocol/signing/secp256k1.js'
import { equalBytes } from '../../protocol/proto/codec.js'
import { GossipType, topicMaxBytes } from '../../protocol/topics.js'
import type { AcceptedSnapshot } from '../store/store.js'
import type { SnapshotRecord } from '../store/encoding.js'
import { GossipAction, GossipErrorCode, GossipValidationError } from './errors.js'

/** The operators allowed to sign snapshots (as registered in the hub contract). */
export interface OperatorSet {
  has(address: Uint8Array): boolean
}

/** An operator set from a list of addresses. */
export function createOperatorSet(addresses: readonly Address[]): OperatorSet & { addresses: readonly Address[] } {
  const set = new Set(addresses.map((a) => a.toLowerCase()))
  return { addresses, has: (a) => a.length === 20 && set.has(bytesToHex(a)) }
}

/** The node's own view of chain heads; `undefined` for chains it does not follow. */
export interface HeadSource {
  head(chainId: number): bigint | number | undefined
}

export type ValidatorOptions = {
  /** EIP-712 domain separator of the network (protocol/signing createDomainSeparator). */
  domainSeparator: Uint8Array
  operators: OperatorSet
  heads?: HeadSource
  /** Clock, ms since the Unix epoch. @default Date.now */
  now?: () => number
  /** Oldest observedAt accepted, relative to now. @default 300_000 */
  maxAgeMs?: number
  /** How far observedAt may be ahead of now (clock skew). @default 10_000 */
  maxFutureMs?: number
  /** How many blocks a snapshot may be ahead of our head. @default 2 */
  maxBlocksAhead?: number
  /** How many blocks a snapshot may be behind our head. @default 64 */
  maxBlocksBehind?: number
  /** Entries of the dedupe/equivocation index (FIFO eviction). @default 100_000 */
  maxRecent?: number
  backend?: Secp256k1Backend
}

export const defaultValidatorOptions = {
  maxAgeMs: 300_000,
  maxFutureMs: 10_000,
  maxBlocksAhead: 2,
  maxBlocksBehind: 64,
  maxRecent: 100_000,
} as const

export type ValidatedPayload =
  | { kind: PayloadKind.healthSnapshot; snapshot: WireHealthSnapshot }
  | { kind: PayloadKind.liquiditySnapshot; snapshot: WireLiquiditySnapshot }

export type ValidationOutcome =
  | { action: GossipAction.ACCEPT; code?: undefined; accepted: AcceptedSnapshot }
  /** ACCEPTed so that the evidence propagates; `conflict` is the earlier digest of the same key. */
  | { action: GossipAction.ACCEPT; code: GossipErrorCode.EQUIVOCATION; accepted: AcceptedSnapshot; conflict: EquivocationKey }
  | { action: GossipAction.IGNORE | GossipAction.REJECT; code: GossipErrorCode; error: GossipValidationError }

/** What identifies "one snapshot of one operator": a conflict on it is an equivocation. */
export type EquivocationKey = { kind: PayloadKind; operator: Uint8Array; chainId: number; scope: Uint8Array; blockNumber: number; part: number }

const EQUIVOCATED = 'equivocated'

const fail = (code: GossipErrorCode, message: string, cause?: unknown): never => {
  throw new GossipValidationError(code, message, { cause })
}

function decodeCode(err: unknown): GossipErrorCode {
  if (err instanceof WireDecodeError) {
    if (err.code === 'TOO_MANY_ITEMS') return GossipErrorCode.OVERSIZED
    if (err.code === 'NON_CANONICAL') return GossipErrorCode.NON_CANONICAL
    if (err.code === 'INVALID_FIELD') return GossipErrorCode.INVALID_FIELD
  }
  return GossipErrorCode.MALFORMED
}

const kindOfType: { [K in GossipType]: PayloadKind } = {
  [GossipType.health]: PayloadKind.healthSnapshot,
  [GossipType.liquidity]: PayloadKind.liquiditySnapshot,
}

export class SnapshotValidator {
  private readonly o: Required<Omit<ValidatorOptions, 'heads'>> & { heads?: HeadSource }
  /** (kind, operator, chain, scope, block, part) → digest hex, or EQUIVOCATED. */
  private readonly recent = new Map<string, string>()
  /** (kind, operator, chain, scope, part) → newest block accepted. */
  private readonly latest = new Map<string, number>()

  constructor(options: ValidatorOptions) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as ValidatorOptions
    this.o = { ...defaultValidatorOptions, now: Date.now, backend: defaultBackend, ...defined }
  }

  get operators(): OperatorSet {
    return this.o.operators
  }

  /**
   * Validates one message of a topic. Never throws: failures come back as an outcome.
   * On ACCEPT the dedupe and latest indexes are updated at once.
   */
  validate(type: GossipType, topicChainId: number, data: Uint8Array, receivedAt = this.o.now()): ValidationOutcome {
    try {
      return this.validateOrThrow(type, topicChainId, data, receivedAt)
    } catch (err) {
      const error = err instanceof GossipValidationError ? err : new GossipValidationError(GossipErrorCode.INTERNAL, 'Unexpected validation failure.', { cause: err })
      return { action: error.action as GossipAction.IGNORE | GossipAction.REJECT, code: error.code, error }
    }
  }

  private validateOrThrow(type: GossipType, topicChainId: number, data: Uint8Array, receivedAt: number): ValidationOutcome {
    // 1. decode
    let envelope: WireEnvelope
    try {
      envelope = decodeEnvelope(data)
    } catch (err) {
      return fail(decodeCode(err), 'Cannot decode the envelope.', err)
    }
    if (envelope.kind !== kindOfType[type]) fail(GossipErrorCode.WRONG_TOPIC, `Payload kind ${envelope.kind} does not belong on a ${type} topic.`)
    // 2. size
    if (data.length > topicMaxBytes[type]) fail(GossipErrorCode.OVERSIZED, `Message of ${data.length} bytes exceeds the ${type} limit of ${topicMaxBytes[type]}.`)
    let payload: ValidatedPayload
    try {
      payload =
        envelope.kind === PayloadKind.healthSnapshot
          ? { kind: PayloadKind.healthSnapshot, snapshot: decodeHealthSnapshot(envelope.payload) }
          : { kind: PayloadKind.liquiditySnapshot, snapshot: decodeLiquiditySnapshot(envelope.payload) }
    } catch (err) {
      return fail(decodeCode(err), 'Cannot decode the payload.', err)
    }
    const s = payload.snapshot
    if (s.chainId !== topicChainId) fail(GossipErrorCode.WRONG_TOPIC, `Snapshot of chain ${s.chainId} on the topic of chain ${topicChainId}.`)
    // 3. signer
    if (!this.o.operators.has(envelope.signer)) fail(GossipErrorCode.UNKNOWN_SIGNER, `Signer ${bytesToHex(envelope.signer)} is not in the operator set.`)
    const digest = payloadDigest(this.o.domainSeparator, payload)
    const recovered = recoverAddressBytes(digest, envelope.signature, this.o.backend)
    if (!recovered || !equalBytes(recovered, envelope.signer)) fail(GossipErrorCode.BAD_SIGNATURE, `Signature does not recover to ${bytesToHex(envelope.signer)}.`)
    // 4. freshness
    const now = this.o.now()
    if (s.observedAt < now - this.o.maxAgeMs) fail(GossipErrorCode.STALE, `Observed ${now - s.observedAt} ms ago, beyond the ${this.o.maxAgeMs} ms window.`)
    if (s.observedAt > now + this.o.maxFutureMs) fail(GossipErrorCode.FROM_FUTURE, `Observed ${s.observedAt - now} ms in the future.`)
    // 5. block sanity
    const head = this.o.heads?.head(s.chainId)
    if (head !== undefined) {
      const h = Number(head)
      if (s.blockNumber > h + this.o.maxBlocksAhead) fail(GossipErrorCode.BLOCK_AHEAD, `Block ${s.blockNumber} is ahead of our head ${h} by more than ${this.o.maxBlocksAhead}.`)
      if (s.blockNumber + this.o.maxBlocksBehind < h) fail(GossipErrorCode.BLOCK_BEHIND, `Block ${s.blockNumber} is behind our head ${h} by more than ${this.o.maxBlocksBehind}.`)
    }
    // 6. dedupe, 7. equivocation
    const scope = payload.kind === PayloadKind.healthSnapshot ? payload.snapshot.market : payload.snapshot.pair
    const part = payload.kind === PayloadKind.healthSnapshot ? payload.snapshot.part : 0
    const opHex = bytesToHex(envelope.signer)
    const scopeHex = bytesToHex(scope)
    const base = `${payload.kind}|${opHex}|${s.chainId}|${scopeHex}|${part}`
    const recentKey = `${base}|${s.blockNumber}`
    const digestHex = bytesToHex(digest)
    const seen = this.recent.get(recentKey)
    const record: SnapshotRecord = { kind: payload.kind, observedAt: s.observedAt, receivedAt, digest, operator: envelope.signer, envelope: data }
    const latest = this.latest.get(base)
    const updatesLatest = latest === undefined || s.blockNumber > latest
    const accepted = { ...payload, record, updatesLatest } as AcceptedSnapshot
    if (seen === digestHex) fail(GossipErrorCode.DUPLICATE, 'Already received.')
    if (seen === EQUIVOCATED) fail(GossipErrorCode.EQUIVOCATION_KNOWN, `Operator ${opHex} already equivocated at block ${s.blockNumber}.`)
    if (seen !== undefined) {
      this.remember(recentKey, EQUIVOCATED)
      // The conflicting snapshot is evidence only: it never replaces the first one.
      accepted.updatesLatest = false
      const conflict: EquivocationKey = { kind: payload.kind, operator: envelope.signer, chainId: s.chainId, scope, blockNumber: s.blockNumber, part }
      return { action: GossipAction.ACCEPT, code: GossipErrorCode.EQUIVOCATION, accepted, conflict }
    }
    this.remember(recentKey, digestHex)
    if (updatesLatest) this.latest.set(base, s.blockNumber)
    return { action: GossipAction.ACCEPT, accepted }
  }

  private remember(key: string, value: string): void {
    if (this.recent.size >= this.o.maxRecent && !this.recent.has(key)) {
      const oldest = this.recent.keys().next().value
      if (oldest !== undefined) this.recent.delete(oldest)
    }
    this.recent.set(key, value)
  }

  /**
   * Seeds the indexes with a snapshot already in the store (after a restart), so that
   * it is recognised as a duplicate and as the latest of its scope.
   */
  seed(record: SnapshotRecord): void {
    try {
      const env = decodeEnvelope(record.envelope)
      const p =
        env.kind === PayloadKind.healthSnapshot
          ? { scope: decodeHealthSnapshot(env.payload), kind: env.kind }
          : { scope: decodeLiquiditySnapshot(env.payload), kind: env.kind }
      const s = p.scope
      const scope = 'market' in s ? s.market : s.pair
      const part = 'part' in s ? s.part : 0
      const base = `${p.kind}|${bytesToHex(env.signer)}|${s.chainId}|${bytesToHex(scope)}|${part}`
      this.remember(`${base}|${s.blockNumber}`, bytesToHex(record.digest))
      const latest = this.latest.get(base)
      if (latest === undefined || s.blockNumber > latest) this.latest.set(base, s.blockNumber)
    } catch {
      // A record that no longer decodes is skipped; the store only holds validated ones.
    }
  }
}
