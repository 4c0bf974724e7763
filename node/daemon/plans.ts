/**
 * The risk-feed API's plan source in the daemon: every certified plan this node decided (or adopted), with the
 * planner's plan recomputed from the value's snapshots (the same pure `planFromSnapshots` every follower ran to
 * validate it), and each leg's settlement from the settlement tracker (node/settlement/api.ts `toLegSettlement`).
 */
import { hexToBytes, type Address, type Hex } from 'viem'
import type { Network } from '../../protocol/network.js'
import type { Plan, PlanParams } from '../../protocol/planner/types.js'
import { decodeProposalValue, planFromSnapshots, type AttestedSnapshot } from '../../protocol/proposal/index.js'
import { openEnvelope } from '../../protocol/signing/envelope.js'
import type { LegSettlement, PlanRecord, PlanSource } from '../api/plans.js'
import type { CertifiedPlan } from '../consensus/service.js'
import type { Logger } from '../log/index.js'
import { toLegSettlement } from '../settlement/api.js'
import type { PlanStatusSource, PlanStatusView } from '../settlement/tracker.js'
import type { Store } from '../store/store.js'

export type DecidedPlanSourceInit = {
  store: Store
  network: Network
  params: PlanParams
  /** EIP-712 domain separator of snapshot signatures. */
  domainSeparator: Uint8Array
  /** Leg settlement; without it every leg stays `planned`. */
  settlement?: PlanStatusSource
  /** Most plans kept (the oldest are dropped). @default 1024 */
  maxPlans?: number
  /** Retries of a plan whose snapshots are not in the store yet. @default 10 */
  missingRetries?: number
  /** Pause between those retries, ms. @default 500 */
  missingRetryMs?: number
  log?: Logger
}

/** The planner's plan of a certified value, recomputed from the snapshots it references (undefined when one is missing). */
export async function recomputePlan(init: Pick<DecidedPlanSourceInit, 'store' | 'network' | 'params' | 'domainSeparator'>, value: Uint8Array): Promise<{ plan: Plan; planHash: Hex } | undefined> {
  const v = decodeProposalValue(value)
  const pins = new Map(v.pins.map((p) => [p.chainId, p.blockNumber]))
  const snapshots: AttestedSnapshot[] = []
  for (const r of v.snapshots) {
    const rec = await init.store.history.get(r.kind, r.chainId, hexToBytes(r.scope), Number(pins.get(r.chainId)!), r.part, hexToBytes(r.operator))
    if (!rec) return undefined
    const opened = openEnvelope(rec.envelope, init.domainSeparator)
    snapshots.push({ operator: opened.signer.toLowerCase() as Address, digest: r.digest, ...opened.payload } as AttestedSnapshot)
  }
  const p = planFromSnapshots(v.height, snapshots, v.pins, init.network, init.params)
  return { plan: p.plan, planHash: p.planHash }
}

/** Implements the API's {@link PlanSource} over decided plans and the settlement tracker. */
export class DecidedPlanSource implements PlanSource {
  private readonly plans = new Map<bigint, Omit<PlanRecord, 'legs'>>()
  private readonly listeners = new Set<(r: PlanRecord) => void>()
  private readonly unsubscribe?: () => void
  private closed = false

  constructor(private readonly init: DecidedPlanSourceInit) {
    this.unsubscribe = init.settlement?.subscribe((status) => {
      const base = this.plans.get(status.height)
      if (base) this.emit({ ...base, legs: legsOf(base.plan, status) })
    })
  }

  /**
   * Records a certified plan (its planner plan recomputed from the store). A referenced snapshot gossip has not
   * delivered yet (a follower may have validated the value with snapshots fetched from peers) is waited for, up to
   * `missingRetries` × `missingRetryMs`. Never throws: a plan it cannot rebuild is logged and left out.
   */
  async add(c: CertifiedPlan): Promise<void> {
    try {
      let rebuilt = await recomputePlan(this.init, c.value)
      for (let i = 0; !rebuilt && i < (this.init.missingRetries ?? 10) && !this.closed; i++) {
        await new Promise((r) => setTimeout(r, this.init.missingRetryMs ?? 500))
        rebuilt = await recomputePlan(this.init, c.value)
      }
      if (!rebuilt) {
        this.init.log?.warn({ height: c.height }, 'certified plan not served by the API: a referenced snapshot is missing from the store')
        return
      }
      const base: Omit<PlanRecord, 'legs'> = {
        height: c.height,
        round: c.round,
        planHash: rebuilt.planHash,
        certifiedAt: c.decidedAt,
        signers: c.seals.map((s) => s.signer as Hex),
        plan: rebuilt.plan,
      }
      this.plans.set(c.height, base)
      const max = this.init.maxPlans ?? 1024
      while (this.plans.size > max) this.plans.delete([...this.plans.keys()].sort((a, b) => (a < b ? -1 : 1))[0])
      this.emit({ ...base, legs: legsOf(base.plan, await this.init.settlement?.getPlan(c.height)) })
    } catch (err) {
      this.init.log?.warn({ err, height: c.height }, 'certified plan not served by the API')
    }
  }

  async list(opts: { limit: number; before?: bigint }): Promise<PlanRecord[]> {
    const heights = [...this.plans.keys()]
      .filter((h) => opts.before === undefined || h < opts.before)
      .sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))
      .slice(0, opts.limit)
    return Promise.all(heights.map(async (h) => (await this.get(h))!))
  }

  async get(height: bigint): Promise<PlanRecord | undefined> {
    const base = this.plans.get(height)
    if (!base) return undefined
    return { ...base, legs: legsOf(base.plan, await this.init.settlement?.getPlan(height)) }
  }

  subscribe(listener: (record: PlanRecord) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  close(): void {
    this.closed = true
    this.unsubscribe?.()
    this.listeners.clear()
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

/**
 * One settlement entry per planner leg. The settlement plan's legs carry their own `seq` (liquidation legs only,
 * in planner order), so the tracker's legs are matched to the planner's liquidation legs in order.
 */
function legsOf(plan: Plan, status: PlanStatusView | undefined): LegSettlement[] {
  const tracked = [...(status?.legs ?? [])].sort((a, b) => a.seq - b.seq)
  const liquidations = plan.legs.filter((l) => l.kind === 'liquidate')
  return plan.legs.map((leg) => {
    const i = liquidations.indexOf(leg)
    const t = i >= 0 ? tracked[i] : undefined
    return t ? { ...toLegSettlement(t), seq: leg.seq } : { seq: leg.seq, status: 'planned' as const }
  })
}
