/**
 * The transmitter: submits certified plans to the LiquidationHub, once per plan across the network.
 *
 * Schedule (OCR-style, deterministic, the same on every node): for height h and the hub's operator set
 * `operators` (registration order, n = operators.length), the designated transmitter is `operators[h mod n]`
 * and operator i has rank `(i − h mod n) mod n`. A node submits `rank × staggerMs` after it holds the certified
 * plan, and only if the plan has not landed by then (`hub.planDigestOf(h)` is still zero). The schedule does not
 * depend on the round the height was decided in, so nodes that saw different rounds agree on it; the designated
 * node rotates with the height, so no single node carries every submission's gas.
 *
 * Each submission goes through the node's {@link SettlementOutbox} (intent before signing, each signed attempt
 * before its broadcast) and the account's {@link AccountTxQueue} (one transaction in flight, fee bumps on the
 * same nonce). While a transaction waits, a replacement is a cancellation (a self-transfer on the same nonce)
 * when the plan landed meanwhile from another node, so a lost race costs 21,000 gas instead of a reverting
 * submitPlan.
 */
import {
  decodeFunctionData,
  encodeFunctionData,
  hexToBytes,
  parseTransaction,
  toHex,
  zeroHash,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
} from 'viem'
import { liquidationHubAbi } from '../../contracts/out/abis.js'
import { decodeRevert, findRevertData } from '../../chains/evm/errors.js'
import { BaseError } from '../../protocol/errors.js'
import { settlementPlanDigest, type SettlementPlan } from '../../protocol/settlement/plan.js'
import type { Logger } from '../log/index.js'
import type { SettlementMetrics } from '../metrics/settlement.js'
import type { OutboxAttempt, OutboxRecord, SettlementOutbox } from './outbox.js'
import { AccountTxQueue, type TxAttempt, type TxOutcome, type TxQueueOptions, type TxRequest } from './tx.js'

/** A certified plan as the consensus layer hands it over (node/consensus CertifiedPlan fits). */
export type CertifiedPlanInput = {
  height: bigint
  settlementPlan: SettlementPlan
  /** Commit seals: 65 bytes r ‖ s ‖ v each, by distinct operators (any order; the transmitter sorts them by signer). */
  seals: readonly { signer: Address; seal: Uint8Array | Hex }[]
  /** ms epoch of the decision (for the landing-time metric). @default when handed over */
  decidedAt?: number
}

/** Options of {@link Transmitter}. Defaults in {@link defaultTransmitterOptions}. */
export type TransmitterOptions = {
  /** Delay between consecutive ranks of the schedule (ms). @default 4_000 */
  staggerMs?: number
  /** Seals put in submitPlan: the hub's quorum (fewest, least gas) or every seal held. @default 'quorum' */
  seals?: 'quorum' | 'all'
  /** Gas limit = estimate × (1 + gasMarginBps / 10_000) + 50_000. @default 2_000 */
  gasMarginBps?: number
  /** First block of the hub (where PlanSubmitted logs are searched). @default 0n */
  hubStartBlock?: bigint
  /** Transaction queue options (bump timeout, bump size, max bumps). */
  tx?: TxQueueOptions
}

export const defaultTransmitterOptions = { staggerMs: 4_000, seals: 'quorum', gasMarginBps: 2_000, hubStartBlock: 0n } as const

/** What the transmitter needs. */
export type TransmitterInit = TransmitterOptions & {
  /** Client of the hub chain. */
  client: PublicClient
  chainId: number
  hub: Address
  /** The key that signs submitPlan transactions (needs ETH on the hub chain for gas and LayerZero fees). */
  account: LocalAccount
  /** This node's operator address (its place in the schedule). */
  self: Address
  /** The hub's operator set in registration order (`hub.operators()`); read from the hub when omitted. */
  operators?: readonly Address[]
  outbox: SettlementOutbox
  metrics?: SettlementMetrics
  log?: Logger
  /** @default Date.now */
  now?: () => number
}

/** How a submission ended for this node. */
export type TransmitResult = {
  height: bigint
  state: 'landed' | 'skipped' | 'failed'
  /** This node's rank for the height (0 = designated). */
  rank: number
  /** The submitPlan transaction that landed (ours when `landed`). */
  txHash?: Hex
  landedBy?: Address
  gasUsed?: bigint
  /** Fee replacements sent (same nonce). */
  bumps: number
  reason?: string
}

/** Bad input to the transmitter (a plan the hub cannot take, this node not an operator). */
export class TransmitterError extends BaseError {
  override name = 'TransmitterError' as const
  constructor(shortMessage: string, params: { cause?: unknown; metaMessages?: string[] } = {}) {
    super(shortMessage, params)
  }
}

/** The designated transmitter of `height`: `operators[height mod n]`. */
export function designatedTransmitter(height: bigint, operators: readonly Address[]): Address {
  if (operators.length === 0) throw new TransmitterError('The operator set is empty.')
  return operators[Number(height % BigInt(operators.length))]!
}

/**
 * The rank of `self` in the schedule of `height`: `(indexOf(self) − height mod n) mod n` (0 = designated).
 * @throws TransmitterError when `self` is not an operator.
 */
export function transmitRank(height: bigint, operators: readonly Address[], self: Address): number {
  const i = operators.findIndex((o) => o.toLowerCase() === self.toLowerCase())
  if (i < 0) throw new TransmitterError(`${self} is not in the hub's operator set.`, { metaMessages: ['Configure the node with one of the hub operators() keys.'] })
  const n = operators.length
  return (i - Number(height % BigInt(n)) + n) % n
}

const planSubmittedEvent = liquidationHubAbi.find((x) => x.type === 'event' && x.name === 'PlanSubmitted')!

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((res, rej) => {
    if (signal.aborted) return rej(signal.reason)
    if (ms <= 0) return res()
    const onAbort = () => (clearTimeout(t), rej(signal.reason))
    const t = setTimeout(() => (signal.removeEventListener('abort', onAbort), res()), ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })

/**
 * Submits certified plans to the hub on the staggered schedule, through the outbox.
 * @example
 * const transmitter = new Transmitter({ client, chainId, hub, account, self: operator, outbox })
 * await transmitter.start()   // resumes unfinished submissions
 * consensus.addEventListener('consensus:decided', (e) => transmitter.transmit(e.detail).catch((err) => log.warn({ err }, 'submission stopped')))
 */
export class Transmitter extends EventTarget {
  private readonly init: TransmitterInit
  private readonly queue: AccountTxQueue
  private readonly ac = new AbortController()
  private readonly inflight = new Map<bigint, Promise<TransmitResult>>()
  private operators?: readonly Address[]
  private quorum?: number
  private readonly now: () => number

  constructor(init: TransmitterInit) {
    super()
    this.init = init
    this.now = init.now ?? Date.now
    this.operators = init.operators
    this.queue = new AccountTxQueue({ client: init.client, account: init.account, chainId: init.chainId, options: init.tx, metrics: init.metrics })
  }

  private get o() {
    return {
      staggerMs: this.init.staggerMs ?? defaultTransmitterOptions.staggerMs,
      seals: this.init.seals ?? defaultTransmitterOptions.seals,
      gasMarginBps: this.init.gasMarginBps ?? defaultTransmitterOptions.gasMarginBps,
      hubStartBlock: this.init.hubStartBlock ?? defaultTransmitterOptions.hubStartBlock,
    }
  }

  /**
   * Reads the operator set and quorum from the hub (unless given) and resumes every unfinished submission of the
   * outbox in the background. @returns the resumed submissions' results (settling as they end; a rejection is also
   * logged, so they need not be awaited).
   */
  async start(): Promise<Promise<TransmitResult>[]> {
    await this.loadHub()
    const pending = await this.init.outbox.pending()
    return pending.map((r) => {
      const p = this.track(r.height, () => this.continueRecord(r, this.now()))
      // Logged here, so that a caller that does not await the results leaves no unhandled rejection.
      p.catch((err: unknown) => this.init.log?.warn({ height: r.height, err: err instanceof BaseError ? err.shortMessage : String(err) }, 'resumed plan submission stopped'))
      return p
    })
  }

  /** Stops waiting: schedules and receipt waits end (their outbox records stay for a later resume). */
  stop(): void {
    this.ac.abort(new TransmitterError('The transmitter was stopped.'))
  }

  /**
   * Handles one certified plan: schedules, submits or skips it, and resolves with the outcome. Idempotent per
   * height (a second call joins the first; after a restart the outbox record decides).
   * @throws TransmitterError when stopped or when this node is not an operator; TxBroadcastError when the RPC
   *         refuses the transaction (the outbox keeps the record; `start()` resumes it).
   */
  transmit(input: CertifiedPlanInput): Promise<TransmitResult> {
    const t0 = input.decidedAt ?? this.now()
    return this.track(input.height, async () => {
      await this.loadHub()
      const existing = await this.init.outbox.get(input.height)
      if (existing) return this.continueRecord(existing, t0)
      const rank = transmitRank(input.height, this.operators!, this.init.self)
      const calldata = this.calldataOf(input)
      const now = this.now()
      const record: OutboxRecord = {
        height: input.height,
        planDigest: settlementPlanDigest(input.settlementPlan),
        hubChainId: this.init.chainId,
        hub: this.init.hub,
        from: this.init.account.address,
        state: 'scheduled',
        rank,
        dueAt: now + rank * this.o.staggerMs,
        calldata,
        attempts: [],
        createdAt: now,
        updatedAt: now,
      }
      await this.init.outbox.put(record)
      return this.continueRecord(record, t0)
    })
  }

  private track(height: bigint, fn: () => Promise<TransmitResult>): Promise<TransmitResult> {
    const running = this.inflight.get(height)
    if (running) return running
    const p = fn().finally(() => this.inflight.delete(height))
    this.inflight.set(height, p)
    return p
  }

  private async loadHub(): Promise<void> {
    const { client, hub } = this.init
    if (!this.operators) this.operators = await client.readContract({ address: hub, abi: liquidationHubAbi, functionName: 'operators' })
    if (this.quorum === undefined) this.quorum = Number(await client.readContract({ address: hub, abi: liquidationHubAbi, functionName: 'quorum' }))
  }

  /** submitPlan calldata: seals sorted by signer, distinct, trimmed to the quorum unless `seals: 'all'`. */
  private calldataOf(input: CertifiedPlanInput): Hex {
    const bySigner = new Map<string, Hex>()
    for (const s of input.seals) {
      const seal = typeof s.seal === 'string' ? s.seal : toHex(s.seal)
      if (hexToBytes(seal).length !== 65) throw new TransmitterError(`The seal of ${s.signer} is not 65 bytes.`)
      bySigner.set(s.signer.toLowerCase(), seal)
    }
    let signers = [...bySigner.keys()].sort()
    if (this.o.seals === 'quorum' && this.quorum !== undefined && signers.length > this.quorum) signers = signers.slice(0, this.quorum)
    if (this.quorum !== undefined && signers.length < this.quorum)
      throw new TransmitterError(`Height ${input.height} has ${signers.length} seals; the hub needs ${this.quorum}.`)
    return encodeFunctionData({ abi: liquidationHubAbi, functionName: 'submitPlan', args: [input.settlementPlan, signers.map((k) => bySigner.get(k)!)] })
  }

  private planOf(calldata: Hex): SettlementPlan {
    const { args } = decodeFunctionData({ abi: liquidationHubAbi, data: calldata })
    return args[0] as SettlementPlan
  }

  private async save(r: OutboxRecord, patch: Partial<OutboxRecord>): Promise<OutboxRecord> {
    Object.assign(r, patch, { updatedAt: this.now() })
    await this.init.outbox.put(r)
    return r
  }

  private result(r: OutboxRecord): TransmitResult {
    return {
      height: r.height,
      state: r.state as TransmitResult['state'],
      rank: r.rank,
      txHash: r.landedTx,
      landedBy: r.landedBy,
      gasUsed: r.gasUsed,
      bumps: Math.max(0, r.attempts.length - 1),
      reason: r.reason,
    }
  }

  private async finish(r: OutboxRecord, patch: Partial<OutboxRecord> & { state: 'landed' | 'skipped' | 'failed' }, t0: number): Promise<TransmitResult> {
    await this.save(r, patch)
    this.init.metrics?.submissions.inc({ outcome: patch.state })
    if (patch.state !== 'failed') this.init.metrics?.landingSeconds.observe(Math.max(0, this.now() - t0) / 1000)
    this.init.log?.info({ height: r.height, state: r.state, rank: r.rank, tx: r.landedTx, by: r.landedBy, bumps: Math.max(0, r.attempts.length - 1), reason: r.reason }, 'plan submission ended')
    this.dispatchEvent(new CustomEvent('transmitter:done', { detail: this.result(r) }))
    return this.result(r)
  }

  /** The digest the hub recorded at `height` (zero hash when none). */
  private landedDigest(height: bigint): Promise<Hex> {
    return this.init.client.readContract({ address: this.init.hub, abi: liquidationHubAbi, functionName: 'planDigestOf', args: [height] })
  }

  /** Who submitted the plan at `height`, from its PlanSubmitted log. */
  private async landedBy(height: bigint): Promise<{ tx?: Hex; by?: Address }> {
    try {
      const logs = await this.init.client.getLogs({ address: this.init.hub, event: planSubmittedEvent, args: { height }, fromBlock: this.o.hubStartBlock, toBlock: 'latest' })
      const l = logs[0]
      return l ? { tx: l.transactionHash ?? undefined, by: (l.args as { submitter?: Address }).submitter } : {}
    } catch {
      this.init.metrics?.rpcErrors.inc({ op: 'poll' })
      return {}
    }
  }

  /** Skipped, or failed when another plan landed at this height (which commit seals forbid). */
  private async landedElsewhere(r: OutboxRecord, digest: Hex, t0: number): Promise<TransmitResult> {
    const { tx, by } = await this.landedBy(r.height)
    if (digest.toLowerCase() !== r.planDigest.toLowerCase())
      return this.finish(r, { state: 'failed', reason: `CONFLICTING_PLAN ${digest}`, landedTx: tx, landedBy: by }, t0)
    return this.finish(r, { state: 'skipped', reason: 'ALREADY_LANDED', landedTx: tx, landedBy: by }, t0)
  }

  private async continueRecord(r: OutboxRecord, t0: number): Promise<TransmitResult> {
    if (r.state === 'landed' || r.state === 'skipped' || r.state === 'failed') return this.result(r)
    const signal = this.ac.signal
    const req: TxRequest = { to: this.init.hub, data: r.calldata, gas: 0n, label: `submitPlan(${r.height})` }

    if (r.state === 'sending' && r.attempts.length > 0) {
      // A transaction was signed before a restart: follow it (rebroadcast), never sign a new request.
      const value = await this.quote(r)
      const attempts = r.attempts.map((a): TxAttempt => ({ ...a, nonce: r.nonce!, cancel: a.cancel === true }))
      const gas = parseTransaction(r.attempts.find((a) => !a.cancel)?.raw ?? r.attempts[0]!.raw).gas ?? 3_000_000n
      const out = await this.queue.resume({ ...req, value, gas }, attempts, this.hooks(r, signal))
      return this.settle(r, out, t0)
    }

    // Scheduled: wait for this node's turn, then submit unless it landed.
    await sleep(r.dueAt - this.now(), signal)
    const digest = await this.landedDigest(r.height)
    if (digest !== zeroHash) return this.landedElsewhere(r, digest, t0)
    const value = await this.quote(r)
    let gas: bigint
    try {
      const estimate = await this.init.client.estimateGas({ account: this.init.account.address, to: this.init.hub, data: r.calldata, value })
      gas = (estimate * BigInt(10_000 + this.o.gasMarginBps)) / 10_000n + 50_000n
    } catch (err) {
      const revert = decodeRevert(findRevertData(err), liquidationHubAbi)
      if (revert.errorName === 'HeightAlreadySubmitted') {
        const d = await this.landedDigest(r.height)
        if (d !== zeroHash) return this.landedElsewhere(r, d, t0)
      }
      if (revert.errorName === undefined && revert.data === '0x') {
        this.init.metrics?.rpcErrors.inc({ op: 'simulate' })
        throw new TransmitterError(`Cannot estimate submitPlan(${r.height}).`, { cause: err })
      }
      return this.finish(r, { state: 'failed', reason: revert.errorName ?? revert.description }, t0)
    }
    const out = await this.queue.send({ ...req, value, gas }, this.hooks(r, signal))
    return this.settle(r, out, t0)
  }

  private async quote(r: OutboxRecord): Promise<bigint> {
    try {
      return await this.init.client.readContract({ address: this.init.hub, abi: liquidationHubAbi, functionName: 'quoteSubmitPlan', args: [this.planOf(r.calldata)] })
    } catch (err) {
      this.init.metrics?.rpcErrors.inc({ op: 'quote' })
      throw new TransmitterError(`Cannot quote the LayerZero fees of plan ${r.height}.`, { cause: err })
    }
  }

  private hooks(r: OutboxRecord, signal: AbortSignal) {
    return {
      signal,
      onAttempt: async (a: TxAttempt) => {
        const attempt: OutboxAttempt = { hash: a.hash, raw: a.raw, maxFeePerGas: a.maxFeePerGas, maxPriorityFeePerGas: a.maxPriorityFeePerGas, sentAt: a.sentAt, ...(a.cancel ? { cancel: true } : {}) }
        await this.save(r, { state: 'sending', nonce: a.nonce, attempts: [...r.attempts, attempt] })
        this.dispatchEvent(new CustomEvent('transmitter:signed', { detail: { height: r.height, rank: r.rank, hash: a.hash } }))
      },
      beforeBump: async () => ((await this.landedDigest(r.height)) !== zeroHash ? ('cancel' as const) : ('bump' as const)),
    }
  }

  private async settle(r: OutboxRecord, out: TxOutcome, t0: number): Promise<TransmitResult> {
    if (out.status === 'mined' && !out.cancelled && out.receipt.status === 'success') {
      return this.finish(r, { state: 'landed', landedTx: out.receipt.transactionHash, landedBy: this.init.account.address, gasUsed: out.receipt.gasUsed }, t0)
    }
    const digest = await this.landedDigest(r.height)
    if (digest !== zeroHash) return this.landedElsewhere(r, digest, t0)
    if (out.status === 'nonceTaken') return this.finish(r, { state: 'failed', reason: 'NONCE_TAKEN' }, t0)
    if (out.cancelled) return this.finish(r, { state: 'failed', reason: 'CANCELLED' }, t0)
    // Reverted although the height is free: replay to name the error.
    let reason = 'REVERTED'
    try {
      const sent = parseTransaction(out.attempt.raw)
      await this.init.client.call({ account: this.init.account.address, to: this.init.hub, data: r.calldata, value: sent.value, gas: sent.gas, blockNumber: out.receipt.blockNumber - 1n })
    } catch (err) {
      reason = decodeRevert(findRevertData(err), liquidationHubAbi).errorName ?? reason
    }
    return this.finish(r, { state: 'failed', reason, landedTx: undefined }, t0)
  }
}
