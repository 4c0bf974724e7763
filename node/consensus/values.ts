/**
 * The value layer of consensus: proposal values are plans (protocol/proposal) built from and checked against the
 * signed snapshots in the node's level store.
 *
 * - Leader (`buildValue`): reads each watched scope's newest snapshots from the store (the last `lookbackBlocks`
 *   blocks), pins each chain at the newest block a quorum of operators covers, applies the f+1 rule, plans, and
 *   encodes the value — or returns null when there is nothing to liquidate.
 * - Follower (`validateValue`): decodes, looks each referenced snapshot up by key in the store (waiting up to
 *   `missingWaitMs` for gossip to deliver it, then asking peers over `/liqnet/snapshots/1.0.0`), checks its
 *   signature and digest, and recomputes the plan; any difference is a refusal with a reason code. Never throws.
 *
 * Request protocol `/liqnet/snapshots/1.0.0` (served from the store's snapshot history):
 * - request: `u16 count ‖ count × (u8 kind ‖ u64 chainId ‖ 32 scope ‖ u64 block ‖ u32 part ‖ 20 operator)`, count ≤ 256;
 * - response: one frame per key, in order: `u32 length ‖ SignedEnvelope` (length 0 when the node lacks it).
 */
import { readAll } from '../gossip/sync.js'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import { bytesToHex, hexToBytes, type Address, type Hex } from 'viem'
import { MAX_GOSSIP_MESSAGE_BYTES } from '../../protocol/limits.js'
import type { Network } from '../../protocol/network.js'
import type { PlanParams } from '../../protocol/planner/types.js'
import { PayloadKind, decodeEnvelope } from '../../protocol/proto/codec.js'
import { chainScopes } from '../../protocol/network.js'
import {
  ProposalDecodeError,
  buildProposal,
  decodeProposalValue,
  encodeProposalValue,
  proposalValueDigest,
  snapshotRefKey,
  verifyProposal,
  type AttestedSnapshot,
  type BuiltProposal,
  type ProposalRefusal,
  type SnapshotRef,
} from '../../protocol/proposal/index.js'
import { decodePayload, openEnvelope } from '../../protocol/signing/envelope.js'
import type { SettlementPlan } from '../../protocol/settlement/plan.js'
import { KeyWriter, readU32, readU64 } from '../store/encoding.js'
import type { Store } from '../store/store.js'

/** The value layer B2's consensus service drives (same shape as `ConsensusValues` in service.ts). */
export interface ConsensusValues {
  /**
   * Called when this node leads `height`: the encoded proposal value, or null when there is nothing to liquidate.
   * `excludeChainIds`: chains left out of the value (no pin, no snapshot, no leg), e.g. while an earlier plan's legs
   * there are not settled; a value that pins only some chains is valid.
   */
  buildValue(height: bigint, opts?: { excludeChainIds?: readonly number[] }): Promise<Uint8Array | null>
  /** Followers: decode, check inputs (signatures, f+1 attestations, pinned blocks), recompute the plan; never throws. */
  validateValue(height: bigint, value: Uint8Array): Promise<{ ok: true } | { ok: false; reason: string }>
  /** 32-byte digest of a value (what PREPARE/COMMIT carry). */
  valueDigest(value: Uint8Array): `0x${string}`
  /** The settlement plan a value certifies (commit seals sign settlementPlanDigest of it). */
  settlementPlan(value: Uint8Array): SettlementPlan
}

/** Fetches envelopes other nodes hold, by snapshot key. */
export interface SnapshotFetcher {
  /** The envelopes found for `keys` (same order; undefined where no peer had it). */
  fetch(keys: readonly SnapshotKey[], options?: { signal?: AbortSignal }): Promise<(Uint8Array | undefined)[]>
}

/** A snapshot's store key: a reference with its block (the pin). */
export type SnapshotKey = Omit<SnapshotRef, 'digest'> & { blockNumber: bigint }

export type ConsensusValuesOptions = {
  store: Store
  network: Network
  params: PlanParams
  /** EIP-712 domain separator of snapshot signatures (the gossip's). */
  domainSeparator: Uint8Array
  /** Blocks below each scope's newest snapshot the leader considers for pinning. @default 16 */
  lookbackBlocks?: number
  /** How long a follower waits for gossip to deliver a missing snapshot before asking peers, ms. @default 1000 */
  missingWaitMs?: number
  /** Poll interval of that wait, ms. @default 50 */
  missingPollMs?: number
  fetcher?: SnapshotFetcher
  /**
   * A counter that changes whenever the store accepts a snapshot (e.g. bumped on the gossip service's
   * `snapshot:accepted`). With it, a build for the same height and chains as the last one returns the last answer
   * while the counter is unchanged, so an idle node does not re-read and re-plan the same snapshots every tick.
   */
  generation?: () => number
  log?: Logger
}

export const defaultConsensusValuesOptions = { lookbackBlocks: 16, missingWaitMs: 1000, missingPollMs: 50 } as const

/** What the value layer also exposes (for the node, logs and tests). */
export type ConsensusValuesExtra = {
  /** The last value built by this node, with its plan and inputs. */
  readonly lastBuilt?: BuiltProposal & { bytes: Uint8Array }
  /** Refusals by reason code since start. */
  readonly refusals: ReadonlyMap<ProposalRefusal | 'FETCH_FAILED', number>
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const countBy = (xs: readonly string[]) => xs.reduce<Record<string, number>>((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {})

/** Implements {@link ConsensusValues} over the level store. */
export function createConsensusValues(options: ConsensusValuesOptions): ConsensusValues & ConsensusValuesExtra {
  const o = { ...defaultConsensusValuesOptions, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<Omit<ConsensusValuesOptions, 'fetcher' | 'log' | 'generation'>> & ConsensusValuesOptions
  const { store, network, params } = o
  const refusals = new Map<ProposalRefusal | 'FETCH_FAILED', number>()
  const verified = new Map<Hex, true>()
  const decoded = new Map<Hex, SettlementPlan>()
  const remember = <K, V>(m: Map<K, V>, k: K, v: V) => {
    if (m.size >= 256) m.delete(m.keys().next().value as K)
    m.set(k, v)
  }
  let lastBuilt: (BuiltProposal & { bytes: Uint8Array }) | undefined
  /** The last answer of buildValue and its inputs' key (height, chains left out, store generation). */
  let memo: { key: string; bytes: Uint8Array | null } | undefined

  /** Decoded store records by operator ‖ digest: a build decodes only what arrived since the last one. */
  const decodedSnapshots = new Map<string, AttestedSnapshot>()
  const maxDecoded = Math.max(4096, network.chains.length * network.operators.length * o.lookbackBlocks * 64)

  /** The leader's candidates: every scope's newest snapshots, decoded (the store holds validated envelopes only). */
  async function candidates(excludeChainIds?: ReadonlySet<number>): Promise<AttestedSnapshot[]> {
    const out: AttestedSnapshot[] = []
    const perBlock = network.operators.length * 4
    for (const chain of network.chains) {
      if (excludeChainIds?.has(chain.chainId)) continue
      const scopes = chainScopes(chain)
      const lists = await Promise.all([
        ...scopes.health.map((s) => store.history.latestOfScope(PayloadKind.healthSnapshot, chain.chainId, s, o.lookbackBlocks * perBlock)),
        ...scopes.liquidity.map((s) => store.history.latestOfScope(PayloadKind.liquiditySnapshot, chain.chainId, s, o.lookbackBlocks * perBlock)),
      ])
      for (const list of lists)
        for (const e of list) {
          const operator = e.operator.toLowerCase() as Address
          const digest = bytesToHex(e.record.digest)
          const key = operator + digest
          let a = decodedSnapshots.get(key)
          if (!a) {
            try {
              a = { operator, digest, ...decodePayload(decodeEnvelope(e.record.envelope)) } as AttestedSnapshot
            } catch (err) {
              o.log?.warn({ err }, 'undecodable stored snapshot')
              continue
            }
            if (decodedSnapshots.size >= maxDecoded) decodedSnapshots.delete(decodedSnapshots.keys().next().value as string)
            decodedSnapshots.set(key, a)
          }
          out.push(a)
        }
    }
    return out
  }

  async function lookup(key: SnapshotKey): Promise<Uint8Array | undefined> {
    const r = await store.history.get(key.kind, key.chainId, hexToBytes(key.scope), Number(key.blockNumber), key.part, hexToBytes(key.operator))
    return r?.envelope
  }

  const count = (reason: ProposalRefusal | 'FETCH_FAILED') => refusals.set(reason, (refusals.get(reason) ?? 0) + 1)

  return {
    get lastBuilt() {
      return lastBuilt
    },
    refusals,

    async buildValue(height, opts) {
      const t0 = performance.now()
      const exclude = opts?.excludeChainIds?.length ? new Set(opts.excludeChainIds) : undefined
      const memoKey = o.generation ? `${height}|${[...(exclude ?? [])].sort().join(',')}|${o.generation()}` : undefined
      if (memoKey !== undefined && memo?.key === memoKey) return memo.bytes
      const built = buildProposal(height, await candidates(exclude), network, params)
      if (!built) {
        if (memoKey !== undefined) memo = { key: memoKey, bytes: null }
        return null
      }
      const bytes = encodeProposalValue(built.value)
      lastBuilt = { ...built, bytes }
      const digest = proposalValueDigest(bytes)
      remember(verified, digest, true)
      remember(decoded, digest, built.value.settlementPlan)
      if (memoKey !== undefined) memo = { key: memoKey, bytes }
      o.log?.info({ height: String(height), legs: built.value.settlementPlan.legs.length, snapshots: built.value.snapshots.length, excluded: built.planned.selected.excluded.length, ...(built.planned.selected.excluded.length ? { excludedBy: countBy(built.planned.selected.excluded.map((e) => e.reason)) } : {}), ...(exclude ? { chainsLeftOut: [...exclude] } : {}), ms: Math.round(performance.now() - t0) }, 'built proposal value')
      return bytes
    },

    async validateValue(height, value) {
      const refuse = (reason: ProposalRefusal | 'FETCH_FAILED', detail: string) => {
        count(reason)
        o.log?.warn({ height: String(height), reason, detail }, 'refused proposal value')
        return { ok: false as const, reason }
      }
      try {
        const digest = proposalValueDigest(value)
        let v
        try {
          v = decodeProposalValue(value)
        } catch (err) {
          return refuse('MALFORMED', err instanceof ProposalDecodeError ? err.shortMessage : String(err))
        }
        if (verified.has(digest) && v.height === height) return { ok: true }
        const pins = new Map(v.pins.map((p) => [p.chainId, p.blockNumber]))
        const keys: SnapshotKey[] = v.snapshots.map((r) => ({ ...r, blockNumber: pins.get(r.chainId)! }))
        const envelopes = await Promise.all(keys.map(lookup))
        // Missing ones: wait for gossip, then ask peers.
        const deadline = Date.now() + o.missingWaitMs
        while (envelopes.some((e) => e === undefined) && Date.now() < deadline) {
          await sleep(o.missingPollMs)
          await Promise.all(keys.map(async (k, i) => (envelopes[i] ??= await lookup(k))))
        }
        const missing = keys.map((k, i) => (envelopes[i] === undefined ? i : -1)).filter((i) => i >= 0)
        if (missing.length > 0 && o.fetcher) {
          try {
            const got = await o.fetcher.fetch(missing.map((i) => keys[i]), { signal: AbortSignal.timeout(5000) })
            missing.forEach((i, j) => (envelopes[i] = got[j]))
          } catch (err) {
            o.log?.debug({ err }, 'snapshot fetch failed')
          }
        }
        const byKey = new Map<string, AttestedSnapshot>()
        v.snapshots.forEach((r, i) => {
          const e = envelopes[i]
          if (!e) return
          try {
            const opened = openEnvelope(e, o.domainSeparator)
            byKey.set(snapshotRefKey(r), { operator: opened.signer.toLowerCase() as Address, digest: bytesToHex(opened.digest), ...opened.payload } as AttestedSnapshot)
          } catch {
            // Unverifiable: the ref resolves to nothing (SNAPSHOT_MISSING).
          }
        })
        const result = verifyProposal(v, height, network, params, (r) => byKey.get(snapshotRefKey(r)))
        if (!result.ok) return refuse(result.reason, result.detail)
        remember(verified, digest, true)
        remember(decoded, digest, v.settlementPlan)
        return { ok: true }
      } catch (err) {
        return refuse('MALFORMED', err instanceof Error ? err.message : String(err))
      }
    },

    valueDigest(value) {
      return proposalValueDigest(value)
    },

    settlementPlan(value) {
      const digest = proposalValueDigest(value)
      const cached = decoded.get(digest)
      if (cached) return cached
      const plan = decodeProposalValue(value).settlementPlan
      remember(decoded, digest, plan)
      return plan
    },
  }
}

// ───────────────────────────── /liqnet/snapshots/1.0.0 ─────────────────────────────

export const SNAPSHOTS_PROTOCOL = '/liqnet/snapshots/1.0.0'
/** Most keys per request. */
export const MAX_SNAPSHOT_KEYS_PER_REQUEST = 256
const KEY_BYTES = 1 + 8 + 32 + 8 + 4 + 20

function encodeKeys(keys: readonly SnapshotKey[]): Uint8Array {
  const w = new KeyWriter(2 + keys.length * KEY_BYTES)
  const count = new Uint8Array(2)
  new DataView(count.buffer).setUint16(0, keys.length)
  w.bytes(count)
  for (const k of keys) w.u8(k.kind).u64(k.chainId).bytes(hexToBytes(k.scope)).u64(Number(k.blockNumber)).u32(k.part).bytes(hexToBytes(k.operator))
  return w.done()
}

function decodeKeys(b: Uint8Array): SnapshotKey[] {
  if (b.length < 2) throw new RangeError('short request')
  const n = new DataView(b.buffer, b.byteOffset, 2).getUint16(0)
  if (n > MAX_SNAPSHOT_KEYS_PER_REQUEST || b.length !== 2 + n * KEY_BYTES) throw new RangeError('bad request')
  const keys: SnapshotKey[] = []
  for (let i = 0, o = 2; i < n; i++, o += KEY_BYTES) {
    keys.push({
      kind: b[o] as PayloadKind,
      chainId: readU64(b, o + 1),
      scope: bytesToHex(b.subarray(o + 9, o + 41)),
      blockNumber: BigInt(readU64(b, o + 41)),
      part: readU32(b, o + 49),
      operator: bytesToHex(b.subarray(o + 53, o + 73)),
    })
  }
  return keys
}

/**
 * Serves `/liqnet/snapshots/1.0.0` from the store and fetches from peers (each connected peer in turn until every
 * key is found). Start it on the node's libp2p host; pass it as `fetcher` to {@link createConsensusValues}.
 */
export class SnapshotFetchProtocol implements SnapshotFetcher {
  constructor(private readonly o: { libp2p: Libp2p; store: Store; log?: Logger }) {}

  async start(): Promise<void> {
    await this.o.libp2p.handle(SNAPSHOTS_PROTOCOL, ({ stream }) => void this.serve(stream).catch(() => stream.abort(new Error('snapshot serve failed'))), { maxInboundStreams: 8 })
  }

  async stop(): Promise<void> {
    await this.o.libp2p.unhandle(SNAPSHOTS_PROTOCOL).catch(() => {})
  }

  private async serve(stream: Stream): Promise<void> {
    const keys = decodeKeys(await readAll(stream, 2 + MAX_SNAPSHOT_KEYS_PER_REQUEST * KEY_BYTES, AbortSignal.timeout(5000)))
    const frames: Uint8Array[] = []
    for (const k of keys) {
      const r = await this.o.store.history.get(k.kind, k.chainId, hexToBytes(k.scope), Number(k.blockNumber), k.part, hexToBytes(k.operator))
      const env = r?.envelope ?? new Uint8Array(0)
      frames.push(new KeyWriter(4 + env.length).u32(env.length).bytes(env).done())
    }
    await stream.sink(frames)
  }

  private async ask(peer: PeerId, keys: readonly SnapshotKey[], signal: AbortSignal): Promise<(Uint8Array | undefined)[]> {
    const stream = await this.o.libp2p.dialProtocol(peer, SNAPSHOTS_PROTOCOL, { signal })
    await stream.sink([encodeKeys(keys)])
    const body = await readAll(stream, keys.length * (4 + MAX_GOSSIP_MESSAGE_BYTES), signal)
    const out: (Uint8Array | undefined)[] = []
    let o = 0
    for (let i = 0; i < keys.length && o + 4 <= body.length; i++) {
      const len = new DataView(body.buffer, body.byteOffset + o, 4).getUint32(0)
      if (o + 4 + len > body.length) break
      out.push(len === 0 ? undefined : body.subarray(o + 4, o + 4 + len))
      o += 4 + len
    }
    while (out.length < keys.length) out.push(undefined)
    return out
  }

  async fetch(keys: readonly SnapshotKey[], options: { signal?: AbortSignal } = {}): Promise<(Uint8Array | undefined)[]> {
    const signal = options.signal ?? AbortSignal.timeout(5000)
    const found: (Uint8Array | undefined)[] = keys.map(() => undefined)
    for (const peer of this.o.libp2p.getPeers()) {
      const want = keys.map((_, i) => i).filter((i) => found[i] === undefined).slice(0, MAX_SNAPSHOT_KEYS_PER_REQUEST)
      if (want.length === 0) break
      try {
        const got = await this.ask(peer, want.map((i) => keys[i]), signal)
        want.forEach((i, j) => (found[i] = got[j]))
      } catch (err) {
        this.o.log?.debug({ err, peer: peer.toString() }, 'snapshot request failed')
      }
    }
    return found
  }
}
