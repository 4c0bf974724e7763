/**
 * The leader's guard against planning an account twice. Between a decision and the moment the snapshots a value pins
 * show its liquidations done, the newest quorum-covered snapshots still show the same accounts liquidatable, so a
 * leader would propose the same legs again at the next height (they would fail on chain with ACCOUNT_HEALTHY after
 * costing a submission). An account of a decided plan stays busy until the plan is settled AND the value pins the
 * account's chain at a block whose timestamp is later than the settlement (so the pinned snapshots were read after
 * the liquidation), and at least `cooldownMs` after the settlement. The guard keeps out of the leader's value every
 * chain where a leg touches a busy account (a value may pin only some chains), so plans for the other chains go ahead.
 *
 * Only the leader's side changes: followers still validate any value on its own merits (the plan is a pure
 * function of the value's snapshots), so nodes with different guards still agree.
 */
import type { ConsensusValues } from '../consensus/service.js'
import type { ConsensusValues as BuildableValues } from '../consensus/values.js'
import { decodeProposalValue } from '../../protocol/proposal/index.js'
import type { SettlementPlan } from '../../protocol/settlement/plan.js'

export type LegGuardOptions = {
  /** After a plan settles, the least time its accounts stay out of new proposals, ms (a margin over the pin rule). @default 1000 */
  cooldownMs?: number
  /** A decided plan never seen settled frees its accounts after this long, ms; a settled one is forgotten after this long. @default 120_000 */
  maxBusyMs?: number
  /** @default Date.now */
  now?: () => number
  /** The chain id of a LayerZero EID (from the network description); without it a busy chain cannot be left out and the whole value is withheld. */
  chainIdOfEid?: (eid: number) => number | undefined
  /** Pinned block timestamp (s) per chain id of a value. @default from the decoded proposal value's pins */
  pinsOf?: (value: Uint8Array) => Map<number, bigint>
  /** After a withheld value, no new build for this long unless a plan settles meanwhile, ms (builds are the node's costliest work; keep it under a block time and the round timer). @default 500 */
  withheldBackoffMs?: number
}

type Entry = { keys: Set<string>; decidedAt: number; settledAt?: number }

const legKey = (l: SettlementPlan['legs'][number]) => `${l.eid}|${l.protocol}|${l.marketId.toLowerCase()}|${l.borrower.toLowerCase()}`

const pinsOfValue = (value: Uint8Array) => new Map(decodeProposalValue(value).pins.map((p) => [p.chainId, p.timestamp]))

export class LegGuard {
  private readonly plans = new Map<bigint, Entry>()
  private readonly o: Required<LegGuardOptions>
  /** Values withheld since start (for logs and tests). */
  withheld = 0
  /** No build before this time (ms), after a withheld value; a settlement clears it. */
  private backoffUntil = 0

  constructor(options: LegGuardOptions = {}) {
    this.o = {
      cooldownMs: options.cooldownMs ?? 1000,
      maxBusyMs: options.maxBusyMs ?? 120_000,
      now: options.now ?? Date.now,
      chainIdOfEid: options.chainIdOfEid ?? (() => undefined),
      pinsOf: options.pinsOf ?? pinsOfValue,
      withheldBackoffMs: options.withheldBackoffMs ?? 500,
    }
  }

  /** A height was decided: its accounts are busy. */
  decided(height: bigint, plan: SettlementPlan): void {
    if (!this.plans.has(height)) this.plans.set(height, { keys: new Set(plan.legs.map(legKey)), decidedAt: this.o.now() })
  }

  /**
   * No build for up to `ms` (until {@link release}): while this node's transmitter prepares a submission, a build
   * (synchronous planning, the node's costliest work) would delay it. Other leaders still propose meanwhile.
   */
  hold(ms: number): void {
    this.backoffUntil = Math.max(this.backoffUntil, this.o.now() + ms)
  }

  /** Ends a {@link hold} (and any backoff). */
  release(): void {
    this.backoffUntil = 0
  }

  /** The plan landed on the hub (kept for symmetry with the tracker's states; accounts stay busy). */
  submitted(_height: bigint): void {}

  /** Every leg of the plan is final: its accounts are free once pinned after this moment (and after the cooldown). */
  settled(height: bigint): void {
    const e = this.plans.get(height)
    if (e && e.settledAt === undefined) e.settledAt = this.o.now()
    this.backoffUntil = 0
  }

  /**
   * Accounts (`eid|protocol|market|borrower`) not to plan in a value pinning their chain at `pinTimestamp(eid)`
   * (seconds; undefined: treated as before the settlement). Plans free for any pin are forgotten.
   */
  busy(pinTimestamp: (eid: number) => bigint | undefined = () => undefined): Set<string> {
    const now = this.o.now()
    const out = new Set<string>()
    for (const [h, e] of this.plans) {
      // Never seen settled for maxBusyMs, or settled that long ago (any pin is newer by then): forgotten.
      if (now - (e.settledAt ?? e.decidedAt) >= this.o.maxBusyMs) {
        this.plans.delete(h)
        continue
      }
      const settledAt = e.settledAt
      const cooled = settledAt !== undefined && now - settledAt >= this.o.cooldownMs
      for (const k of e.keys) {
        if (cooled) {
          const ts = pinTimestamp(Number(k.slice(0, k.indexOf('|'))))
          if (ts !== undefined && ts * 1000n > BigInt(settledAt)) continue
        }
        out.add(k)
      }
    }
    return out
  }

  /** The EIDs where a leg of `value` touches a busy account, given the value's pins. */
  private busyEids(value: Uint8Array, plan: SettlementPlan): Set<number> {
    const pins = this.o.pinsOf(value)
    const busy = this.busy((eid) => {
      const chainId = this.o.chainIdOfEid(eid)
      return chainId === undefined ? undefined : pins.get(chainId)
    })
    return new Set(plan.legs.filter((l) => busy.has(legKey(l))).map((l) => l.eid))
  }

  /**
   * The value layer with a guarded `buildValue`: a value whose legs touch busy accounts is rebuilt without the
   * chains of those legs; when nothing is left, the answer is "nothing to propose".
   */
  wrap(values: BuildableValues): ConsensusValues {
    return {
      buildValue: async (height) => {
        if (this.o.now() < this.backoffUntil) return null
        const value = await values.buildValue(height)
        if (!value || this.plans.size === 0) return value
        // Checked after the build: a height decided while it ran is busy too.
        const touched = this.busyEids(value, values.settlementPlan(value))
        if (touched.size === 0) return value
        const exclude = [...touched].map((eid) => this.o.chainIdOfEid(eid))
        const rest = exclude.every((c) => c !== undefined) ? await values.buildValue(height, { excludeChainIds: exclude as number[] }) : null
        if (rest && this.busyEids(rest, values.settlementPlan(rest)).size === 0) return rest
        this.withheld++
        this.backoffUntil = this.o.now() + this.o.withheldBackoffMs
        return null
      },
      validateValue: (height, value) => values.validateValue(height, value),
      valueDigest: (value) => values.valueDigest(value),
      settlementPlan: (value) => values.settlementPlan(value),
    }
  }
}
