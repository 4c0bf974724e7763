/**
 * Signing and opening of `SignedEnvelope`s: the canonical payload bytes plus the
 * operator's EIP-712 signature over the payload's digest (see `eip712.ts`).
 */
import { bytesToHex, hexToBytes, type Address, type Hex } from 'viem'
import {
  PayloadKind,
  decodeEnvelope,
  decodeHealthSnapshot,
  decodeLiquiditySnapshot,
  encodeEnvelope,
  encodeWireHealthSnapshot,
  encodeWireLiquiditySnapshot,
  equalBytes,
  type WireEnvelope,
} from '../proto/codec.js'
import { BaseError } from '../errors.js'
import { payloadDigest, type SignedPayload } from './eip712.js'
import { defaultBackend, privateKeyToAddressBytes, recoverAddressBytes, type Secp256k1Backend } from './secp256k1.js'

/** An operator's signing key: 32 raw bytes or 0x-hex. */
export type OperatorKey = Uint8Array | Hex

function keyBytes(key: OperatorKey): Uint8Array {
  const b = typeof key === 'string' ? hexToBytes(key) : key
  if (b.length !== 32) throw new BaseError('Operator private key must be 32 bytes.', { metaMessages: ['Pass a 0x-prefixed 64-hex-digit secp256k1 key.'] })
  return b
}

/** An operator signer with its address computed once. */
export type OperatorSigner = { address: Address; addressBytes: Uint8Array; privateKey: Uint8Array }
export function createOperatorSigner(key: OperatorKey): OperatorSigner {
  const privateKey = keyBytes(key)
  const addressBytes = privateKeyToAddressBytes(privateKey)
  return { address: bytesToHex(addressBytes), addressBytes, privateKey }
}

export type SignedMessage = {
  /** The encoded SignedEnvelope, ready to publish. */
  bytes: Uint8Array
  envelope: WireEnvelope
  /** The EIP-712 digest that was signed. */
  digest: Uint8Array
}

/** Encodes and signs a payload. @throws WireEncodeError (via the encoders) on invalid fields. */
export function signPayload(
  payload: SignedPayload,
  signer: OperatorSigner,
  domainSeparator: Uint8Array,
  backend: Secp256k1Backend = defaultBackend,
): SignedMessage {
  const payloadBytes =
    payload.kind === PayloadKind.healthSnapshot ? encodeWireHealthSnapshot(payload.snapshot) : encodeWireLiquiditySnapshot(payload.snapshot)
  const digest = payloadDigest(domainSeparator, payload)
  const signature = backend.sign(digest, signer.privateKey)
  const envelope: WireEnvelope = { kind: payload.kind, payload: payloadBytes, signer: signer.addressBytes, signature }
  return { bytes: encodeEnvelope(envelope), envelope, digest }
}

/** Decodes the payload carried by an envelope. @throws WireDecodeError */
export function decodePayload(envelope: WireEnvelope): SignedPayload {
  return envelope.kind === PayloadKind.healthSnapshot
    ? { kind: PayloadKind.healthSnapshot, snapshot: decodeHealthSnapshot(envelope.payload) }
    : { kind: PayloadKind.liquiditySnapshot, snapshot: decodeLiquiditySnapshot(envelope.payload) }
}

export type InvalidSignatureErrorType = InvalidSignatureError
export class InvalidSignatureError extends BaseError {
  override name = 'InvalidSignatureError'
  constructor(claimed: Uint8Array, recovered: Uint8Array | undefined) {
    super('Envelope signature does not recover to its signer.', {
      metaMessages: [`Claimed signer: ${bytesToHex(claimed)}`, `Recovered: ${recovered ? bytesToHex(recovered) : 'none (invalid or high-s signature)'}`],
    })
  }
}

export type OpenedEnvelope = { envelope: WireEnvelope; payload: SignedPayload; digest: Uint8Array; signer: Address }

/**
 * Decodes an envelope and its payload and checks the signature recovers to the claimed signer.
 * Operator-set membership, freshness and the rest are the gossip validator's business.
 * @throws WireDecodeError, InvalidSignatureError
 */
export function openEnvelope(bytes: Uint8Array, domainSeparator: Uint8Array, backend: Secp256k1Backend = defaultBackend): OpenedEnvelope {
  const envelope = decodeEnvelope(bytes)
  const payload = decodePayload(envelope)
  const digest = payloadDigest(domainSeparator, payload)
  const recovered = recoverAddressBytes(digest, envelope.signature, backend)
  if (!recovered || !equalBytes(recovered, envelope.signer)) throw new InvalidSignatureError(envelope.signer, recovered)
  return { envelope, payload, digest, signer: bytesToHex(envelope.signer) }
}
