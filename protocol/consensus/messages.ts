/**
 * QBFT messages: the EIP-712 digest that operators sign, signing and signature checks,
 * and the canonical protobuf codec of `protocol/proto/consensus.proto`.
 *
 * Signed type (domain `liqnet` v1, see protocol/signing/eip712.ts):
 *   QbftMessage(uint8 kind,uint64 height,uint32 round,bytes32 digest,uint32 preparedRound,bytes32 preparedDigest)
 * digest = keccak256(0x1901 ‖ domainSeparator ‖ keccak256(typeHash ‖ kind ‖ height ‖ round ‖ digest ‖ preparedRound ‖ preparedDigest)),
 * each field one 32-byte ABI word; it equals viem's `hashTypedData` over {@link qbftMessageTypedData}.
 */
import protobuf from 'protobufjs'
import { bytesToHex, hexToBytes, type Address, type Hex } from 'viem'
import { liqnetDomain, type SigningDomain } from '../signing/eip712.js'
import { defaultBackend, type Secp256k1Backend } from '../signing/secp256k1.js'
import { MAX_JUSTIFICATION_ENTRIES, MAX_ROUND, ZERO_DIGEST } from './constants.js'
import { QbftDecodeError, QbftEncodeError } from './errors.js'
import { keccakBytes } from '../keccak.js'
import { consensusSchema } from './schema.js'
import {
  MessageKind,
  type QbftMessage,
  type QbftPacket,
  type SealedCommit,
  type SignedQbftMessage,
} from './types.js'

// ---------------------------------------------------------------- EIP-712

/** EIP-712 types of the QBFT message, in viem's form. Field order is part of the type hash: never reorder. */
export const qbftTypes = {
  QbftMessage: [
    { name: 'kind', type: 'uint8' },
    { name: 'height', type: 'uint64' },
    { name: 'round', type: 'uint32' },
    { name: 'digest', type: 'bytes32' },
    { name: 'preparedRound', type: 'uint32' },
    { name: 'preparedDigest', type: 'bytes32' },
  ],
} as const

/** `keccak256("QbftMessage(uint8 kind,uint64 height,uint32 round,bytes32 digest,uint32 preparedRound,bytes32 preparedDigest)")`. */
export const QBFT_MESSAGE_TYPEHASH = keccakBytes(
  new TextEncoder().encode(`QbftMessage(${qbftTypes.QbftMessage.map((f) => `${f.type} ${f.name}`).join(',')})`),
)

/** The same message as viem typed data (for `hashTypedData`, `signTypedData`, wallets). */
export function qbftMessageTypedData(domain: SigningDomain, m: QbftMessage) {
  return {
    domain: liqnetDomain(domain),
    types: qbftTypes,
    primaryType: 'QbftMessage' as const,
    message: {
      kind: m.kind,
      height: m.height,
      round: m.round,
      digest: m.digest,
      preparedRound: m.preparedRound,
      preparedDigest: m.preparedDigest,
    },
  }
}

function putBigWord(out: Uint8Array, word: number, value: bigint): void {
  const v = new DataView(out.buffer, out.byteOffset)
  v.setBigUint64(word * 32 + 24, value)
}

/** EIP-712 `hashStruct(QbftMessage)`. Assumes a well-formed message (see {@link checkMessageFields}). */
export function qbftMessageStructHash(m: QbftMessage): Uint8Array {
  const enc = new Uint8Array(7 * 32)
  enc.set(QBFT_MESSAGE_TYPEHASH, 0)
  enc[63] = m.kind
  putBigWord(enc, 2, m.height)
  putBigWord(enc, 3, BigInt(m.round))
  enc.set(hexToBytes(m.digest), 4 * 32)
  putBigWord(enc, 5, BigInt(m.preparedRound))
  enc.set(hexToBytes(m.preparedDigest), 6 * 32)
  return keccakBytes(enc)
}

/** The 32-byte EIP-712 digest that the sender signs. */
export function qbftMessageDigest(domainSeparator: Uint8Array, m: QbftMessage): Uint8Array {
  const buf = new Uint8Array(66)
  buf[0] = 0x19
  buf[1] = 0x01
  buf.set(domainSeparator, 2)
  buf.set(qbftMessageStructHash(m), 34)
  return keccakBytes(buf)
}

/** Signs a message with a raw key (no signing protection: for tests, tools and the harness). */
export function signQbftMessage(
  domainSeparator: Uint8Array,
  m: QbftMessage,
  privateKey: Uint8Array,
  signer: Address,
  backend: Secp256k1Backend = defaultBackend,
): SignedQbftMessage {
  return { message: m, signer: signer.toLowerCase() as Address, signature: backend.sign(qbftMessageDigest(domainSeparator, m), privateKey) }
}

/** The address (lowercase) that signed `s.message`, or undefined for an invalid or high-s signature. */
export function recoverQbftSigner(domainSeparator: Uint8Array, s: SignedQbftMessage, backend: Secp256k1Backend = defaultBackend): Address | undefined {
  const pub = backend.recoverPublicKey(qbftMessageDigest(domainSeparator, s.message), s.signature)
  return pub && (bytesToHex(keccakBytes(pub.subarray(1)).subarray(12)) as Address)
}

/** True iff the signature recovers to the claimed signer. */
export function verifyQbftSignature(domainSeparator: Uint8Array, s: SignedQbftMessage, backend: Secp256k1Backend = defaultBackend): boolean {
  return recoverQbftSigner(domainSeparator, s, backend) === s.signer
}

/** The signed message's identity: equal keys ⇔ same signed fields and signer (signature aside). */
export function messageKey(s: SignedQbftMessage): string {
  const m = s.message
  return `${m.kind}:${m.height}:${m.round}:${m.digest}:${m.preparedRound}:${m.preparedDigest}:${s.signer}`
}

/** Builders of the unsigned messages, with the unused fields at their defaults. */
export function makeMessage(kind: MessageKind.proposal | MessageKind.prepare | MessageKind.commit, height: bigint, round: number, digest: Hex): QbftMessage {
  return { kind, height, round, digest, preparedRound: 0, preparedDigest: ZERO_DIGEST }
}
export function makeRoundChange(height: bigint, round: number, prepared?: { round: number; digest: Hex }): QbftMessage {
  return {
    kind: MessageKind.roundChange,
    height,
    round,
    digest: ZERO_DIGEST,
    preparedRound: prepared?.round ?? 0,
    preparedDigest: prepared?.digest ?? ZERO_DIGEST,
  }
}

// ---------------------------------------------------------------- protobuf codec

const root = protobuf.Root.fromJSON(consensusSchema as unknown as protobuf.INamespace)
/** The protobufjs types, for tools and tests. */
export const consensusProtoTypes = {
  QbftSignedMessage: root.lookupType('liqnet.consensus.v1.QbftSignedMessage'),
  QbftSealedCommit: root.lookupType('liqnet.consensus.v1.QbftSealedCommit'),
  QbftPacket: root.lookupType('liqnet.consensus.v1.QbftPacket'),
} as const

const MAX_U64 = (1n << 64n) - 1n
const HEX32 = /^0x[0-9a-f]{64}$/

/**
 * Checks the field rules of a message (used by the encoder and on decoded input).
 * @returns the offending field and rule, or undefined.
 */
export function checkMessageFields(m: QbftMessage): { field: string; rule: string } | undefined {
  if (!(m.kind >= MessageKind.proposal && m.kind <= MessageKind.roundChange)) return { field: 'kind', rule: 'unknown kind' }
  if (typeof m.height !== 'bigint' || m.height < 0n || m.height > MAX_U64) return { field: 'height', rule: 'must be a uint64' }
  if (!Number.isInteger(m.round) || m.round < 0 || m.round > MAX_ROUND) return { field: 'round', rule: `must be an integer in [0, ${MAX_ROUND}]` }
  if (!Number.isInteger(m.preparedRound) || m.preparedRound < 0 || m.preparedRound > MAX_ROUND)
    return { field: 'preparedRound', rule: `must be an integer in [0, ${MAX_ROUND}]` }
  if (typeof m.digest !== 'string' || !HEX32.test(m.digest)) return { field: 'digest', rule: 'must be 32 bytes of lowercase hex' }
  if (typeof m.preparedDigest !== 'string' || !HEX32.test(m.preparedDigest))
    return { field: 'preparedDigest', rule: 'must be 32 bytes of lowercase hex' }
  if (m.kind === MessageKind.roundChange) {
    if (m.round < 1) return { field: 'round', rule: 'a ROUND-CHANGE is for round 1 or later' }
    if (m.digest !== ZERO_DIGEST) return { field: 'digest', rule: 'must be zero in a ROUND-CHANGE' }
    if (m.preparedDigest === ZERO_DIGEST && m.preparedRound !== 0) return { field: 'preparedRound', rule: 'must be 0 when not prepared' }
    if (m.preparedDigest !== ZERO_DIGEST && m.preparedRound >= m.round) return { field: 'preparedRound', rule: 'must be below round' }
  } else {
    if (m.digest === ZERO_DIGEST) return { field: 'digest', rule: 'must not be zero' }
    if (m.preparedRound !== 0 || m.preparedDigest !== ZERO_DIGEST)
      return { field: 'preparedRound', rule: 'prepared fields are for ROUND-CHANGE only' }
  }
  return undefined
}

const EMPTY = new Uint8Array(0)
function digestToWire(d: Hex): Uint8Array {
  return d === ZERO_DIGEST ? EMPTY : hexToBytes(d)
}

function signedToWire(s: SignedQbftMessage, field: string): Record<string, unknown> {
  const bad = checkMessageFields(s.message)
  if (bad) throw new QbftEncodeError(`${field}.${bad.field}`, bad.rule)
  if (typeof s.signer !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(s.signer)) throw new QbftEncodeError(`${field}.signer`, 'must be a 20-byte address')
  if (!(s.signature instanceof Uint8Array) || s.signature.length !== 65) throw new QbftEncodeError(`${field}.signature`, 'must be 65 bytes')
  const m = s.message
  // Canonical: default values (0, empty bytes) are omitted, as the decoder's re-encoding does.
  return compact({
    kind: m.kind,
    height: m.height === 0n ? undefined : m.height.toString(),
    round: m.round,
    digest: digestToWire(m.digest),
    preparedRound: m.preparedRound,
    preparedDigest: digestToWire(m.preparedDigest),
    signer: hexToBytes(s.signer),
    signature: s.signature,
  })
}

/** Drops undefined, 0, empty-bytes and empty-list fields (proto3 defaults). */
function compact(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === 0 || (v instanceof Uint8Array && v.length === 0) || (Array.isArray(v) && v.length === 0)) continue
    out[k] = v
  }
  return out
}

function bytes65(b: Uint8Array, field: string): Uint8Array {
  if (!(b instanceof Uint8Array) || b.length !== 65) throw new QbftEncodeError(field, 'must be 65 bytes')
  return b
}
function nonEmpty(b: Uint8Array, field: string): Uint8Array {
  if (!(b instanceof Uint8Array) || b.length === 0) throw new QbftEncodeError(field, 'must be non-empty bytes')
  return b
}

/**
 * Encodes a packet canonically.
 * @throws QbftEncodeError when a field breaks a rule (see consensus.proto).
 */
export function encodePacket(p: QbftPacket): Uint8Array {
  let obj: Record<string, unknown>
  switch (p.type) {
    case 'proposal':
      obj = {
        message: signedToWire(p.signed, 'message'),
        value: nonEmpty(p.value, 'value'),
        roundChangeJustification: p.roundChangeJustification.map((s, i) => signedToWire(s, `roundChangeJustification[${i}]`)),
        prepareJustification: p.prepareJustification.map((s, i) => signedToWire(s, `prepareJustification[${i}]`)),
      }
      break
    case 'prepare':
      obj = { message: signedToWire(p.signed, 'message') }
      break
    case 'commit':
      obj = { message: signedToWire(p.signed, 'message'), commitSeal: bytes65(p.commitSeal, 'commitSeal') }
      break
    case 'roundChange':
      obj = {
        message: signedToWire(p.signed, 'message'),
        value: p.preparedValue ?? EMPTY,
        prepareJustification: p.prepareJustification.map((s, i) => signedToWire(s, `prepareJustification[${i}]`)),
      }
      break
    case 'decided':
      obj = {
        value: nonEmpty(p.value, 'value'),
        decidedCommits: p.commits.map((c, i) => ({ commit: signedToWire(c.commit, `commits[${i}].commit`), seal: bytes65(c.seal, `commits[${i}].seal`) })),
      }
      break
    default:
      throw new QbftEncodeError('type', 'unknown packet type')
  }
  return consensusProtoTypes.QbftPacket.encode(compact(obj)).finish()
}

// ---------------------------------------------------------------- decoding

type Decoded = Record<string, unknown>
type LongLike = { low: number; high: number }

function view(v: unknown): Uint8Array {
  return v instanceof Uint8Array ? new Uint8Array(v.buffer, v.byteOffset, v.length) : EMPTY
}
function u64(v: unknown): bigint {
  if (v === undefined || v === null) return 0n
  if (typeof v === 'number') return BigInt(v)
  const l = v as LongLike
  return (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0)
}
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0
}
function digestFromWire(b: Uint8Array, field: string): Hex {
  if (b.length === 0) return ZERO_DIGEST
  if (b.length !== 32) throw new QbftDecodeError('MALFORMED', `${field} must be 32 bytes or empty`, { field })
  const h = bytesToHex(b)
  if (h === ZERO_DIGEST) throw new QbftDecodeError('MALFORMED', `${field}: the zero digest is encoded as empty bytes`, { field })
  return h
}

function signedFromWire(m: Decoded | null | undefined, field: string): SignedQbftMessage {
  if (!m) throw new QbftDecodeError('MALFORMED', `${field} is missing`, { field })
  const message: QbftMessage = {
    kind: (m.kind as number) ?? 0,
    height: u64(m.height),
    round: (m.round as number) ?? 0,
    digest: digestFromWire(view(m.digest), `${field}.digest`),
    preparedRound: (m.preparedRound as number) ?? 0,
    preparedDigest: digestFromWire(view(m.preparedDigest), `${field}.preparedDigest`),
  }
  const bad = checkMessageFields(message)
  if (bad) throw new QbftDecodeError('MALFORMED', `${field}.${bad.field} ${bad.rule}`, { field: `${field}.${bad.field}` })
  const signer = view(m.signer)
  if (signer.length !== 20) throw new QbftDecodeError('MALFORMED', `${field}.signer must be 20 bytes`, { field: `${field}.signer` })
  const signature = view(m.signature)
  if (signature.length !== 65) throw new QbftDecodeError('MALFORMED', `${field}.signature must be 65 bytes`, { field: `${field}.signature` })
  return { message, signer: bytesToHex(signer) as Address, signature }
}

function list(v: unknown): Decoded[] {
  return Array.isArray(v) ? (v as Decoded[]) : []
}

/** Limits applied while decoding. */
export type DecodeLimits = {
  /** Largest packet, bytes (checked before decoding). */
  maxPacketBytes: number
  /** Largest value, bytes. */
  maxValueBytes: number
  /** Longest justification list / certificate (usually n). Never above MAX_JUSTIFICATION_ENTRIES. */
  maxJustifications: number
}

function checkCount(n: number, limits: DecodeLimits, field: string): void {
  const max = Math.min(limits.maxJustifications, MAX_JUSTIFICATION_ENTRIES)
  if (n > max) throw new QbftDecodeError('TOO_MANY_JUSTIFICATIONS', `${field} has ${n} entries, more than ${max}`, { field })
}

/**
 * Decodes a packet and checks its field rules (canonical encoding, sizes, which fields each
 * message type carries, justification counts). Signatures, signers and justification
 * semantics are checked by the state machine, not here.
 * @throws QbftDecodeError with code MALFORMED, OVERSIZED or TOO_MANY_JUSTIFICATIONS.
 */
export function decodePacket(bytes: Uint8Array, limits: DecodeLimits): QbftPacket {
  const packet = decodeFields(bytes, limits)
  // Canonical: the bytes must be exactly what encodePacket writes for the decoded packet
  // (ascending fields, no default values, no unknown fields, minimal varints).
  let again: Uint8Array
  try {
    again = encodePacket(packet)
  } catch (err) {
    throw new QbftDecodeError('MALFORMED', 'unencodable QbftPacket', { cause: err })
  }
  if (!equalBytes(again, bytes))
    throw new QbftDecodeError('MALFORMED', 'not the canonical encoding (field order, default values, unknown fields or varints)')
  return packet
}

function decodeFields(bytes: Uint8Array, limits: DecodeLimits): QbftPacket {
  if (!(bytes instanceof Uint8Array)) throw new QbftDecodeError('MALFORMED', 'input is not bytes')
  if (bytes.length > limits.maxPacketBytes)
    throw new QbftDecodeError('OVERSIZED', `${bytes.length} bytes, more than ${limits.maxPacketBytes}`)
  const type = consensusProtoTypes.QbftPacket
  let msg: protobuf.Message
  try {
    msg = type.decode(bytes)
  } catch (err) {
    throw new QbftDecodeError('MALFORMED', 'not a protobuf QbftPacket', { cause: err })
  }
  const m = msg as unknown as Decoded
  const value = view(m.value)
  if (value.length > limits.maxValueBytes)
    throw new QbftDecodeError('OVERSIZED', `value of ${value.length} bytes, more than ${limits.maxValueBytes}`, { field: 'value' })
  const seal = view(m.commitSeal)
  const rcj = list(m.roundChangeJustification)
  const pj = list(m.prepareJustification)
  const dc = list(m.decidedCommits)
  checkCount(rcj.length, limits, 'roundChangeJustification')
  checkCount(pj.length, limits, 'prepareJustification')
  checkCount(dc.length, limits, 'decidedCommits')
  const disallow = (cond: boolean, field: string, what: string) => {
    if (cond) throw new QbftDecodeError('MALFORMED', `${field} is not allowed in a ${what}`, { field })
  }

  if (!m.message) {
    // DECIDED
    disallow(seal.length > 0, 'commitSeal', 'DECIDED')
    disallow(rcj.length > 0, 'roundChangeJustification', 'DECIDED')
    disallow(pj.length > 0, 'prepareJustification', 'DECIDED')
    if (value.length === 0) throw new QbftDecodeError('MALFORMED', 'a DECIDED needs a value', { field: 'value' })
    if (dc.length === 0) throw new QbftDecodeError('MALFORMED', 'a DECIDED needs commits', { field: 'decidedCommits' })
    const commits: SealedCommit[] = dc.map((c, i) => {
      const commit = signedFromWire(c.commit as Decoded, `decidedCommits[${i}].commit`)
      const s = view(c.seal)
      if (s.length !== 65) throw new QbftDecodeError('MALFORMED', `decidedCommits[${i}].seal must be 65 bytes`, { field: `decidedCommits[${i}].seal` })
      return { commit, seal: s }
    })
    return { type: 'decided', height: commits[0].commit.message.height, value, commits }
  }

  const signed = signedFromWire(m.message as Decoded, 'message')
  disallow(dc.length > 0, 'decidedCommits', 'signed message')
  const justifications = (l: Decoded[], field: string) => l.map((s, i) => signedFromWire(s, `${field}[${i}]`))
  switch (signed.message.kind) {
    case MessageKind.proposal:
      disallow(seal.length > 0, 'commitSeal', 'PROPOSAL')
      if (value.length === 0) throw new QbftDecodeError('MALFORMED', 'a PROPOSAL needs a value', { field: 'value' })
      return {
        type: 'proposal',
        signed,
        value,
        roundChangeJustification: justifications(rcj, 'roundChangeJustification'),
        prepareJustification: justifications(pj, 'prepareJustification'),
      }
    case MessageKind.prepare:
      disallow(value.length > 0, 'value', 'PREPARE')
      disallow(seal.length > 0, 'commitSeal', 'PREPARE')
      disallow(rcj.length > 0, 'roundChangeJustification', 'PREPARE')
      disallow(pj.length > 0, 'prepareJustification', 'PREPARE')
      return { type: 'prepare', signed }
    case MessageKind.commit:
      disallow(value.length > 0, 'value', 'COMMIT')
      disallow(rcj.length > 0, 'roundChangeJustification', 'COMMIT')
      disallow(pj.length > 0, 'prepareJustification', 'COMMIT')
      if (seal.length !== 65) throw new QbftDecodeError('MALFORMED', 'commitSeal must be 65 bytes', { field: 'commitSeal' })
      return { type: 'commit', signed, commitSeal: seal }
    case MessageKind.roundChange: {
      disallow(seal.length > 0, 'commitSeal', 'ROUND-CHANGE')
      disallow(rcj.length > 0, 'roundChangeJustification', 'ROUND-CHANGE')
      const prepared = signed.message.preparedDigest !== ZERO_DIGEST
      if (prepared !== value.length > 0)
        throw new QbftDecodeError('MALFORMED', 'a ROUND-CHANGE carries a value exactly when it is prepared', { field: 'value' })
      if (prepared !== pj.length > 0)
        throw new QbftDecodeError('MALFORMED', 'a ROUND-CHANGE carries a PREPARE justification exactly when it is prepared', { field: 'prepareJustification' })
      return {
        type: 'roundChange',
        signed,
        ...(prepared ? { preparedValue: value } : {}),
        prepareJustification: justifications(pj, 'prepareJustification'),
      }
    }
    default:
      throw new QbftDecodeError('MALFORMED', 'unknown message kind', { field: 'message.kind' })
  }
}
