import {
  encodeDeployData,
  encodeFunctionData,
  getContractAddress,
  numberToHex,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type WalletClient,
} from 'viem'
import { getArtifact, linkBytecode } from '../../../contracts/artifacts.js'
import { BaseError } from '../../../protocol/errors.js'
import { aaveErrorName, ContractRevertError, decodeRevert, findRevertData, isRevert } from '../../evm/errors.js'

/** What every deploy step needs: a public client to read receipts, a wallet client and the account that signs. */
export type DeployContext = { client: PublicClient; wallet: WalletClient; account: Account }

/** Parameters of {@link send}: one contract call, sent as a transaction. */
export type SendParameters = {
  address: Address
  abi: Abi
  functionName: string
  args?: readonly unknown[]
  /** wei sent with the call. */
  value?: bigint
  /** Gas limit; estimated by the node when absent. */
  gas?: bigint
}

/** Thrown when a transaction fails for a reason other than a revert (RPC down, nonce, funds...). */
export class TransactionFailedError extends BaseError {
  override name = 'TransactionFailedError'
  constructor(target: string, cause: unknown) {
    super(`Transaction to ${target} failed.`, {
      cause,
      metaMessages: ['Check that the node is up, the account is funded and the nonce is not stale.'],
    })
  }
}

/** Revert data decoded with `abi`; Aave's numeric `Error("NN")` reasons are named from its Errors.sol. */
function revertOf(data: Hex | undefined, abi: Abi, target: string, extra: { transactionHash?: Hex; cause?: unknown } = {}): ContractRevertError {
  return decodeRevert(data, abi, { target, nameReason: aaveErrorName, ...extra })
}

function chainOf(ctx: DeployContext): Chain | null {
  return ctx.wallet.chain ?? ctx.client.chain ?? null
}

/**
 * Throws the error for a failed transaction: a ContractRevertError when the EVM reverted (`err` says so,
 * or `err` is undefined because the mined receipt has status 'reverted'), decoding the revert data found in
 * `err` or, failing that, in a replay with eth_call; otherwise a TransactionFailedError.
 */
async function failure(target: string, abi: Abi, err: unknown, replay: () => Promise<unknown>): Promise<never> {
  let data = err === undefined ? undefined : findRevertData(err)
  if (err !== undefined && data === undefined && !isRevert(err)) throw new TransactionFailedError(target, err)
  if (data === undefined) {
    try {
      await replay()
    } catch (replayErr) {
      data = findRevertData(replayErr)
    }
  }
  throw revertOf(data, abi, target, { cause: err })
}

/**
 * Deploys the artifact `name` (see {@link getArtifact}) with constructor `args`, linking `libraries`
 * (library name → address), and waits for the receipt.
 *
 * @returns the new contract's address.
 * @throws ArtifactNotFoundError / UnlinkedLibraryError (contracts/artifacts.ts),
 *         ContractRevertError when the constructor reverts (decoded with the artifact's ABI),
 *         TransactionFailedError for any other failure.
 * @example const morpho = await deploy(ctx, 'Morpho', [owner])
 */
export async function deploy(
  ctx: DeployContext,
  name: string,
  args: readonly unknown[] = [],
  libraries: Record<string, Address> = {},
): Promise<Address> {
  const artifact = getArtifact(name)
  const bytecode = linkBytecode(artifact, libraries)
  const target = `deploy ${name}`
  // Some nodes return no revert data for a failed creation; replaying it with eth_call does.
  const replay = (blockNumber?: bigint) => () =>
    ctx.client.call({
      account: ctx.account.address,
      data: encodeDeployData({ abi: artifact.abi, bytecode, args: args as unknown[] }),
      ...(blockNumber === undefined ? {} : { blockNumber }),
    })
  let hash: Hex
  try {
    hash = await ctx.wallet.deployContract({
      abi: artifact.abi,
      bytecode,
      args: args as unknown[],
      account: ctx.account,
      chain: chainOf(ctx),
    })
  } catch (err) {
    return failure(target, artifact.abi, err, replay())
  }
  const receipt = await ctx.client.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success' || !receipt.contractAddress) {
    return failure(target, artifact.abi, undefined, replay(receipt.blockNumber - 1n))
  }
  return receipt.contractAddress
}

/** Gas margin of {@link send} over the estimate: estimate / 4 (25%) + 20,000. */
export const SEND_GAS_MARGIN_DIVISOR = 4n
export const SEND_GAS_MARGIN_FIXED = 20_000n

/**
 * Sends one contract call as a transaction from `ctx.account` and waits for its receipt. Without `gas`,
 * the limit is the estimate plus a margin ({@link SEND_GAS_MARGIN_DIVISOR}, {@link SEND_GAS_MARGIN_FIXED}).
 *
 * @returns the receipt (status 'success').
 * @throws ContractRevertError carrying the decoded custom error (`errorName`, `args`) when the call
 *         reverts, in gas estimation or on-chain (then replayed with eth_call at that block to read the reason);
 *         TransactionFailedError for any other failure.
 * @example await send(ctx, { address: morpho, abi: morphoAbi, functionName: 'enableLltv', args: [860000000000000000n] })
 */
export async function send(ctx: DeployContext, params: SendParameters): Promise<TransactionReceipt> {
  const { address, abi, functionName, args = [], value, gas } = params
  const target = `${functionName} on ${address}`
  const replay = (blockNumber?: bigint) => () =>
    ctx.client.simulateContract({
      address,
      abi,
      functionName,
      args: args as unknown[],
      value,
      account: ctx.account,
      ...(blockNumber === undefined ? {} : { blockNumber }),
    } as Parameters<PublicClient['simulateContract']>[0])
  let hash: Hex
  try {
    // Estimates are exact for the state they ran on; a write whose gas depends on block.timestamp or on
    // transactions mined in between can need more, so the limit carries a margin.
    const gasLimit =
      gas ??
      (await ctx.client
        .estimateContractGas({ address, abi, functionName, args: args as unknown[], value, account: ctx.account } as Parameters<PublicClient['estimateContractGas']>[0])
        .then((estimate) => estimate + estimate / SEND_GAS_MARGIN_DIVISOR + SEND_GAS_MARGIN_FIXED))
    hash = await ctx.wallet.writeContract({
      address,
      abi,
      functionName,
      args: args as unknown[],
      value,
      gas: gasLimit,
      account: ctx.account,
      chain: chainOf(ctx),
    } as Parameters<WalletClient['writeContract']>[0])
  } catch (err) {
    return failure(target, abi, err, replay())
  }
  const receipt = await ctx.client.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') {
    // Replayed on the state before the transaction's block (exact when it was alone in its block, as with automine).
    return failure(target, abi, undefined, replay(receipt.blockNumber - 1n))
  }
  return receipt
}

/** Gas limit of a pipelined contract creation when none is given. */
export const PIPELINE_DEPLOY_GAS = 15_000_000n
/** Gas limit of a pipelined call when none is given. */
export const PIPELINE_CALL_GAS = 3_000_000n

/** What a {@link TxPipeline} needs: a client and the sending account (local, or held by the node: `{ address, type: 'json-rpc' }`). */
export type PipelineContext = Pick<DeployContext, 'client' | 'account'>

type Queued = { label: string; abi: Abi; to?: Address; data: Hex; value?: bigint; gas: bigint; hash: Promise<Hex> }

/**
 * Sends a sequence of transactions from `ctx.account` without waiting for each receipt: nonces are counted
 * locally, gas limits are fixed (no estimation) and contract addresses are predicted from the nonce, so a
 * whole deployment goes out at one RPC round trip per transaction. Transactions leave in nonce order, one
 * after the other; with automine each is mined (alone in its block) on arrival and sees every earlier one.
 * With automine off, await {@link TxPipeline.sent}, mine (`evm_mine`), then flush: several pipelines (one per
 * account) can share one block that way. `flush()` reads every receipt and, if one reverted, decodes the
 * first such error from a call trace of the transaction (`debug_traceTransaction`), or failing that from a
 * replay with eth_call on the state before its block.
 *
 * Works with local accounts (signed in Node, `eth_sendRawTransaction`) and with accounts the node holds
 * (JSON-RPC accounts, dev or impersonated: `eth_sendTransaction`). Only this pipeline may send from the
 * account meanwhile.
 *
 * @example
 * const tx = await new TxPipeline(ctx).init()
 * const token = tx.deploy('DevnetERC20', ['USD Coin', 'USDC', 6])
 * tx.call({ address: token, abi: devnetERC20Abi, functionName: 'mint', args: [me, 1n] })
 * await tx.flush()
 */
export class TxPipeline {
  private nonce = -1
  private chainId = 0
  private maxFeePerGas = 0n
  private queue: Queued[] = []
  private tail: Promise<unknown> = Promise.resolve()
  private broken = false

  constructor(readonly ctx: PipelineContext) {}

  /** Reads the account's pending nonce, the fee level and, for a local account, the chain id (once). */
  async init(): Promise<this> {
    const { client, account } = this.ctx
    const [nonce, block, chainId] = await Promise.all([
      client.getTransactionCount({ address: account.address, blockTag: 'pending' }),
      client.getBlock({ blockTag: 'latest' }),
      account.type === 'local' ? client.getChainId() : 0,
    ])
    this.nonce = nonce
    this.chainId = chainId
    // Generous cap: base fee may rise while blocks fill; unused fee is not charged.
    this.maxFeePerGas = (block.baseFeePerGas ?? 1_000_000_000n) * 4n + 1_000_000_000n
    return this
  }

  /** Number of transactions queued since the last flush. */
  get queued(): number {
    return this.queue.length
  }

  /**
   * Queues the creation of artifact `name` (libraries linked) and returns the address it will have.
   * @throws ArtifactNotFoundError / UnlinkedLibraryError at once.
   */
  deploy(
    name: string,
    args: readonly unknown[] = [],
    opts: { libraries?: Record<string, Address>; gas?: bigint; label?: string } = {},
  ): Address {
    const artifact = getArtifact(name)
    const data = encodeDeployData({ abi: artifact.abi, bytecode: linkBytecode(artifact, opts.libraries ?? {}), args: args as unknown[] })
    const address = getContractAddress({ from: this.ctx.account.address, nonce: BigInt(this.requireNonce()) })
    this.enqueue({ label: opts.label ?? `deploy ${name}`, abi: artifact.abi, data, gas: opts.gas ?? PIPELINE_DEPLOY_GAS })
    return address
  }

  /** Queues a contract call. `label` names it in errors (default: `<functionName> on <address>`). */
  call(params: SendParameters & { label?: string }): void {
    const data = encodeFunctionData({
      abi: params.abi,
      functionName: params.functionName,
      args: (params.args ?? []) as unknown[],
    } as Parameters<typeof encodeFunctionData>[0])
    this.enqueue({
      label: params.label ?? `${params.functionName} on ${params.address}`,
      abi: params.abi,
      to: params.address,
      data,
      value: params.value,
      gas: params.gas ?? PIPELINE_CALL_GAS,
    })
  }

  /** Resolves once the node accepted (or refused) every queued transaction; with automine off they wait in its pool. */
  async sent(): Promise<void> {
    await this.tail
  }

  /**
   * Waits until every queued transaction is sent and mined; returns the receipts in queue order.
   * @throws ContractRevertError naming the first transaction that reverted (`target` = its label), with its
   *         decoded error; TransactionFailedError when one could not be sent (the later ones are then not sent).
   */
  async flush(): Promise<TransactionReceipt[]> {
    const queue = this.queue
    this.queue = []
    await this.tail
    this.broken = false
    const hashes: Hex[] = []
    for (const q of queue) {
      try {
        hashes.push(await q.hash)
      } catch (err) {
        this.nonce = -1 // nonces after the failed one were counted but not used: init() again before reuse
        throw new TransactionFailedError(q.label, err)
      }
    }
    if (hashes.length === 0) return []
    const { client } = this.ctx
    // One sender: once its last transaction is mined, all earlier ones are.
    await client.waitForTransactionReceipt({ hash: hashes[hashes.length - 1]! })
    const receipts = await Promise.all(hashes.map((hash) => client.getTransactionReceipt({ hash })))
    const bad = receipts.findIndex((r) => r.status !== 'success')
    if (bad >= 0) throw await this.revertOf(queue[bad]!, receipts[bad]!)
    return receipts
  }

  /** The decoded error of a reverted transaction: from its call trace, else replayed on the state before its block. */
  private async revertOf(q: Queued, receipt: TransactionReceipt): Promise<ContractRevertError> {
    const { client, account } = this.ctx
    let data: Hex | undefined
    try {
      const trace = await (client.request as (a: { method: string; params: unknown[] }) => Promise<{ output?: Hex }>)({
        method: 'debug_traceTransaction',
        params: [receipt.transactionHash, { tracer: 'callTracer' }],
      })
      if (trace?.output && trace.output.length >= 10) data = trace.output
    } catch {
      // no tracer on this node: replay below
    }
    if (data === undefined) {
      try {
        await client.call({
          account: account.address,
          ...(q.to ? { to: q.to } : {}),
          data: q.data,
          value: q.value,
          gas: q.gas,
          blockNumber: receipt.blockNumber - 1n,
        })
      } catch (err) {
        data = findRevertData(err)
      }
    }
    return revertOf(data, q.abi, q.label, { transactionHash: receipt.transactionHash })
  }

  private requireNonce(): number {
    if (this.nonce < 0) throw new Error('TxPipeline.init() was not awaited')
    return this.nonce
  }

  private enqueue(tx: Omit<Queued, 'hash'>): void {
    const nonce = this.requireNonce()
    this.nonce = nonce + 1
    const { account, client } = this.ctx
    const fees = { maxFeePerGas: this.maxFeePerGas, maxPriorityFeePerGas: 1n }
    const send = async (): Promise<Hex> => {
      if (this.broken) throw new Error('not sent: an earlier transaction of the pipeline could not be sent')
      try {
        return await sendOnce()
      } catch (err) {
        this.broken = true
        throw err
      }
    }
    const sendOnce = async (): Promise<Hex> => {
      if (account.type === 'local') {
        const signed = await account.signTransaction({
          type: 'eip1559',
          chainId: this.chainId,
          nonce,
          gas: tx.gas,
          ...fees,
          ...(tx.to ? { to: tx.to } : {}),
          data: tx.data,
          value: tx.value ?? 0n,
        })
        return client.request({ method: 'eth_sendRawTransaction', params: [signed] })
      }
      return client.request({
        method: 'eth_sendTransaction',
        params: [
          {
            from: account.address,
            ...(tx.to ? { to: tx.to } : {}),
            data: tx.data,
            ...(tx.value ? { value: numberToHex(tx.value) } : {}),
            nonce: numberToHex(nonce),
            gas: numberToHex(tx.gas),
            maxFeePerGas: numberToHex(fees.maxFeePerGas),
            maxPriorityFeePerGas: numberToHex(fees.maxPriorityFeePerGas),
          },
        ],
      } as never) as Promise<Hex>
    }
    // Arrival order = nonce order: each send starts once the previous one was accepted.
    const hash = this.tail.then(send)
    this.tail = hash.catch(() => undefined)
    hash.catch(() => undefined) // reported by flush()
    this.queue.push({ ...tx, hash })
  }
}
