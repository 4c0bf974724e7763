/**
 * The leader's guard against planning an account twice. Between a decision and the moment fresh snapshots show
 * its liquidations done, the newest quorum-covered snapshots still show the same accounts liquidatable, so a
 * leader would propose the same legs again at the next height (they would fail on chain with ACCOUNT_HEALTHY
 * after costing a submission). The guard keeps out of the leader's value every chain where a leg touches an account
 * of a plan that is not yet settled, or settled less than `cooldownMs` ago (the value pins the other chains only).
 *
 * Only the leader's side changes: followers still validate any value on its own merits (the plan is a pure
 * function of the value's snapshots), so nodes with different guards still agree.
 */
import type { ConsensusValues } from '../consensus/service.js'
import type { ConsensusValues as BuildableValues } from '../consensus/values.js'
import type { SettlementPlan } from '../../protocol/settlement/plan.js'

export type LegGuardOptions = {
  /** After a plan settles, how long its accounts stay out of new proposals, ms. @default 3000 */
  cooldownMs?: number
  /** A decided plan never seen settled frees its accounts after this long, ms. @default 120_000 */
  maxBusyMs?: number
  /** @default Date.now */
  now?: () => number
  /** The chain id of a LayerZero EID (from the network description); without it a busy chain cannot be left out and the whole value is withheld. */
  chainIdOfEid?: (eid: number) => number | undefined
}

type Entry = { keys: string[]; decidedAt: number; settledAt?: number }

const legKey = (l: SettlementPlan['legs'][number]) => `${l.eid}|${l.protocol}|${l.marketId.toLowerCase()}|${l.borrower.toLowerCase()}`

export class LegGuard {
  private readonly plans = new Map<bigint, Entry>()
  private readonly o: Required<LegGuardOptions>
  /** Values withheld since start (for logs and tests). */
  withheld = 0

  constructor(options: LegGuardOptions = {}) {
    this.o = { cooldownMs: options.cooldownMs ?? 3000, maxBusyMs: options.maxBusyMs ?? 120_000, now: options.now ?? Date.now, chainIdOfEid: options.chainIdOfEid ?? (() => undefined) }
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

  /**
   * The value layer with a guarded `buildValue`: a value whose legs touch busy accounts is rebuilt without the
   * chains of those legs (a value may pin only some chains), so a plan for the other chains does not wait for the
   * busy one to settle; when nothing is left, the answer is "nothing to propose".
   */
  wrap(values: BuildableValues): ConsensusValues {
    return {
      buildValue: async (height) => {
        const value = await values.buildValue(height)
        // Read after the build: a height decided while it ran is busy too.
        const busy = this.busy()
        if (!value || busy.size === 0) return value
        const touched = new Set(values.settlementPlan(value).legs.filter((l) => busy.has(legKey(l))).map((l) => l.eid))
        if (touched.size === 0) return value
        const exclude = [...touched].map((eid) => this.o.chainIdOfEid(eid))
        const rest = exclude.every((c) => c !== undefined) ? await values.buildValue(height, { excludeChainIds: exclude as number[] }) : null
        if (rest && !values.settlementPlan(rest).legs.some((l) => busy.has(legKey(l)))) return rest
        this.withheld++
        return null
      },
      validateValue: (height, value) => values.validateValue(height, value),
      valueDigest: (value) => values.valueDigest(value),
      settlementPlan: (value) => values.settlementPlan(value),
    }
  }
}
