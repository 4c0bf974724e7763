import {
  encodeDeployData,
  encodeFunctionData,
  getContractAddress,
  numberToHex,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from 'viem'
import { getArtifact, linkBytecode } from '../../contracts/artifacts.js'
import { BaseError } from '../../protocol/errors.js'
import { decodeRevert, findRevertData } from './deploy/common.js'

/**
 * Pipelined transaction sender for devnet set-up: the node holds the
 * account's key (an anvil dev account, or one impersonated with
 * `anvil_impersonateAccount`), so transactions go out with
 * `eth_sendTransaction` carrying an explicit nonce and gas limit: no
 * estimation, no signing in Node, no wait between transactions. Receipts are
 * read once, in `flush()`, and a failed one is replayed with `eth_call` on the
 * state just before it to decode the revert.
 *
 * With automine each transaction is mined in its own block as it arrives, so
 * a transaction sees every earlier one; with automine off, `flush({ mine: true })`
 * mines everything pending in one block (nonce order per sender).
 */

/** Gas limit for a contract creation when none is given. */
export const DEPLOY_GAS = 15_000_000n
/** Gas limit for a call when none is given. */
export const CALL_GAS = 3_000_000n
/** maxFeePerGas of set-up transactions (anvil's base fee starts at 1 gwei and falls on empty blocks). */
const MAX_FEE_PER_GAS = 50_000_000_000n

/** A set-up transaction failed; `errorName`/`args` carry the decoded revert when there is one. */
export class DevnetTransactionError extends BaseError {
  override name = 'DevnetTransactionError'
  readonly label: string
  readonly errorName?: string
  readonly args?: readonly unknown[]
  constructor(label: string, params: { description?: string; errorName?: string; args?: readonly unknown[]; cause?: unknown; details?: string }) {
    super(`Devnet set-up transaction "${label}" failed${params.description ? `: ${params.description}` : ''}.`, {
      cause: params.cause,
      details: params.details,
      metaMessages: ['Check the scenario (amounts, prices, LLTVs) and that `npm run build:contracts` is up to date.'],
    })
    this.label = label
    this.errorName = params.errorName
    this.args = params.args
  }
}

type Pending = {
  label: string
  hash: Promise<Hex>
  request: { from: Address; to?: Address; data: Hex; value?: Hex }
  abi: Abi
}

export type SendCallParameters = {
  address: Address
  abi: Abi
  functionName: string
  args?: readonly unknown[]
  value?: bigint
  gas?: bigint
  /** Shown in errors; defaults to `functionName`. */
  label?: string
}

export class Sender {
  readonly from: Address
  private nonce: number | undefined
  private pending: Pending[] = []
  private tail: Promise<unknown> = Promise.resolve()

  constructor(
    readonly client: PublicClient,
    from: Address,
  ) {
    this.from = from
  }

  /** Reads the account's next nonce (once; later sends count locally). */
  async init(): Promise<this> {
    if (this.nonce === undefined) this.nonce = await this.client.getTransactionCount({ address: this.from, blockTag: 'pending' })
    return this
  }

  /** Address the next contract creation of this sender will get. */
  nextAddress(): Address {
    return getContractAddress({ from: this.from, nonce: BigInt(this.requireNonce()) })
  }

  private requireNonce(): number {
    if (this.nonce === undefined) throw new Error('Sender.init() was not awaited')
    return this.nonce
  }

  private enqueue(label: string, abi: Abi, tx: { to?: Address; data: Hex; value?: bigint; gas: bigint }): void {
    const nonce = this.requireNonce()
    this.nonce = nonce + 1
    const request = {
      from: this.from,
      ...(tx.to ? { to: tx.to } : {}),
      data: tx.data,
      ...(tx.value ? { value: numberToHex(tx.value) } : {}),
    }
    const body = {
      ...request,
      nonce: numberToHex(nonce),
      gas: numberToHex(tx.gas),
      maxFeePerGas: numberToHex(MAX_FEE_PER_GAS),
      maxPriorityFeePerGas: '0x1',
    }
    // Keep arrival order = nonce order: each send starts when the previous one was accepted.
    const hash = this.tail.then(() => (this.client.request as (a: { method: string; params: unknown[] }) => Promise<Hex>)({ method: 'eth_sendTransaction', params: [body] }))
    this.tail = hash.catch(() => undefined)
    this.pending.push({ label, hash, request, abi })
  }

  /**
   * Queues the creation of artifact `name` and returns the address it will have.
   * @throws ArtifactNotFoundError / UnlinkedLibraryError
   */
  deploy(name: string, args: readonly unknown[] = [], opts: { libraries?: Record<string, Address>; gas?: bigint; label?: string } = {}): Address {
    const artifact = getArtifact(name)
    const bytecode = linkBytecode(artifact, opts.libraries ?? {})
    const data = encodeDeployData({ abi: artifact.abi, bytecode, args: args as unknown[] })
    const address = this.nextAddress()
    this.enqueue(opts.label ?? `deploy ${name}`, artifact.abi, { data, gas: opts.gas ?? DEPLOY_GAS })
    return address
  }

  /** Queues a contract call. */
  call(p: SendCallParameters): void {
    const data = encodeFunctionData({ abi: p.abi, functionName: p.functionName, args: (p.args ?? []) as unknown[] } as Parameters<typeof encodeFunctionData>[0])
    this.enqueue(p.label ?? p.functionName, p.abi, { to: p.address, data, value: p.value, gas: p.gas ?? CALL_GAS })
  }

  /** Resolves once the node accepted every queued transaction (with automine off: in its pool, not mined). */
  async sent(): Promise<void> {
    await Promise.allSettled(this.pending.map((p) => p.hash))
  }

  /** Number of queued, not yet flushed transactions. */
  get queued(): number {
    return this.pending.length
  }

  /**
   * Waits for every queued transaction's receipt (mining one block first when
   * `mine`), in order, and checks its status.
   *
   * @throws DevnetTransactionError on the first failure (decoded revert when possible).
   */
  async flush(opts: { mine?: boolean } = {}): Promise<TransactionReceipt[]> {
    const pending = this.pending
    this.pending = []
    const hashes: Hex[] = []
    for (const p of pending) {
      try {
        hashes.push(await p.hash)
      } catch (err) {
        // Drain the rest so no rejection is left unhandled.
        await Promise.allSettled(pending.map((q) => q.hash))
        throw new DevnetTransactionError(p.label, { cause: err })
      }
    }
    if (opts.mine) await (this.client.request as (a: { method: string; params: unknown[] }) => Promise<unknown>)({ method: 'evm_mine', params: [] })
    // Mined already in most cases (automine, or `mine`): read the receipts directly (batched by the transport), wait for the rest.
    const receipts = await Promise.all(
      hashes.map(async (hash) => {
        const r = await this.client.getTransactionReceipt({ hash }).catch(() => undefined)
        return r ?? this.client.waitForTransactionReceipt({ hash, pollingInterval: 20 })
      }),
    )
    for (let i = 0; i < receipts.length; i++) {
      const r = receipts[i]
      if (r.status === 'success') continue
      const p = pending[i]
      let data: Hex | undefined
      // The revert data: from a call trace of the transaction itself, else replayed on the previous block.
      try {
        const trace = await (this.client.request as (a: { method: string; params: unknown[] }) => Promise<{ output?: Hex }>)({
          method: 'debug_traceTransaction',
          params: [r.transactionHash, { tracer: 'callTracer' }],
        })
        if (trace?.output && trace.output.length >= 10) data = trace.output
      } catch {
        // no tracer: replay below
      }
      if (!data) {
        try {
          await this.client.call({ account: p.request.from, to: p.request.to, data: p.request.data, blockNumber: r.blockNumber - 1n, gas: r.gasUsed + 1_000_000n })
        } catch (err) {
          data = findRevertData(err)
        }
      }
      const decoded = decodeRevert(data, p.abi)
      throw new DevnetTransactionError(p.label, {
        description: decoded.description,
        errorName: decoded.errorName,
        args: decoded.args,
        details: `tx ${r.transactionHash} in block ${r.blockNumber}, gas used ${r.gasUsed}`,
      })
    }
    return receipts
  }
}
