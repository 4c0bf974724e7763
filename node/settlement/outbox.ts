/**
 * The transmitter's outbox: one record per certified plan this node may submit, in its own LevelDB, written with
 * `sync: true` (fsync) at every step. The transmitter records its intent before it signs, and each signed
 * transaction (hash and raw bytes) before it broadcasts it, so a restarted node resumes every submission where it
 * stood: it neither loses one nor sends a second transaction for a plan (it rebroadcasts the recorded ones, or
 * replaces them on the same nonce).
 */
import { Level } from 'level'
import type { Address, Hex } from 'viem'
import { BaseError } from '../../protocol/errors.js'

/** Key prefixes of the outbox database. Persisted: never renumber or reuse. */
enum OutboxBucket {
  /** height u64 BE → JSON {@link OutboxRecord}. */
  submission = 1,
}

/**
 * Where a submission stands:
 * - `scheduled`: waiting for this node's turn (`dueAt`);
 * - `sending`: a transaction is signed (recorded in `attempts`) and maybe broadcast, not yet mined;
 * - `landed`: our transaction was mined and the hub recorded the plan;
 * - `skipped`: another node's submission landed first (before ours was sent, or ours reverted with HeightAlreadySubmitted);
 * - `failed`: the hub refused the plan (e.g. a seal it rejects) or our transaction reverted for another reason.
 */
export type OutboxState = 'scheduled' | 'sending' | 'landed' | 'skipped' | 'failed'
export const finalOutboxStates: readonly OutboxState[] = ['landed', 'skipped', 'failed']

/** One signed transaction of a submission (replacements share the nonce). Fees in wei per gas. */
export type OutboxAttempt = {
  hash: Hex
  raw: Hex
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
  /** ms epoch when it was signed. */
  sentAt: number
  /** A cancellation (self-transfer on the nonce) rather than submitPlan. */
  cancel?: boolean
}

/** The persisted state of one plan's submission. */
export type OutboxRecord = {
  /** QBFT height = plan sequence number. */
  height: bigint
  planDigest: Hex
  hubChainId: number
  hub: Address
  /** The submitting account (this node's transmitter key). */
  from: Address
  state: OutboxState
  /** This node's rank in the height's schedule (0 = designated). */
  rank: number
  /** ms epoch when this node's turn comes. */
  dueAt: number
  /** `submitPlan(plan, seals)` calldata. */
  calldata: Hex
  /** Nonce of the attempts (all replacements use it). */
  nonce?: number
  attempts: OutboxAttempt[]
  /** The transaction that landed the plan (ours when `landed`, another node's when `skipped` and known). */
  landedTx?: Hex
  /** Who submitted the plan that landed (PlanSubmitted `submitter`). */
  landedBy?: Address
  gasUsed?: bigint
  /** Why it failed or was skipped (error name or rule). */
  reason?: string
  createdAt: number
  updatedAt: number
}

type Json = Omit<OutboxRecord, 'height' | 'attempts' | 'gasUsed'> & {
  height: string
  gasUsed?: string
  attempts: (Omit<OutboxAttempt, 'maxFeePerGas' | 'maxPriorityFeePerGas'> & { maxFeePerGas: string; maxPriorityFeePerGas: string })[]
}

/** The outbox database cannot be opened (another process holds it) or read. */
export class OutboxError extends BaseError {
  override name = 'OutboxError' as const
  constructor(shortMessage: string, cause?: unknown) {
    super(shortMessage, { cause, metaMessages: ['Each node needs its own settlement outbox directory.'] })
  }
}

function key(height: bigint): Uint8Array {
  const k = new Uint8Array(9)
  k[0] = OutboxBucket.submission
  new DataView(k.buffer).setBigUint64(1, height)
  return k
}

function encode(r: OutboxRecord): Uint8Array {
  const j: Json = {
    ...r,
    height: r.height.toString(),
    gasUsed: r.gasUsed?.toString(),
    attempts: r.attempts.map((a) => ({ ...a, maxFeePerGas: a.maxFeePerGas.toString(), maxPriorityFeePerGas: a.maxPriorityFeePerGas.toString() })),
  }
  return new TextEncoder().encode(JSON.stringify(j))
}

function decode(bytes: Uint8Array): OutboxRecord {
  const j = JSON.parse(new TextDecoder().decode(bytes)) as Json
  return {
    ...j,
    height: BigInt(j.height),
    gasUsed: j.gasUsed === undefined ? undefined : BigInt(j.gasUsed),
    attempts: j.attempts.map((a) => ({ ...a, maxFeePerGas: BigInt(a.maxFeePerGas), maxPriorityFeePerGas: BigInt(a.maxPriorityFeePerGas) })),
  }
}

/** Options of {@link SettlementOutbox}. */
export type SettlementOutboxOptions = { /** Directory of the LevelDB database. */ path: string }

export class SettlementOutbox {
  private readonly db: Level<Uint8Array, Uint8Array>

  constructor(private readonly options: SettlementOutboxOptions) {
    this.db = new Level<Uint8Array, Uint8Array>(options.path, { keyEncoding: 'view', valueEncoding: 'view' })
  }

  /** @throws OutboxError */
  async open(): Promise<void> {
    try {
      await this.db.open()
    } catch (err) {
      throw new OutboxError(`Cannot open the settlement outbox at ${this.options.path}.`, err)
    }
  }

  async close(): Promise<void> {
    await this.db.close()
  }

  async get(height: bigint): Promise<OutboxRecord | undefined> {
    const v = await this.db.get(key(height))
    return v === undefined ? undefined : decode(v)
  }

  /** Writes the record durably (fsync) before resolving. */
  async put(record: OutboxRecord): Promise<void> {
    await this.db.put(key(record.height), encode(record), { sync: true })
  }

  /** Records not in a final state, by height. */
  async pending(): Promise<OutboxRecord[]> {
    const out: OutboxRecord[] = []
    for await (const v of this.db.values({ gte: key(0n), lte: key((1n << 64n) - 1n) })) {
      const r = decode(v)
      if (!finalOutboxStates.includes(r.state)) out.push(r)
    }
    return out
  }

  /** Every record, newest first, at most `limit`, below `before` when given. */
  async list(opts: { limit?: number; before?: bigint } = {}): Promise<OutboxRecord[]> {
    const out: OutboxRecord[] = []
    const lt = key(opts.before ?? (1n << 64n) - 1n)
    for await (const v of this.db.values({ gte: key(0n), [opts.before === undefined ? 'lte' : 'lt']: lt, reverse: true, limit: opts.limit ?? 100 })) out.push(decode(v))
    return out
  }
}
