import { fork, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import type { Address } from 'viem'
import { getFreePort } from '../../../chains/devnet/ports.js'
import { PayloadKind } from '../../../protocol/proto/codec.js'
import { createOperatorSigner, signPayload, type OperatorSigner } from '../../../protocol/signing/envelope.js'
import { GossipType, formatTopic } from '../../../protocol/topics.js'
import { createGossipNode, type GossipNode, type GossipNodeOptions } from '../../../node/gossip/node.js'
import { peerKeyFromSeed } from '../../../node/p2p/keys.js'
import { TEST_KEYS, bytesOf, makeWireHealthSnapshot } from '../../unit/gossip/fixtures.js'

export const CHAIN_ID = 31337

export type ClusterMember = { index: number; key: PrivateKey; peerId: string; port: number; address: string; signer: OperatorSigner; storePath: string }

/** Plans n members: keys, ports, addresses (nothing started). */
export async function planCluster(n: number, label = 'c', given?: { ports: number[]; dir: string }): Promise<{ members: ClusterMember[]; operators: Address[]; dir: string }> {
  const dir = given?.dir ?? mkdtempSync(join(tmpdir(), `liqnet-gossip-${label}-`))
  const members: ClusterMember[] = []
  for (let i = 0; i < n; i++) {
    const key = await peerKeyFromSeed(bytesOf(`${label}/peer/${i}`, 32))
    const peerId = peerIdFromPrivateKey(key).toString()
    const port = given?.ports[i] ?? (await getFreePort())
    members.push({ index: i, key, peerId, port, address: `/ip4/127.0.0.1/tcp/${port}/p2p/${peerId}`, signer: createOperatorSigner(TEST_KEYS[i % TEST_KEYS.length]), storePath: join(dir, `node${i}`) })
  }
  return { members, operators: members.map((m) => m.signer.address), dir }
}

/** Static peers of member i: every other member (`full`), or a ring plus chords, so each node has ≥ 2 neighbours and the graph stays connected. */
export function peersOf(members: ClusterMember[], i: number, topology: 'ring' | 'full' = 'ring'): string[] {
  const n = members.length
  if (topology === 'full') return members.filter((_, j) => j !== i).map((m) => m.address)
  const set = new Set<number>()
  for (const d of [1, 2, Math.floor(n / 2)]) {
    if (d <= 0 || d >= n) continue
    set.add((i + d) % n)
    set.add((i - d + n) % n)
  }
  set.delete(i)
  return [...set].map((j) => members[j].address)
}

export function nodeOptions(m: ClusterMember, members: ClusterMember[], operators: Address[], extra: Partial<GossipNodeOptions> = {}): GossipNodeOptions {
  const mesh = extra.p2p?.relay === 'mesh'
  return {
    privateKey: m.key,
    storePath: m.storePath,
    chainIds: [CHAIN_ID],
    operators,
    ...extra,
    p2p: {
      listen: [`/ip4/127.0.0.1/tcp/${m.port}`],
      // Direct relay (the default): every operator peers with every other. Mesh relay: a ring with chords.
      staticPeers: peersOf(members, m.index, mesh ? 'ring' : 'full'),
      // A small operator network: mesh degree 3 (Lodestar runs 8 on mainnet) keeps fan-out low on shared
      // cores. Each extra mesh peer is one more 30-40 KB copy of every snapshot to decrypt and drop:
      // 8 nodes in one process, D 4 → 3 took cpuMsPerDelivery from 9.2 to 7.8 ms (medians of 3), D 2 gave 8.1.
      ...(mesh ? { gossipsub: { D: 3, Dlo: 2, Dhi: 4, Dout: 1, Dlazy: 3 } } : {}),
      ...extra.p2p,
    },
  }
}

export async function startCluster(n: number, label: string, extra: Partial<GossipNodeOptions> = {}) {
  const plan = await planCluster(n, label)
  const nodes: GossipNode[] = await Promise.all(plan.members.map((m) => createGossipNode(nodeOptions(m, plan.members, plan.operators, extra))))
  return { ...plan, nodes }
}

export const healthTopic = formatTopic({ type: GossipType.health, chainId: CHAIN_ID })

/** Waits until every node sees at least `min` subscribers of the health topic. */
export async function waitForMesh(nodes: GossipNode[], min: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    // Direct relay keeps no mesh (degree 0): subscribers are then enough.
    const ready = (n: GossipNode) => n.host.pubsub.getSubscribers(healthTopic).length >= min && ((n.host.pubsub as unknown as { opts: { D: number } }).opts.D === 0 || n.host.pubsub.getMeshPeers(healthTopic).length >= Math.min(min, 1))
    if (nodes.every(ready)) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`mesh did not form: ${nodes.map((n) => n.host.pubsub.getSubscribers(healthTopic).length).join(',')}`)
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** A signed health snapshot of member `signer` at `block`. */
export function signedHealth(signer: OperatorSigner, domainSeparator: Uint8Array, opts: { block: number; n?: number; seed?: string; observedAt?: number }) {
  const s = makeWireHealthSnapshot({ n: opts.n ?? 4, seed: opts.seed ?? 'mkt', blockNumber: BigInt(opts.block), observedAt: opts.observedAt ?? Date.now() })
  return { snapshot: s, ...signPayload({ kind: PayloadKind.healthSnapshot, snapshot: s }, signer, domainSeparator) }
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

// ---------------------------------------------------------------- separate processes

const script = fileURLToPath(new URL('./child-node.ts', import.meta.url))

export type Child = { proc: ChildProcess; call(cmd: Record<string, unknown>): Promise<any> }

/** Every process spawned, so that `after` kills them by PID even when a start failed. */
export const spawned: ChildProcess[] = []

/**
 * Forks a tsx child process that answers `{ ...cmd, id }` IPC requests with `{ id, ... }`, and resolves once its
 * first message says it is up. The process is added to {@link spawned}.
 */
export function forkChild(script: string, config: unknown, what: string, startTimeoutMs = 90_000, execArgv: readonly string[] = []): Promise<Child> {
  const proc = fork(script, [JSON.stringify(config)], { execArgv: ['--import', 'tsx', ...execArgv], stdio: ['ignore', 'ignore', 'ignore', 'ipc'] })
  spawned.push(proc)
  let next = 0
  const waiting = new Map<number, (m: any) => void>()
  proc.on('message', (m: any) => {
    if (m.id !== undefined) waiting.get(m.id)?.(m)
  })
  const child: Child = {
    proc,
    call: (cmd) =>
      new Promise((resolve, reject) => {
        const id = next++
        const t = setTimeout(() => reject(new Error(`${what} did not answer ${JSON.stringify(cmd)}`)), 15_000)
        waiting.set(id, (m) => {
          clearTimeout(t)
          resolve(m)
        })
        proc.send({ ...cmd, id })
      }),
  }
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not start`)), startTimeoutMs)
    proc.once('message', () => {
      clearTimeout(t)
      resolve(child)
    })
    proc.once('exit', (code, signal) => reject(new Error(`${what} exited (${code ?? signal})`)))
  })
}

/**
 * One gossip node process (child-node.ts). `profile`: a path where the child writes a CPU profile
 * of the benchmark window (from `bench-start` to `profile-stop`); `execArgv`: extra Node flags.
 */
export function spawnNode(
  cfg: { label: string; index: number; ports: number[]; dir: string; profile?: string; relay?: 'direct' | 'mesh'; topology?: 'ring' | 'full'; gossipsub?: Record<string, unknown>; accountFlushMs?: number; maxBatch?: number },
  execArgv: readonly string[] = []): Promise<Child> {
  return forkChild(script, cfg, `child ${cfg.index}`, 90_000, execArgv)
}

export function killProc(proc: ChildProcess | undefined): Promise<void> {
  if (!proc?.pid || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    proc.once('exit', () => resolve())
    process.kill(proc.pid!, 'SIGKILL')
  })
}


