/**
 * Transactions of one account on one chain: a queue that keeps one transaction in flight at a time, counts
 * nonces locally (never below the chain's pending count), and replaces a transaction that is not mined within
 * `bumpAfterMs` by the same transaction on the same nonce with fees raised by `bumpBps` (≥ 12.5%, above the
 * 10% geth and anvil require of a replacement). Every signed attempt is handed to `onAttempt` before it is
 * broadcast, so a caller can persist it first (the outbox does).
 *
 * Signing is local (viem `LocalAccount.signTransaction`, EIP-1559); broadcasting is `eth_sendRawTransaction`.
 */
import { keccak256, type Address, type Hex, type LocalAccount, type PublicClient, type TransactionReceipt } from 'viem'
import { BaseError } from '../../protocol/errors.js'
import type { SettlementMetrics } from '../metrics/settlement.js'

/** Options of {@link AccountTxQueue}. Defaults in {@link defaultTxQueueOptions}. */
export type TxQueueOptions = {
  /** How long an attempt may wait for inclusion before it is replaced with higher fees (ms). @default 15_000 */
  bumpAfterMs?: number
  /** Fee increase of a replacement, bps of the previous fees. Below 1250 some nodes refuse it. @default 1250 */
  bumpBps?: number
  /** Replacements after the first attempt, at most. @default 5 */
  maxBumps?: number
  /** Upper bound of maxFeePerGas (wei per gas); a replacement is not raised above it. @default none */
  maxFeePerGasCap?: bigint
  /** Receipt polling interval (ms). @default 250 */
  receiptPollMs?: number
}

export const defaultTxQueueOptions = { bumpAfterMs: 15_000, bumpBps: 1250, maxBumps: 5, receiptPollMs: 250 } as const

/** A contract call to send. `gas` is fixed (estimate before). */
export type TxRequest = { to: Address; data: Hex; value?: bigint; gas: bigint; label?: string }

/** One signed transaction. */
export type TxAttempt = { nonce: number; hash: Hex; raw: Hex; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint; sentAt: number; cancel: boolean }

/** What happened to a request. */
export type TxOutcome =
  /** An attempt (the request, or a cancellation) was mined; `cancelled` when the mined one was the cancellation. */
  | { status: 'mined'; receipt: TransactionReceipt; attempt: TxAttempt; attempts: TxAttempt[]; cancelled: boolean }
  /** The nonce was used by a transaction this queue did not sign (another process holds the key). */
  | { status: 'nonceTaken'; attempts: TxAttempt[] }

/** Before a replacement, the caller says whether to keep trying (`bump`) or to cancel the transaction (`cancel`). */
export type BeforeBump = () => Promise<'bump' | 'cancel'>

/** Hooks of one send. */
export type TxSendHooks = {
  /** Called with every signed attempt before it is broadcast (persist it here). */
  onAttempt?: (attempt: TxAttempt) => Promise<void>
  beforeBump?: BeforeBump
  /** Abort waiting (the transaction stays in the pool; resume it later with {@link AccountTxQueue.resume}). */
  signal?: AbortSignal
}

/** A transaction could not be broadcast (RPC refused it for a reason other than a known replacement race). */
export class TxBroadcastError extends BaseError {
  override name = 'TxBroadcastError' as const
  constructor(label: string, cause: unknown) {
    super(`Cannot broadcast ${label}.`, { cause, metaMessages: ['Check the RPC, the account balance and its nonce.'] })
  }
}

/** Every replacement was used up and no attempt was mined. */
export class TxNotMinedError extends BaseError {
  override name = 'TxNotMinedError' as const
  readonly attempts: TxAttempt[]
  constructor(label: string, attempts: TxAttempt[]) {
    super(`${label} was not mined after ${attempts.length} attempts on nonce ${attempts[0]?.nonce}.`, {
      metaMessages: ['Raise maxBumps or maxFeePerGasCap, or check that the chain produces blocks.'],
    })
    this.attempts = attempts
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((res, rej) => {
    if (signal?.aborted) return rej(signal.reason)
    const onAbort = () => (clearTimeout(t), rej(signal!.reason))
    const t = setTimeout(() => (signal?.removeEventListener('abort', onAbort), res()), ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })

/** Replacement fees: previous × (1 + bps), at least the current market, capped. */
export function bumpFees(
  prev: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
  market: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
  bumpBps: number,
  cap?: bigint,
): { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } {
  const up = (x: bigint) => (x * BigInt(10_000 + bumpBps) + 9_999n) / 10_000n
  let maxPriorityFeePerGas = up(prev.maxPriorityFeePerGas)
  if (market.maxPriorityFeePerGas > maxPriorityFeePerGas) maxPriorityFeePerGas = market.maxPriorityFeePerGas
  let maxFeePerGas = up(prev.maxFeePerGas)
  if (market.maxFeePerGas > maxFeePerGas) maxFeePerGas = market.maxFeePerGas
  if (cap !== undefined && maxFeePerGas > cap) maxFeePerGas = cap
  if (maxPriorityFeePerGas > maxFeePerGas) maxPriorityFeePerGas = maxFeePerGas
  return { maxFeePerGas, maxPriorityFeePerGas }
}

/**
 * The transaction queue of one account on one chain. Only this queue may send from the account on the chain.
 * @example
 * const q = new AccountTxQueue({ client, account: privateKeyToAccount(key), chainId })
 * const out = await q.send({ to: hub, data, value, gas }, { onAttempt: (a) => outbox.recordAttempt(a) })
 */
export class AccountTxQueue {
  readonly account: LocalAccount
  private readonly client: PublicClient
  private readonly chainId: number
  private readonly o: Required<Omit<TxQueueOptions, 'maxFeePerGasCap'>> & { maxFeePerGasCap?: bigint }
  private readonly metrics?: SettlementMetrics
  private nextNonce = -1
  private tail: Promise<unknown> = Promise.resolve()

  constructor(init: { client: PublicClient; account: LocalAccount; chainId: number; options?: TxQueueOptions; metrics?: SettlementMetrics }) {
    this.client = init.client
    this.account = init.account
    this.chainId = init.chainId
    this.metrics = init.metrics
    this.o = { ...defaultTxQueueOptions, ...init.options }
  }

  /**
   * Sends `req` once every earlier request of the queue is done: takes the next nonce, signs, hands the attempt to
   * `onAttempt`, broadcasts, and waits for a receipt, replacing the attempt on the same nonce when it waits too long.
   * @throws TxBroadcastError, TxNotMinedError, the signal's reason when aborted (the attempt may still be mined).
   */
  send(req: TxRequest, hooks: TxSendHooks = {}): Promise<TxOutcome> {
    return this.enqueue(async () => {
      const nonce = await this.takeNonce()
      const fees = await this.marketFees()
      const first = await this.sign(req, nonce, fees, false)
      await hooks.onAttempt?.(first)
      try {
        await this.broadcast(first, req.label ?? 'transaction')
      } catch (err) {
        this.nextNonce = -1
        throw err
      }
      this.metrics?.txSent.inc()
      return this.follow(req, [first], hooks)
    })
  }

  /**
   * Continues a request whose attempts were recorded before a restart: rebroadcasts the newest (harmless if known),
   * then follows it as {@link send} does.
   */
  resume(req: TxRequest, attempts: readonly TxAttempt[], hooks: TxSendHooks = {}): Promise<TxOutcome> {
    return this.enqueue(async () => {
      const list = [...attempts]
      const last = list[list.length - 1]!
      if (this.nextNonce <= last.nonce) this.nextNonce = last.nonce + 1
      const mined = await this.findMined(list)
      if (mined) return mined
      try {
        await this.broadcast(last, req.label ?? 'transaction')
      } catch {
        // nonce used meanwhile, or the pool dropped it: follow() sorts it out
      }
      return this.follow(req, list, hooks)
    })
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn)
    this.tail = run.catch(() => undefined)
    return run
  }

  private async takeNonce(): Promise<number> {
    const pending = await this.client.getTransactionCount({ address: this.account.address, blockTag: 'pending' })
    const nonce = Math.max(pending, this.nextNonce)
    this.nextNonce = nonce + 1
    return nonce
  }

  private async marketFees(): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
    const block = await this.client.getBlock({ blockTag: 'latest' })
    const base = block.baseFeePerGas ?? 1_000_000_000n
    let tip: bigint
    try {
      tip = await this.client.estimateMaxPriorityFeePerGas()
    } catch {
      tip = 1_000_000_000n
    }
    if (tip <= 0n) tip = 1n
    let maxFeePerGas = base * 2n + tip
    if (this.o.maxFeePerGasCap !== undefined && maxFeePerGas > this.o.maxFeePerGasCap) maxFeePerGas = this.o.maxFeePerGasCap
    return { maxFeePerGas, maxPriorityFeePerGas: tip > maxFeePerGas ? maxFeePerGas : tip }
  }

  private async sign(req: TxRequest, nonce: number, fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }, cancel: boolean): Promise<TxAttempt> {
    const raw = await this.account.signTransaction(
      cancel
        ? { type: 'eip1559', chainId: this.chainId, nonce, to: this.account.address, value: 0n, gas: 21_000n, ...fees }
        : { type: 'eip1559', chainId: this.chainId, nonce, to: req.to, data: req.data, value: req.value ?? 0n, gas: req.gas, ...fees },
    )
    return { nonce, hash: keccak256(raw), raw, ...fees, sentAt: Date.now(), cancel }
  }

  private async broadcast(a: TxAttempt, label: string): Promise<void> {
    try {
      await this.client.request({ method: 'eth_sendRawTransaction', params: [a.raw] })
    } catch (err) {
      const msg = String((err as { details?: string })?.details ?? (err as Error)?.message ?? err)
      if (/already known|already imported|known transaction/i.test(msg)) return
      this.metrics?.rpcErrors.inc({ op: 'broadcast' })
      throw new TxBroadcastError(label, err)
    }
  }

  /** The receipt of whichever attempt was mined, if one was. */
  private async findMined(attempts: readonly TxAttempt[]): Promise<TxOutcome | undefined> {
    for (const a of [...attempts].reverse()) {
      let receipt: TransactionReceipt | undefined
      try {
        receipt = await this.client.getTransactionReceipt({ hash: a.hash })
      } catch {
        receipt = undefined // not mined (viem throws TransactionReceiptNotFoundError)
      }
      if (receipt) return { status: 'mined', receipt, attempt: a, attempts: [...attempts], cancelled: a.cancel }
    }
    return undefined
  }

  /** Waits for one of the attempts to be mined, replacing the newest when it waits too long. */
  private async follow(req: TxRequest, attempts: TxAttempt[], hooks: TxSendHooks): Promise<TxOutcome> {
    const label = req.label ?? 'transaction'
    const nonce = attempts[0]!.nonce
    let lastSentAt = Date.now()
    let cancelling = attempts.some((a) => a.cancel)
    for (;;) {
      hooks.signal?.throwIfAborted()
      const mined = await this.findMined(attempts)
      if (mined) return mined
      // The nonce is used, yet none of ours was mined: another signer used it.
      const latest = await this.client.getTransactionCount({ address: this.account.address, blockTag: 'latest' })
      if (latest > nonce) {
        const again = await this.findMined(attempts) // mined between the two reads
        if (again) return again
        return { status: 'nonceTaken', attempts }
      }
      if (Date.now() - lastSentAt >= this.o.bumpAfterMs) {
        if (attempts.length > this.o.maxBumps) throw new TxNotMinedError(label, attempts)
        if (!cancelling && hooks.beforeBump && (await hooks.beforeBump()) === 'cancel') cancelling = true
        const prev = attempts[attempts.length - 1]!
        const fees = bumpFees(prev, await this.marketFees(), this.o.bumpBps, this.o.maxFeePerGasCap)
        const next = await this.sign(req, nonce, fees, cancelling)
        await hooks.onAttempt?.(next)
        try {
          await this.broadcast(next, `${label} (replacement ${attempts.length})`)
          this.metrics?.feeBumps.inc({ kind: cancelling ? 'cancel' : 'bump' })
          attempts.push(next)
        } catch (err) {
          // Refused (e.g. the previous attempt was mined meanwhile): the next loop finds out.
          if (!(await this.findMined(attempts))) {
            const latestNow = await this.client.getTransactionCount({ address: this.account.address, blockTag: 'latest' })
            if (latestNow <= nonce) throw err
          }
        }
        lastSentAt = Date.now()
      }
      await sleep(this.o.receiptPollMs, hooks.signal)
    }
  }
}
