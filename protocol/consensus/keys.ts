/**
 * Small defaults for the injected parts: the value digest and an unprotected key signer.
 */
import type { Hex } from 'viem'
import { defaultBackend, type Secp256k1Backend } from '../signing/secp256k1.js'
import { keccakHex } from '../keccak.js'
import type { QbftSignFn } from './types.js'

/** The default value digest: keccak256 of the value bytes (32 bytes, lowercase hex). */
export function keccakValueDigest(value: Uint8Array): Hex {
  return keccakHex(value)
}

/**
 * A {@link QbftSignFn} that signs every request with a raw key and never refuses.
 * It has NO signing protection: nodes wrap signing in node/consensus's protection; this is for tests and tools.
 */
export function createKeySign(privateKey: Uint8Array, backend: Secp256k1Backend = defaultBackend): QbftSignFn {
  return async (req) => ({ ok: true, signature: backend.sign(req.digest, privateKey) })
}
