/**
 * Consensus test cluster: real libp2p hosts on loopback (every operator a static and a direct
 * gossipsub peer of every other), each with a consensus node, and a small real value layer
 * (a value is the ABI encoding of a SettlementPlan) standing in for node/consensus/values.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeAbiParameters, keccak256, toHex, type Address, type Hex } from 'viem'
import { getFreePort } from '../../../chains/devnet/ports.js'
import { devnetOperatorKeys } from '../../../chains/devnet/operators.js'
import { CONSENSUS_TOPIC, createConsensusNode, type ConsensusNode, type ConsensusNodeOptions, type ConsensusValues } from '../../../node/consensus/index.js'
import { createLiqnetHost, type LiqnetHost } from '../../../node/p2p/host.js'
import { peerKeyFromSeed } from '../../../node/p2p/keys.js'
import { SETTLEMENT_PLAN_ABI, SettlementProtocol, encodeSettlementPlan, type SettlementPlan } from '../../../protocol/settlement/plan.js'

export const HUB = { chainId: 31337, address: '0x00000000000000000000000000000000000000ab' as Address }

/** A deterministic plan of one Morpho leg for `height`; `tag` varies the borrower (so proposers' values differ). */
export function testPlan(height: bigint, tag = 'x'): SettlementPlan {
  const h = keccak256(toHex(`${tag}/${height}`))
  return {
    height,
    legs: [
      {
        seq: 0,
        eid: 40161,
        protocol: SettlementProtocol.morphoBlue,
        target: '0x000000000000000000000000000000000000beef',
        marketId: h,
        borrower: `0x${h.slice(2, 42)}` as Address,
        collateralToken: '0x00000000000000000000000000000000000000c0',
        debtToken: '0x00000000000000000000000000000000000000d0',
        seizedAssets: 10n ** 18n + height,
        repaidShares: 0n,
        debtToCover: 0n,
        swaps: [{ pool: '0x00000000000000000000000000000000000000e0', amountIn: 10n ** 18n, minAmountOut: 9n * 10n ** 17n }],
        deadline: 2_000_000_000n,
      },
    ],
  }
}

function bytes(hex: Hex): Uint8Array {
  return Buffer.from(hex.slice(2), 'hex')
}

/** Options of {@link testValues}. */
export type TestValuesOptions = { tag?: string; hasValue?: (height: bigint) => boolean; validateDelayMs?: number }

/** The value layer of the tests: value = abi.encode(SettlementPlan). Validation decodes and checks the height. */
export function testValues(o: TestValuesOptions = {}): ConsensusValues & { built: bigint[] } {
  const built: bigint[] = []
  const decode = (value: Uint8Array): SettlementPlan => {
    const [p] = decodeAbiParameters([SETTLEMENT_PLAN_ABI], toHex(value))
    return { height: p.height, legs: p.legs.map((l) => ({ ...l, swaps: l.swaps.map((s) => ({ ...s })), protocol: l.protocol as SettlementProtocol })) }
  }
  return {
    built,
    async buildValue(height) {
      if (o.hasValue && !o.hasValue(height)) return null
      built.push(height)
      return bytes(encodeSettlementPlan(testPlan(height, o.tag)))
    },
    async validateValue(height, value) {
      if (o.validateDelayMs) await new Promise((r) => setTimeout(r, o.validateDelayMs))
      try {
        const plan = decode(value)
        if (plan.height !== height) return { ok: false, reason: 'WRONG_HEIGHT' }
        if (plan.legs.length === 0) return { ok: false, reason: 'EMPTY_PLAN' }
        return { ok: true }
      } catch {
        return { ok: false, reason: 'UNDECODABLE' }
      }
    },
    valueDigest: (value) => keccak256(value),
    settlementPlan: decode,
  }
}

export type Member = { index: number; peerKey: PrivateKey; peerId: string; port: number; addr: string; operatorKey: Hex; operator: Address; dataDir: string }
export type ClusterPlan = { members: Member[]; operators: Address[]; dir: string }

/** Keys, ports and directories of an n-operator cluster (nothing started). */
export async function planConsensusCluster(n: number, label: string, given?: { ports: number[]; dir: string }): Promise<ClusterPlan> {
  const dir = given?.dir ?? mkdtempSync(join(tmpdir(), `liqnet-consensus-${label}-`))
  const keys = devnetOperatorKeys(n)
  const members: Member[] = []
  for (let i = 0; i < n; i++) {
    const peerKey = await peerKeyFromSeed(Buffer.from(keccak256(toHex(`${label}/consensus-peer/${i}`)).slice(2), 'hex'))
    const peerId = peerIdFromPrivateKey(peerKey).toString()
    const port = given?.ports[i] ?? (await getFreePort())
    members.push({ index: i, peerKey, peerId, port, addr: `/ip4/127.0.0.1/tcp/${port}/p2p/${peerId}`, operatorKey: keys[i].privateKey, operator: keys[i].address, dataDir: join(dir, `node${i}`) })
  }
  return { members, operators: members.map((m) => m.operator), dir }
}

export type RunningMember = { member: Member; host: LiqnetHost; node: ConsensusNode }

/** Starts member i: its host (all operators direct gossipsub peers) and its consensus node. */
export async function startMember(plan: ClusterPlan, i: number, opts: Partial<ConsensusNodeOptions> & { values?: ConsensusValues } = {}): Promise<RunningMember> {
  const m = plan.members[i]
  const others = plan.members.filter((o) => o.index !== i).map((o) => o.addr)
  const host = await createLiqnetHost({
    privateKey: m.peerKey,
    listen: [`/ip4/127.0.0.1/tcp/${m.port}`],
    // Each pair is dialled from one side only (the lower index keeps the higher one connected), so n nodes
    // open n(n-1)/2 connections, not twice as many; a restarted node is redialled by the lower indices.
    staticPeers: plan.members.filter((o) => o.index > i).map((o) => o.addr),
    directPeers: others,
    topics: [CONSENSUS_TOPIC],
    redialIntervalMs: 250,
    // Consensus messages go straight to every operator (direct peers), not through mesh relays.
    gossipsub: { floodPublish: true, D: 4, Dlo: 3, Dhi: 6, Dout: 1, Dlazy: 3 },
  })
  try {
    const node = await createConsensusNode({
      heightIntervalMs: 0,
      ...opts,
      dataDir: m.dataDir,
      pubsub: host.pubsub,
      values: opts.values ?? testValues(),
      operators: plan.operators,
      privateKey: m.operatorKey,
      hub: HUB,
    })
    return { member: m, host, node }
  } catch (err) {
    await host.stop()
    throw err
  }
}

export async function stopMember(r: RunningMember | undefined): Promise<void> {
  if (!r) return
  await r.node.stop().catch(() => {})
  await r.host.stop().catch(() => {})
}

/** Waits until every host sees at least `min` subscribers of the consensus topic. */
export async function waitForTopicPeers(hosts: LiqnetHost[], min: number, timeoutMs = 15_000): Promise<void> {
  await waitFor(() => hosts.every((h) => h.pubsub.getSubscribers(CONSENSUS_TOPIC).length >= min), timeoutMs, 'consensus topic peers')
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}
