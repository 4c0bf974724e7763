/**
 * A deterministic in-process QBFT harness: n real `createQbft` nodes with real secp256k1 keys,
 * a fake clock, one event queue, and an in-memory network whose delays and drops come from a
 * seeded PRNG. Faults: dropped messages until a heal time, partitions that heal, crashed nodes,
 * an equivocating leader, Byzantine followers sending conflicting PREPAREs/COMMITs, a leader
 * proposing invalid values, and signing refusals.
 *
 * Between two events every pending promise is settled (a macrotask turn), so a seed always
 * gives the same run.
 */
import { bytesToHex, hexToBytes, type Address, type Hex } from 'viem'
import { keccakBytes, keccakHex } from '../../../protocol/keccak.js'
import {
  createKeySign,
  createQbft,
  encodePacket,
  leaderOf,
  createValidatorSet,
  signQbftMessage,
  type CommitSealer,
  type Decision,
  type Qbft,
  type QbftPacket,
  type QbftSignFn,
  type QbftStats,
  type TimerFactory,
  type TimerHandle,
  type ValidatorSet,
} from '../../../protocol/consensus/index.js'
import { createDomainSeparator } from '../../../protocol/signing/eip712.js'
import { defaultBackend, privateKeyToAddressBytes, signDigest } from '../../../protocol/signing/secp256k1.js'

// ---------------------------------------------------------------- deterministic helpers

/** mulberry32: a small seeded PRNG in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const DOMAIN_SEPARATOR = createDomainSeparator({ chainId: 31337 })

export type TestKey = { privateKey: Uint8Array; address: Address }
const keyCache = new Map<number, TestKey>()
/** Deterministic operator key number `i`. */
export function testKey(i: number): TestKey {
  let k = keyCache.get(i)
  if (!k) {
    const privateKey = keccakBytes(new TextEncoder().encode(`liqnet-qbft-test-key-${i}`))
    k = { privateKey, address: bytesToHex(privateKeyToAddressBytes(privateKey)) as Address }
    keyCache.set(i, k)
  }
  return k
}

function sealDigest(height: bigint, value: Uint8Array): Uint8Array {
  const buf = new Uint8Array(40)
  new DataView(buf.buffer).setBigUint64(0, height)
  buf.set(keccakBytes(value), 8)
  return keccakBytes(buf)
}
/** A test sealer: secp256k1 over keccak256(height ‖ keccak256(value)) (the real one is EIP-712 CommitSeal). */
export function testSealer(key: TestKey): CommitSealer {
  return {
    seal: async (height, value) => signDigest(sealDigest(height, value), key.privateKey),
    verify: (height, value, seal, signer) => {
      const pub = defaultBackend.recoverPublicKey(sealDigest(height, value), seal)
      return pub !== undefined && bytesToHex(keccakBytes(pub.subarray(1)).subarray(12)) === signer.toLowerCase()
    },
  }
}

const enc = new TextEncoder()
const dec = new TextDecoder()
/** The value node `proposer` proposes at (height, round): valid by construction. */
export function honestValue(height: bigint, proposer: number, round: number): Uint8Array {
  return enc.encode(`plan:${height}:${proposer}:${round}`)
}
/** Valid iff it reads `plan:<height>:...` (an invalid value reads `bad:...`). */
export function isValidValue(height: bigint, value: Uint8Array): boolean {
  return dec.decode(value).startsWith(`plan:${height}:`)
}

/** Index (key number) of leader(height, round) among testKey(0..n-1). */
export function leaderIndex(n: number, height: bigint, round: number): number {
  const addresses = Array.from({ length: n }, (_, i) => testKey(i).address)
  const leader = leaderOf(createValidatorSet(addresses), height, round)
  return addresses.findIndex((a) => a.toLowerCase() === leader)
}

// ---------------------------------------------------------------- event queue

type Event = { at: number; seq: number; run: () => unknown }
class EventQueue {
  private heap: Event[] = []
  private seq = 0
  get size(): number {
    return this.heap.length
  }
  push(at: number, run: () => unknown): Event {
    const e = { at, seq: this.seq++, run }
    const h = this.heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (less(h[p], h[i])) break
      ;[h[p], h[i]] = [h[i], h[p]]
      i = p
    }
    return e
  }
  pop(): Event | undefined {
    const h = this.heap
    if (h.length === 0) return undefined
    const top = h[0]
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && less(h[l], h[m])) m = l
        if (r < h.length && less(h[r], h[m])) m = r
        if (m === i) break
        ;[h[m], h[i]] = [h[i], h[m]]
        i = m
      }
    }
    return top
  }
}
function less(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

// ---------------------------------------------------------------- scenarios

export type Behaviour =
  | 'honest'
  /** Sends a second, different (valid) PROPOSAL to half of the validators whenever it leads. */
  | 'equivocating-leader'
  /** Sends conflicting PREPAREs and COMMITs (for a made-up digest) to half of the validators. */
  | 'conflicting-prepares'
  /** Proposes values the validators refuse. */
  | 'invalid-proposer'
  /** Its signing protection refuses every request: it never sends anything. */
  | 'refuses-to-sign'

export type Scenario = {
  name: string
  n: number
  seed: number
  /** Heights 1..heights are run. */
  heights: number
  /** One-way delay: minDelayMs + PRNG · jitterMs. */
  minDelayMs?: number
  jitterMs?: number
  /** Probability that a message is lost, until `healAtMs`. */
  dropProbability?: number
  /** Two sides that cannot talk until `healAtMs` (indices of one side; the rest is the other). */
  partition?: number[]
  /** When drops and partitions stop. @default 0 */
  healAtMs?: number
  /** Crashed nodes: index → crash time (ms). They never come back. */
  crashes?: Record<number, number>
  /** Faulty behaviours by node index (honest otherwise). */
  behaviours?: Record<number, Behaviour>
  roundTimeoutBaseMs?: number
  /** Give up after this much simulated time. @default 120000 */
  maxTimeMs?: number
}

export type NodeResult = {
  index: number
  address: Address
  honest: boolean
  crashed: boolean
  decisions: Map<bigint, Decision>
  decidedAt: Map<bigint, number>
  stats: QbftStats
}

export type RunResult = {
  scenario: Scenario
  nodes: NodeResult[]
  /** Simulated time when the run stopped, ms. */
  endMs: number
  /** Simulated time when the last honest live node decided the last height, or undefined. */
  allDecidedAtMs: number | undefined
  messagesSent: number
  messagesDelivered: number
  vset: ValidatorSet
  sealers: CommitSealer[]
}

/** Runs a scenario to completion (every honest live node decided every height) or to maxTimeMs. */
export async function runScenario(s: Scenario): Promise<RunResult> {
  const rand = prng(s.seed)
  const queue = new EventQueue()
  let now = 0
  const keys = Array.from({ length: s.n }, (_, i) => testKey(i))
  const addresses = keys.map((k) => k.address)
  const indexOf = new Map(addresses.map((a, i) => [a, i]))
  const vset = createValidatorSet(addresses)
  const behaviour = (i: number): Behaviour => s.behaviours?.[i] ?? 'honest'
  const crashAt = (i: number): number => s.crashes?.[i] ?? Infinity
  const isCrashed = (i: number): boolean => now >= crashAt(i)
  const healAt = s.healAtMs ?? 0
  const partition = new Set(s.partition ?? [])
  const minDelay = s.minDelayMs ?? 5
  const jitter = s.jitterMs ?? 20
  const maxTime = s.maxTimeMs ?? 120_000
  const sealers = keys.map((k) => testSealer(k))
  let sent = 0
  let delivered = 0

  const results: NodeResult[] = keys.map((k, i) => ({
    index: i,
    address: k.address,
    honest: behaviour(i) === 'honest' && crashAt(i) === Infinity,
    crashed: crashAt(i) !== Infinity,
    decisions: new Map(),
    decidedAt: new Map(),
    stats: undefined as unknown as QbftStats,
  }))
  const nodes: Qbft[] = []

  const deliver = (from: number, to: number, bytes: Uint8Array): void => {
    sent++
    if (now < healAt) {
      if (s.dropProbability && rand() < s.dropProbability) return
      if (partition.size > 0 && partition.has(from) !== partition.has(to)) return
    }
    const at = now + minDelay + Math.floor(rand() * jitter)
    queue.push(at, async () => {
      if (isCrashed(to)) return
      delivered++
      await nodes[to].receive(bytes)
    })
  }

  const transportOf = (i: number) => ({
    broadcast(packet: QbftPacket, bytes: Uint8Array) {
      if (isCrashed(i)) return
      const b = behaviour(i)
      for (let j = 0; j < s.n; j++) {
        if (j === i) continue
        let out = bytes
        if (j % 2 === 1 && b === 'equivocating-leader' && packet.type === 'proposal') {
          const value = honestValue(packet.signed.message.height, 1000 + i, packet.signed.message.round)
          const m = { ...packet.signed.message, digest: keccakHex(value) }
          out = encodePacket({ ...packet, value, signed: signQbftMessage(DOMAIN_SEPARATOR, m, keys[i].privateKey, keys[i].address) })
        }
        if (j % 2 === 1 && b === 'conflicting-prepares' && (packet.type === 'prepare' || packet.type === 'commit')) {
          const fake = keccakHex(enc.encode(`conflict:${packet.signed.message.round}:${i}`))
          const m = { ...packet.signed.message, digest: fake }
          const signed = signQbftMessage(DOMAIN_SEPARATOR, m, keys[i].privateKey, keys[i].address)
          out = encodePacket(packet.type === 'prepare' ? { type: 'prepare', signed } : { ...packet, signed })
        }
        deliver(i, j, out)
        // Every fourth validator also gets the conflicting copy after the real one: it sees the equivocation.
        if (j % 4 === 0 && b === 'conflicting-prepares' && (packet.type === 'prepare' || packet.type === 'commit')) {
          const fake = keccakHex(enc.encode(`conflict:${packet.signed.message.round}:${i}`))
          const signed = signQbftMessage(DOMAIN_SEPARATOR, { ...packet.signed.message, digest: fake }, keys[i].privateKey, keys[i].address)
          deliver(i, j, encodePacket(packet.type === 'prepare' ? { type: 'prepare', signed } : { ...packet, signed }))
        }
      }
    },
    sendTo(to: Address, _packet: QbftPacket, bytes: Uint8Array) {
      if (isCrashed(i)) return
      const j = indexOf.get(to)
      if (j !== undefined && j !== i) deliver(i, j, bytes)
    },
  })

  const timersOf = (i: number): TimerFactory => ({
    start(delayMs: number, onExpire: () => void): TimerHandle {
      let live = true
      queue.push(now + delayMs, () => {
        if (live && !isCrashed(i)) onExpire()
      })
      return { cancel: () => void (live = false) }
    },
  })

  const refuse: QbftSignFn = async () => ({ ok: false, reason: 'protection' })

  const startHeight = (i: number, h: bigint) => {
    if (isCrashed(i)) return
    const b = behaviour(i)
    nodes[i].start(h, {
      getValue: async (height, round) => (b === 'invalid-proposer' ? enc.encode(`bad:${height}:${round}`) : honestValue(height, i, round)),
    })
  }

  let lastHeight = BigInt(s.heights)
  for (let i = 0; i < s.n; i++) {
    nodes.push(
      createQbft({
        self: keys[i].address,
        validators: addresses,
        domainSeparator: DOMAIN_SEPARATOR,
        sign: behaviour(i) === 'refuses-to-sign' ? refuse : createKeySign(keys[i].privateKey),
        sealer: sealers[i],
        validateValue: async (h, v) => (isValidValue(h, v) ? { ok: true } : { ok: false, reason: 'plan-mismatch' }),
        transport: transportOf(i),
        timers: timersOf(i),
        clock: { now: () => now },
        firstHeight: 1n,
        options: { roundTimeoutBaseMs: s.roundTimeoutBaseMs ?? 1000 },
        onDecide: (d) => {
          results[i].decisions.set(d.height, d)
          results[i].decidedAt.set(d.height, now)
          if (d.height < lastHeight) queue.push(now, () => startHeight(i, d.height + 1n))
        },
      }),
    )
  }
  for (let i = 0; i < s.n; i++) queue.push(Math.floor(rand() * 3), () => startHeight(i, 1n))

  const live = results.filter((r) => r.honest)
  const done = () => live.every((r) => r.decisions.has(lastHeight))
  let allDecidedAtMs: number | undefined
  for (;;) {
    const e = queue.pop()
    if (!e || e.at > maxTime) break
    now = e.at
    await e.run()
    await settle()
    if (done()) {
      allDecidedAtMs = now
      break
    }
  }
  for (let i = 0; i < s.n; i++) {
    results[i].stats = nodes[i].stats()
    nodes[i].stop()
  }
  return { scenario: s, nodes: results, endMs: now, allDecidedAtMs, messagesSent: sent, messagesDelivered: delivered, vset, sealers }
}

// ---------------------------------------------------------------- checks

/** Agreement: all honest nodes that decided a height decided the same digest (and value). Returns a problem or undefined. */
export function agreementProblem(r: RunResult): string | undefined {
  const byHeight = new Map<bigint, { digest: Hex; node: number }>()
  for (const node of r.nodes) {
    if (!node.honest && !node.crashed) continue // Byzantine nodes may do anything
    for (const [h, d] of node.decisions) {
      const first = byHeight.get(h)
      if (!first) byHeight.set(h, { digest: d.digest, node: node.index })
      else if (first.digest !== d.digest) return `height ${h}: node ${first.node} decided ${first.digest}, node ${node.index} decided ${d.digest}`
    }
  }
  return undefined
}

/** Validity: every decided value is valid, matches its digest, and carries ≥ quorum distinct valid seals. */
export function validityProblem(r: RunResult): string | undefined {
  const checked = new Set<string>()
  for (const node of r.nodes) {
    if (!node.honest && !node.crashed) continue
    for (const [h, d] of node.decisions) {
      if (!isValidValue(h, d.value)) return `node ${node.index} decided an invalid value at ${h}`
      if (keccakHex(d.value) !== d.digest) return `node ${node.index}: digest mismatch at ${h}`
      const signers = new Set(d.seals.map((x) => x.signer))
      if (signers.size < r.vset.quorum || signers.size !== d.seals.length) return `node ${node.index}: ${signers.size} seals at ${h}`
      for (const x of d.seals) {
        // Nodes mostly hold the same seals: verify each distinct one once.
        const key = `${h}:${d.digest}:${x.signer}:${bytesToHex(x.seal)}`
        if (checked.has(key)) continue
        const i = r.nodes.findIndex((n) => n.address.toLowerCase() === x.signer)
        if (i < 0 || !r.sealers[i].verify(h, d.value, x.seal, x.signer)) return `node ${node.index}: bad seal of ${x.signer} at ${h}`
        checked.add(key)
      }
    }
  }
  return undefined
}

/** Liveness: every honest, never-crashed node decided every height. */
export function livenessProblem(r: RunResult): string | undefined {
  const last = BigInt(r.scenario.heights)
  for (const node of r.nodes) {
    if (!node.honest) continue
    for (let h = 1n; h <= last; h++) if (!node.decisions.has(h)) return `node ${node.index} did not decide height ${h} by ${r.endMs} ms`
  }
  return undefined
}

export { leaderOf, hexToBytes }
