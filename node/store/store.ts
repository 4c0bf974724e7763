/**
 * The node's level database: one controller, one repository per stored type
 * (see buckets.ts for the numbered key prefixes), batched writes of accepted
 * snapshots, and pruning by age and count. Survives restarts (it is a LevelDB
 * directory); the in-memory indexes the gossip validator needs are rebuilt from it.
 */
import { Level } from 'level'
import { BaseError } from '../../protocol/errors.js'
import { PayloadKind, type WireHealthSnapshot, type WireLiquiditySnapshot } from '../../protocol/proto/codec.js'
import type { GossipMetrics } from '../metrics/gossip.js'
import { Bucket, bucketName } from './buckets.js'
import { encodeRecord, type SnapshotRecord } from './encoding.js'
import {
  AccountHealthRepository,
  EvidenceRepository,
  FlaggedOperatorRepository,
  LatestHealthRepository,
  LiquidityRepository,
  SnapshotHistoryRepository,
  type BatchOp,
  type Db,
} from './repositories.js'

export type StoreOptions = {
  /** Directory of the LevelDB database. */
  path: string
  /** Pruning limits; see {@link defaultStorePruneOptions}. */
  prune?: Partial<StorePruneOptions>
  metrics?: GossipMetrics
  /**
   * Account rows (bucket 3, the risk feed's per-account view) are written behind, at most every
   * this many ms, coalesced per (operator, chain, market, part): of the snapshots staged meanwhile
   * only each account's latest row is written. Reads of the account bucket flush first, so they
   * always see the latest health; snapshot records (history, latest, liquidity) are written at once.
   * After a crash, rows of up to this long are missing until the operators' next snapshots. 0 writes through.
   * @default 5000
   */
  accountFlushMs?: number
  /** Called when a background flush of account rows fails. */
  onError?: (err: unknown) => void
}

export type StorePruneOptions = {
  /** Account entries, latest snapshots and liquidity older than this (by observedAt) are removed. @default 86_400_000 (1 day) */
  maxAgeMs: number
  /** Most account health entries kept (oldest removed first). @default 1_000_000 */
  maxAccounts: number
  /** Blocks of snapshot history kept per (kind, chain, market or pair). @default 256 */
  maxHistoryBlocksPerScope: number
  /** Most evidence records kept. @default 10_000 */
  maxEvidence: number
}

/** Most staged account rows before a flush is forced (bounds the write-behind memory: ~150 bytes a row). */
export const MAX_STAGED_ACCOUNT_ROWS = 100_000

export const defaultStorePruneOptions: StorePruneOptions = {
  maxAgeMs: 86_400_000,
  maxAccounts: 1_000_000,
  maxHistoryBlocksPerScope: 256,
  maxEvidence: 10_000,
}

export type StoreOpenErrorType = StoreOpenError
export class StoreOpenError extends BaseError {
  override name = 'StoreOpenError'
  constructor(path: string, cause: unknown) {
    super(`Cannot open the store at ${path}.`, { cause, metaMessages: ['Is another node using the same directory? Each node needs its own store path.'] })
  }
}

/** An accepted snapshot to be written (built by the gossip validator or the publisher). */
export type AcceptedSnapshot = {
  record: SnapshotRecord
  /** False when a newer snapshot of the same operator and scope is already stored: history only. */
  updatesLatest: boolean
} & ({ kind: PayloadKind.healthSnapshot; snapshot: WireHealthSnapshot } | { kind: PayloadKind.liquiditySnapshot; snapshot: WireLiquiditySnapshot })

/** Evidence of an equivocation: both conflicting records. */
export type EquivocationEvidence = { chainId: number; scope: Uint8Array; blockNumber: number; part: number; records: SnapshotRecord[]; flaggedAt: number }

/** A byte string as a latin1 string (a map key without a copy). */
const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1')

export class Store {
  readonly db: Db
  readonly history: SnapshotHistoryRepository
  readonly latestHealth: LatestHealthRepository
  readonly accountHealth: AccountHealthRepository
  readonly liquidity: LiquidityRepository
  readonly evidence: EvidenceRepository
  readonly flaggedOperators: FlaggedOperatorRepository
  readonly pruneOptions: StorePruneOptions
  private readonly metrics?: GossipMetrics
  private readonly accountFlushMs: number
  private flushTimer: NodeJS.Timeout | undefined

  constructor(private readonly options: StoreOptions) {
    // No block compression: envelopes and account rows are hashes, addresses and minimal
    // big-endian amounts that barely compress, and snappy on every write and compaction
    // costs about a fifth of the store's CPU at the gossip ingest rate.
    this.db = new Level<Uint8Array, Uint8Array>(options.path, { keyEncoding: 'view', valueEncoding: 'view', compression: false })
    this.history = new SnapshotHistoryRepository(this.db)
    this.latestHealth = new LatestHealthRepository(this.db)
    this.accountHealth = new AccountHealthRepository(this.db)
    this.liquidity = new LiquidityRepository(this.db)
    this.evidence = new EvidenceRepository(this.db)
    this.flaggedOperators = new FlaggedOperatorRepository(this.db)
    this.pruneOptions = { ...defaultStorePruneOptions, ...options.prune }
    this.metrics = options.metrics
    this.accountFlushMs = options.accountFlushMs ?? 5000
  }

  /** Opens (creating if needed) the database. @throws StoreOpenError */
  async open(): Promise<void> {
    try {
      await this.db.open()
    } catch (err) {
      throw new StoreOpenError(this.options.path, err)
    }
    if (this.accountFlushMs > 0 && !this.flushTimer) {
      this.flushTimer = setInterval(() => void this.flush().catch((err) => this.options.onError?.(err)), this.accountFlushMs)
      this.flushTimer.unref()
    }
  }

  /** Writes the staged account rows now (see {@link StoreOptions.accountFlushMs}). */
  flush(): Promise<void> {
    return this.accountHealth.flush()
  }

  /** Flushes the staged account rows and closes the database. */
  async close(): Promise<void> {
    clearInterval(this.flushTimer)
    this.flushTimer = undefined
    try {
      if (this.db.status === 'open') await this.flush()
    } finally {
      await this.db.close()
    }
  }

  /**
   * Writes accepted snapshots in one level batch: history always; latest and liquidity when
   * `updatesLatest`; the account rows of those are staged and written behind (see
   * {@link StoreOptions.accountFlushMs}). Items come in validation order, so of several snapshots
   * of one (operator, chain, market, part) the last one updating the latest is the newest: they
   * are coalesced (latest wins): its latest record and accounts are kept, and of the older ones
   * only the accounts it does not carry. Returns the number of account entries stored (the
   * accounts of the snapshots updating the latest, before coalescing).
   */
  async writeAccepted(items: readonly AcceptedSnapshot[]): Promise<number> {
    if (items.length === 0) return 0
    const batch = this.db.batch()
    let accounts = 0
    // Newest item per (operator, chain, market, part) among those updating the latest.
    const groupOf: (string | undefined)[] = []
    const newest = new Map<string, number>()
    items.forEach((item, i) => {
      if (item.kind !== PayloadKind.healthSnapshot || !item.updatesLatest) return
      const s = item.snapshot
      const key = `${latin1(item.record.operator)}|${s.chainId}|${latin1(s.market)}|${s.part}`
      groupOf[i] = key
      newest.set(key, i)
    })
    for (let i = 0; i < items.length; i++) {
      const item = items[i]
      const r = item.record
      if (item.kind === PayloadKind.healthSnapshot) {
        const s = item.snapshot
        // History and latest hold the same encoded record: encode (and copy the envelope) once.
        const value = encodeRecord(r)
        batch.put(SnapshotHistoryRepository.key(r.kind, s.chainId, s.market, s.blockNumber, s.part, r.operator), value)
        const group = groupOf[i]
        if (group === undefined) continue
        if (newest.get(group) === i) batch.put(LatestHealthRepository.key(r.operator, s.chainId, s.market, s.part), value)
        accounts += this.accountHealth.stage(group, s.chainId, s.market, r.operator, s.blockNumber, s.observedAt, s.accounts)
      } else {
        const s = item.snapshot
        const h = this.history.putOp(s.chainId, s.pair, s.blockNumber, 0, r)
        batch.put(h.key, h.value)
        if (item.updatesLatest) {
          const l = this.liquidity.putOp(s.chainId, s.venue, s.pair, r)
          batch.put(l.key, l.value)
        }
      }
    }
    await batch.write()
    if (this.accountFlushMs <= 0 || this.accountHealth.pending >= MAX_STAGED_ACCOUNT_ROWS) await this.flush()
    return accounts
  }

  /** Writes both conflicting records as evidence and flags the operator (first offence kept). */
  async writeEvidence(e: EquivocationEvidence): Promise<void> {
    const ops: BatchOp[] = e.records.map((r) => this.evidence.putOp(e.chainId, e.scope, e.blockNumber, e.part, r))
    const operator = e.records[0].operator
    if (!(await this.flaggedOperators.has(operator))) ops.push(this.flaggedOperators.putOp(operator, e.flaggedAt, e.chainId, e.blockNumber))
    await this.db.batch(ops)
  }

  /** Prunes every bucket by age and count. Returns the number of entries removed per bucket. */
  async prune(nowMs: number, opts: Partial<StorePruneOptions> = {}): Promise<Record<string, number>> {
    const o = { ...this.pruneOptions, ...opts }
    const minObservedAt = nowMs - o.maxAgeMs
    const removed: Record<string, number> = {
      [bucketName[Bucket.accountHealth]]: await this.accountHealth.prune(minObservedAt, o.maxAccounts),
      [bucketName[Bucket.latestHealth]]: await this.latestHealth.pruneByAge(minObservedAt),
      [bucketName[Bucket.liquidity]]: await this.liquidity.pruneByAge(minObservedAt),
      [bucketName[Bucket.snapshotHistory]]: await this.history.pruneByCount(o.maxHistoryBlocksPerScope),
      [bucketName[Bucket.evidence]]: await this.evidence.pruneByCount(o.maxEvidence),
    }
    for (const [bucket, n] of Object.entries(removed)) if (n) this.metrics?.storePruned.inc({ bucket }, n)
    return removed
  }
}
