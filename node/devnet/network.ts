/**
 * The whole network on one machine: the scenario's anvil chains with everything deployed, the devnet relayer
 * (DVN + executor), and n `liqnet start` processes (one per devnet operator, each with its own key, store and
 * ports); then the scenario's price path, and a report of what the network did after the shock.
 *
 * Progress goes to `log` one line per stage: chains up, nodes started, peers connected, snapshots flowing, each
 * price step, each plan certified (submitted on the hub) and settled. The report is a {@link DevnetReport}.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAbiItem, type Address, type Hex, type PublicClient } from 'viem'
import { liquidationHubAbi } from '../../contracts/out/abis.js'
import { applyPriceSteps, devnetClient, startDevnet } from '../../chains/devnet/devnet.js'
import { fundDevnetOperators, writeDevnetNodeConfigs, type DevnetNodeConfig } from '../../chains/devnet/node-config.js'
import { relayerChainsOf, startRelayer } from '../../chains/devnet/relayer.js'
import { toUsd1e8 } from '../../chains/devnet/scenario.js'
import type { Devnet, DevnetChain, PriceStep } from '../../chains/devnet/types.js'
import { BaseError } from '../../protocol/errors.js'
import { isHealthy } from '../../protocol/risk/morpho.js'

/** One position (a Morpho Blue market position, or an Aave V3 account). */
export type LiquidatedPosition = { chain: string; chainId: number; protocol: 'morpho-blue' | 'aave-v3'; market: Hex | Address; borrower: Address; name: string }

/** What `liqnet devnet` prints at the end (JSON with `--json`). */
export type DevnetReport = {
  scenario: string
  nodes: number
  /** Positions with a Morpho `Liquidate` or Aave `LiquidationCall` event since the price path started. */
  liquidated: LiquidatedPosition[]
  /** Positions liquidatable right after the shock, read on chain at each chain's shock block (Aave `getUserAccountData` health factor < 1; Morpho `_isHealthy` false). */
  liquidatableAtShock: LiquidatedPosition[]
  /** Of those, the ones with no liquidation event. */
  missed: LiquidatedPosition[]
  /** USD (decimal string, 2 decimals): debt left with no collateral behind it once the network is done. */
  badDebt: string
  /** Largest move of any Uniswap V2 pair's marginal price from the shock to the end (the network's own sales), bps. */
  priceImpactBps: number
  pools: { chain: string; pair: string; priceImpactBps: number }[]
  plans: { height: string; legs: number; executed: number; failed: number; submittedAfterShockSeconds: number; settledAfterShockSeconds?: number }[]
  /** The blocks that carried the shock (the first price step), per chain. */
  shockBlocks: { chain: string; blockNumber: string }[]
  /** Seconds from the shock block (the first chain to mine it) to each receipt or local execution recorded on the hub, as the hub's events are polled every 100 ms. */
  receiptsAfterShockSeconds: number[]
  shockToLastReceiptSeconds: number | null
  /** Seconds from the command's start to the nodes' first snapshots on every chain. */
  upSeconds: number
}

/** The network did not come up (a node exited, or never reached a stage). */
export class DevnetNetworkError extends BaseError {
  override name = 'DevnetNetworkError'
  constructor(what: string, details?: string) {
    super(`The devnet network did not come up: ${what}.`, { details, metaMessages: ['Each node logs to <state-dir>/nodes/nodeN/node.log.'] })
  }
}

export type RunDevnetNetworkOptions = {
  scenario: string
  stateDir?: string
  fresh?: boolean
  /** Operators to run (at most the hub's set). @default the scenario's network.operators */
  nodes?: number
  /** Seconds without a new plan, once every submitted plan is settled, after the last price step before the report. @default 5 */
  quietSeconds?: number
  /** Longest wait after the last price step, seconds. @default 90 */
  settleTimeoutSeconds?: number
  log?: (line: string) => void
  /** Stop everything once the report is out (otherwise wait for SIGINT/SIGTERM). */
  exitAfterReport?: boolean
  onReport?: (report: DevnetReport) => void
  signal?: AbortSignal
  /** Kill this node (SIGKILL) at the shock: the others must still settle (a fault the network tolerates while n ≥ 3f+1). */
  killAtShock?: number
  /** Called once every node publishes snapshots, before the price path (e.g. to subscribe to a node's risk feed). */
  onNodesUp?: (nodes: DevnetNodeInfo[]) => void | Promise<void>
  /** With `exitAfterReport`: awaited after the report and before the nodes stop (e.g. to query their APIs). */
  beforeStop?: (report: DevnetReport, nodes: DevnetNodeInfo[]) => void | Promise<void>
}

/** A running node of the devnet network, for callers of {@link runDevnetNetwork}. */
export type DevnetNodeInfo = { index: number; operator: Address; apiUrl: string; metricsUrl: string; running: boolean }

/** One pino record of a node's stderr. */
export type NodeLogRecord = { level?: number | string; msg?: string; [k: string]: unknown }

/** A `liqnet start` process and what it logged so far. */
export type NodeProcess = {
  cfg: DevnetNodeConfig
  child: ChildProcess
  /** Parsed log records, in order. */
  records: NodeLogRecord[]
  /** Raw stderr lines (records and anything else). */
  stderr: string[]
  /** Resolves with the exit code (null when killed by a signal). */
  exit: Promise<number | null>
  /** Set once the process has exited. */
  exited?: number | null
  /** Whether the node logged `msg` (and the record satisfies `pred`). */
  has(msg: string, pred?: (r: NodeLogRecord) => boolean): boolean
}

/**
 * Starts `liqnet start --config <cfg.configPath>` with no `LIQNET_*` variables of this process in its environment.
 * Its stderr is parsed into {@link NodeProcess.records} and, with `logFile`, appended there.
 */
export function spawnLiqnetNode(cfg: DevnetNodeConfig, opts: { logFile?: string } = {}): NodeProcess {
  const bin = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'liqnet.js')
  const child = spawn(process.execPath, [bin, 'start', '--config', cfg.configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LIQNET_'))),
  })
  const records: NodeLogRecord[] = []
  const stderr: string[] = []
  const pending: string[] = []
  let buf = ''
  child.stderr!.on('data', (d: Buffer) => {
    buf += d.toString()
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i)
      buf = buf.slice(i + 1)
      stderr.push(line)
      if (opts.logFile) pending.push(line)
      try {
        records.push(JSON.parse(line) as NodeLogRecord)
      } catch {
        // a line that is not a log record
      }
    }
  })
  const flush = () => {
    if (opts.logFile && pending.length) appendFileSync(opts.logFile, pending.splice(0).join('\n') + '\n')
  }
  const timer = opts.logFile ? setInterval(flush, 500) : undefined
  const p: NodeProcess = {
    cfg,
    child,
    records,
    stderr,
    exit: new Promise((res) =>
      child.once('exit', (code) => {
        p.exited = code
        clearInterval(timer)
        flush()
        res(code)
      }),
    ),
    has: (msg, pred = () => true) => records.some((r) => r.msg === msg && pred(r)),
  }
  return p
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((res) => {
    const onAbort = () => (clearTimeout(t), res())
    const t = setTimeout(() => (signal?.removeEventListener('abort', onAbort), res()), ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })

async function until(what: string, nodes: NodeProcess[], cond: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    const dead = nodes.find((n) => n.exited !== undefined)
    if (dead) throw new DevnetNetworkError(`node ${dead.cfg.index} exited with code ${dead.exited} before ${what}`, `log: ${join(dead.cfg.dir, 'node.log')}`)
    if (signal?.aborted) throw new DevnetNetworkError(`interrupted before ${what}`)
    if (Date.now() > end) throw new DevnetNetworkError(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

const morphoAbi = [
  { type: 'function', name: 'position', stateMutability: 'view', inputs: [{ name: 'id', type: 'bytes32' }, { name: 'user', type: 'address' }], outputs: [{ name: 'supplyShares', type: 'uint256' }, { name: 'borrowShares', type: 'uint128' }, { name: 'collateral', type: 'uint128' }] },
  { type: 'function', name: 'market', stateMutability: 'view', inputs: [{ name: 'id', type: 'bytes32' }], outputs: [{ type: 'uint128' }, { type: 'uint128' }, { name: 'totalBorrowAssets', type: 'uint128' }, { name: 'totalBorrowShares', type: 'uint128' }, { type: 'uint128' }, { type: 'uint128' }] },
] as const
const aaveAbi = [
  { type: 'function', name: 'getUserAccountData', stateMutability: 'view', inputs: [{ name: 'user', type: 'address' }], outputs: [{ name: 'totalCollateralBase', type: 'uint256' }, { name: 'totalDebtBase', type: 'uint256' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'uint256' }] },
] as const
const morphoLiquidateEvent = parseAbiItem('event Liquidate(bytes32 indexed id, address indexed caller, address indexed borrower, uint256 repaidAssets, uint256 repaidShares, uint256 seizedAssets, uint256 badDebtAssets, uint256 badDebtShares)')
const aaveLiquidationCallEvent = parseAbiItem('event LiquidationCall(address indexed collateralAsset, address indexed debtAsset, address indexed user, uint256 debtToCover, uint256 liquidatedCollateralAmount, address liquidator, bool receiveAToken)')
const oracleAbi = [{ type: 'function', name: 'price', stateMutability: 'view', inputs: [], outputs: [{ type: 'uint256' }] }] as const
const pairAbi = [{ type: 'function', name: 'getReserves', stateMutability: 'view', inputs: [], outputs: [{ type: 'uint112' }, { type: 'uint112' }, { type: 'uint32' }] }] as const

type PositionRef = { chain: DevnetChain; protocol: 'morpho-blue' | 'aave-v3'; market: Hex | Address; borrower: Address; name: string; loanSymbol?: string }
/** Debt (Morpho borrow shares, or Aave total debt in USD 1e8) and whether collateral is left, with its USD value (1e8) when unbacked. */
type PositionState = { debt: bigint; collateral: bigint; unbackedUsd1e8: bigint }

function positionsOf(devnet: Devnet): PositionRef[] {
  const out: PositionRef[] = []
  for (const c of devnet.scenario.chains) {
    const chain = devnet.chains.find((x) => x.name === c.name)!
    for (const b of c.borrowers) {
      const borrower = chain.accounts.borrowers[b.name].address
      const aave = b.positions.some((p) => p.protocol === 'aave')
      if (aave) out.push({ chain, protocol: 'aave-v3', market: chain.deployment.aave!.pool, borrower, name: b.name })
      for (const p of b.positions) {
        if (p.protocol !== 'morpho') continue
        const m = chain.deployment.morpho!.markets[p.market]
        const loanSymbol = Object.entries(chain.deployment.tokens).find(([, t]) => t.address.toLowerCase() === m.params.loanToken.toLowerCase())?.[0]
        out.push({ chain, protocol: 'morpho-blue', market: m.id, borrower, name: b.name, loanSymbol })
      }
    }
  }
  return out
}

async function readPosition(client: PublicClient, p: PositionRef, loanPriceUsd1e8: (chain: DevnetChain, symbol: string) => bigint): Promise<PositionState> {
  if (p.protocol === 'aave-v3') {
    const [collateralBase, debtBase] = await client.readContract({ address: p.market as Address, abi: aaveAbi, functionName: 'getUserAccountData', args: [p.borrower] })
    return { debt: debtBase, collateral: collateralBase, unbackedUsd1e8: collateralBase === 0n ? debtBase : 0n }
  }
  const morpho = p.chain.deployment.morpho!.address
  const [, borrowShares, collateral] = await client.readContract({ address: morpho, abi: morphoAbi, functionName: 'position', args: [p.market as Hex, p.borrower] })
  let unbackedUsd1e8 = 0n
  if (collateral === 0n && borrowShares > 0n && p.loanSymbol) {
    const [, , totalBorrowAssets, totalBorrowShares] = await client.readContract({ address: morpho, abi: morphoAbi, functionName: 'market', args: [p.market as Hex] })
    const assets = totalBorrowShares > 0n ? (borrowShares * totalBorrowAssets) / totalBorrowShares : 0n
    const decimals = p.chain.deployment.tokens[p.loanSymbol].decimals
    unbackedUsd1e8 = (assets * loanPriceUsd1e8(p.chain, p.loanSymbol)) / 10n ** BigInt(decimals)
  }
  return { debt: borrowShares, collateral, unbackedUsd1e8 }
}

/**
 * Whether the position is liquidatable at `blockNumber`: Aave health factor (getUserAccountData) < 1e18; Morpho
 * `_isHealthy` false (protocol/risk/morpho `isHealthy` over the market, the position and the market oracle's price).
 */
async function liquidatableAt(client: PublicClient, p: PositionRef, blockNumber: bigint): Promise<boolean> {
  if (p.protocol === 'aave-v3') {
    const data = await client.readContract({ address: p.market as Address, abi: aaveAbi, functionName: 'getUserAccountData', args: [p.borrower], blockNumber })
    return data[1] > 0n && data[5] < 10n ** 18n
  }
  const morpho = p.chain.deployment.morpho!.address
  const m = Object.values(p.chain.deployment.morpho!.markets).find((x) => x.id === p.market)!
  const [[supplyShares, borrowShares, collateral], [totalSupplyAssets, totalSupplyShares, totalBorrowAssets, totalBorrowShares, lastUpdate, fee], price] = await Promise.all([
    client.readContract({ address: morpho, abi: morphoAbi, functionName: 'position', args: [p.market as Hex, p.borrower], blockNumber }),
    client.readContract({ address: morpho, abi: morphoAbi, functionName: 'market', args: [p.market as Hex], blockNumber }),
    client.readContract({ address: m.oracle, abi: oracleAbi, functionName: 'price', blockNumber }),
  ])
  return !isHealthy({ supplyShares, borrowShares, collateral }, { totalSupplyAssets, totalSupplyShares, totalBorrowAssets, totalBorrowShares, lastUpdate, fee }, price, m.params.lltv)
}

async function poolPrices(devnet: Devnet): Promise<Map<string, { chain: string; pair: string; price: number }>> {
  const out = new Map<string, { chain: string; pair: string; price: number }>()
  for (const chain of devnet.chains)
    for (const [name, pair] of Object.entries(chain.deployment.uniswapV2?.pairs ?? {})) {
      const [r0, r1] = await devnetClient(chain).readContract({ address: pair.address, abi: pairAbi, functionName: 'getReserves' })
      out.set(`${chain.name}/${name}`, { chain: chain.name, pair: name, price: Number(r1) / Number(r0) })
    }
  return out
}

/** The price of `symbol` on `chain` after `steps` (the scenario's start price otherwise), USD 1e8. */
function priceAfter(devnet: Devnet, steps: readonly PriceStep[]) {
  return (chain: DevnetChain, symbol: string): bigint => {
    let price = toUsd1e8(devnet.scenario.chains.find((c) => c.name === chain.name)!.tokens.find((t) => t.symbol === symbol)!.priceUsd)
    for (const s of steps) if (s.symbol === symbol && (!s.chain || s.chain === chain.name)) price = toUsd1e8(s.priceUsd)
    return price
  }
}

/**
 * Runs the network and returns its report. Stops every process it started (by PID) before returning when
 * `exitAfterReport`, else when `signal` aborts or on SIGINT/SIGTERM.
 * @throws DevnetNetworkError when a node exits early or a stage is not reached in time; the errors of startDevnet.
 */
export async function runDevnetNetwork(o: RunDevnetNetworkOptions): Promise<DevnetReport> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'))
  const t0 = Date.now()
  const stateDir = resolve(o.stateDir ?? '.devnet')
  const devnet = await startDevnet({ scenario: o.scenario, stateDir, fresh: o.fresh, log })
  const nodes: NodeProcess[] = []
  let relayer: Awaited<ReturnType<typeof startRelayer>> | undefined
  const stopAll = async () => {
    for (const n of nodes) if (n.exited === undefined) n.child.kill('SIGTERM')
    await Promise.all(nodes.map((n) => (n.exited !== undefined ? undefined : Promise.race([new Promise((r) => n.child.once('exit', r)), sleep(10_000)]))))
    for (const n of nodes) if (n.exited === undefined) n.child.kill('SIGKILL')
    await relayer?.stop()
    await devnet.stop()
  }
  const ac = new AbortController()
  const onSignal = () => ac.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  o.signal?.addEventListener('abort', onSignal, { once: true })
  try {
    log(`chains up: ${devnet.chains.map((c) => `${c.name} (chainId ${c.chainId}, EID ${c.eid}, ${c.rpcUrl})`).join(', ')}`)
    const hubChain = devnet.chains.find((c) => c.deployment.settlement.hub)!
    const hub = hubChain.deployment.settlement.hub!
    const n = o.nodes ?? devnet.scenario.network.operators
    const nodesDir = join(stateDir, 'nodes')
    await rm(nodesDir, { recursive: true, force: true })
    await mkdir(nodesDir, { recursive: true })
    const cfgs = await writeDevnetNodeConfigs(devnet.chains, { dir: nodesDir, operators: n, logLevel: 'info' })
    await fundDevnetOperators(devnet.chains, cfgs.map((c) => c.operator))
    relayer = await startRelayer({ chains: relayerChainsOf(devnet), stateFile: join(stateDir, 'relayer.json'), pollMs: 100 })
    log(`relayer up (DVN + executor on ${devnet.chains.length} endpoints)`)
    for (const cfg of cfgs) nodes.push(spawnLiqnetNode(cfg, { logFile: join(cfg.dir, 'node.log') }))
    log(`starting ${n} nodes: ${cfgs.map((c) => `node${c.index} ${c.operator} api http://127.0.0.1:${c.ports.api} metrics http://127.0.0.1:${c.ports.metrics}`).join('; ')}`)
    await until('every node started', nodes, () => nodes.every((x) => x.has('node started')), 120_000, ac.signal)
    log('nodes started')
    await until('peers connected', nodes, () => nodes.every((x) => x.has('peers connected')), 60_000, ac.signal)
    log('nodes connected')
    await until('snapshots flowing', nodes, () => nodes.every((x) => devnet.chains.every((c) => x.has('snapshots flowing', (r) => r.chain === c.name))), 60_000, ac.signal)
    const upSeconds = (Date.now() - t0) / 1000
    log(`snapshots flowing on every chain (${upSeconds.toFixed(1)} s since start)`)
    const nodeInfos = (): DevnetNodeInfo[] =>
      nodes.map((x) => ({ index: x.cfg.index, operator: x.cfg.operator, apiUrl: `http://127.0.0.1:${x.cfg.ports.api}`, metricsUrl: `http://127.0.0.1:${x.cfg.ports.metrics}`, running: x.exited === undefined }))
    await o.onNodesUp?.(nodeInfos())

    // Before the shock: positions, pool prices, the hub's block.
    const positions = positionsOf(devnet)
    const poolsBefore = await poolPrices(devnet)
    const hubClient = devnetClient(hubChain)
    const fromBlock = await hubClient.getBlockNumber()
    const startBlocks = new Map(await Promise.all(devnet.chains.map(async (c) => [c.name, await devnetClient(c).getBlockNumber()] as const)))

    // The price path, in real time from now; the shock is its first step. Steps at the same second go out together
    // (one block per chain). The hub is followed from the shock on, while the rest of the path plays.
    const steps = devnet.scenario.pricePath
    const groups = [...new Set(steps.map((s) => s.atSeconds))].sort((a, b) => a - b).map((at) => steps.filter((s) => s.atSeconds === at))
    let shockAt: number | undefined
    let shockBlocks: { chain: string; blockNumber: bigint }[] = []
    let pathDone = false
    const seenAt = new Map<string, number>()
    const submittedAt = new Map<bigint, number>()
    const settledAt = new Map<bigint, number>()
    /** Heights some node logged as certified. */
    const certified = () => new Set(nodes.flatMap((x) => x.records.filter((r) => r.msg === 'height decided').map((r) => String(r.height))))
    let follower: Promise<void> | undefined
    const follow = async () => {
      const quietMs = (o.quietSeconds ?? 5) * 1000
      let lastChange = Date.now()
      let certifiedCount = 0
      let deadline = Infinity
      while (Date.now() < deadline && !ac.signal.aborted) {
        const [submitted, settled, receipts, local] = await Promise.all(
          (['PlanSubmitted', 'PlanSettled', 'ReceiptReceived', 'LegExecuted'] as const).map((eventName) => hubClient.getContractEvents({ address: hub, abi: liquidationHubAbi, eventName, fromBlock })),
        )
        const now = Date.now()
        for (const e of submitted as unknown as { args: { height: bigint; legCount: number } }[])
          if (!submittedAt.has(e.args.height)) {
            submittedAt.set(e.args.height, now)
            lastChange = now
            log(`plan certified and submitted: height ${e.args.height}, ${e.args.legCount} legs (+${((now - shockAt!) / 1000).toFixed(1)} s)`)
          }
        for (const e of settled as unknown as { args: { height: bigint; executed: number; failed: number } }[])
          if (!settledAt.has(e.args.height)) {
            settledAt.set(e.args.height, now)
            lastChange = now
            log(`plan settled: height ${e.args.height}, ${e.args.executed} legs executed, ${e.args.failed} failed (+${((now - shockAt!) / 1000).toFixed(1)} s)`)
          }
        for (const e of [...receipts, ...local] as unknown as { args: { height: bigint; seq: number } }[]) {
          const key = `${e.args.height}/${e.args.seq}`
          if (!seenAt.has(key)) seenAt.set(key, now)
        }
        const c = certified()
        if (c.size !== certifiedCount) (certifiedCount = c.size), (lastChange = now)
        if (pathDone) {
          if (deadline === Infinity) deadline = now + (o.settleTimeoutSeconds ?? 90) * 1000
          const allSettled = [...submittedAt.keys()].every((h) => settledAt.has(h)) && [...c].every((h) => settledAt.has(BigInt(h)))
          if (submittedAt.size > 0 && allSettled && now - lastChange >= quietMs) break
        }
        await sleep(100, ac.signal)
      }
    }
    const playStart = Date.now()
    try {
      for (const group of groups) {
        await sleep(Math.max(0, playStart + group[0]!.atSeconds * 1000 - Date.now()), ac.signal)
        if (ac.signal.aborted) throw new DevnetNetworkError('interrupted during the price path')
        if (shockAt === undefined && o.killAtShock !== undefined) {
          const victim = nodes[o.killAtShock]
          if (!victim) throw new DevnetNetworkError(`no node ${o.killAtShock} to kill`)
          victim.child.kill('SIGKILL')
          log(`node${o.killAtShock} killed at the shock (SIGKILL)`)
        }
        const mined = await applyPriceSteps(devnet, group)
        if (shockAt === undefined) {
          shockAt = Math.min(...mined.map((m) => m.minedAt))
          shockBlocks = mined.map((m) => ({ chain: m.chain, blockNumber: m.blockNumber }))
          follower = follow()
        }
        for (const step of group) log(`price t=${step.atSeconds}s: ${step.symbol} = $${step.priceUsd}${step.chain ? ` on ${step.chain}` : ''}${step.note ? ` (${step.note})` : ''}`)
        if (shockAt !== undefined && group === groups[0]) log(`shock mined: ${shockBlocks.map((b) => `${b.chain} block ${b.blockNumber}`).join(', ')}`)
      }
    } finally {
      pathDone = true
    }
    shockAt ??= Date.now()
    await (follower ?? follow())

    const endPrices = priceAfter(devnet, steps)
    const after = await Promise.all(positions.map((p) => readPosition(devnetClient(p.chain), p, endPrices)))
    const poolsAfter = await poolPrices(devnet)
    // Liquidated: a Morpho `Liquidate` or Aave `LiquidationCall` event of the position since the start of the path.
    const events = new Set<string>()
    for (const chain of devnet.chains) {
      const client = devnetClient(chain)
      const from = startBlocks.get(chain.name)!
      if (chain.deployment.morpho)
        for (const l of await client.getLogs({ address: chain.deployment.morpho.address, event: morphoLiquidateEvent, fromBlock: from }))
          events.add(`${chain.name}|morpho-blue|${l.args.id!.toLowerCase()}|${l.args.borrower!.toLowerCase()}`)
      if (chain.deployment.aave)
        for (const l of await client.getLogs({ address: chain.deployment.aave.pool, event: aaveLiquidationCallEvent, fromBlock: from }))
          events.add(`${chain.name}|aave-v3|${chain.deployment.aave.pool.toLowerCase()}|${l.args.user!.toLowerCase()}`)
    }
    const wasLiquidated = (p: PositionRef) => events.has(`${p.chain.name}|${p.protocol}|${p.market.toLowerCase()}|${p.borrower.toLowerCase()}`)
    const liquidated = positions.filter(wasLiquidated).map((p) => ({ chain: p.chain.name, chainId: p.chain.chainId, protocol: p.protocol, market: p.market, borrower: p.borrower, name: p.name }))
    const shockBlockOf = new Map(shockBlocks.map((b) => [b.chain, b.blockNumber]))
    const atShock = await Promise.all(positions.map((p) => (shockBlockOf.has(p.chain.name) ? liquidatableAt(devnetClient(p.chain), p, shockBlockOf.get(p.chain.name)!) : false)))
    const asItem = (p: PositionRef): LiquidatedPosition => ({ chain: p.chain.name, chainId: p.chain.chainId, protocol: p.protocol, market: p.market, borrower: p.borrower, name: p.name })
    const liquidatableAtShock = positions.filter((_, i) => atShock[i]).map(asItem)
    const missed = positions.filter((p, i) => atShock[i] && !wasLiquidated(p)).map(asItem)
    const badDebt1e8 = after.reduce((s, a) => s + a.unbackedUsd1e8, 0n)
    const pools = [...poolsAfter].map(([k, a]) => ({ chain: a.chain, pair: a.pair, priceImpactBps: Math.round(Math.abs(a.price / poolsBefore.get(k)!.price - 1) * 10_000) }))
    const summary = await Promise.all(
      [...submittedAt].map(async ([height, at]) => {
        const [s] = (await hubClient.getContractEvents({ address: hub, abi: liquidationHubAbi, eventName: 'PlanSettled', args: { height }, fromBlock })) as unknown as { args: { executed: number; failed: number } }[]
        const [sub] = (await hubClient.getContractEvents({ address: hub, abi: liquidationHubAbi, eventName: 'PlanSubmitted', args: { height }, fromBlock })) as unknown as { args: { legCount: number } }[]
        const settled = settledAt.get(height)
        return {
          height: String(height),
          legs: Number(sub?.args.legCount ?? 0),
          executed: Number(s?.args.executed ?? 0),
          failed: Number(s?.args.failed ?? 0),
          submittedAfterShockSeconds: (at - shockAt!) / 1000,
          ...(settled !== undefined ? { settledAfterShockSeconds: (settled - shockAt!) / 1000 } : {}),
        }
      }),
    )
    const receiptTimes = [...seenAt.values()].map((t) => (t - shockAt!) / 1000).sort((a, b) => a - b)
    const report: DevnetReport = {
      scenario: devnet.scenario.name,
      nodes: n,
      liquidated,
      liquidatableAtShock,
      missed,
      badDebt: (Number(badDebt1e8) / 1e8).toFixed(2),
      priceImpactBps: pools.reduce((m, p) => Math.max(m, p.priceImpactBps), 0),
      pools,
      plans: summary,
      receiptsAfterShockSeconds: receiptTimes,
      shockToLastReceiptSeconds: receiptTimes.length ? receiptTimes[receiptTimes.length - 1] : null,
      shockBlocks: shockBlocks.map((b) => ({ chain: b.chain, blockNumber: String(b.blockNumber) })),
      upSeconds,
    }
    o.onReport?.(report)
    if (o.exitAfterReport) await o.beforeStop?.(report, nodeInfos())
    if (!o.exitAfterReport) {
      log('network up; Ctrl-C to stop')
      await new Promise<void>((res) => (ac.signal.aborted ? res() : ac.signal.addEventListener('abort', () => res(), { once: true })))
    }
    return report
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    log('stopping nodes, relayer and chains')
    await stopAll()
  }
}

/** The report as a few readable lines. */
export function formatDevnetReport(r: DevnetReport): string {
  const lines = [
    `liqnet devnet report: scenario ${r.scenario}, ${r.nodes} nodes (up in ${r.upSeconds.toFixed(1)} s)`,
    `  liquidated: ${r.liquidated.length} positions${r.liquidated.length ? ` (${r.liquidated.map((l) => `${l.chain}/${l.protocol}/${l.name}`).join(', ')})` : ''}`,
    `  liquidatable at the shock: ${r.liquidatableAtShock.length}, missed: ${r.missed.length}${r.missed.length ? ` (${r.missed.map((l) => `${l.chain}/${l.protocol}/${l.name}`).join(', ')})` : ''}`,
    `  plans: ${r.plans.map((p) => `height ${p.height}: ${p.executed}/${p.legs} legs executed, submitted +${p.submittedAfterShockSeconds.toFixed(1)} s${p.settledAfterShockSeconds !== undefined ? `, settled +${p.settledAfterShockSeconds.toFixed(1)} s` : ', not settled'}`).join('; ') || 'none'}`,
    `  bad debt: $${r.badDebt}`,
    `  price impact: ${r.priceImpactBps} bps at most (${r.pools.filter((p) => p.priceImpactBps > 0).map((p) => `${p.chain}/${p.pair} ${p.priceImpactBps}`).join(', ') || 'no pool moved'})`,
    `  shock to last receipt on the hub: ${r.shockToLastReceiptSeconds === null ? 'no receipt' : `${r.shockToLastReceiptSeconds.toFixed(1)} s`}`,
  ]
  return lines.join('\n')
}
