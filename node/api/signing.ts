/**
 * Signatures of risk-feed items. Every item the API serves carries its serving operator's
 * EIP-712 signature (domain `liqnet` v1, the network's domain) over
 *
 *     FeedItem(uint8 kind,bytes32 contentHash,uint64 servedAt)
 *
 * - `kind`: 1 account, 2 liquidity, 3 plan ({@link feedKindCode});
 * - `contentHash = keccak256(utf8(canonicalJson(item.data)))`, where canonicalJson writes objects
 *   with their keys sorted (JavaScript string order), no whitespace, numbers as JSON.stringify
 *   writes them; every bigint in `data` is already a decimal string;
 * - `servedAt`: ms since the Unix epoch when this operator first signed this content.
 *
 * A subscriber recomputes contentHash from the data it received, the digest from the typed data,
 * and recovers the signer (client/ does this). Pure functions (no I/O, no clock) except the signer's cache.
 */
import { bytesToHex, concat, getAddress, encodeAbiParameters, hexToBytes, keccak256, type Address, type Hex } from 'viem'
import { liqnetDomain, createDomainSeparator, type SigningDomain } from '../../protocol/signing/eip712.js'
import { recoverAddressBytes, signDigest, type Secp256k1Backend, defaultBackend } from '../../protocol/signing/secp256k1.js'
import type { OperatorSigner } from '../../protocol/signing/envelope.js'

export type FeedKind = 'account' | 'liquidity' | 'plan'
/** Codes of the `kind` field of the typed data. Persisted in signatures: never renumber. */
export const feedKindCode: { [K in FeedKind]: number } = { account: 1, liquidity: 2, plan: 3 }

/** The EIP-712 types, in viem's form (for `hashTypedData` / wallets). */
export const feedItemTypes = {
  FeedItem: [
    { name: 'kind', type: 'uint8' },
    { name: 'contentHash', type: 'bytes32' },
    { name: 'servedAt', type: 'uint64' },
  ],
} as const

export const FEED_ITEM_TYPEHASH = keccak256(new TextEncoder().encode('FeedItem(uint8 kind,bytes32 contentHash,uint64 servedAt)'))

/** The signature part of an item. */
export type FeedProof = {
  /** keccak256 of the canonical JSON of `data`. */
  contentHash: Hex
  /** ms since the Unix epoch. */
  servedAt: number
  /** The serving operator. */
  operator: Address
  /** 65 bytes r ‖ s ‖ v (v = 27 or 28). */
  signature: Hex
}

/** One signed item of the feed. */
export type SignedFeedItem<K extends FeedKind = FeedKind, D = unknown> = { kind: K; data: D; proof: FeedProof }

/** Canonical JSON: sorted keys, no whitespace; rejects bigint, undefined in arrays, non-finite numbers. */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value)
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number')
      return JSON.stringify(value)
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
      const keys = Object.keys(value as object)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .sort()
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`)
  }
}

/** keccak256 of the canonical JSON of `data`. */
export function feedContentHash(data: unknown): Hex {
  return keccak256(new TextEncoder().encode(canonicalJson(data)))
}

/** EIP-712 `hashStruct(FeedItem)`. */
export function feedItemStructHash(kind: FeedKind, contentHash: Hex, servedAt: number): Hex {
  return keccak256(
    encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint8' }, { type: 'bytes32' }, { type: 'uint64' }], [FEED_ITEM_TYPEHASH, feedKindCode[kind], contentHash, BigInt(servedAt)]),
  )
}

/** The digest signed: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct). */
export function feedItemDigest(domainSeparator: Uint8Array, kind: FeedKind, contentHash: Hex, servedAt: number): Uint8Array {
  return keccak256(concat([Uint8Array.of(0x19, 0x01), domainSeparator, hexToBytes(feedItemStructHash(kind, contentHash, servedAt))]), 'bytes')
}

/** The same typed data for viem (`hashTypedData`, `verifyTypedData`). */
export function feedItemTypedData(domain: SigningDomain, kind: FeedKind, contentHash: Hex, servedAt: number) {
  return {
    domain: liqnetDomain(domain),
    types: feedItemTypes,
    primaryType: 'FeedItem' as const,
    message: { kind: feedKindCode[kind], contentHash, servedAt: BigInt(servedAt) },
  }
}

export type FeedVerification = { ok: true; signer: Address } | { ok: false; reason: 'CONTENT_HASH_MISMATCH' | 'BAD_SIGNATURE' | 'UNTRUSTED_SIGNER' | 'MALFORMED' }

/**
 * Verifies an item: recomputes its content hash and recovers the signer of its typed data.
 * `trusted` (lower- or mixed-case addresses) restricts who may have signed.
 */
export function verifyFeedItem(item: SignedFeedItem, domainSeparator: Uint8Array, trusted?: readonly Address[], backend: Secp256k1Backend = defaultBackend): FeedVerification {
  const p = item?.proof
  if (!p || typeof p.contentHash !== 'string' || typeof p.signature !== 'string' || !Number.isSafeInteger(p.servedAt) || !(item.kind in feedKindCode)) return { ok: false, reason: 'MALFORMED' }
  let hash: Hex
  try {
    hash = feedContentHash(item.data)
  } catch {
    return { ok: false, reason: 'MALFORMED' }
  }
  if (hash !== p.contentHash.toLowerCase()) return { ok: false, reason: 'CONTENT_HASH_MISMATCH' }
  let sig: Uint8Array
  try {
    sig = hexToBytes(p.signature)
  } catch {
    return { ok: false, reason: 'MALFORMED' }
  }
  const recovered = recoverAddressBytes(feedItemDigest(domainSeparator, item.kind, hash, p.servedAt), sig, backend)
  if (!recovered) return { ok: false, reason: 'BAD_SIGNATURE' }
  const signer = bytesToHex(recovered) as Address
  if (signer !== p.operator.toLowerCase()) return { ok: false, reason: 'BAD_SIGNATURE' }
  if (trusted && !trusted.some((t) => t.toLowerCase() === signer)) return { ok: false, reason: 'UNTRUSTED_SIGNER' }
  return { ok: true, signer }
}

export type FeedSignerOptions = {
  signer: OperatorSigner
  domain?: SigningDomain
  /** Signatures kept for content already served (a repeated GET costs no signature). @default 100_000 */
  cacheSize?: number
  now?: () => number
  backend?: Secp256k1Backend
  /** Called on every new signature (a cache miss), e.g. to count it. */
  onSign?: (kind: FeedKind) => void
}

/** Signs feed items, caching one proof per (kind, contentHash): `servedAt` is the first time it was served. */
export class FeedSigner {
  readonly operator: Address
  readonly domain: SigningDomain
  readonly domainSeparator: Uint8Array
  private readonly cache = new Map<string, FeedProof>()
  private readonly cacheSize: number
  private readonly now: () => number

  constructor(private readonly o: FeedSignerOptions) {
    this.operator = getAddress(o.signer.address)
    this.domain = o.domain ?? {}
    this.domainSeparator = createDomainSeparator(this.domain)
    this.cacheSize = o.cacheSize ?? 100_000
    this.now = o.now ?? Date.now
  }

  sign<K extends FeedKind, D>(kind: K, data: D): SignedFeedItem<K, D> {
    const contentHash = feedContentHash(data)
    const key = `${kind}:${contentHash}`
    let proof = this.cache.get(key)
    if (!proof) {
      const servedAt = this.now()
      const signature = signDigest(feedItemDigest(this.domainSeparator, kind, contentHash, servedAt), this.o.signer.privateKey, this.o.backend)
      proof = { contentHash, servedAt, operator: this.operator, signature: bytesToHex(signature) }
      this.cache.set(key, proof)
      if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string)
      this.o.onSign?.(kind)
    }
    return { kind, data, proof }
  }
}
