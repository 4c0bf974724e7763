/**
 * Building (leader) and verifying (followers) proposal values. Pure: snapshots come in as arguments.
 *
 * **Pinning rule** (leader, per chain; {@link choosePin}). An operator *covers* a block (number and hash) of a chain
 * when it signed, at that block, a complete snapshot (every part) of every scope the network watches there — each
 * Morpho market, the Aave pool, each Uniswap V2 pair — and all its health snapshots give the same block timestamp.
 * The pin is the newest block covered by at least a quorum (2f+1) of operators, among the blocks offered; of two
 * hashes at one height, the one more operators cover. Its timestamp is the one most covering operators attest
 * (operators attesting another are left out). The value references every part of every covering operator.
 *
 * Why a quorum and not f+1: with 2f+1 operators' complete snapshots referenced, at least f+1 of them are honest, so
 * every value the honest operators attest reaches f+1 and enters; a faulty leader cannot leave an account out by
 * choosing whose snapshots to reference. Liveness is unaffected: 2f+1 operators are honest by assumption.
 *
 * **The value**: pins, references, the planner parameters' digest, the plan hash and the settlement plan (see
 * codec.ts). `deadlineBase` = the latest pinned timestamp, so every leg has at least `legTtlSeconds` on its chain.
 *
 * **Verification** ({@link verifyProposal}) recomputes everything and answers a reason code on any difference:
 * the height, the parameters, pins on network chains, each referenced snapshot present, well signed by the operator
 * it names, with the named digest, at the pinned block, hash and timestamp, complete parts, every referenced operator
 * covering its chain, a quorum per chain, then the f+1 rule, `plan()`, `planHash` and the settlement plan.
 */
import { bytesToHex, pad, type Address, type Hex } from 'viem'
import { BaseError } from '../errors.js'
import { chainScopes, networkChain, settlementChains, type Network, type NetworkChain } from '../network.js'
import { plan as runPlanner, planHash } from '../planner/index.js'
import type { Plan, PlanParams } from '../planner/types.js'
import { PayloadKind } from '../proto/codec.js'
import { encodeSettlementPlan, toSettlementPlan, type SettlementPlan } from '../settlement/plan.js'
import { PROPOSAL_VERSION, compareRefs, type PinnedBlock, type ProposalValue, type SnapshotRef } from './codec.js'
import { paramsDigest } from './params.js'
import { selectInputs, type AttestedSnapshot, type SelectedInputs } from './select.js'

/** Where a snapshot sits: its store key fields and the block it attests. */
export function snapshotRef(a: AttestedSnapshot): SnapshotRef {
  return {
    chainId: a.snapshot.chainId,
    kind: a.kind,
    scope: scopeOf(a),
    part: a.kind === PayloadKind.healthSnapshot ? a.snapshot.part : 0,
    operator: a.operator.toLowerCase() as Address,
    digest: a.digest.toLowerCase() as Hex,
  }
}

/** The 32-byte scope of a snapshot: the market (health) or the pair left-padded (liquidity), lowercase. */
export function scopeOf(a: AttestedSnapshot): Hex {
  return a.kind === PayloadKind.healthSnapshot ? bytesToHex(a.snapshot.market) : pad(bytesToHex(a.snapshot.pair), { size: 32 })
}

const refKey = (r: Pick<SnapshotRef, 'chainId' | 'kind' | 'scope' | 'part' | 'operator'>) => `${r.chainId}:${r.kind}:${r.scope.toLowerCase()}:${r.operator.toLowerCase()}:${r.part}`
/** A reference's lookup key (without the digest). */
export const snapshotRefKey = refKey

type Coverage = { blockNumber: bigint; blockHash: Hex; timestamp: bigint; operators: Address[]; snapshots: AttestedSnapshot[] }

/**
 * For each (block number, hash) among `snapshots` of one chain: the operators covering it (see the module comment),
 * their timestamp, and their snapshots. Sorted newest block first.
 */
export function coverage(chain: NetworkChain, snapshots: readonly AttestedSnapshot[]): Coverage[] {
  const scopes = chainScopes(chain)
  const wanted = [...scopes.health.map((s) => `1:${s}`), ...scopes.liquidity.map((s) => `2:${s}`)]
  // block → operator → scope → parts seen
  const blocks = new Map<string, { number: bigint; hash: Hex; ops: Map<Address, { scopes: Map<string, { parts: number; seen: Set<number> }>; ts: Set<bigint>; bad: boolean; list: AttestedSnapshot[] }> }>()
  for (const a of snapshots) {
    if (a.snapshot.chainId !== chain.chainId) continue
    const scope = `${a.kind}:${scopeOf(a)}`
    if (!wanted.includes(scope)) continue
    const number = BigInt(a.snapshot.blockNumber)
    const hash = bytesToHex(a.snapshot.blockHash)
    const bk = `${number}:${hash}`
    let b = blocks.get(bk)
    if (!b) blocks.set(bk, (b = { number, hash, ops: new Map() }))
    const op = a.operator.toLowerCase() as Address
    let o = b.ops.get(op)
    if (!o) b.ops.set(op, (o = { scopes: new Map(), ts: new Set(), bad: false, list: [] }))
    const parts = a.kind === PayloadKind.healthSnapshot ? a.snapshot.parts : 1
    const part = a.kind === PayloadKind.healthSnapshot ? a.snapshot.part : 0
    let s = o.scopes.get(scope)
    if (!s) o.scopes.set(scope, (s = { parts, seen: new Set() }))
    if (s.parts !== parts || s.seen.has(part)) o.bad = true
    s.seen.add(part)
    if (a.kind === PayloadKind.healthSnapshot) o.ts.add(BigInt(a.snapshot.blockTimestamp ?? 0))
    o.list.push(a)
  }
  const out: Coverage[] = []
  for (const b of blocks.values()) {
    const complete: [Address, bigint][] = []
    for (const [op, o] of b.ops) {
      if (o.bad || o.ts.size > 1) continue
      if (!wanted.every((w) => {
        const s = o.scopes.get(w)
        return s !== undefined && s.seen.size === s.parts
      })) continue
      complete.push([op, o.ts.size === 1 ? [...o.ts][0] : 0n])
    }
    if (complete.length === 0) continue
    const byTs = new Map<bigint, number>()
    for (const [, ts] of complete) byTs.set(ts, (byTs.get(ts) ?? 0) + 1)
    const timestamp = [...byTs.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))[0][0]
    const operators = complete.filter(([, ts]) => ts === timestamp).map(([op]) => op).sort()
    out.push({ blockNumber: b.number, blockHash: b.hash, timestamp, operators, snapshots: operators.flatMap((op) => b.ops.get(op)!.list) })
  }
  out.sort((x, y) => (x.blockNumber > y.blockNumber ? -1 : x.blockNumber < y.blockNumber ? 1 : y.operators.length - x.operators.length || (x.blockHash < y.blockHash ? -1 : 1)))
  return out
}

/** The pin of one chain and the snapshots the value references there, or undefined when no block has a quorum. */
export function choosePin(chain: NetworkChain, snapshots: readonly AttestedSnapshot[], quorum: number): { pin: PinnedBlock; snapshots: AttestedSnapshot[] } | undefined {
  for (const c of coverage(chain, snapshots)) {
    if (c.operators.length < quorum) continue
    return { pin: { chainId: chain.chainId, blockNumber: c.blockNumber, blockHash: c.blockHash, timestamp: c.timestamp }, snapshots: c.snapshots }
  }
  return undefined
}

/** The parameters a value plans with: the configured ones and `deadlineBase` = the latest pinned timestamp (s). */
export function paramsForPins(params: PlanParams, pins: readonly PinnedBlock[]): PlanParams {
  const deadlineBase = pins.reduce((m, p) => (p.timestamp > m ? p.timestamp : m), 0n)
  return { ...params, deadlineBase }
}

/** Everything a value's inputs give: the selected inputs, the plan and its settlement form. */
export type ProposalPlan = { selected: SelectedInputs; plan: Plan; planHash: Hex; settlementPlan: SettlementPlan }

/**
 * Runs the f+1 rule, the planner and the settlement mapping on a value's snapshots.
 * @throws PlanInputError (planner), SettlementMappingError
 */
export function planFromSnapshots(height: bigint, snapshots: readonly AttestedSnapshot[], pins: readonly PinnedBlock[], network: Network, params: PlanParams): ProposalPlan {
  const selected = selectInputs(snapshots, network.f, network)
  const p = runPlanner(selected.inputs, paramsForPins(params, pins))
  return { selected, plan: p, planHash: planHash(p), settlementPlan: toSettlementPlan(p, height, settlementChains(network)) }
}

export type BuiltProposal = { value: ProposalValue; planned: ProposalPlan; snapshots: AttestedSnapshot[] }

/**
 * Leader side: pins each chain (chains without a quorum-covered block are left out), references the covering
 * operators' snapshots, and plans. Returns undefined when no chain can be pinned or the plan has no settlement leg
 * (nothing to liquidate).
 * @param snapshots candidate snapshots of recent blocks (signatures checked by the caller), any order.
 * @throws PlanInputError, SettlementMappingError (inputs the planner refuses: a bug or a misconfiguration)
 */
export function buildProposal(height: bigint, snapshots: readonly AttestedSnapshot[], network: Network, params: PlanParams): BuiltProposal | undefined {
  const pins: PinnedBlock[] = []
  const used: AttestedSnapshot[] = []
  for (const chain of network.chains) {
    const chosen = choosePin(chain, snapshots, network.quorum)
    if (!chosen) continue
    pins.push(chosen.pin)
    used.push(...chosen.snapshots)
  }
  if (pins.length === 0) return undefined
  const planned = planFromSnapshots(height, used, pins, network, params)
  if (planned.settlementPlan.legs.length === 0) return undefined
  const value: ProposalValue = {
    version: PROPOSAL_VERSION,
    height,
    pins,
    snapshots: used.map(snapshotRef).sort(compareRefs),
    paramsDigest: paramsDigest(params),
    planHash: planned.planHash,
    settlementPlan: planned.settlementPlan,
  }
  return { value, planned, snapshots: used }
}

/** Reason codes of a refused value (metric labels). */
export type ProposalRefusal =
  | 'MALFORMED'
  | 'WRONG_HEIGHT'
  | 'PARAMS_MISMATCH'
  | 'NO_PINS'
  | 'UNKNOWN_CHAIN'
  | 'UNKNOWN_SCOPE'
  | 'UNKNOWN_SIGNER'
  | 'SNAPSHOT_MISSING'
  | 'SNAPSHOT_MISMATCH'
  | 'PIN_MISMATCH'
  | 'INCOMPLETE'
  | 'NO_QUORUM'
  | 'PLAN_ERROR'
  | 'PLAN_MISMATCH'
  | 'SETTLEMENT_MISMATCH'

export type VerifyResult = { ok: true; planned: ProposalPlan } | { ok: false; reason: ProposalRefusal; detail: string }

/**
 * Follower side: checks a decoded value against the snapshots it references. `resolve(ref)` returns the snapshot
 * stored or fetched under the ref's key (signature already checked against its signer, or undefined); its digest
 * and signer are compared with the ref's here. Never throws.
 */
export function verifyProposal(
  value: ProposalValue,
  height: bigint,
  network: Network,
  params: PlanParams,
  resolve: (ref: SnapshotRef) => AttestedSnapshot | undefined,
): VerifyResult {
  const refuse = (reason: ProposalRefusal, detail: string): VerifyResult => ({ ok: false, reason, detail })
  try {
    if (value.height !== height) return refuse('WRONG_HEIGHT', `value for height ${value.height}, expected ${height}`)
    if (value.paramsDigest !== paramsDigest(params)) return refuse('PARAMS_MISMATCH', `planner parameters ${value.paramsDigest} differ from ours`)
    if (value.pins.length === 0) return refuse('NO_PINS', 'no chain pinned')
    const pins = new Map<number, PinnedBlock>()
    for (const p of value.pins) {
      if (!networkChain(network, p.chainId)) return refuse('UNKNOWN_CHAIN', `chain ${p.chainId} is not in the network`)
      pins.set(p.chainId, p)
    }
    const operators = new Set(network.operators.map((o) => o.toLowerCase()))
    const snapshots: AttestedSnapshot[] = []
    for (const ref of value.snapshots) {
      const chain = networkChain(network, ref.chainId)!
      const scopes = chainScopes(chain)
      if (!(ref.kind === PayloadKind.healthSnapshot ? scopes.health : scopes.liquidity).includes(ref.scope)) return refuse('UNKNOWN_SCOPE', `scope ${ref.scope} is not watched on chain ${ref.chainId}`)
      if (!operators.has(ref.operator)) return refuse('UNKNOWN_SIGNER', `${ref.operator} is not an operator`)
      const a = resolve(ref)
      if (!a) return refuse('SNAPSHOT_MISSING', `snapshot ${refKey(ref)} not found`)
      const got = snapshotRef(a)
      if (refKey(got) !== refKey(ref) || got.digest !== ref.digest) return refuse('SNAPSHOT_MISMATCH', `snapshot ${refKey(ref)} has digest ${got.digest}, not ${ref.digest}`)
      const pin = pins.get(ref.chainId)!
      if (BigInt(a.snapshot.blockNumber) !== pin.blockNumber || bytesToHex(a.snapshot.blockHash) !== pin.blockHash)
        return refuse('PIN_MISMATCH', `snapshot ${refKey(ref)} is at block ${a.snapshot.blockNumber}, not the pinned ${pin.blockNumber}`)
      if (a.kind === PayloadKind.healthSnapshot && BigInt(a.snapshot.blockTimestamp ?? 0) !== pin.timestamp)
        return refuse('PIN_MISMATCH', `snapshot ${refKey(ref)} attests timestamp ${a.snapshot.blockTimestamp}, not the pinned ${pin.timestamp}`)
      snapshots.push(a)
    }
    // Every referenced operator covers its chain's pin completely; a quorum does.
    for (const pin of value.pins) {
      const chain = networkChain(network, pin.chainId)!
      const mine = snapshots.filter((s) => s.snapshot.chainId === pin.chainId)
      const cov = coverage(chain, mine).find((c) => c.blockNumber === pin.blockNumber && c.blockHash === pin.blockHash)
      const covering = new Set(cov?.operators ?? [])
      const referenced = new Set(mine.map((s) => s.operator.toLowerCase()))
      for (const op of referenced) if (!covering.has(op as Address)) return refuse('INCOMPLETE', `operator ${op} does not cover every scope of chain ${pin.chainId} at the pin`)
      if (covering.size < network.quorum) return refuse('NO_QUORUM', `${covering.size} operators cover chain ${pin.chainId} at the pin, fewer than ${network.quorum}`)
    }
    let planned: ProposalPlan
    try {
      planned = planFromSnapshots(height, snapshots, value.pins, network, params)
    } catch (err) {
      return refuse('PLAN_ERROR', err instanceof BaseError ? err.shortMessage : String(err))
    }
    if (planned.planHash !== value.planHash) return refuse('PLAN_MISMATCH', `recomputed plan ${planned.planHash}, value says ${value.planHash}`)
    if (encodeSettlementPlan(planned.settlementPlan) !== encodeSettlementPlan(value.settlementPlan)) return refuse('SETTLEMENT_MISMATCH', 'the settlement plan differs from the recomputed one')
    return { ok: true, planned }
  } catch (err) {
    return refuse('MALFORMED', err instanceof Error ? err.message : String(err))
  }
}
