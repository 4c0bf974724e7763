/**
 * secp256k1 for the hot path: Ethereum-style signatures (r ‖ s ‖ v, v = 27 + recovery id,
 * low s as in EIP-2) over 32-byte digests, with two interchangeable backends:
 * - `native`: the `secp256k1` package's libsecp256k1 binding (~10k recoveries/s);
 * - `noble`: `@noble/curves` (pure JS, ~200 recoveries/s), used when the binding does not load.
 * Both give identical signatures (RFC 6979 deterministic nonces) and recoveries.
 */
import { createRequire } from 'node:module'
import { secp256k1 as noble } from '@noble/curves/secp256k1.js'
import { keccak256 } from 'viem'

export type Secp256k1Backend = {
  readonly name: 'native' | 'noble'
  /** Signs a 32-byte digest (no prehash); returns 65 bytes r ‖ s ‖ v with v ∈ {27, 28}, low s. */
  sign(digest: Uint8Array, privateKey: Uint8Array): Uint8Array
  /** Recovers the 65-byte uncompressed public key, or `undefined` if the signature is invalid. */
  recoverPublicKey(digest: Uint8Array, signature: Uint8Array): Uint8Array | undefined
}

/** secp256k1 group order n and n/2 (EIP-2: s must be ≤ n/2). */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const HALF_N = N >> 1n

type NativeBinding = {
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array): { signature: Uint8Array; recid: number }
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed?: boolean): Uint8Array
}

function loadNative(): NativeBinding | undefined {
  try {
    // The package's index silently falls back to `elliptic`; load the binding itself.
    return createRequire(import.meta.url)('secp256k1/bindings') as NativeBinding
  } catch {
    return undefined
  }
}

function readS(signature: Uint8Array): bigint {
  let s = 0n
  for (let i = 32; i < 64; i++) s = (s << 8n) | BigInt(signature[i])
  return s
}

/** True if the 65-byte signature has r, s in [1, n-1], s ≤ n/2 and v ∈ {27, 28}. */
export function isCanonicalSignature(signature: Uint8Array): boolean {
  if (signature.length !== 65 || (signature[64] !== 27 && signature[64] !== 28)) return false
  let r = 0n
  for (let i = 0; i < 32; i++) r = (r << 8n) | BigInt(signature[i])
  const s = readS(signature)
  return r > 0n && r < N && s > 0n && s <= HALF_N
}

const nativeBinding = loadNative()

/** The libsecp256k1 backend, or `undefined` when the native binding is unavailable. */
export const nativeBackend: Secp256k1Backend | undefined = nativeBinding && {
  name: 'native',
  sign(digest, privateKey) {
    const { signature, recid } = nativeBinding.ecdsaSign(digest, privateKey)
    const out = new Uint8Array(65)
    out.set(signature, 0)
    out[64] = 27 + recid
    return out
  },
  recoverPublicKey(digest, signature) {
    if (!isCanonicalSignature(signature)) return undefined
    try {
      return nativeBinding.ecdsaRecover(signature.subarray(0, 64), signature[64] - 27, digest, false)
    } catch {
      return undefined
    }
  },
}

/** The pure-JS backend (@noble/curves). */
export const nobleBackend: Secp256k1Backend = {
  name: 'noble',
  sign(digest, privateKey) {
    // noble's 'recovered' format is recovery ‖ r ‖ s.
    const rec = noble.sign(digest, privateKey, { prehash: false, format: 'recovered', lowS: true })
    const out = new Uint8Array(65)
    out.set(rec.subarray(1, 65), 0)
    out[64] = 27 + rec[0]
    return out
  },
  recoverPublicKey(digest, signature) {
    if (!isCanonicalSignature(signature)) return undefined
    try {
      const rec = new Uint8Array(65)
      rec[0] = signature[64] - 27
      rec.set(signature.subarray(0, 64), 1)
      const compressed = noble.recoverPublicKey(rec, digest, { prehash: false })
      return noble.Point.fromBytes(compressed).toBytes(false)
    } catch {
      return undefined
    }
  },
}

/** The backend used by default: native when it loads, noble otherwise. */
export const defaultBackend: Secp256k1Backend = nativeBackend ?? nobleBackend

/** Ethereum address (20 bytes) of a 65-byte uncompressed public key. */
export function publicKeyToAddressBytes(publicKey: Uint8Array): Uint8Array {
  return keccak256(publicKey.subarray(1), 'bytes').subarray(12)
}

/** Address (20 bytes) of a 32-byte private key. */
export function privateKeyToAddressBytes(privateKey: Uint8Array): Uint8Array {
  return publicKeyToAddressBytes(noble.getPublicKey(privateKey, false))
}

/** Signs a digest; see {@link Secp256k1Backend.sign}. */
export function signDigest(digest: Uint8Array, privateKey: Uint8Array, backend: Secp256k1Backend = defaultBackend): Uint8Array {
  return backend.sign(digest, privateKey)
}

/** Recovers the signer address (20 bytes) of a digest, or `undefined` for an invalid or high-s signature. */
export function recoverAddressBytes(
  digest: Uint8Array,
  signature: Uint8Array,
  backend: Secp256k1Backend = defaultBackend,
): Uint8Array | undefined {
  const pub = backend.recoverPublicKey(digest, signature)
  return pub && publicKeyToAddressBytes(pub)
}
