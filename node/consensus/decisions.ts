/**
 * Decided heights, persisted: one record per height with the certified plan (value, settlement
 * plan digest, round and the commit seals), so that a restarted node resumes at the next height
 * and the transmitter can submit any certified plan again. Heights the node skipped while it
 * was behind (the network decided them without it) are recorded as `skipped`.
 */
import { Level } from 'level'
import { bytesToHex, hexToBytes, type Address, type Hex } from 'viem'
import { BaseError } from '../../protocol/errors.js'
import type { CommitSealEntry } from '../../protocol/consensus/index.js'

/** Key prefixes of the decisions database. Persisted: never renumber or reuse. */
enum DecisionBucket {
  /** height u64 BE → JSON {@link StoredDecision}. */
  decision = 1,
}

/** A certified plan as stored. */
export type StoredDecision = {
  height: bigint
  /** `decided` here by consensus or a DECIDED certificate; `skipped`: decided by the network while this node was behind. */
  status: 'decided' | 'skipped'
  round?: number
  value?: Uint8Array
  /** The value digest (what PREPARE/COMMIT carried). */
  digest?: Hex
  /** settlementPlanDigest of the value's settlement plan (what the seals sign). */
  planDigest?: Hex
  seals?: CommitSealEntry[]
  /** ms since the Unix epoch. */
  decidedAt: number
}

type Json = {
  height: string
  status: StoredDecision['status']
  round?: number
  value?: Hex
  digest?: Hex
  planDigest?: Hex
  seals?: { signer: Address; seal: Hex }[]
  decidedAt: number
}

export class DecisionStoreOpenError extends BaseError {
  override name = 'DecisionStoreOpenError'
  constructor(path: string, cause: unknown) {
    super(`Cannot open the consensus decisions store at ${path}.`, { cause, metaMessages: ['Is another node using the same data directory?'] })
  }
}

function key(height: bigint): Uint8Array {
  const k = new Uint8Array(9)
  k[0] = DecisionBucket.decision
  new DataView(k.buffer).setBigUint64(1, height)
  return k
}

function encode(d: StoredDecision): Uint8Array {
  const j: Json = {
    height: String(d.height),
    status: d.status,
    round: d.round,
    value: d.value && bytesToHex(d.value),
    digest: d.digest,
    planDigest: d.planDigest,
    seals: d.seals?.map((s) => ({ signer: s.signer, seal: bytesToHex(s.seal) })),
    decidedAt: d.decidedAt,
  }
  return new TextEncoder().encode(JSON.stringify(j))
}

function decode(bytes: Uint8Array): StoredDecision {
  const j = JSON.parse(new TextDecoder().decode(bytes)) as Json
  return {
    height: BigInt(j.height),
    status: j.status,
    round: j.round,
    value: j.value ? hexToBytes(j.value) : undefined,
    digest: j.digest,
    planDigest: j.planDigest,
    seals: j.seals?.map((s) => ({ signer: s.signer, seal: hexToBytes(s.seal) })),
    decidedAt: j.decidedAt,
  }
}

/** The decided heights of one node (its own LevelDB directory). */
export class DecisionStore {
  private readonly db: Level<Uint8Array, Uint8Array>
  constructor(private readonly path: string) {
    this.db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
  }

  /** @throws DecisionStoreOpenError */
  async open(): Promise<void> {
    try {
      await this.db.open()
    } catch (err) {
      throw new DecisionStoreOpenError(this.path, err)
    }
  }

  async close(): Promise<void> {
    await this.db.close()
  }

  /** Writes (fsynced) one decided or skipped height. */
  async put(d: StoredDecision): Promise<void> {
    await this.db.put(key(d.height), encode(d), { sync: true })
  }

  /** Writes several records in one fsynced batch. */
  async putMany(ds: readonly StoredDecision[]): Promise<void> {
    if (ds.length) await this.db.batch(ds.map((d) => ({ type: 'put' as const, key: key(d.height), value: encode(d) })), { sync: true })
  }

  async get(height: bigint): Promise<StoredDecision | undefined> {
    const v = await this.db.get(key(height))
    return v === undefined ? undefined : decode(v)
  }

  /** The highest recorded height (decided or skipped), if any. */
  async last(): Promise<StoredDecision | undefined> {
    for await (const [, v] of this.db.iterator({ gte: Uint8Array.of(DecisionBucket.decision), lt: Uint8Array.of(DecisionBucket.decision + 1), reverse: true, limit: 1 })) return decode(v)
    return undefined
  }

  /** Records from `from` (inclusive) upwards, at most `limit`. */
  async list(from = 0n, limit = 1000): Promise<StoredDecision[]> {
    const out: StoredDecision[] = []
    for await (const [, v] of this.db.iterator({ gte: key(from), lt: Uint8Array.of(DecisionBucket.decision + 1), limit })) out.push(decode(v))
    return out
  }
}
