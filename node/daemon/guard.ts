/**
 * The leader's guard against planning an account twice. Between a decision and the moment fresh snapshots show
 * its liquidations done, the newest quorum-covered snapshots still show the same accounts liquidatable, so a
 * leader would propose the same legs again at the next height (they would fail on chain with ACCOUNT_HEALTHY
 * after costing a submission). The guard makes `buildValue` answer "nothing to propose" while any leg of the
 * built value touches an account of a plan that is not yet settled, or settled less than `cooldownMs` ago.
 *
 * Only the leader's side changes: followers still validate any value on its own merits (the plan is a pure
 * function of the value's snapshots), so nodes with different guards still agree.
 */
import type { ConsensusValues } from '../consensus/service.js'
import type { SettlementPlan } from '../../protocol/settlement/plan.js'

export type LegGuardOptions = {
  /** After a plan settles, how long its accounts stay out of new proposals, ms. @default 3000 */
  cooldownMs?: number
  /** A decided plan never seen settled frees its accounts after this long, ms. @default 120_000 */
  maxBusyMs?: number
  /** @default Date.now */
  now?: () => number
}

type Entry = { keys: string[]; decidedAt: number; settledAt?: number }

const legKey = (l: SettlementPlan['legs'][number]) => `${l.eid}|${l.protocol}|${l.marketId.toLowerCase()}|${l.borrower.toLowerCase()}`

export class LegGuard {
  private readonly plans = new Map<bigint, Entry>()
  private readonly o: Required<LegGuardOptions>
  /** Values withheld since start (for logs and tests). */
  withheld = 0

  constructor(options: LegGuardOptions = {}) {
    this.o = { cooldownMs: options.cooldownMs ?? 3000, maxBusyMs: options.maxBusyMs ?? 120_000, now: options.now ?? Date.now }
  }

  /** A height was decided: its accounts are busy. */
  decided(height: bigint, plan: SettlementPlan): void {
    if (!this.plans.has(height)) this.plans.set(height, { keys: plan.legs.map(legKey), decidedAt: this.o.now() })
  }

  /** The plan landed on the hub (kept for symmetry with the tracker's states; accounts stay busy). */
  submitted(_height: bigint): void {}

  /** Every leg of the plan is final: its accounts are free after the cooldown. */
  settled(height: bigint): void {
    const e = this.plans.get(height)
    if (e && e.settledAt === undefined) e.settledAt = this.o.now()
  }

  /** Accounts (`eid|protocol|market|borrower`) not to plan now. */
  busy(): Set<string> {
    const now = this.o.now()
    const out = new Set<string>()
    for (const [h, e] of this.plans) {
      const free = e.settledAt !== undefined ? now - e.settledAt >= this.o.cooldownMs : now - e.decidedAt >= this.o.maxBusyMs
      if (free) {
        this.plans.delete(h)
        continue
      }
      for (const k of e.keys) out.add(k)
    }
    return out
  }

  /** The value layer with a guarded `buildValue`. */
  wrap<V extends ConsensusValues>(values: V): ConsensusValues {
    return {
      buildValue: async (height) => {
        const value = await values.buildValue(height)
        if (!value) return null
        const busy = this.busy()
        if (busy.size > 0 && values.settlementPlan(value).legs.some((l) => busy.has(legKey(l)))) {
          this.withheld++
          return null
        }
        return value
      },
      validateValue: (height, value) => values.validateValue(height, value),
      valueDigest: (value) => values.valueDigest(value),
      settlementPlan: (value) => values.settlementPlan(value),
    }
  }
}
