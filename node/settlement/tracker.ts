/**
 * The settlement tracker: follows every leg of every plan to its receipt, from the hub's and the spokes' events
 * (and the endpoints' events by GUID), and answers queries about plans and legs ({@link PlanStatusSource}).
 *
 * Leg states, in order (a leg never moves back):
 * - `pending`: the plan is known (handed over by the transmitter, or seen in PlanSubmitted) and the leg has no outcome yet;
 * - `dispatched`: the hub sent it to its spoke (LegDispatched, `guid` = the LayerZero message);
 * - `delivered`: the spoke received it (LegReceived, or the endpoint's PacketDelivered for the GUID); the spoke's own
 *   LegExecuted result is recorded as `spokeResult` while its receipt travels back;
 * - `executed` / `failed`: final, from the hub (ReceiptReceived for a remote leg, LegExecuted for a leg of the hub's
 *   chain); a failed leg's `reason` is the decoded error (`SlippageBoundHit`, `DeadlinePassed`, ...) and `reasonCode`
 *   its code (`SLIPPAGE`, `DEADLINE_PASSED`, `ACCOUNT_HEALTHY`, ...).
 * A leg whose delivery reverted in lzReceive (LzReceiveAlert for its GUID) stays `dispatched` with `alert` set.
 *
 * State lives in memory and is rebuilt from the chains' logs (from each chain's `fromBlock`) after a restart.
 */
import { decodeErrorResult, decodeEventLog, decodeFunctionData, type Abi, type Address, type Hex, type RpcLog } from 'viem'
import { liquidationHubAbi, liquidationSpokeAbi } from '../../contracts/out/abis.js'
import { aaveErrorName } from '../../chains/evm/errors.js'
import type { ChainClient } from '../../chains/evm/client.js'
import { getRpcLogsChunked } from '../../chains/evm/logs.js'
import { LzMessageTracker } from '../../chains/bridges/layerzero/tracker.js'
import { BaseError } from '../../protocol/errors.js'
import type { SettlementPlan } from '../../protocol/settlement/plan.js'
import type { Logger } from '../log/index.js'
import type { SettlementMetrics } from '../metrics/settlement.js'

export type LegState = 'pending' | 'dispatched' | 'delivered' | 'executed' | 'failed'
export const legStates: readonly LegState[] = ['pending', 'dispatched', 'delivered', 'executed', 'failed']
const RANK: Record<LegState, number> = { pending: 0, dispatched: 1, delivered: 2, executed: 3, failed: 3 }

/** What a leg's execution did (LegResult without status and reason). Base units of the leg's tokens. */
export type LegOutcome = { repaidAssets: bigint; seizedAssets: bigint; proceeds: bigint; collateralLeft: bigint }

/** One leg's settlement. */
export type LegStatusView = {
  seq: number
  eid: number
  /** Executed by the hub itself (the hub's chain). */
  local: boolean
  state: LegState
  /** LayerZero GUID of the hub → spoke message. */
  guid?: Hex
  dispatchTx?: Hex
  /** The spoke's transaction that received (and executed) the leg. */
  deliveredTx?: Hex
  /** The spoke's outcome, before its receipt reaches the hub. */
  spokeResult?: { status: 'executed' | 'failed'; outcome: LegOutcome; reason?: string }
  /** GUID of the spoke → hub receipt. */
  receiptGuid?: Hex
  /** Hub transaction of the final state (ReceiptReceived, or LegExecuted for a local leg). */
  receiptTx?: Hex
  outcome?: LegOutcome
  /** Failed: the decoded error, e.g. `SlippageBoundHit(0x…, 1, 2)` or `Error("position is healthy")`. */
  reason?: string
  /** Failed: a code for metrics and the API (`ACCOUNT_HEALTHY`, `SLIPPAGE`, `DEADLINE_PASSED`, ... or the error name in UPPER_SNAKE). */
  reasonCode?: string
  /** Revert data of a reverted lzReceive (LzReceiveAlert): the delivery is stuck, not failed. */
  alert?: Hex
  /** ms epoch of the last change. */
  updatedAt: number
}

/** One plan's settlement. */
export type PlanStatusView = {
  height: bigint
  planDigest?: Hex
  /** PlanSubmitted seen on the hub. */
  submitted: boolean
  submitTx?: Hex
  submitter?: Address
  /** Every leg executed or failed (PlanSettled seen, or all legs final). */
  settled: boolean
  legs: LegStatusView[]
  updatedAt: number
}

/** What the risk-feed API reads plans' settlement from. */
export interface PlanStatusSource {
  /** Plans, newest first, at most `limit` (default 50), below `before` when given. */
  listPlans(opts?: { limit?: number; before?: bigint }): Promise<PlanStatusView[]>
  getPlan(height: bigint): Promise<PlanStatusView | undefined>
  /** Calls `listener` with the plan after every change; returns the unsubscribe function. */
  subscribe(listener: (plan: PlanStatusView) => void): () => void
}

/** A settlement contract to follow. */
export type TrackedContract = {
  eid: number
  client: ChainClient
  /** The hub or the spoke. */
  address: Address
  /** EndpointV2 of the chain: GUIDs are also followed on it (delivery, LzReceiveAlert). */
  endpoint?: Address
  /** First block scanned (the contract's deployment block). @default 0n */
  fromBlock?: bigint
}

/** Options of {@link SettlementTracker}. Defaults in {@link defaultSettlementTrackerOptions}. */
export type SettlementTrackerOptions = {
  /** Interval of the polling loop started by `start()` (ms). @default 500 */
  pollMs?: number
  /** Plans kept; the oldest settled ones are dropped beyond it. @default 10_000 */
  maxPlans?: number
  /** Blocks per eth_getLogs. @default 5_000n */
  chunkSize?: bigint
}

export const defaultSettlementTrackerOptions = { pollMs: 500, maxPlans: 10_000, chunkSize: 5_000n } as const

export type SettlementTrackerInit = SettlementTrackerOptions & {
  hub: TrackedContract
  spokes: readonly TrackedContract[]
  metrics?: SettlementMetrics
  log?: Logger
  /** @default Date.now */
  now?: () => number
}

/** The tracker was asked about something it cannot follow. */
export class SettlementTrackerError extends BaseError {
  override name = 'SettlementTrackerError' as const
  constructor(shortMessage: string, params: { cause?: unknown } = {}) {
    super(shortMessage, params)
  }
}

type RawResult = { status: number; repaidAssets: bigint; seizedAssets: bigint; proceeds: bigint; collateralLeft: bigint; reason: Hex }
const STATUS_EXECUTED = 2

/** Errors that may appear in a failed leg's reason (Morpho Blue and Aave V3 revert with Error(string), always known). */
const reasonAbi = [
  ...liquidationHubAbi.filter((i) => i.type === 'error'),
  ...liquidationSpokeAbi.filter((i) => i.type === 'error'),
] as Abi

/** Decodes a failed leg's reason bytes: the description and a code. */
export function decodeLegReason(reason: Hex): { reason: string; reasonCode: string } {
  if (reason === '0x' || reason.length < 10) return { reason: 'no revert data', reasonCode: 'UNKNOWN' }
  try {
    const d = decodeErrorResult({ abi: reasonAbi, data: reason })
    const args = (d.args ?? []) as readonly unknown[]
    const text = `${d.errorName}(${args.map((a) => (typeof a === 'string' ? JSON.stringify(a) : String(a))).join(', ')})`
    if (d.errorName === 'Error') {
      const msg = String(args[0])
      const aave = aaveErrorName(msg)
      if (msg === 'position is healthy' || aave === 'HEALTH_FACTOR_NOT_BELOW_THRESHOLD') return { reason: aave ? `${text} = ${aave}` : text, reasonCode: 'ACCOUNT_HEALTHY' }
      return { reason: aave ? `${text} = ${aave}` : text, reasonCode: aave ?? 'ERROR' }
    }
    const codes: Record<string, string> = { SlippageBoundHit: 'SLIPPAGE', DeadlinePassed: 'DEADLINE_PASSED' }
    return { reason: text, reasonCode: codes[d.errorName] ?? d.errorName.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase() }
  } catch {
    return { reason: `unknown error (selector ${reason.slice(0, 10)})`, reasonCode: 'UNKNOWN' }
  }
}

const outcomeOf = (r: RawResult): LegOutcome => ({ repaidAssets: r.repaidAssets, seizedAssets: r.seizedAssets, proceeds: r.proceeds, collateralLeft: r.collateralLeft })

/**
 * @example
 * const tracker = new SettlementTracker({ hub: { eid, client, address: hub, endpoint }, spokes: [...] })
 * tracker.start()
 * const plan = await tracker.waitFor(7n, (p) => p.settled)
 */
export class SettlementTracker extends EventTarget implements PlanStatusSource {
  private readonly plans = new Map<bigint, PlanStatusView>()
  private readonly byGuid = new Map<string, { height: bigint; seq: number }>()
  private readonly cursors = new Map<TrackedContract, bigint>()
  private readonly listeners = new Set<(p: PlanStatusView) => void>()
  private readonly lz?: LzMessageTracker
  private readonly now: () => number
  private readonly o: Required<SettlementTrackerOptions>
  private readonly hubEid: number
  private timer?: ReturnType<typeof setTimeout>
  private running = false
  private polling?: Promise<void>
  /** Dispatch time per GUID (for the settle-time metric). */
  private readonly dispatchedAt = new Map<string, number>()

  constructor(private readonly init: SettlementTrackerInit) {
    super()
    this.now = init.now ?? Date.now
    this.hubEid = init.hub.eid
    this.o = {
      pollMs: init.pollMs ?? defaultSettlementTrackerOptions.pollMs,
      maxPlans: init.maxPlans ?? defaultSettlementTrackerOptions.maxPlans,
      chunkSize: init.chunkSize ?? defaultSettlementTrackerOptions.chunkSize,
    }
    for (const c of [init.hub, ...init.spokes]) this.cursors.set(c, c.fromBlock ?? 0n)
    const withEndpoint = [init.hub, ...init.spokes].filter((c) => c.endpoint)
    if (withEndpoint.length > 0)
      this.lz = new LzMessageTracker({ chains: withEndpoint.map((c) => ({ eid: c.eid, client: c.client, endpoint: c.endpoint!, fromBlock: c.fromBlock })), chunkSize: this.o.chunkSize })
  }

  // ───────────────────────────── queries ─────────────────────────────

  async listPlans(opts: { limit?: number; before?: bigint } = {}): Promise<PlanStatusView[]> {
    return [...this.plans.values()]
      .filter((p) => opts.before === undefined || p.height < opts.before)
      .sort((a, b) => (a.height > b.height ? -1 : a.height < b.height ? 1 : 0))
      .slice(0, opts.limit ?? 50)
      .map(clone)
  }

  async getPlan(height: bigint): Promise<PlanStatusView | undefined> {
    const p = this.plans.get(height)
    return p && clone(p)
  }

  subscribe(listener: (plan: PlanStatusView) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Legs by state, over every tracked plan. */
  counts(): Record<LegState, number> {
    const c: Record<LegState, number> = { pending: 0, dispatched: 0, delivered: 0, executed: 0, failed: 0 }
    for (const p of this.plans.values()) for (const l of p.legs) c[l.state]++
    return c
  }

  /**
   * Resolves with the plan once `until(plan)` holds, polling meanwhile.
   * @throws the signal's reason (default: a timeout after `timeoutMs`, 30 s).
   */
  async waitFor(height: bigint, until: (p: PlanStatusView) => boolean, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<PlanStatusView> {
    const signal = opts.signal ?? AbortSignal.timeout(opts.timeoutMs ?? 30_000)
    for (;;) {
      signal.throwIfAborted()
      const p = this.plans.get(height)
      if (p && until(p)) return clone(p)
      await this.poll()
      const q = this.plans.get(height)
      if (q && until(q)) return clone(q)
      await new Promise<void>((res) => {
        const onAbort = () => (clearTimeout(t), res())
        const t = setTimeout(() => (signal.removeEventListener('abort', onAbort), res()), Math.min(this.o.pollMs, 100))
        signal.addEventListener('abort', onAbort, { once: true })
      })
    }
  }

  // ───────────────────────────── inputs ─────────────────────────────

  /** Registers a plan before (or regardless of) its submission: its legs start `pending`. */
  expect(plan: SettlementPlan, planDigest?: Hex): void {
    const p = this.planOf(plan.height)
    if (planDigest && !p.planDigest) p.planDigest = planDigest
    for (const l of plan.legs) this.legOf(p, l.seq, l.eid)
    this.changed(p)
  }

  /** Starts polling every `pollMs`. */
  start(): void {
    if (this.running) return
    this.running = true
    const tick = async () => {
      try {
        await this.poll()
      } catch (err) {
        this.init.metrics?.rpcErrors.inc({ op: 'poll' })
        this.init.log?.warn({ err: err instanceof BaseError ? err.shortMessage : String(err) }, 'settlement tracker poll failed')
      }
      if (this.running) this.timer = setTimeout(tick, this.o.pollMs)
    }
    this.timer = setTimeout(tick, 0)
  }

  stop(): void {
    this.running = false
    if (this.timer) clearTimeout(this.timer)
  }

  /** Reads every contract's new logs and applies them. Concurrent calls share one poll. */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => (this.polling = undefined))
    return this.polling
  }

  private async pollOnce(): Promise<void> {
    const contracts = [this.init.hub, ...this.init.spokes]
    const fetched = await Promise.all(
      contracts.map(async (c) => {
        const from = this.cursors.get(c)!
        const head = await c.client.getBlockNumber({ cacheTime: 0 })
        if (head < from) return { c, head, logs: [] as RpcLog[] }
        const logs = await getRpcLogsChunked(c.client, { address: c.address, fromBlock: from, toBlock: head, chunkSize: this.o.chunkSize })
        return { c, head, logs }
      }),
    )
    // Hub first (it names the plans and GUIDs), then the spokes.
    for (const { c, head, logs } of fetched) {
      for (const l of logs) await this.apply(c, l)
      this.cursors.set(c, head + 1n)
    }
    if (this.lz) {
      await this.lz.poll()
      for (const [guid, at] of this.byGuid) {
        const m = this.lz.get(guid as Hex)
        if (!m) continue
        const p = this.plans.get(at.height)
        const leg = p?.legs.find((l) => l.seq === at.seq)
        if (!p || !leg || leg.guid?.toLowerCase() !== guid) continue
        if (m.state === 'alerted' && m.alert && leg.alert !== m.alert.reason && RANK[leg.state] < RANK.delivered) {
          leg.alert = m.alert.reason
          leg.updatedAt = this.now()
          this.changed(p)
        }
        if (m.state === 'delivered' && leg.state === 'dispatched') this.move(p, leg, 'delivered', { deliveredTx: m.delivered?.transactionHash })
      }
    }
    const counts = this.counts()
    for (const s of legStates) this.init.metrics?.legs.set({ state: s }, counts[s])
    this.prune()
  }

  private async apply(c: TrackedContract, log: RpcLog): Promise<void> {
    const isHub = c === this.init.hub
    let ev: { eventName: string; args: Record<string, unknown> }
    try {
      ev = decodeEventLog({ abi: isHub ? liquidationHubAbi : liquidationSpokeAbi, data: log.data, topics: log.topics as [Hex, ...Hex[]] }) as never
    } catch {
      return // an event the tracker does not follow
    }
    const a = ev.args
    const tx = (log.transactionHash ?? undefined) as Hex | undefined
    switch (ev.eventName) {
      case 'PlanSubmitted': {
        const p = this.planOf(a.height as bigint)
        p.submitted = true
        p.planDigest = a.planDigest as Hex
        p.submitter = a.submitter as Address
        p.submitTx = tx
        if (p.legs.length < Number(a.legCount) && tx) await this.learnLegs(c, p, tx)
        this.changed(p)
        return
      }
      case 'LegDispatched': {
        const p = this.planOf(a.height as bigint)
        const leg = this.legOf(p, Number(a.seq), Number(a.eid))
        const guid = (a.guid as Hex).toLowerCase() as Hex
        leg.guid = guid
        leg.dispatchTx = tx
        this.byGuid.set(guid, { height: p.height, seq: leg.seq })
        this.dispatchedAt.set(guid, this.now())
        this.move(p, leg, 'dispatched', {})
        return
      }
      case 'LegReceived': {
        const p = this.planOf(a.height as bigint)
        const leg = this.legOf(p, Number(a.seq), c.eid)
        if (!leg.guid) leg.guid = (a.guid as Hex).toLowerCase() as Hex
        this.move(p, leg, 'delivered', { deliveredTx: tx })
        return
      }
      case 'LegExecuted': {
        const p = this.planOf(a.height as bigint)
        const r = a.result as RawResult
        const leg = this.legOf(p, Number(a.seq), Number(a.eid))
        const ok = r.status === STATUS_EXECUTED
        const why = ok ? undefined : decodeLegReason(r.reason)
        if (isHub) {
          leg.local = true
          this.move(p, leg, ok ? 'executed' : 'failed', { receiptTx: tx, outcome: outcomeOf(r), ...(why ?? {}) })
        } else {
          leg.spokeResult = { status: ok ? 'executed' : 'failed', outcome: outcomeOf(r), reason: why?.reason }
          this.move(p, leg, 'delivered', { deliveredTx: leg.deliveredTx ?? tx })
        }
        return
      }
      case 'ReceiptSent': {
        const p = this.planOf(a.height as bigint)
        const leg = this.legOf(p, Number(a.seq), c.eid)
        leg.receiptGuid = (a.guid as Hex).toLowerCase() as Hex
        leg.updatedAt = this.now()
        this.changed(p)
        return
      }
      case 'ReceiptReceived': {
        const p = this.planOf(a.height as bigint)
        const r = a.result as RawResult
        const leg = this.legOf(p, Number(a.seq), Number(a.eid))
        leg.receiptGuid ??= (a.guid as Hex).toLowerCase() as Hex
        const ok = r.status === STATUS_EXECUTED
        if (leg.guid) {
          const t = this.dispatchedAt.get(leg.guid)
          if (t !== undefined) this.init.metrics?.legSettleSeconds.observe((this.now() - t) / 1000)
          this.dispatchedAt.delete(leg.guid)
        }
        this.move(p, leg, ok ? 'executed' : 'failed', { receiptTx: tx, outcome: outcomeOf(r), ...(ok ? {} : decodeLegReason(r.reason)) })
        return
      }
      case 'PlanSettled': {
        const p = this.planOf(a.height as bigint)
        p.settled = true
        this.changed(p)
        return
      }
      default:
        return
    }
  }

  /** Reads the submitPlan transaction to learn the plan's legs (when the plan was not handed over). */
  private async learnLegs(c: TrackedContract, p: PlanStatusView, tx: Hex): Promise<void> {
    try {
      const t = await c.client.getTransaction({ hash: tx })
      if (t.to?.toLowerCase() !== c.address.toLowerCase()) return
      const { functionName, args } = decodeFunctionData({ abi: liquidationHubAbi, data: t.input })
      if (functionName !== 'submitPlan') return
      for (const l of (args[0] as SettlementPlan).legs) this.legOf(p, l.seq, l.eid)
    } catch {
      // submitted through another contract: legs appear with their events
    }
  }

  private planOf(height: bigint): PlanStatusView {
    let p = this.plans.get(height)
    if (!p) {
      p = { height, submitted: false, settled: false, legs: [], updatedAt: this.now() }
      this.plans.set(height, p)
    }
    return p
  }

  private legOf(p: PlanStatusView, seq: number, eid: number): LegStatusView {
    let leg = p.legs.find((l) => l.seq === seq)
    if (!leg) {
      leg = { seq, eid, local: eid === this.hubEid, state: 'pending', updatedAt: this.now() }
      p.legs.push(leg)
      p.legs.sort((x, y) => x.seq - y.seq)
    }
    return leg
  }

  private move(p: PlanStatusView, leg: LegStatusView, state: LegState, patch: Partial<LegStatusView>): void {
    for (const [k, v] of Object.entries(patch)) if (v !== undefined) (leg as Record<string, unknown>)[k] = v
    if (RANK[state] > RANK[leg.state]) leg.state = state
    leg.updatedAt = this.now()
    if (leg.state === 'executed' || leg.state === 'failed') delete leg.alert
    if (p.legs.length > 0 && p.legs.every((l) => l.state === 'executed' || l.state === 'failed')) p.settled = true
    this.changed(p)
  }

  private changed(p: PlanStatusView): void {
    p.updatedAt = this.now()
    const view = clone(p)
    this.dispatchEvent(new CustomEvent('settlement:plan', { detail: view }))
    for (const l of this.listeners) {
      try {
        l(view)
      } catch {
        // a listener's failure is its own
      }
    }
  }

  private prune(): void {
    if (this.plans.size <= this.o.maxPlans) return
    const settled = [...this.plans.values()].filter((p) => p.settled).sort((a, b) => (a.height < b.height ? -1 : 1))
    for (const p of settled) {
      if (this.plans.size <= this.o.maxPlans) break
      this.plans.delete(p.height)
      for (const l of p.legs) if (l.guid) this.byGuid.delete(l.guid)
    }
  }
}

function clone(p: PlanStatusView): PlanStatusView {
  return { ...p, legs: p.legs.map((l) => ({ ...l, ...(l.outcome ? { outcome: { ...l.outcome } } : {}), ...(l.spokeResult ? { spokeResult: { ...l.spokeResult } } : {}) })) }
}
