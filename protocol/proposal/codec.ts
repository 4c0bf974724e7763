/**
 * Codec of proposal values (`protocol/proto/proposal.proto`): what a QBFT PROPOSAL carries for liqnet.
 *
 * A value names its planner inputs by reference — one {@link SnapshotRef} per signed snapshot (≈ 100 bytes) rather
 * than the envelopes themselves (up to 256 KiB each) — so that a value stays small: nodes already hold the snapshots
 * from gossip and fetch the few they miss by key. It carries the settlement plan itself (ABI-encoded, as the hub
 * takes it), so that any node can seal and submit a decided value without recomputing it.
 *
 * Limits: at most {@link MAX_PROPOSAL_VALUE_BYTES} bytes (160 KiB), {@link MAX_PROPOSAL_PINS} pins and
 * {@link MAX_PROPOSAL_SNAPSHOT_REFS} snapshot references. The encoding is canonical (re-encoding the decoded value
 * gives the same bytes, the settlement plan included), so `keccak256(value)` identifies it.
 *
 * Decoders throw {@link ProposalDecodeError} and nothing else.
 */
import protobuf from 'protobufjs'
import { bytesToHex, decodeAbiParameters, hexToBytes, keccak256, type Address, type Hex } from 'viem'
import { BaseError } from '../errors.js'
import { PayloadKind, equalBytes } from '../proto/codec.js'
import { SETTLEMENT_PLAN_ABI, encodeSettlementPlan, type SettlementPlan } from '../settlement/plan.js'
import { proposalSchema } from './schema.js'

/** Version of the value structure. */
export const PROPOSAL_VERSION = 1
/** Largest encoded value: a consensus packet (value + 80 KiB of signed messages and justifications) must fit the gossip transport cap (256 KiB). */
export const MAX_PROPOSAL_VALUE_BYTES = 160 * 1024
/** Most pinned chains in a value. */
export const MAX_PROPOSAL_PINS = 64
/** Most snapshot references in a value. */
export const MAX_PROPOSAL_SNAPSHOT_REFS = 1024

/** One chain's pinned block. `timestamp` in seconds (on-chain time). */
export type PinnedBlock = { chainId: number; blockNumber: bigint; blockHash: Hex; timestamp: bigint }

/** A signed snapshot by store key and digest. `scope` is 32 bytes (market id or padded pool/pair); addresses lowercase. */
export type SnapshotRef = { chainId: number; kind: PayloadKind; scope: Hex; part: number; operator: Address; digest: Hex }

/** A decoded proposal value. Hex strings are lowercase. */
export type ProposalValue = {
  version: number
  /** The QBFT height (plan sequence number), uint64. */
  height: bigint
  /** Strictly ascending chain id. */
  pins: PinnedBlock[]
  /** Strictly ascending (chainId, kind, scope, operator, part). */
  snapshots: SnapshotRef[]
  /** keccak256 of the ABI-encoded planner parameters ({@link paramsDigest}). */
  paramsDigest: Hex
  /** protocol/planner `planHash` of the plan. */
  planHash: Hex
  /** The plan as the hub takes it; `settlementPlan.height` equals `height`. */
  settlementPlan: SettlementPlan
}

export type ProposalErrorCode = 'MALFORMED' | 'NON_CANONICAL' | 'INVALID_FIELD' | 'OVERSIZED'

export type ProposalDecodeErrorType = ProposalDecodeError
/** A value's bytes that are not a canonical, rule-abiding proposal. */
export class ProposalDecodeError extends BaseError {
  override name = 'ProposalDecodeError'
  readonly code: ProposalErrorCode
  readonly field?: string
  constructor(code: ProposalErrorCode, message: string, opts: { field?: string; cause?: unknown } = {}) {
    super(`Cannot decode proposal value: ${message}.`, {
      cause: opts.cause,
      metaMessages: [...(opts.field ? [`Field: ${opts.field}`] : []), 'See docs/proposal.md.'],
    })
    this.code = code
    this.field = opts.field
  }
}

export type ProposalEncodeErrorType = ProposalEncodeError
/** A value that breaks a rule when encoded (too many references, a field out of range). */
export class ProposalEncodeError extends BaseError {
  override name = 'ProposalEncodeError'
  constructor(field: string, rule: string) {
    super(`Cannot encode proposal field ${field}: ${rule}.`, { metaMessages: ['See docs/proposal.md.'] })
  }
}

const root = protobuf.Root.fromJSON(proposalSchema as unknown as protobuf.INamespace)
const ValueType = root.lookupType('liqnet.proposal.v1.ProposalValue')
/** The protobufjs type of a value (for tools and tests). */
export const proposalProtoType = ValueType

const KINDS: readonly number[] = [PayloadKind.healthSnapshot, PayloadKind.liquiditySnapshot]

/** Sort order of snapshot references: (chainId, kind, scope, operator, part). */
export function compareRefs(a: SnapshotRef, b: SnapshotRef): number {
  return (
    a.chainId - b.chainId ||
    a.kind - b.kind ||
    (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0) ||
    (a.operator < b.operator ? -1 : a.operator > b.operator ? 1 : 0) ||
    a.part - b.part
  )
}

function safe(v: bigint | number, field: string, min = 0): number {
  const n = typeof v === 'bigint' ? Number(v) : v
  if (!Number.isSafeInteger(n) || n < min || (typeof v === 'bigint' && BigInt(n) !== v)) throw new ProposalEncodeError(field, `must be an integer in [${min}, 2^53-1]`)
  return n
}
function hexBytes(h: Hex, size: number, field: string): Uint8Array {
  if (typeof h !== 'string' || !/^0x[0-9a-fA-F]*$/.test(h) || h.length !== 2 + 2 * size) throw new ProposalEncodeError(field, `must be ${size} bytes of hex`)
  return hexToBytes(h)
}

/**
 * Encodes a value canonically (pins and references sorted; duplicates refused).
 * @throws ProposalEncodeError, including when the encoding exceeds {@link MAX_PROPOSAL_VALUE_BYTES}.
 */
export function encodeProposalValue(v: ProposalValue): Uint8Array {
  if (v.settlementPlan.height !== v.height) throw new ProposalEncodeError('settlementPlan.height', 'must equal height')
  if (v.pins.length > MAX_PROPOSAL_PINS) throw new ProposalEncodeError('pins', `at most ${MAX_PROPOSAL_PINS}`)
  if (v.snapshots.length > MAX_PROPOSAL_SNAPSHOT_REFS) throw new ProposalEncodeError('snapshots', `at most ${MAX_PROPOSAL_SNAPSHOT_REFS}`)
  const pins = [...v.pins].sort((a, b) => a.chainId - b.chainId)
  for (let i = 1; i < pins.length; i++) if (pins[i - 1].chainId === pins[i].chainId) throw new ProposalEncodeError('pins', 'a chain pinned twice')
  const refs = v.snapshots.map((r) => ({ ...r, scope: r.scope.toLowerCase() as Hex, operator: r.operator.toLowerCase() as Address })).sort(compareRefs)
  for (let i = 1; i < refs.length; i++) if (compareRefs(refs[i - 1], refs[i]) === 0) throw new ProposalEncodeError('snapshots', 'a snapshot referenced twice')
  const msg = {
    version: safe(v.version, 'version', 1),
    height: safe(v.height, 'height'),
    pins: pins.map((p) => ({
      chainId: safe(p.chainId, 'pins.chainId', 1),
      blockNumber: safe(p.blockNumber, 'pins.blockNumber'),
      blockHash: hexBytes(p.blockHash, 32, 'pins.blockHash'),
      timestamp: safe(p.timestamp, 'pins.timestamp'),
    })),
    snapshots: refs.map((r) => {
      if (!KINDS.includes(r.kind)) throw new ProposalEncodeError('snapshots.kind', 'unknown payload kind')
      return {
        chainId: safe(r.chainId, 'snapshots.chainId', 1),
        kind: r.kind,
        scope: hexBytes(r.scope, 32, 'snapshots.scope'),
        part: safe(r.part, 'snapshots.part'),
        operator: hexBytes(r.operator, 20, 'snapshots.operator'),
        digest: hexBytes(r.digest, 32, 'snapshots.digest'),
      }
    }),
    paramsDigest: hexBytes(v.paramsDigest, 32, 'paramsDigest'),
    planHash: hexBytes(v.planHash, 32, 'planHash'),
    settlementPlan: hexToBytes(encodeSettlementPlan(v.settlementPlan)),
  }
  const bytes = ValueType.encode(msg).finish()
  if (bytes.length > MAX_PROPOSAL_VALUE_BYTES) throw new ProposalEncodeError('value', `${bytes.length} bytes, more than ${MAX_PROPOSAL_VALUE_BYTES}`)
  return bytes
}

type Decoded = Record<string, unknown>
const EMPTY = new Uint8Array(0)

function bytesOf(m: Decoded, name: string): Uint8Array {
  const v = m[name]
  return v instanceof Uint8Array ? v : EMPTY
}
function exact(m: Decoded, name: string, size: number, field: string): Uint8Array {
  const b = bytesOf(m, name)
  if (b.length !== size) throw new ProposalDecodeError('INVALID_FIELD', `${field} must be ${size} bytes`, { field })
  return b
}
function u64(m: Decoded, name: string, field: string): number {
  const v = m[name] as protobuf.Long | number | undefined | null
  if (v === undefined || v === null) return 0
  if (typeof v === 'number') return v
  if (v.high >>> 0 > 0x1fffff) throw new ProposalDecodeError('INVALID_FIELD', `${field} exceeds 2^53-1`, { field })
  return (v.high >>> 0) * 0x100000000 + (v.low >>> 0)
}

/**
 * Decodes and checks a value: canonical protobuf; version 1; pins strictly ascending with 32-byte hashes; references
 * strictly ascending with known kinds, 32-byte scopes and digests, 20-byte operators, and chains among the pins;
 * 32-byte digests; a canonical ABI settlement plan of the same height.
 * @throws ProposalDecodeError
 */
export function decodeProposalValue(bytes: Uint8Array): ProposalValue {
  if (!(bytes instanceof Uint8Array)) throw new ProposalDecodeError('MALFORMED', 'input is not bytes')
  if (bytes.length > MAX_PROPOSAL_VALUE_BYTES) throw new ProposalDecodeError('OVERSIZED', `${bytes.length} bytes, more than ${MAX_PROPOSAL_VALUE_BYTES}`)
  let m: Decoded
  try {
    m = ValueType.decode(bytes) as unknown as Decoded
  } catch (err) {
    throw new ProposalDecodeError('MALFORMED', 'not a protobuf ProposalValue', { cause: err })
  }
  let again: Uint8Array
  try {
    again = ValueType.encode(m as never).finish()
  } catch (err) {
    throw new ProposalDecodeError('MALFORMED', 'unencodable ProposalValue', { cause: err })
  }
  if (!equalBytes(again, bytes)) throw new ProposalDecodeError('NON_CANONICAL', 'not the canonical encoding (field order, default values, unknown fields or varints)')
  const version = (m.version as number) ?? 0
  if (version !== PROPOSAL_VERSION) throw new ProposalDecodeError('INVALID_FIELD', `unknown version ${version}`, { field: 'version' })
  const height = BigInt(u64(m, 'height', 'height'))
  const rawPins = (m.pins as Decoded[]) ?? []
  if (rawPins.length > MAX_PROPOSAL_PINS) throw new ProposalDecodeError('OVERSIZED', `more than ${MAX_PROPOSAL_PINS} pins`, { field: 'pins' })
  const pins: PinnedBlock[] = []
  for (const p of rawPins) {
    const chainId = u64(p, 'chainId', 'pins.chainId')
    if (chainId < 1) throw new ProposalDecodeError('INVALID_FIELD', 'pins.chainId must be at least 1', { field: 'pins.chainId' })
    if (pins.length > 0 && pins[pins.length - 1].chainId >= chainId)
      throw new ProposalDecodeError('INVALID_FIELD', 'pins must be sorted by strictly ascending chain id', { field: 'pins' })
    pins.push({
      chainId,
      blockNumber: BigInt(u64(p, 'blockNumber', 'pins.blockNumber')),
      blockHash: bytesToHex(exact(p, 'blockHash', 32, 'pins.blockHash')),
      timestamp: BigInt(u64(p, 'timestamp', 'pins.timestamp')),
    })
  }
  const pinned = new Set(pins.map((p) => p.chainId))
  const rawRefs = (m.snapshots as Decoded[]) ?? []
  if (rawRefs.length > MAX_PROPOSAL_SNAPSHOT_REFS)
    throw new ProposalDecodeError('OVERSIZED', `more than ${MAX_PROPOSAL_SNAPSHOT_REFS} snapshot references`, { field: 'snapshots' })
  const snapshots: SnapshotRef[] = []
  for (const r of rawRefs) {
    const kind = (r.kind as number) ?? 0
    if (!KINDS.includes(kind)) throw new ProposalDecodeError('INVALID_FIELD', `unknown snapshot kind ${kind}`, { field: 'snapshots.kind' })
    const chainId = u64(r, 'chainId', 'snapshots.chainId')
    if (!pinned.has(chainId)) throw new ProposalDecodeError('INVALID_FIELD', `a snapshot of chain ${chainId}, which is not pinned`, { field: 'snapshots.chainId' })
    const ref: SnapshotRef = {
      chainId,
      kind,
      scope: bytesToHex(exact(r, 'scope', 32, 'snapshots.scope')),
      part: (r.part as number) ?? 0,
      operator: bytesToHex(exact(r, 'operator', 20, 'snapshots.operator')),
      digest: bytesToHex(exact(r, 'digest', 32, 'snapshots.digest')),
    }
    if (snapshots.length > 0 && compareRefs(snapshots[snapshots.length - 1], ref) >= 0)
      throw new ProposalDecodeError('INVALID_FIELD', 'snapshots must be sorted by strictly ascending (chainId, kind, scope, operator, part)', { field: 'snapshots' })
    snapshots.push(ref)
  }
  const paramsDigest = bytesToHex(exact(m, 'paramsDigest', 32, 'paramsDigest'))
  const planHash = bytesToHex(exact(m, 'planHash', 32, 'planHash'))
  const settlementPlan = decodeSettlementPlanBytes(bytesOf(m, 'settlementPlan'))
  if (settlementPlan.height !== height) throw new ProposalDecodeError('INVALID_FIELD', 'settlementPlan.height differs from height', { field: 'settlementPlan' })
  return { version, height, pins, snapshots, paramsDigest, planHash, settlementPlan }
}

/** Decodes `abi.encode(SettlementPlan)` and checks it is the canonical encoding. @throws ProposalDecodeError */
export function decodeSettlementPlanBytes(bytes: Uint8Array): SettlementPlan {
  const hex = bytesToHex(bytes)
  let plan: SettlementPlan
  try {
    const [p] = decodeAbiParameters([SETTLEMENT_PLAN_ABI], hex)
    plan = {
      height: p.height,
      legs: p.legs.map((l) => ({ ...l, protocol: l.protocol as 1 | 2, swaps: l.swaps.map((s) => ({ ...s })) })),
    }
  } catch (err) {
    throw new ProposalDecodeError('MALFORMED', 'settlementPlan is not an ABI-encoded SettlementPlan', { field: 'settlementPlan', cause: err })
  }
  let again: Hex
  try {
    again = encodeSettlementPlan(plan)
  } catch (err) {
    throw new ProposalDecodeError('INVALID_FIELD', 'settlementPlan does not re-encode', { field: 'settlementPlan', cause: err })
  }
  if (again !== hex) throw new ProposalDecodeError('NON_CANONICAL', 'settlementPlan is not the canonical ABI encoding', { field: 'settlementPlan' })
  return plan
}

/** The value's digest: keccak256 of its (canonical) bytes. What PREPARE and COMMIT carry. */
export function proposalValueDigest(bytes: Uint8Array): Hex {
  return keccak256(bytes)
}

