/**
 * Where the API reads plans and their settlement from: an injected {@link PlanSource} (the
 * consensus and settlement modules implement it over their level records), and an in-memory one
 * for tests and tools.
 */
import type { Hex, Plan } from '../../protocol/planner/types.js'

/** Settlement status of one leg: planned → dispatched (bridge message sent, GUID known) → executed | failed. */
export type LegStatus = 'planned' | 'dispatched' | 'executed' | 'failed'
export const legStatuses: readonly LegStatus[] = ['planned', 'dispatched', 'executed', 'failed']

export type LegSettlement = {
  /** The leg's `seq` in the plan. */
  seq: number
  status: LegStatus
  /** LayerZero message GUID of the leg's dispatch. */
  guid?: Hex
  /** Transaction of the last transition (dispatch on the hub, execution on the spoke, receipt on the hub). */
  txHash?: Hex
  /** Failure code of a failed leg (e.g. `ACCOUNT_HEALTHY`, `SLIPPAGE`). */
  reason?: string
  /** ms since the Unix epoch of the last transition. */
  updatedAt?: number
}

/** A certified plan and its settlement. */
export type PlanRecord = {
  /** Consensus height = the plan's sequence number. */
  height: bigint
  /** QBFT round it was decided in. */
  round: number
  /** `planHash(plan)` (protocol/planner/hash.ts). */
  planHash: Hex
  /** ms since the Unix epoch when the commit quorum was reached. */
  certifiedAt: number
  /** Operators whose commit seals certified it. */
  signers: Hex[]
  plan: Plan
  /** One entry per leg, in leg order. */
  legs: LegSettlement[]
}

export interface PlanSource {
  /** Plans, newest first, at most `limit`, below `before` when given. */
  list(opts: { limit: number; before?: bigint }): Promise<PlanRecord[]>
  get(height: bigint): Promise<PlanRecord | undefined>
  /** Calls `listener` on every new plan and every settlement change; returns the unsubscribe function. */
  subscribe(listener: (record: PlanRecord) => void): () => void
}

/** Plans in memory (bounded: the oldest are dropped beyond `maxPlans`). */
export class InMemoryPlanSource implements PlanSource {
  private readonly plans = new Map<bigint, PlanRecord>()
  private readonly listeners = new Set<(r: PlanRecord) => void>()
  constructor(private readonly maxPlans = 1024) {}

  /** Adds or replaces a plan; legs default to `planned`. */
  put(record: Omit<PlanRecord, 'legs'> & { legs?: LegSettlement[] }): PlanRecord {
    const full: PlanRecord = { ...record, legs: record.legs ?? record.plan.legs.map((l) => ({ seq: l.seq, status: 'planned' as const })) }
    this.plans.set(full.height, full)
    if (this.plans.size > this.maxPlans) {
      const oldest = [...this.plans.keys()].sort((a, b) => (a < b ? -1 : 1))[0]
      this.plans.delete(oldest)
    }
    this.emit(full)
    return full
  }

  /** Moves one leg's settlement. @throws RangeError for an unknown plan or leg */
  updateLeg(height: bigint, update: LegSettlement): PlanRecord {
    const r = this.plans.get(height)
    if (!r) throw new RangeError(`no plan at height ${height}`)
    const i = r.legs.findIndex((l) => l.seq === update.seq)
    if (i < 0) throw new RangeError(`plan ${height} has no leg ${update.seq}`)
    const next: PlanRecord = { ...r, legs: r.legs.map((l, j) => (j === i ? { ...l, ...update } : l)) }
    this.plans.set(height, next)
    this.emit(next)
    return next
  }

  async list(opts: { limit: number; before?: bigint }): Promise<PlanRecord[]> {
    return [...this.plans.values()]
      .filter((r) => opts.before === undefined || r.height < opts.before)
      .sort((a, b) => (a.height > b.height ? -1 : a.height < b.height ? 1 : 0))
      .slice(0, opts.limit)
  }

  async get(height: bigint): Promise<PlanRecord | undefined> {
    return this.plans.get(height)
  }

  subscribe(listener: (record: PlanRecord) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private emit(r: PlanRecord): void {
    for (const l of this.listeners) {
      try {
        l(r)
      } catch {
        // a listener's failure is its own
      }
    }
  }
}
