/**
 * Signing protection: the node's own record of every consensus signature it let out, kept in
 * a LevelDB directory of its own and written with `{ sync: true }` (fsync) *before* the
 * signature leaves the process, so that a crash (even `kill -9`) followed by a restart can
 * never make the operator key sign two conflicting things. In the spirit of Ethereum's
 * slashing protection (EIP-3076), and exported/imported in an interchange format described in
 * docs/signing-protection.md.
 *
 * Rules, checked in this order for each request:
 * 1. TOO_FAR_AHEAD: the height is more than `maxHeightsAhead` above the node's own height.
 * 2. Exact record of (kind, height, round): same digest → allowed again (idempotent, e.g. a
 *    re-broadcast); another digest → EQUIVOCATION (PROPOSAL, PREPARE, COMMIT) or SEAL_CONFLICT
 *    (commit seals are keyed by height alone: one plan per height); a record without a digest
 *    (imported as "signed, digest unknown") → BLOCKED.
 * 3. STALE: (height, round) below the highest (height, round) already signed for that kind
 *    (heights only for seals). QBFT only moves forward, so a lower one is never needed.
 *
 * Checks and the in-memory reservation are synchronous, so concurrent requests cannot both
 * pass; the write is one atomic, fsynced level batch per request group (a COMMIT and its seal).
 */
import { Level } from 'level'
import { bytesToHex, hexToBytes, type Address, type Hex } from 'viem'
import { z } from 'zod'
import { BaseError } from '../../protocol/errors.js'

/** What is protected. Numbers are persisted (first byte of a record key's body): never renumber or reuse. */
export enum ProtectedKind {
  proposal = 1,
  prepare = 2,
  commit = 3,
  // 4 is MessageKind.roundChange: a ROUND-CHANGE signs no value and is not protected.
  /** EIP-712 `CommitSeal(uint64 height,bytes32 planDigest)`: keyed by height only. */
  seal = 5,
}

/** Names of the kinds in the interchange format. */
export const protectedKindName = {
  [ProtectedKind.proposal]: 'PROPOSAL',
  [ProtectedKind.prepare]: 'PREPARE',
  [ProtectedKind.commit]: 'COMMIT',
  [ProtectedKind.seal]: 'COMMIT_SEAL',
} as const satisfies { [K in ProtectedKind]: string }

/**
 * One signature about to be made.
 * - PROPOSAL, PREPARE, COMMIT: `digest` is the value digest the QBFT message carries.
 * - Commit seal: `digest` is the settlement plan digest (`settlementPlanDigest`), per height.
 */
export type ProtectedSignature =
  | { kind: ProtectedKind.proposal | ProtectedKind.prepare | ProtectedKind.commit; height: bigint; round: number; digest: Hex }
  | { kind: ProtectedKind.seal; height: bigint; digest: Hex }

/** Why a signature was refused. Codes are metric labels: add, never rename. */
export enum RefusalCode {
  EQUIVOCATION = 'EQUIVOCATION',
  SEAL_CONFLICT = 'SEAL_CONFLICT',
  STALE = 'STALE',
  TOO_FAR_AHEAD = 'TOO_FAR_AHEAD',
  BLOCKED = 'BLOCKED',
  WRITE_FAILED = 'WRITE_FAILED',
  CLOSED = 'CLOSED',
}

export type SigningRefusedErrorType = SigningRefusedError
/** The record forbids this signature; nothing was signed. */
export class SigningRefusedError extends BaseError {
  override name = 'SigningRefusedError'
  readonly code: RefusalCode
  readonly request: ProtectedSignature
  constructor(code: RefusalCode, request: ProtectedSignature, detail: string, cause?: unknown) {
    const round = request.kind === ProtectedKind.seal ? '' : ` round ${request.round}`
    super(`Signing protection refused ${protectedKindName[request.kind]} at height ${request.height}${round}: ${detail}.`, {
      cause,
      metaMessages: [
        `Code: ${code}`,
        code === RefusalCode.WRITE_FAILED
          ? 'The record could not be written to disk; check the data directory (space, permissions).'
          : 'This protects the operator key from signing two conflicting values; do not delete the protection record.',
      ],
    })
    this.code = code
    this.request = request
  }
}

export type SigningProtectionMismatchErrorType = SigningProtectionMismatchError
/** The record on disk belongs to another operator key or another network. */
export class SigningProtectionMismatchError extends BaseError {
  override name = 'SigningProtectionMismatchError'
  constructor(path: string, field: 'operator' | 'domainSeparator', stored: string, given: string) {
    super(`The signing protection record at ${path} was made for another ${field === 'operator' ? 'operator' : 'network'}.`, {
      metaMessages: [`Field: ${field}`, `Stored: ${stored}`, `Configured: ${given}`, 'Each operator key and network needs its own protection directory.'],
    })
  }
}

export type SigningProtectionImportErrorType = SigningProtectionImportError
/** An interchange document that cannot be imported; names the offending field. */
export class SigningProtectionImportError extends BaseError {
  override name = 'SigningProtectionImportError'
  readonly field: string
  constructor(field: string, rule: string, cause?: unknown) {
    super(`Cannot import the signing protection record: ${field} ${rule}.`, {
      cause,
      metaMessages: [`Field: ${field}`, 'See docs/signing-protection.md for the interchange format.'],
    })
    this.field = field
  }
}

export type SigningProtectionOpenErrorType = SigningProtectionOpenError
export class SigningProtectionOpenError extends BaseError {
  override name = 'SigningProtectionOpenError'
  constructor(path: string, cause: unknown) {
    super(`Cannot open the signing protection record at ${path}.`, {
      cause,
      metaMessages: ['Is another process using it? Only one node may sign with one operator key.'],
    })
  }
}

export type SigningProtectionOptions = {
  /** Directory of the protection LevelDB (its own, not the snapshot store). */
  path: string
  /** The operator address whose signatures are recorded. */
  operator: Address
  /** The network the signatures belong to: the 32-byte commit-seal domain separator (hub chain id + hub). */
  domainSeparator: Uint8Array | Hex
  /** Signatures for heights more than this far above the node's own height are refused. @default 2n */
  maxHeightsAhead?: bigint
  /** Exact records older than this many heights below the node's own height are pruned (the watermark stays). @default 1024n */
  keepHeights?: bigint
  /** Counts refusals (metrics). Must not throw. */
  onRefused?: (code: RefusalCode, request: ProtectedSignature) => void
}

export const defaultSigningProtectionOptions = { maxHeightsAhead: 2n, keepHeights: 1024n } as const

/** Interchange format identifier and version (docs/signing-protection.md). */
export const INTERCHANGE_FORMAT = 'liqnet.signing-protection'
export const INTERCHANGE_FORMAT_VERSION = '1'

/** One record of the interchange document (docs/signing-protection.md). */
export type InterchangeMessage = { kind: 'PROPOSAL' | 'PREPARE' | 'COMMIT'; height: string; round: string; digest?: Hex }
export type InterchangeSeal = { height: string; plan_digest?: Hex }
export type SigningProtectionInterchange = {
  metadata: { interchange_format: typeof INTERCHANGE_FORMAT; interchange_format_version: typeof INTERCHANGE_FORMAT_VERSION; domain_separator: Hex }
  data: { operator: Address; signed_messages: InterchangeMessage[]; signed_seals: InterchangeSeal[] }[]
}

/** Outcome of an import. */
export type ImportSummary = { added: number; unchanged: number; conflicts: number; skippedOperators: Address[] }

const HEX32 = /^0x[0-9a-fA-F]{64}$/
const UINT64 = /^(0|[1-9][0-9]{0,19})$/
const MAX_UINT64 = (1n << 64n) - 1n
const MAX_UINT32 = 0xffffffff

const uint64 = z
  .string()
  .regex(UINT64, 'a decimal uint64 string')
  .refine((s) => BigInt(s) <= MAX_UINT64, 'at most 2^64-1')
const uint32 = z
  .string()
  .regex(UINT64, 'a decimal uint32 string')
  .refine((s) => BigInt(s) <= BigInt(MAX_UINT32), 'at most 2^32-1')
const digest = z.string().regex(HEX32, '32-byte 0x-hex') as unknown as z.ZodType<Hex>
const interchangeSchema = z.object({
  metadata: z.object({
    interchange_format: z.literal(INTERCHANGE_FORMAT),
    interchange_format_version: z.literal(INTERCHANGE_FORMAT_VERSION),
    domain_separator: digest,
  }),
  data: z.array(
    z.object({
      operator: z.string().regex(/^0x[0-9a-fA-F]{40}$/, '20-byte 0x-hex address'),
      signed_messages: z.array(z.object({ kind: z.enum(['PROPOSAL', 'PREPARE', 'COMMIT']), height: uint64, round: uint32, digest: digest.optional() })),
      signed_seals: z.array(z.object({ height: uint64, plan_digest: digest.optional() })),
    }),
  ),
})

// ---------------------------------------------------------------- persisted layout

/** Key prefixes of the protection database. Persisted: never renumber or reuse. */
enum ProtectionBucket {
  /** The owner: JSON { version, operator, domainSeparator }. */
  meta = 1,
  /** (kind u8, height u64 BE, round u32 BE) → 32-byte digest, or empty = blocked (digest unknown / conflicting import). */
  record = 2,
}
const META_KEY = Uint8Array.of(ProtectionBucket.meta)
const BLOCKED = null
type RecordValue = Hex | typeof BLOCKED

function recordKey(kind: ProtectedKind, height: bigint, round: number): Uint8Array {
  const key = new Uint8Array(14)
  const view = new DataView(key.buffer)
  key[0] = ProtectionBucket.record
  key[1] = kind
  view.setBigUint64(2, height)
  view.setUint32(10, round)
  return key
}
function parseRecordKey(key: Uint8Array): { kind: ProtectedKind; height: bigint; round: number } {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength)
  return { kind: key[1] as ProtectedKind, height: view.getBigUint64(2), round: view.getUint32(10) }
}
const mapKey = (kind: ProtectedKind, height: bigint, round: number) => `${kind}:${height}:${round}`
const roundOf = (r: ProtectedSignature) => (r.kind === ProtectedKind.seal ? 0 : r.round)

type Mark = { height: bigint; round: number }
const below = (a: Mark, b: Mark) => a.height < b.height || (a.height === b.height && a.round < b.round)

/**
 * The signing protection record of one operator key on one network.
 *
 * @example
 * const protection = await SigningProtection.open({ path: join(dataDir, 'protection'), operator, domainSeparator })
 * protection.setLocalHeight(7n)
 * await protection.guard([{ kind: ProtectedKind.prepare, height: 7n, round: 0, digest }]) // throws SigningRefusedError on conflict
 * // ... only now sign and send
 */
export class SigningProtection {
  private readonly entries = new Map<string, RecordValue>()
  private readonly marks = new Map<ProtectedKind, Mark>()
  private localHeight = 0n
  private closed = false
  private readonly maxHeightsAhead: bigint
  private readonly keepHeights: bigint
  readonly domainSeparator: Hex
  readonly operator: Address

  private constructor(
    private readonly db: Level<Uint8Array, Uint8Array>,
    private readonly options: SigningProtectionOptions,
  ) {
    this.maxHeightsAhead = options.maxHeightsAhead ?? defaultSigningProtectionOptions.maxHeightsAhead
    this.keepHeights = options.keepHeights ?? defaultSigningProtectionOptions.keepHeights
    this.domainSeparator = (typeof options.domainSeparator === 'string' ? options.domainSeparator : bytesToHex(options.domainSeparator)).toLowerCase() as Hex
    this.operator = options.operator.toLowerCase() as Address
  }

  /**
   * Opens (creating if needed) the record and loads it.
   * @throws SigningProtectionOpenError when the directory cannot be opened (e.g. used by another process);
   *   SigningProtectionMismatchError when it belongs to another operator or network.
   */
  static async open(options: SigningProtectionOptions): Promise<SigningProtection> {
    const db = new Level<Uint8Array, Uint8Array>(options.path, { keyEncoding: 'view', valueEncoding: 'view' })
    try {
      await db.open()
    } catch (err) {
      throw new SigningProtectionOpenError(options.path, err)
    }
    const p = new SigningProtection(db, options)
    try {
      await p.load()
    } catch (err) {
      await db.close()
      throw err
    }
    return p
  }

  private async load(): Promise<void> {
    const meta = await this.db.get(META_KEY)
    if (meta === undefined) {
      const owner = { version: 1, operator: this.operator, domainSeparator: this.domainSeparator }
      await this.db.put(META_KEY, new TextEncoder().encode(JSON.stringify(owner)), { sync: true })
    } else {
      const owner = JSON.parse(new TextDecoder().decode(meta)) as { operator: string; domainSeparator: string }
      if (owner.operator !== this.operator) throw new SigningProtectionMismatchError(this.options.path, 'operator', owner.operator, this.operator)
      if (owner.domainSeparator !== this.domainSeparator)
        throw new SigningProtectionMismatchError(this.options.path, 'domainSeparator', owner.domainSeparator, this.domainSeparator)
    }
    for await (const [key, value] of this.db.iterator({ gte: Uint8Array.of(ProtectionBucket.record), lt: Uint8Array.of(ProtectionBucket.record + 1) })) {
      const { kind, height, round } = parseRecordKey(key)
      this.remember(kind, height, round, value.length === 32 ? bytesToHex(value) : BLOCKED)
    }
    for (const m of this.marks.values()) if (m.height > this.localHeight) this.localHeight = m.height
  }

  private remember(kind: ProtectedKind, height: bigint, round: number, value: RecordValue): void {
    this.entries.set(mapKey(kind, height, round), value)
    const mark = this.marks.get(kind)
    if (!mark || below(mark, { height, round })) this.marks.set(kind, { height, round })
  }

  /** The node's own height (the height it runs); requests more than `maxHeightsAhead` above it are refused. */
  get height(): bigint {
    return this.localHeight
  }

  /** Sets the node's own height (call when a height starts). Prunes old exact records now and then. */
  setLocalHeight(height: bigint): void {
    this.localHeight = height
    if (height > 0n && height % 64n === 0n) void this.prune().catch(() => {})
  }

  /** True when `height` is more than `maxHeightsAhead` above the node's own height (nothing may be signed for it). */
  isTooFarAhead(height: bigint): boolean {
    return height > this.localHeight + this.maxHeightsAhead
  }

  /** The highest (height, round) signed for `kind`, if any. */
  watermark(kind: ProtectedKind): { height: bigint; round: number } | undefined {
    const m = this.marks.get(kind)
    return m && { ...m }
  }

  /** The refusal this request would get now, or `undefined` if it may be signed. Writes nothing. */
  check(request: ProtectedSignature): RefusalCode | undefined {
    if (this.closed) return RefusalCode.CLOSED
    if (this.isTooFarAhead(request.height)) return RefusalCode.TOO_FAR_AHEAD
    const round = roundOf(request)
    const existing = this.entries.get(mapKey(request.kind, request.height, round))
    if (existing === BLOCKED) return RefusalCode.BLOCKED
    if (existing !== undefined) {
      if (existing === request.digest.toLowerCase()) return undefined
      return request.kind === ProtectedKind.seal ? RefusalCode.SEAL_CONFLICT : RefusalCode.EQUIVOCATION
    }
    const mark = this.marks.get(request.kind)
    if (mark && below({ height: request.height, round }, mark)) return RefusalCode.STALE
    return undefined
  }

  /**
   * Checks every request, records them all and fsyncs the record, in one atomic batch. Only after it
   * resolves may the signatures be made and sent. Either all requests pass or none is recorded.
   * @throws SigningRefusedError (code EQUIVOCATION, SEAL_CONFLICT, STALE, TOO_FAR_AHEAD, BLOCKED, CLOSED, or WRITE_FAILED).
   */
  async guard(requests: readonly ProtectedSignature[]): Promise<void> {
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i]
      let code = this.check(r)
      // Two different digests for one key inside the same group.
      if (!code) for (let j = 0; j < i; j++) if (requests[j].kind === r.kind && requests[j].height === r.height && roundOf(requests[j]) === roundOf(r) && requests[j].digest.toLowerCase() !== r.digest.toLowerCase()) code = r.kind === ProtectedKind.seal ? RefusalCode.SEAL_CONFLICT : RefusalCode.EQUIVOCATION
      if (code) {
        this.options.onRefused?.(code, r)
        throw new SigningRefusedError(code, r, refusalDetail[code])
      }
    }
    const batch = this.db.batch()
    let writes = 0
    for (const r of requests) {
      const round = roundOf(r)
      const digest = r.digest.toLowerCase() as Hex
      if (this.entries.get(mapKey(r.kind, r.height, round)) === digest) continue
      // Reserve in memory before the write: a concurrent request now sees this record.
      this.remember(r.kind, r.height, round, digest)
      batch.put(recordKey(r.kind, r.height, round), hexToBytes(digest))
      writes++
    }
    if (writes === 0) {
      await batch.close()
      return
    }
    try {
      await batch.write({ sync: true })
    } catch (err) {
      // The reservation stays in memory (more restrictive); nothing is signed.
      this.options.onRefused?.(RefusalCode.WRITE_FAILED, requests[0])
      throw new SigningRefusedError(RefusalCode.WRITE_FAILED, requests[0], refusalDetail[RefusalCode.WRITE_FAILED], err)
    }
  }

  /** Deletes exact records more than `keepHeights` below the node's height, keeping each kind's highest record (the watermark). */
  async prune(): Promise<number> {
    if (this.closed) return 0
    const ops: { type: 'del'; key: Uint8Array }[] = []
    for (const [key, _] of this.entries) {
      const [k, h, r] = key.split(':')
      const kind = Number(k) as ProtectedKind
      const height = BigInt(h)
      const mark = this.marks.get(kind)!
      const cutoff = this.localHeight - this.keepHeights < mark.height ? this.localHeight - this.keepHeights : mark.height
      if (height < cutoff) {
        ops.push({ type: 'del', key: recordKey(kind, height, Number(r)) })
        this.entries.delete(key)
      }
    }
    if (ops.length) await this.db.batch(ops, { sync: true })
    return ops.length
  }

  /** The whole record as an interchange document (docs/signing-protection.md). */
  export(): SigningProtectionInterchange {
    const signed_messages: InterchangeMessage[] = []
    const signed_seals: InterchangeSeal[] = []
    const rows = [...this.entries].map(([key, value]) => {
      const [k, h, r] = key.split(':')
      return { kind: Number(k) as ProtectedKind, height: BigInt(h), round: Number(r), value }
    })
    rows.sort((a, b) => (a.height !== b.height ? (a.height < b.height ? -1 : 1) : a.round - b.round || a.kind - b.kind))
    for (const row of rows) {
      if (row.kind === ProtectedKind.seal) signed_seals.push({ height: String(row.height), ...(row.value ? { plan_digest: row.value } : {}) })
      else
        signed_messages.push({
          kind: protectedKindName[row.kind],
          height: String(row.height),
          round: String(row.round),
          ...(row.value ? { digest: row.value } : {}),
        })
    }
    return {
      metadata: { interchange_format: INTERCHANGE_FORMAT, interchange_format_version: INTERCHANGE_FORMAT_VERSION, domain_separator: this.domainSeparator },
      data: [{ operator: this.operator, signed_messages, signed_seals }],
    }
  }

  /**
   * Merges an interchange document into the record, keeping the most restrictive of both:
   * records are united; a key recorded with two different digests (or without a digest) becomes
   * BLOCKED (nothing may be signed for it any more); the watermarks become the highest of both.
   * Entries of other operators are skipped and listed.
   * @throws SigningProtectionImportError when the document is malformed or made for another network.
   */
  async import(document: unknown): Promise<ImportSummary> {
    if (this.closed) throw new SigningProtectionImportError('record', 'is closed')
    const parsed = interchangeSchema.safeParse(document)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new SigningProtectionImportError(issue.path.join('.') || 'document', issue.message, parsed.error)
    }
    const doc = parsed.data
    if (doc.metadata.domain_separator.toLowerCase() !== this.domainSeparator)
      throw new SigningProtectionImportError('metadata.domain_separator', `is ${doc.metadata.domain_separator}, this node's network is ${this.domainSeparator}`)
    const summary: ImportSummary = { added: 0, unchanged: 0, conflicts: 0, skippedOperators: [] }
    const incoming: { kind: ProtectedKind; height: bigint; round: number; value: RecordValue }[] = []
    const kindOf = { PROPOSAL: ProtectedKind.proposal, PREPARE: ProtectedKind.prepare, COMMIT: ProtectedKind.commit } as const
    for (const entry of doc.data) {
      if (entry.operator.toLowerCase() !== this.operator) {
        summary.skippedOperators.push(entry.operator as Address)
        continue
      }
      for (const m of entry.signed_messages)
        incoming.push({ kind: kindOf[m.kind], height: BigInt(m.height), round: Number(m.round), value: m.digest ? (m.digest.toLowerCase() as Hex) : BLOCKED })
      for (const s of entry.signed_seals) incoming.push({ kind: ProtectedKind.seal, height: BigInt(s.height), round: 0, value: s.plan_digest ? (s.plan_digest.toLowerCase() as Hex) : BLOCKED })
    }
    const batch = this.db.batch()
    for (const r of incoming) {
      const key = mapKey(r.kind, r.height, r.round)
      const has = this.entries.has(key)
      const existing = this.entries.get(key)
      let next: RecordValue
      if (!has) {
        next = r.value
        summary.added++
      } else if (existing === r.value) {
        summary.unchanged++
        continue
      } else {
        next = BLOCKED
        if (existing !== BLOCKED) summary.conflicts++
        else {
          summary.unchanged++
          continue
        }
      }
      this.remember(r.kind, r.height, r.round, next)
      batch.put(recordKey(r.kind, r.height, r.round), next === BLOCKED ? new Uint8Array(0) : hexToBytes(next))
    }
    if (batch.length > 0) await batch.write({ sync: true })
    else await batch.close()
    for (const m of this.marks.values()) if (m.height > this.localHeight) this.localHeight = m.height
    return summary
  }

  /** Closes the database; later requests are refused (CLOSED). */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.db.close()
  }
}

const refusalDetail: { [K in RefusalCode]: string } = {
  [RefusalCode.EQUIVOCATION]: 'another digest was already signed for this height, round and kind',
  [RefusalCode.SEAL_CONFLICT]: 'a commit seal for another plan was already signed at this height',
  [RefusalCode.STALE]: 'a higher height or round was already signed for this kind',
  [RefusalCode.TOO_FAR_AHEAD]: "the height is too far above the node's own height",
  [RefusalCode.BLOCKED]: 'the record holds a signature of unknown or conflicting digest for this key',
  [RefusalCode.WRITE_FAILED]: 'the record could not be written',
  [RefusalCode.CLOSED]: 'the record is closed',
}
