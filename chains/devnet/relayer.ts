/**
 * The devnet LayerZero relayer: plays DVN and executor for every path between the devnet's endpoints.
 *
 * For each chain it scans EndpointV2 `PacketSent` logs from a stored cursor (chunked eth_getLogs), decodes each
 * packet (`PacketV1Codec`), and on the destination chain:
 * 1. reads the endpoint's inbound state (`inboundPayloadHash`, `lazyInboundNonce`): a delivered packet is skipped;
 * 2. if unverified, calls `SimpleMessageLib.validatePacket(packet)` (the relayer is its whitelisted caller), which
 *    has the endpoint store the payload hash;
 * 3. calls `EndpointV2.lzReceive(origin, receiver, guid, message, "0x")` with the lzReceive gas and value of the
 *    packet's options (plus {@link defaultRelayerOptions.lzReceiveGasOverhead} for the endpoint itself).
 * The packets of one scanned range go to each destination as one batch: every validatePacket, then every
 * lzReceive, sent with consecutive nonces without waiting in between, so a plan's legs are verified and delivered in
 * the same block instead of two blocks per packet. A packet whose batch step fails is retried on its own.
 * A packet whose lzReceive keeps reverting is reported once with `EndpointV2.lzReceiveAlert` and left verified
 * (as LayerZero's executor does); the relayer moves on.
 *
 * The cursor of each chain (next block to scan) is written atomically to `stateFile` (JSON) after every range,
 * so a restarted relayer resumes where it stopped. Redelivery is harmless: the inbound state is read first, and a
 * race that still loses (LZ_PayloadHashNotFound on lzReceive, LZ_PathNotVerifiable on validatePacket) counts as
 * already delivered. The state file also holds each chain's genesis hash: a file written for another chain
 * (a fresh devnet reusing the same addresses) is ignored for that chain.
 *
 * Devnet only: the relayer key is anvil's public dev account 2 ({@link RELAYER_KEY}).
 *
 * Run as its own process: `tsx chains/devnet/relayer.ts --deployments .devnet/deployments.json --state .devnet/relayer-state.json`.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import {
  createWalletClient,
  defineChain,
  encodeFunctionData,
  http,
  type Address,
  type Hex,
  type PrivateKeyAccount,
  type WalletClient,
} from 'viem'
import { endpointV2Abi, simpleMessageLibAbi } from '../../contracts/out/abis.js'
import { BaseError } from '../../protocol/errors.js'
import { decodeEndpointLog, endpointTopics, type LzPacketSent } from '../bridges/layerzero/events.js'
import { originOf, type LzPacket } from '../bridges/layerzero/packet.js'
import { PayloadHashConflictError } from '../bridges/layerzero/errors.js'
import { readDeliveryState, type LzDeliveryStatus } from '../bridges/layerzero/status.js'
import { createChainClient, type ChainClient } from '../evm/client.js'
import { decodeRevert, findRevertData } from '../evm/errors.js'
import { getRpcLogsChunked } from '../evm/logs.js'
import { accountOf, RELAYER_KEY } from './accounts.js'

// ---------------------------------------------------------------------------
// Options, stats, errors
// ---------------------------------------------------------------------------

/** One chain the relayer serves. */
export type RelayerChainConfig = {
  /** For logs. @default `eid-<eid>` */
  name?: string
  chainId: number
  /** LayerZero endpoint id of the chain. */
  eid: number
  /** http://127.0.0.1:<port> */
  rpcUrl: string
  /** EndpointV2. */
  endpoint: Address
  /** SimpleMessageLib, the receive library whose `validatePacket` the relayer calls. */
  receiveLib: Address
  /** First block scanned when the state file has no cursor for this chain. @default 0n */
  startBlock?: bigint
}

/** The logger the relayer writes to (a pino Logger fits). */
export type RelayerLog = {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
  debug(obj: object, msg?: string): void
}

/** Options of {@link startRelayer}. Defaults in {@link defaultRelayerOptions}. */
export type RelayerOptions = {
  chains: readonly RelayerChainConfig[]
  /** JSON file of the per-chain cursors (created if missing, replaced atomically). */
  stateFile: string
  log?: RelayerLog
  /** Pause between polls that found nothing. @default 200 */
  pollMs?: number
  /** Key of the whitelisted caller of SimpleMessageLib. @default RELAYER_KEY (anvil dev account 2) */
  relayerKey?: Hex
  /** lzReceive gas when the packet's options carry no executor lzReceive option. @default 200_000n */
  defaultLzReceiveGas?: bigint
  /** Gas added to the options' lzReceive gas for the transaction and the endpoint's own work. @default 150_000n */
  lzReceiveGasOverhead?: bigint
  /** Gas limit of validatePacket. @default 300_000n */
  validateGas?: bigint
  /** Most blocks scanned per chain and poll (the cursor is saved after each range). @default 2_000n */
  maxBlocksPerPoll?: bigint
  /** lzReceive attempts (one per poll) before the packet is alerted and passed. @default 3 */
  maxAttempts?: number
}

export const defaultRelayerOptions = {
  pollMs: 200,
  defaultLzReceiveGas: 200_000n,
  lzReceiveGasOverhead: 150_000n,
  validateGas: 300_000n,
  maxBlocksPerPoll: 2_000n,
  maxAttempts: 3,
} as const

/** Counters of a running relayer (live object). */
export type RelayerStats = {
  /** Polls completed. */
  polls: number
  /** PacketSent events decoded (re-scans count again). */
  packetsSeen: number
  /** validatePacket transactions mined. */
  verified: number
  /** lzReceive transactions mined (each is one delivery). */
  delivered: number
  /** Packets found already delivered (re-scans, races with another relayer). */
  alreadyDelivered: number
  /** lzReceiveAlert transactions sent for packets whose lzReceive kept reverting. */
  alerts: number
  /** PacketSent events that could not be decoded, or name an EID no chain serves. */
  skipped: number
  /** Failures retried on a later poll (RPC down, transaction not sent). */
  errors: number
  /** Next block scanned, per EID (decimal). */
  cursors: Record<number, string>
  lastError?: string
}

/** Events of the relayer (`detail` = the packet). */
export type RelayerEvents = { 'relayer:verified': CustomEvent<LzPacket>; 'relayer:delivered': CustomEvent<LzPacket> }

/** A running relayer. */
export interface Relayer extends EventTarget {
  readonly stats: RelayerStats
  /**
   * Stops at once: the current RPC call finishes, no later step starts, the cursor of an unfinished range is not
   * advanced. Resolves when the loop has exited. Idempotent.
   */
  stop(): Promise<void>
  /**
   * Resolves after a poll that started after the call found no block left to scan and no packet failing: every
   * packet sent before the call has been handled. Rejects with the signal's reason when it aborts, and when the relayer stops first.
   */
  settled(signal?: AbortSignal): Promise<void>
}

/** The relayer's options or state file are unusable. */
export class RelayerConfigError extends BaseError {
  override name = 'RelayerConfigError' as const
  constructor(shortMessage: string, params: { cause?: unknown; metaMessages?: string[] } = {}) {
    super(shortMessage, params)
  }
}

// ---------------------------------------------------------------------------
// State file
// ---------------------------------------------------------------------------

type StateFile = { version: 1; chains: Record<string, { genesisHash: Hex; nextBlock: string }> }

const chainKey = (c: RelayerChainConfig) => `${c.eid}:${c.endpoint.toLowerCase()}`

function readState(path: string): StateFile {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, chains: {} }
    throw new RelayerConfigError(`Cannot read the relayer state file ${path}.`, { cause: err })
  }
  try {
    const s = JSON.parse(text) as StateFile
    if (s.version !== 1 || typeof s.chains !== 'object' || s.chains === null) throw new Error('not a version-1 relayer state')
    return s
  } catch (err) {
    throw new RelayerConfigError(`The relayer state file ${path} is corrupt.`, { cause: err, metaMessages: ['Delete it to rescan every chain from its start block (redelivery is harmless).'] })
  }
}

/** Writes the file through a temporary file, fsync and rename: a crash leaves the old or the new file, never half of one. */
function writeState(path: string, state: StateFile): void {
  mkdirSync(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.tmp`
  const fd = openSync(tmp, 'w')
  try {
    writeSync(fd, JSON.stringify(state, null, 2))
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
}

// ---------------------------------------------------------------------------
// The relayer
// ---------------------------------------------------------------------------

type Served = {
  cfg: RelayerChainConfig
  name: string
  client: ChainClient
  wallet: WalletClient
  /** Next nonce of the relayer on this chain; -1 = read it again. */
  nonce: number
  /** Serialises the relayer's transactions on this chain. */
  lock: Promise<unknown>
  nextBlock: bigint
  genesisHash: Hex
}

const silentLog: RelayerLog = { info() {}, warn() {}, error() {}, debug() {} }

class Stopped extends Error {}

class DevnetRelayer extends EventTarget implements Relayer {
  readonly stats: RelayerStats = { polls: 0, packetsSeen: 0, verified: 0, delivered: 0, alreadyDelivered: 0, alerts: 0, skipped: 0, errors: 0, cursors: {} }
  private readonly ac = new AbortController()
  private readonly served: Map<number, Served>
  private readonly opts: Required<Omit<RelayerOptions, 'log' | 'relayerKey' | 'chains' | 'stateFile'>>
  private readonly log: RelayerLog
  private readonly account: PrivateKeyAccount
  /** lzReceive attempts per GUID of packets whose lzReceive reverted. */
  private readonly attempts = new Map<Hex, number>()
  private readonly waiters: { after: number; resolve: () => void; reject: (err: unknown) => void }[] = []
  private loop?: Promise<void>
  private pollsStarted = 0
  /** A packet of the current poll failed and waits for a retry. */
  private failed = false

  constructor(
    private readonly options: RelayerOptions,
    served: Served[],
  ) {
    super()
    this.served = new Map(served.map((s) => [s.cfg.eid, s]))
    this.log = options.log ?? silentLog
    this.account = accountOf(options.relayerKey ?? RELAYER_KEY)
    this.opts = {
      pollMs: options.pollMs ?? defaultRelayerOptions.pollMs,
      defaultLzReceiveGas: options.defaultLzReceiveGas ?? defaultRelayerOptions.defaultLzReceiveGas,
      lzReceiveGasOverhead: options.lzReceiveGasOverhead ?? defaultRelayerOptions.lzReceiveGasOverhead,
      validateGas: options.validateGas ?? defaultRelayerOptions.validateGas,
      maxBlocksPerPoll: options.maxBlocksPerPoll ?? defaultRelayerOptions.maxBlocksPerPoll,
      maxAttempts: options.maxAttempts ?? defaultRelayerOptions.maxAttempts,
    }
    for (const s of served) this.stats.cursors[s.cfg.eid] = s.nextBlock.toString()
  }

  start(): void {
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.ac.abort(new Stopped('relayer stopped'))
    await this.loop
    for (const w of this.waiters.splice(0)) w.reject(new RelayerConfigError('The relayer was stopped before it settled.'))
  }

  settled(signal?: AbortSignal): Promise<void> {
    const after = this.pollsStarted
    if (this.signal.aborted) return Promise.reject(new RelayerConfigError('The relayer is stopped.'))
    return new Promise<void>((res, rej) => {
      const w = { after, resolve: res, reject: rej }
      this.waiters.push(w)
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.waiters.indexOf(w)
          if (i >= 0) this.waiters.splice(i, 1)
          rej(signal.reason)
        },
        { once: true },
      )
    })
  }

  private get signal(): AbortSignal {
    return this.ac.signal
  }

  private async run(): Promise<void> {
    while (!this.signal.aborted) {
      const id = ++this.pollsStarted
      this.failed = false
      let busy = false
      try {
        const results = await Promise.all([...this.served.values()].map((s) => this.pollChain(s)))
        busy = results.some(Boolean)
        this.saveState()
        this.stats.polls++
        // Settle the waiters that asked before this poll started, once nothing is left nor failing.
        if (!busy && !this.failed) {
          for (const w of this.waiters.filter((x) => x.after < id)) {
            this.waiters.splice(this.waiters.indexOf(w), 1)
            w.resolve()
          }
        }
      } catch (err) {
        if (this.signal.aborted) break
        this.stats.errors++
        this.stats.lastError = err instanceof BaseError ? err.shortMessage : String((err as Error)?.message ?? err)
        this.log.warn({ err: this.stats.lastError }, 'relayer poll failed; retrying')
      }
      if (!busy) await this.sleep(this.opts.pollMs)
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((res) => {
      if (this.signal.aborted) return res()
      const onAbort = () => (clearTimeout(t), res())
      const t = setTimeout(() => (this.signal.removeEventListener('abort', onAbort), res()), ms)
      this.signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  private check(): void {
    if (this.signal.aborted) throw new Stopped('relayer stopped')
  }

  /** Scans one range of a source chain and handles its packets. @returns true when more blocks wait. */
  private async pollChain(src: Served): Promise<boolean> {
    this.check()
    const head = await src.client.getBlockNumber({ cacheTime: 0 })
    if (head < src.nextBlock) return false
    const to = src.nextBlock + this.opts.maxBlocksPerPoll - 1n < head ? src.nextBlock + this.opts.maxBlocksPerPoll - 1n : head
    const logs = await getRpcLogsChunked(src.client, {
      address: src.cfg.endpoint,
      topics: [endpointTopics.packetSent],
      fromBlock: src.nextBlock,
      toBlock: to,
      signal: this.signal,
    })
    // Decode, then hand each destination its packets in order: one batch per destination, the destinations in parallel.
    const byDst = new Map<number, LzPacketSent[]>()
    for (const l of logs) {
      let ev: LzPacketSent
      try {
        ev = decodeEndpointLog(l) as LzPacketSent
      } catch (err) {
        this.stats.skipped++
        this.log.warn({ chain: src.name, tx: l.transactionHash, err: (err as BaseError).shortMessage }, 'undecodable PacketSent skipped')
        continue
      }
      this.stats.packetsSeen++
      if (!this.served.has(ev.packet.dstEid)) {
        this.stats.skipped++
        this.log.warn({ chain: src.name, guid: ev.packet.guid, dstEid: ev.packet.dstEid }, 'packet to an EID no chain serves; skipped')
        continue
      }
      const list = byDst.get(ev.packet.dstEid) ?? []
      list.push(ev)
      byDst.set(ev.packet.dstEid, list)
    }
    this.check()
    const retryFrom = await Promise.all([...byDst].map(([eid, evs]) => this.withLock(this.served.get(eid)!, () => this.relayBatch(evs, this.served.get(eid)!))))
    const firstFailed = retryFrom.filter((b): b is bigint => b !== undefined).reduce<bigint | undefined>((m, b) => (m === undefined || b < m ? b : m), undefined)
    if (firstFailed !== undefined) {
      // Retry from the failed packet's block on the next poll (the packets already handled are skipped as delivered).
      src.nextBlock = firstFailed
      this.stats.cursors[src.cfg.eid] = src.nextBlock.toString()
      return false
    }
    src.nextBlock = to + 1n
    this.stats.cursors[src.cfg.eid] = src.nextBlock.toString()
    return to < head
  }

  private withLock<T>(s: Served, fn: () => Promise<T>): Promise<T> {
    const run = s.lock.then(fn, fn)
    s.lock = run.catch(() => undefined)
    return run
  }

  /**
   * Verifies and delivers the packets of one destination together: reads their inbound state in parallel, sends
   * every needed `validatePacket` and then every `lzReceive` with consecutive nonces without waiting in between (so
   * they share blocks; the nonce order keeps each verification ahead of its delivery), then waits for all receipts.
   * A packet whose batch step failed (reverted, or not sent) goes through {@link relay}, one at a time, in order.
   * @returns the block of the first packet to retry on a later poll, or undefined when all are handled.
   * @throws Stopped when the relayer stops between steps.
   */
  private async relayBatch(evs: readonly LzPacketSent[], dst: Served): Promise<bigint | undefined> {
    const endpoint = dst.cfg.endpoint
    const states = await Promise.all(
      evs.map((ev) =>
        readDeliveryState(dst.client, endpoint, ev.packet).catch((err: unknown) => {
          if (err instanceof PayloadHashConflictError) return err
          throw err
        }),
      ),
    )
    this.check()
    type Pending = { ev: LzPacketSent; validate?: Hex; deliver?: Hex; ok: boolean }
    const pending: Pending[] = []
    for (const [i, ev] of evs.entries()) {
      const st = states[i]
      if (st instanceof PayloadHashConflictError) {
        // Another verifier stored a different payload at this nonce: never deliver over it.
        this.stats.skipped++
        this.log.error({ guid: ev.packet.guid, err: st.shortMessage }, 'payload hash conflict; packet skipped')
      } else if (st.state === 'delivered' || st.state === 'nilified') {
        this.stats.alreadyDelivered++
        this.log.debug({ guid: ev.packet.guid, state: st.state }, 'packet already handled')
      } else pending.push({ ev, ok: false, ...(st.state === 'unverified' ? { validate: '0x' as Hex } : {}) })
    }
    if (pending.length === 0) return undefined
    // Every validatePacket first (in nonce order), then every lzReceive.
    const steps: { p: Pending; kind: 'validate' | 'deliver'; tx: { to: Address; data: Hex; gas: bigint; value?: bigint } }[] = []
    for (const p of pending)
      if (p.validate !== undefined)
        steps.push({ p, kind: 'validate', tx: { to: dst.cfg.receiveLib, data: encodeFunctionData({ abi: simpleMessageLibAbi, functionName: 'validatePacket', args: [p.ev.packet.encoded] }), gas: this.opts.validateGas } })
    for (const p of pending) {
      const pk = p.ev.packet
      const opt = p.ev.lzReceive ?? { gas: this.opts.defaultLzReceiveGas, value: 0n }
      steps.push({ p, kind: 'deliver', tx: { to: endpoint, data: encodeFunctionData({ abi: endpointV2Abi, functionName: 'lzReceive', args: [originOf(pk), pk.receiverAddress, pk.guid, pk.message, '0x'] }), gas: opt.gas + this.opts.lzReceiveGasOverhead, value: opt.value } })
    }
    const fees = await this.fees(dst)
    const sent: { step: (typeof steps)[number]; hash: Hex }[] = []
    let stopped: Stopped | undefined
    try {
      for (const step of steps) {
        this.check()
        sent.push({ step, hash: await this.sendOnly(dst, step.tx, fees) })
      }
    } catch (err) {
      if (err instanceof Stopped) stopped = err
      else this.log.debug({ err: (err as Error).message }, 'batch send interrupted; the rest goes one by one')
    }
    // Not abortable: every sent transaction is followed to its receipt so the nonce count stays right.
    const receipts = await Promise.all(sent.map((x) => dst.client.waitForTransactionReceipt({ hash: x.hash, pollingInterval: 20, timeout: 60_000 }).then((r) => r.status, () => 'reverted' as const)))
    const failedValidate = new Set<Pending>()
    sent.forEach(({ step, hash }, i) => {
      const pk = step.p.ev.packet
      if (step.kind === 'validate') {
        if (receipts[i] === 'success') {
          this.stats.verified++
          this.dispatchEvent(new CustomEvent('relayer:verified', { detail: pk }))
        } else failedValidate.add(step.p)
      } else if (receipts[i] === 'success' && !failedValidate.has(step.p)) {
        step.p.ok = true
        this.stats.delivered++
        this.attempts.delete(pk.guid)
        this.log.info({ guid: pk.guid, srcEid: pk.srcEid, dstEid: pk.dstEid, nonce: pk.nonce, tx: hash }, 'packet delivered')
        this.dispatchEvent(new CustomEvent('relayer:delivered', { detail: pk }))
      }
    })
    if (stopped) throw stopped
    for (const p of pending) {
      if (p.ok) continue
      this.check()
      if (!(await this.relay(p.ev, dst))) return p.ev.log.blockNumber
    }
    return undefined
  }

  /**
   * Verifies and delivers one packet on its destination. @returns false when it should be retried on a later poll.
   * @throws Stopped when the relayer stops between steps.
   */
  private async relay(ev: LzPacketSent, dst: Served): Promise<boolean> {
    const p = ev.packet
    const endpoint = dst.cfg.endpoint
    let status: LzDeliveryStatus
    try {
      status = await readDeliveryState(dst.client, endpoint, p)
    } catch (err) {
      if (!(err instanceof PayloadHashConflictError)) throw err
      // Another verifier stored a different payload at this nonce: never deliver over it.
      this.stats.skipped++
      this.log.error({ guid: p.guid, err: err.shortMessage }, 'payload hash conflict; packet skipped')
      return true
    }
    if (status.state === 'delivered' || status.state === 'nilified') {
      this.stats.alreadyDelivered++
      this.log.debug({ guid: p.guid, state: status.state }, 'packet already handled')
      return true
    }
    this.check()
    if (status.state === 'unverified') {
      const r = await this.send(dst, {
        to: dst.cfg.receiveLib,
        data: encodeFunctionData({ abi: simpleMessageLibAbi, functionName: 'validatePacket', args: [p.encoded] }),
        gas: this.opts.validateGas,
      })
      if (r.status !== 'success') {
        const again = await readDeliveryState(dst.client, endpoint, p)
        if (again.state === 'delivered') {
          this.stats.alreadyDelivered++
          return true
        }
        if (again.state !== 'verified') {
          this.fail(`validatePacket of ${p.guid} reverted: ${await this.revertReason(dst, dst.cfg.receiveLib, p.encoded)}`)
          return false
        }
      } else {
        this.stats.verified++
        this.dispatchEvent(new CustomEvent('relayer:verified', { detail: p }))
      }
      this.check()
    }
    const opt = ev.lzReceive ?? { gas: this.opts.defaultLzReceiveGas, value: 0n }
    const lzReceiveData = encodeFunctionData({ abi: endpointV2Abi, functionName: 'lzReceive', args: [originOf(p), p.receiverAddress, p.guid, p.message, '0x'] })
    const r = await this.send(dst, { to: endpoint, data: lzReceiveData, gas: opt.gas + this.opts.lzReceiveGasOverhead, value: opt.value })
    if (r.status === 'success') {
      this.stats.delivered++
      this.attempts.delete(p.guid)
      this.log.info({ guid: p.guid, srcEid: p.srcEid, dstEid: p.dstEid, nonce: p.nonce, tx: r.hash }, 'packet delivered')
      this.dispatchEvent(new CustomEvent('relayer:delivered', { detail: p }))
      return true
    }
    // Reverted: delivered meanwhile by someone else, or lzReceive of the OApp failed.
    const after = await readDeliveryState(dst.client, endpoint, p)
    if (after.state === 'delivered') {
      this.stats.alreadyDelivered++
      return true
    }
    const reason = await this.revertData(dst, endpoint, lzReceiveData, opt.value)
    const n = (this.attempts.get(p.guid) ?? 0) + 1
    this.attempts.set(p.guid, n)
    const described = decodeRevert(reason, endpointV2Abi).description
    if (n < this.opts.maxAttempts) {
      this.fail(`lzReceive of ${p.guid} reverted (attempt ${n} of ${this.opts.maxAttempts}): ${described}`)
      return false
    }
    // Give up: report it on chain, as LayerZero's executor does, and pass.
    const alert = await this.send(dst, {
      to: endpoint,
      data: encodeFunctionData({
        abi: endpointV2Abi,
        functionName: 'lzReceiveAlert',
        args: [originOf(p), p.receiverAddress, p.guid, opt.gas, opt.value, p.message, '0x', reason ?? '0x'],
      }),
      gas: 300_000n,
    })
    this.attempts.delete(p.guid)
    if (alert.status === 'success') this.stats.alerts++
    this.log.error({ guid: p.guid, reason: described }, 'lzReceive keeps reverting; alerted and passed')
    return true
  }

  private fail(message: string): void {
    this.failed = true
    this.stats.errors++
    this.stats.lastError = message
    this.log.warn({ err: message }, 'relay step failed; retrying on a later poll')
  }

  /** Revert data of a call replayed at the latest block. */
  private async revertData(dst: Served, to: Address, data: Hex, value = 0n): Promise<Hex | undefined> {
    try {
      await dst.client.call({ account: this.account.address, to, data, value })
      return undefined
    } catch (err) {
      return findRevertData(err)
    }
  }

  private async revertReason(dst: Served, lib: Address, packet: Hex): Promise<string> {
    const data = await this.revertData(dst, lib, encodeFunctionData({ abi: simpleMessageLibAbi, functionName: 'validatePacket', args: [packet] }))
    return decodeRevert(data, [...simpleMessageLibAbi, ...endpointV2Abi]).description
  }

  /** EIP-1559 fees of the relayer's transactions: twice the latest base fee plus a 1 gwei tip. */
  private async fees(dst: Served): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
    const block = await dst.client.getBlock({ blockTag: 'latest' })
    const base = block.baseFeePerGas ?? 1_000_000_000n
    return { maxFeePerGas: base * 2n + 1_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n }
  }

  /** Sends one transaction from the relayer (local nonce, fixed gas) without waiting for it. @returns its hash. */
  private async sendOnly(dst: Served, tx: { to: Address; data: Hex; gas: bigint; value?: bigint }, fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }): Promise<Hex> {
    if (dst.nonce < 0) dst.nonce = await dst.client.getTransactionCount({ address: this.account.address, blockTag: 'pending' })
    const nonce = dst.nonce
    try {
      const hash = await dst.wallet.sendTransaction({ account: this.account, chain: dst.wallet.chain, to: tx.to, data: tx.data, value: tx.value ?? 0n, gas: tx.gas, nonce, ...fees })
      dst.nonce = nonce + 1
      return hash
    } catch (err) {
      dst.nonce = -1
      throw err
    }
  }

  /** Sends one transaction from the relayer and waits for its receipt. */
  private async send(dst: Served, tx: { to: Address; data: Hex; gas: bigint; value?: bigint }): Promise<{ status: 'success' | 'reverted'; hash: Hex }> {
    const hash = await this.sendOnly(dst, tx, await this.fees(dst))
    // Not abortable: a sent transaction is followed to its receipt so the nonce count stays right.
    const receipt = await dst.client.waitForTransactionReceipt({ hash, pollingInterval: 20, timeout: 60_000 })
    return { status: receipt.status, hash }
  }

  private saveState(): void {
    const state: StateFile = { version: 1, chains: {} }
    try {
      const prev = readState(this.options.stateFile)
      Object.assign(state.chains, prev.chains)
    } catch {
      // a corrupt file is replaced
    }
    for (const s of this.served.values()) state.chains[chainKey(s.cfg)] = { genesisHash: s.genesisHash, nextBlock: s.nextBlock.toString() }
    writeState(this.options.stateFile, state)
  }
}

/**
 * Starts the relayer over `chains`, resuming from the cursors in `stateFile`.
 * @throws RelayerConfigError for fewer than two chains, a duplicate EID, or an unreadable/corrupt state file;
 *         RpcUnavailableError when a chain does not answer at start.
 * @example
 * const relayer = await startRelayer({ chains: relayerChainsOf(devnet), stateFile: '.devnet/relayer-state.json' })
 * ...; await relayer.stop()
 */
export async function startRelayer(options: RelayerOptions): Promise<Relayer> {
  if (options.chains.length < 2) throw new RelayerConfigError('The relayer needs at least two chains.')
  const eids = new Set<number>()
  for (const c of options.chains) {
    if (eids.has(c.eid)) throw new RelayerConfigError(`EID ${c.eid} is configured twice.`)
    eids.add(c.eid)
  }
  const state = readState(options.stateFile)
  const served = await Promise.all(
    options.chains.map(async (cfg): Promise<Served> => {
      const name = cfg.name ?? `eid-${cfg.eid}`
      const client = createChainClient({ chainId: cfg.chainId, rpcUrls: [cfg.rpcUrl], name, pollingIntervalMs: 50, retryCount: 2 })
      const chain = defineChain({ id: cfg.chainId, name, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [cfg.rpcUrl] } } })
      const wallet = createWalletClient({ chain, transport: http(cfg.rpcUrl, { retryCount: 0 }) })
      const [genesis, head] = await Promise.all([client.getBlock({ blockNumber: 0n }), client.getBlockNumber({ cacheTime: 0 })])
      const saved = state.chains[chainKey(cfg)]
      let nextBlock = cfg.startBlock ?? 0n
      if (saved && saved.genesisHash === genesis.hash && BigInt(saved.nextBlock) <= head + 1n) nextBlock = BigInt(saved.nextBlock)
      else if (saved) options.log?.warn({ chain: name }, 'stored cursor belongs to another chain; rescanning from the start block')
      return { cfg, name, client, wallet, nonce: -1, lock: Promise.resolve(), nextBlock, genesisHash: genesis.hash! }
    }),
  )
  const relayer = new DevnetRelayer(options, served)
  options.log?.info({ chains: served.map((s) => ({ name: s.name, eid: s.cfg.eid, from: s.nextBlock })) }, 'relayer started')
  relayer.start()
  return relayer
}

/** The relayer's chain list for a running devnet (or a deployments.json's chains). */
export function relayerChainsOf(devnet: {
  chains: readonly { name: string; chainId: number; eid: number; rpcUrl: string; deployment: { layerzero: { endpoint: Address; receiveLib: Address } } }[]
}): RelayerChainConfig[] {
  return devnet.chains.map((c) => ({
    name: c.name,
    chainId: c.chainId,
    eid: c.eid,
    rpcUrl: c.rpcUrl,
    endpoint: c.deployment.layerzero.endpoint,
    receiveLib: c.deployment.layerzero.receiveLib,
  }))
}

// ---------------------------------------------------------------------------
// CLI entry: its own process
// ---------------------------------------------------------------------------

/** Options of {@link runRelayer}. */
export type RunRelayerOptions = {
  /** deployments.json written by the devnet. @default '.devnet/deployments.json' */
  deployments?: string
  /** @default '<dir of deployments>/relayer-state.json' */
  stateFile?: string
  pollMs?: number
  log?: RelayerLog
  /** Stops the relayer when aborted (besides SIGINT / SIGTERM). */
  signal?: AbortSignal
}

/**
 * Runs the relayer for the devnet described by a deployments.json until SIGINT, SIGTERM or `signal`; prints a
 * JSON line of its stats every 10 s at debug level and once at the end.
 * @throws RelayerConfigError (unreadable deployments file, bad options or state file)
 */
export async function runRelayer(opts: RunRelayerOptions = {}): Promise<RelayerStats> {
  const deployments = resolve(opts.deployments ?? '.devnet/deployments.json')
  const chains = readRelayerChains(deployments)
  const log = opts.log ?? (await import('../../node/log/index.js')).createLogger({ module: 'relayer' })
  const relayer = await startRelayer({ chains, stateFile: resolve(opts.stateFile ?? resolve(dirname(deployments), 'relayer-state.json')), pollMs: opts.pollMs, log })
  const ac = new AbortController()
  const onSignal = () => ac.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  opts.signal?.addEventListener('abort', onSignal, { once: true })
  const timer = setInterval(() => log.debug({ stats: relayer.stats }, 'relayer stats'), 10_000)
  try {
    await new Promise<void>((res) => (ac.signal.aborted ? res() : ac.signal.addEventListener('abort', () => res(), { once: true })))
  } finally {
    clearInterval(timer)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await relayer.stop()
    log.info({ stats: relayer.stats }, 'relayer stopped')
  }
  return relayer.stats
}

/**
 * The relayer's chains from a deployments.json written by the devnet (read directly: the relayer process does not
 * load the devnet's deployment code).
 * @throws RelayerConfigError when the file is missing, not JSON, or lacks a chain's LayerZero addresses.
 */
export function readRelayerChains(path: string): RelayerChainConfig[] {
  let file: { chains?: Record<string, { chainId?: number; eid?: number; rpcUrl?: string; deployment?: { layerzero?: { endpoint?: Address; receiveLib?: Address } } }> }
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as typeof file
  } catch (err) {
    throw new RelayerConfigError(`Cannot read the deployment file ${path}.`, { cause: err, metaMessages: ['Start the devnet first: npm run devnet'] })
  }
  const out: RelayerChainConfig[] = []
  for (const [name, c] of Object.entries(file.chains ?? {})) {
    const lz = c.deployment?.layerzero
    if (typeof c.chainId !== 'number' || typeof c.eid !== 'number' || typeof c.rpcUrl !== 'string' || !lz?.endpoint || !lz.receiveLib)
      throw new RelayerConfigError(`Chain ${name} of ${path} lacks chainId, eid, rpcUrl or its LayerZero endpoint and receive library.`)
    out.push({ name, chainId: c.chainId, eid: c.eid, rpcUrl: c.rpcUrl, endpoint: lz.endpoint, receiveLib: lz.receiveLib })
  }
  return out
}

function parseArgs(argv: string[]): RunRelayerOptions {
  const out: RunRelayerOptions = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const v = argv[i + 1]
    if (a === '--deployments' && v) (out.deployments = v), i++
    else if (a === '--state' && v) (out.stateFile = v), i++
    else if (a === '--poll-ms' && v && Number.isFinite(Number(v))) (out.pollMs = Number(v)), i++
    else throw new RelayerConfigError(`Unknown or incomplete argument ${a}.`, { metaMessages: ['Usage: relayer [--deployments FILE] [--state FILE] [--poll-ms N]'] })
  }
  return out
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runRelayer(parseArgs(process.argv.slice(2))).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
      process.exit(1)
    },
  )
}
