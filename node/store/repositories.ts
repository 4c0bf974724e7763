/**
 * One repository per stored type, each a thin layer over the shared level database:
 * key and value encodings plus the queries the node needs. Writes are returned as
 * batch operations so that the gossip pipeline commits many messages in one batch.
 */
import type { Level } from 'level'
import { bytesToHex, hexToBytes, type Address, type Hex } from 'viem'
import { PayloadKind, type Venue, type WireAccountHealth } from '../../protocol/proto/codec.js'
import { Bucket } from './buckets.js'
import {
  KeyWriter,
  decodeAccountValue,
  decodeRecord,
  encodeAccountValue,
  encodeRecord,
  prefixEnd,
  readU32,
  readU64,
  recordObservedAt,
  type SnapshotRecord,
  type StoredAccountHealth,
} from './encoding.js'

export type Db = Level<Uint8Array, Uint8Array>
export type PutOp = { type: 'put'; key: Uint8Array; value: Uint8Array }
export type DelOp = { type: 'del'; key: Uint8Array }
export type BatchOp = PutOp | DelOp

const hex = (h: Hex, size: number, field: string): Uint8Array => {
  const b = hexToBytes(h)
  if (b.length !== size) throw new RangeError(`${field} must be ${size} bytes`)
  return b
}

async function scan(db: Db, prefix: Uint8Array, opts: { keys?: boolean; values?: boolean; limit?: number } = {}) {
  return db.iterator({ gte: prefix, lt: prefixEnd(prefix), keys: opts.keys ?? true, values: opts.values ?? true, limit: opts.limit ?? -1 }).all()
}

// ---------------------------------------------------------------- snapshot history

/**
 * Bucket 1: every accepted snapshot, key (kind u8, chainId u64, scope 32, block u64, part u32, operator 20).
 * `scope` is the market id (health) or the pair address left-padded (liquidity).
 */
export class SnapshotHistoryRepository {
  constructor(private readonly db: Db) {}
  static key(kind: PayloadKind, chainId: number, scope: Uint8Array, block: number, part: number, operator: Uint8Array): Uint8Array {
    return new KeyWriter(1 + 1 + 8 + 32 + 8 + 4 + 20).u8(Bucket.snapshotHistory).u8(kind).u64(chainId).bytes(pad32(scope)).u64(block).u32(part).bytes(operator).done()
  }
  putOp(chainId: number, scope: Uint8Array, block: number, part: number, r: SnapshotRecord): PutOp {
    return { type: 'put', key: SnapshotHistoryRepository.key(r.kind, chainId, scope, block, part, r.operator), value: encodeRecord(r) }
  }
  /** Every operator's snapshot (all parts) of one scope at one block. */
  async getAt(kind: PayloadKind, chainId: number, scope: Hex, block: bigint): Promise<SnapshotRecord[]> {
    const prefix = new KeyWriter(50).u8(Bucket.snapshotHistory).u8(kind).u64(chainId).bytes(pad32(hexToBytes(scope))).u64(Number(block)).done()
    return (await scan(this.db, prefix)).map(([, v]) => decodeRecord(v))
  }
  /** One record, or undefined. */
  async get(kind: PayloadKind, chainId: number, scope: Uint8Array, block: number, part: number, operator: Uint8Array): Promise<SnapshotRecord | undefined> {
    const v = await this.db.get(SnapshotHistoryRepository.key(kind, chainId, scope, block, part, operator))
    return v === undefined ? undefined : decodeRecord(v)
  }
  async count(): Promise<number> {
    return (await scan(this.db, Uint8Array.of(Bucket.snapshotHistory), { values: false })).length
  }
  /**
   * The newest records of one scope (every block, part and operator), newest block first, at most `limit`.
   * `scope` is the market id or the pair address (left-padded to 32 bytes).
   */
  async latestOfScope(kind: PayloadKind, chainId: number, scope: Hex, limit: number): Promise<{ blockNumber: bigint; part: number; operator: Address; record: SnapshotRecord }[]> {
    const prefix = new KeyWriter(42).u8(Bucket.snapshotHistory).u8(kind).u64(chainId).bytes(pad32(hexToBytes(scope))).done()
    const entries = await this.db.iterator({ gte: prefix, lt: prefixEnd(prefix), reverse: true, limit }).all()
    return entries.map(([k, v]) => ({ blockNumber: BigInt(readU64(k, 42)), part: readU32(k, 50), operator: bytesToHex(k.subarray(54, 74)), record: decodeRecord(v) }))
  }
  /** Deletes all but the newest `maxBlocksPerScope` blocks of each (kind, chainId, scope). Returns the number deleted. */
  async pruneByCount(maxBlocksPerScope: number): Promise<number> {
    const keys = await this.db.keys({ gte: Uint8Array.of(Bucket.snapshotHistory), lt: Uint8Array.of(Bucket.snapshotHistory + 1) }).all()
    const ops: DelOp[] = []
    // Keys sort by scope then block: walk backwards counting distinct blocks per scope.
    let scopeKey = ''
    let blocks = 0
    let lastBlock = -1
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]
      const s = Buffer.from(k.subarray(1, 42)).toString('hex')
      const block = readU64(k, 42)
      if (s !== scopeKey) {
        scopeKey = s
        blocks = 0
        lastBlock = -1
      }
      if (block !== lastBlock) {
        blocks++
        lastBlock = block
      }
      if (blocks > maxBlocksPerScope) ops.push({ type: 'del', key: k })
    }
    if (ops.length) await this.db.batch(ops)
    return ops.length
  }
}

function pad32(b: Uint8Array): Uint8Array {
  if (b.length === 32) return b
  const out = new Uint8Array(32)
  out.set(b, 32 - b.length)
  return out
}

// ---------------------------------------------------------------- latest health snapshot

/** Bucket 2: latest HealthSnapshot part per (operator 20, chainId u64, market 32, part u32). */
export class LatestHealthRepository {
  constructor(private readonly db: Db) {}
  static key(operator: Uint8Array, chainId: number, market: Uint8Array, part: number): Uint8Array {
    return new KeyWriter(65).u8(Bucket.latestHealth).bytes(operator).u64(chainId).bytes(market).u32(part).done()
  }
  putOp(chainId: number, market: Uint8Array, part: number, r: SnapshotRecord): PutOp {
    return { type: 'put', key: LatestHealthRepository.key(r.operator, chainId, market, part), value: encodeRecord(r) }
  }
  async get(operator: Address, chainId: number, market: Hex, part = 0): Promise<SnapshotRecord | undefined> {
    const v = await this.db.get(LatestHealthRepository.key(hex(operator, 20, 'operator'), chainId, hex(market, 32, 'market'), part))
    return v === undefined ? undefined : decodeRecord(v)
  }
  /** All latest snapshots, with their key fields. */
  async list(): Promise<{ operator: Address; chainId: number; market: Hex; part: number; record: SnapshotRecord }[]> {
    return (await scan(this.db, Uint8Array.of(Bucket.latestHealth))).map(([k, v]) => ({
      operator: bytesToHex(k.subarray(1, 21)),
      chainId: readU64(k, 21),
      market: bytesToHex(k.subarray(29, 61)),
      part: readU32(k, 61),
      record: decodeRecord(v),
    }))
  }
  async pruneByAge(minObservedAt: number): Promise<number> {
    return pruneRecordsByAge(this.db, Bucket.latestHealth, minObservedAt)
  }
}

async function pruneRecordsByAge(db: Db, bucket: Bucket, minObservedAt: number): Promise<number> {
  const ops: DelOp[] = []
  for (const [k, v] of await scan(db, Uint8Array.of(bucket))) if (recordObservedAt(v) < minObservedAt) ops.push({ type: 'del', key: k })
  if (ops.length) await db.batch(ops)
  return ops.length
}

// ---------------------------------------------------------------- account health

/** Bucket 3: each account's latest health per operator, key (chainId u64, market 32, borrower 20, operator 20). */
export class AccountHealthRepository {
  /**
   * Rows staged for the next flush, per (operator, chainId, market, part): the newest snapshot's
   * rows plus the rows of older staged snapshots that it does not carry (latest wins per account).
   */
  private staged = new Map<string, StagedRows>()
  private stagedRows = 0
  private flushing: Promise<void> = Promise.resolve()

  constructor(private readonly db: Db) {}
  static key(chainId: number, market: Uint8Array, borrower: Uint8Array, operator: Uint8Array): Uint8Array {
    return new KeyWriter(81).u8(Bucket.accountHealth).u64(chainId).bytes(market).bytes(borrower).bytes(operator).done()
  }
  putOp(chainId: number, market: Uint8Array, operator: Uint8Array, blockNumber: number, observedAt: number, a: WireAccountHealth): PutOp {
    return { type: 'put', key: AccountHealthRepository.key(chainId, market, a.borrower, operator), value: encodeAccountValue(blockNumber, observedAt, a) }
  }
  /**
   * Puts every account of one snapshot into a chained batch (write-through). One key and one
   * value buffer are reused: a chained batch copies each put into the native batch at once.
   */
  putAll(batch: { put(key: Uint8Array, value: Uint8Array): unknown }, chainId: number, market: Uint8Array, operator: Uint8Array, blockNumber: number, observedAt: number, accounts: readonly WireAccountHealth[]): void {
    const rows = packRows(blockNumber, observedAt, accounts)
    putRows(batch, chainId, market, operator, rows)
  }

  /** Account rows staged and not yet written. */
  get pending(): number {
    return this.stagedRows
  }

  /**
   * Stages the rows of one snapshot, newer than any staged for the same (operator, chainId,
   * market, part), for the next {@link flush}: the older staged rows of the accounts it carries
   * are dropped (latest wins), so one account is written once per flush however many snapshots
   * of it arrived. Reads of this repository flush first, so they never see stale rows.
   * Returns the number of rows staged.
   */
  stage(group: string, chainId: number, market: Uint8Array, operator: Uint8Array, blockNumber: number, observedAt: number, accounts: readonly WireAccountHealth[]): number {
    const rows = packRows(blockNumber, observedAt, accounts)
    const older = this.staged.get(group)
    if (older) {
      this.stagedRows -= older.rows.count
      const rest = rowsNotIn(older.rows, accounts)
      if (rest) rows.append(rest)
    }
    this.staged.set(group, { chainId, market, operator, rows })
    this.stagedRows += rows.count
    return accounts.length
  }

  /** Writes the staged rows in one batch (after any flush in flight). */
  flush(): Promise<void> {
    const next = this.flushing.then(async () => {
      if (this.staged.size === 0) return
      const groups = this.staged
      this.staged = new Map()
      this.stagedRows = 0
      const batch = this.db.batch()
      for (const g of groups.values()) putRows(batch, g.chainId, g.market, g.operator, g.rows)
      await batch.write()
    })
    // A failed write is reported to this caller; later flushes go on.
    this.flushing = next.catch(() => {})
    return next
  }

  /** One account as seen by every operator that reported it. */
  async getAccount(chainId: number, market: Hex, borrower: Address): Promise<StoredAccountHealth[]> {
    await this.flush()
    const prefix = new KeyWriter(61).u8(Bucket.accountHealth).u64(chainId).bytes(hex(market, 32, 'market')).bytes(hex(borrower, 20, 'borrower')).done()
    return (await scan(this.db, prefix)).map(([k, v]) => decodeAccountValue(k, v))
  }
  /** Every account of a market (all operators). */
  async listMarket(chainId: number, market: Hex): Promise<StoredAccountHealth[]> {
    await this.flush()
    const prefix = new KeyWriter(41).u8(Bucket.accountHealth).u64(chainId).bytes(hex(market, 32, 'market')).done()
    return (await scan(this.db, prefix)).map(([k, v]) => decodeAccountValue(k, v))
  }
  async count(): Promise<number> {
    await this.flush()
    return (await scan(this.db, Uint8Array.of(Bucket.accountHealth), { values: false })).length
  }
  /** Deletes entries observed before `minObservedAt`, then the oldest beyond `maxEntries`. */
  async prune(minObservedAt: number, maxEntries: number): Promise<number> {
    await this.flush()
    const entries = await scan(this.db, Uint8Array.of(Bucket.accountHealth))
    const ops: DelOp[] = []
    const kept: [Uint8Array, number][] = []
    for (const [k, v] of entries) {
      const observedAt = readU64(v, 8)
      if (observedAt < minObservedAt) ops.push({ type: 'del', key: k })
      else kept.push([k, observedAt])
    }
    if (kept.length > maxEntries) {
      kept.sort((a, b) => a[1] - b[1])
      for (let i = 0; i < kept.length - maxEntries; i++) ops.push({ type: 'del', key: kept[i][0] })
    }
    if (ops.length) await this.db.batch(ops)
    return ops.length
  }
}

type StagedRows = { chainId: number; market: Uint8Array; operator: Uint8Array; rows: PackedRows }

/** Largest packed row: borrower 20, value length 1, value (block 8, observedAt 8, liquidatable 1, four amounts of up to 1 + 32). */
const MAX_ROW_BYTES = 20 + 1 + 17 + 4 * 33

/**
 * Account rows packed into one buffer (one allocation per snapshot instead of one per row):
 * each row is borrower (20) ‖ value length (u8) ‖ value ({@link encodeAccountValue}'s layout).
 */
class PackedRows {
  constructor(
    public buf: Uint8Array,
    public size: number,
    public count: number,
  ) {}
  append(other: PackedRows): void {
    if (this.size + other.size > this.buf.length) {
      const buf = new Uint8Array(this.size + other.size)
      buf.set(this.buf.subarray(0, this.size))
      this.buf = buf
    }
    this.buf.set(other.buf.subarray(0, other.size), this.size)
    this.size += other.size
    this.count += other.count
  }
}

function packRows(blockNumber: number, observedAt: number, accounts: readonly WireAccountHealth[]): PackedRows {
  const buf = new Uint8Array(accounts.length * MAX_ROW_BYTES)
  const header = new KeyWriter(16).u64(blockNumber).u64(observedAt).done()
  let o = 0
  for (const a of accounts) {
    buf.set(a.borrower, o)
    const start = o + 21
    buf.set(header, start)
    buf[start + 16] = a.liquidatable ? 1 : 0
    let v = putAmount(buf, start + 17, a.collateral)
    v = putAmount(buf, v, a.borrowAssets)
    v = putAmount(buf, v, a.healthFactor)
    v = putAmount(buf, v, a.maxSeizable)
    buf[o + 20] = v - start
    o = v
  }
  return new PackedRows(buf, o, accounts.length)
}

/** Writes a length-prefixed amount at `o`; returns the offset after it. */
function putAmount(buf: Uint8Array, o: number, amount: Uint8Array): number {
  buf[o] = amount.length
  buf.set(amount, o + 1)
  return o + 1 + amount.length
}

/** The rows of `older` whose borrower is not among `accounts`, or undefined when there are none. */
function rowsNotIn(older: PackedRows, accounts: readonly WireAccountHealth[]): PackedRows | undefined {
  // Common case: the same accounts in the same order (full refreshes of one market).
  if (older.count === accounts.length) {
    let same = true
    for (let i = 0, o = 0; i < accounts.length && same; i++) {
      const b = accounts[i].borrower
      for (let j = 0; j < 20; j++) if (older.buf[o + j] !== b[j]) { same = false; break }
      o += 21 + older.buf[o + 20]
    }
    if (same) return undefined
  }
  const carried = new Set(accounts.map((a) => Buffer.from(a.borrower.buffer, a.borrower.byteOffset, 20).toString('latin1')))
  const out = new Uint8Array(older.size)
  let size = 0
  let count = 0
  for (let o = 0; o < older.size; ) {
    const len = 21 + older.buf[o + 20]
    if (!carried.has(Buffer.from(older.buf.buffer, older.buf.byteOffset + o, 20).toString('latin1'))) {
      out.set(older.buf.subarray(o, o + len), size)
      size += len
      count++
    }
    o += len
  }
  return count ? new PackedRows(out, size, count) : undefined
}

function putRows(batch: { put(key: Uint8Array, value: Uint8Array): unknown }, chainId: number, market: Uint8Array, operator: Uint8Array, rows: PackedRows): void {
  // One key buffer reused: a chained batch copies each put into the native batch at once.
  const key = AccountHealthRepository.key(chainId, market, new Uint8Array(20), operator)
  for (let o = 0; o < rows.size; ) {
    const len = rows.buf[o + 20]
    key.set(rows.buf.subarray(o, o + 20), 41)
    batch.put(key, rows.buf.subarray(o + 21, o + 21 + len))
    o += 21 + len
  }
}

// ---------------------------------------------------------------- liquidity

/** Bucket 4: latest LiquiditySnapshot per (chainId u64, venue u8, pair 20, operator 20). */
export class LiquidityRepository {
  constructor(private readonly db: Db) {}
  static key(chainId: number, venue: Venue, pair: Uint8Array, operator: Uint8Array): Uint8Array {
    return new KeyWriter(50).u8(Bucket.liquidity).u64(chainId).u8(venue).bytes(pair).bytes(operator).done()
  }
  putOp(chainId: number, venue: Venue, pair: Uint8Array, r: SnapshotRecord): PutOp {
    return { type: 'put', key: LiquidityRepository.key(chainId, venue, pair, r.operator), value: encodeRecord(r) }
  }
  /** Latest liquidity of every pair of a venue on a chain, per operator. */
  async listVenue(chainId: number, venue: Venue): Promise<{ pair: Address; operator: Address; record: SnapshotRecord }[]> {
    const prefix = new KeyWriter(10).u8(Bucket.liquidity).u64(chainId).u8(venue).done()
    return (await scan(this.db, prefix)).map(([k, v]) => ({ pair: bytesToHex(k.subarray(10, 30)), operator: bytesToHex(k.subarray(30, 50)), record: decodeRecord(v) }))
  }
  async pruneByAge(minObservedAt: number): Promise<number> {
    return pruneRecordsByAge(this.db, Bucket.liquidity, minObservedAt)
  }
}

// ---------------------------------------------------------------- evidence

/** Bucket 5: equivocation evidence, key (operator 20, kind u8, chainId u64, scope 32, block u64, part u32, digest 32). */
export class EvidenceRepository {
  constructor(private readonly db: Db) {}
  putOp(chainId: number, scope: Uint8Array, block: number, part: number, r: SnapshotRecord): PutOp {
    const key = new KeyWriter(106).u8(Bucket.evidence).bytes(r.operator).u8(r.kind).u64(chainId).bytes(pad32(scope)).u64(block).u32(part).bytes(r.digest).done()
    return { type: 'put', key, value: encodeRecord(r) }
  }
  /** Evidence records, all or of one operator. Conflicting records share (kind, chainId, scope, block, part). */
  async list(operator?: Address): Promise<{ operator: Address; chainId: number; scope: Hex; blockNumber: bigint; part: number; record: SnapshotRecord }[]> {
    const prefix = operator ? new KeyWriter(21).u8(Bucket.evidence).bytes(hex(operator, 20, 'operator')).done() : Uint8Array.of(Bucket.evidence)
    return (await scan(this.db, prefix)).map(([k, v]) => ({
      operator: bytesToHex(k.subarray(1, 21)),
      chainId: readU64(k, 22),
      scope: bytesToHex(k.subarray(30, 62)),
      blockNumber: BigInt(readU64(k, 62)),
      part: readU32(k, 70),
      record: decodeRecord(v),
    }))
  }
  /** Keeps the newest `maxEntries` records (by observedAt). */
  async pruneByCount(maxEntries: number): Promise<number> {
    const entries = await scan(this.db, Uint8Array.of(Bucket.evidence))
    if (entries.length <= maxEntries) return 0
    const sorted = entries.map(([k, v]) => [k, recordObservedAt(v)] as const).sort((a, b) => a[1] - b[1])
    const ops: DelOp[] = sorted.slice(0, entries.length - maxEntries).map(([k]) => ({ type: 'del', key: k }))
    await this.db.batch(ops)
    return ops.length
  }
}

// ---------------------------------------------------------------- flagged operators

export type FlaggedOperator = { operator: Address; flaggedAt: number; chainId: number; blockNumber: bigint }

/** Bucket 6: operators caught equivocating, key operator 20 → (flaggedAt u64, chainId u64, block u64) of the first offence. */
export class FlaggedOperatorRepository {
  constructor(private readonly db: Db) {}
  putOp(operator: Uint8Array, flaggedAt: number, chainId: number, blockNumber: number): PutOp {
    return { type: 'put', key: new KeyWriter(21).u8(Bucket.flaggedOperator).bytes(operator).done(), value: new KeyWriter(24).u64(flaggedAt).u64(chainId).u64(blockNumber).done() }
  }
  async has(operator: Uint8Array): Promise<boolean> {
    return (await this.db.get(new KeyWriter(21).u8(Bucket.flaggedOperator).bytes(operator).done())) !== undefined
  }
  async list(): Promise<FlaggedOperator[]> {
    return (await scan(this.db, Uint8Array.of(Bucket.flaggedOperator))).map(([k, v]) => ({
      operator: bytesToHex(k.subarray(1, 21)),
      flaggedAt: readU64(v, 0),
      chainId: readU64(v, 8),
      blockNumber: BigInt(readU64(v, 16)),
    }))
  }
}

export { PayloadKind }
