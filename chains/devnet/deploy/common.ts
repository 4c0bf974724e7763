import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  decodeErrorResult,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type WalletClient,
} from 'viem'
import { getArtifact, linkBytecode, repoRoot } from '../../../contracts/artifacts.js'
import { BaseError } from '../../../protocol/errors.js'

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

/** A revert decoded against the contract's ABI (custom error, `Error(string)` or `Panic(uint256)`). */
export type DecodedRevert = {
  /** e.g. 'InsufficientCollateral', 'Error', 'Panic'; undefined when the data matched no known error. */
  errorName?: string
  args: readonly unknown[]
  /** Raw revert data (`0x` when the node gave none). */
  data: Hex
  /** Human reading of the reason, e.g. `Error("45") = HEALTH_FACTOR_NOT_BELOW_THRESHOLD` (Aave V3 Errors.sol). */
  description: string
}

/**
 * Thrown by {@link send} and {@link deploy} when the transaction reverts (in gas estimation or on-chain).
 * `errorName` and `args` carry the decoded custom error; read them rather than the message.
 */
export class ContractRevertError extends BaseError {
  override name = 'ContractRevertError'
  readonly errorName?: string
  readonly args: readonly unknown[]
  readonly data: Hex
  readonly target: string
  constructor(target: string, revert: DecodedRevert, cause?: unknown) {
    super(`${target} reverted: ${revert.description}`, {
      cause,
      details: revert.errorName ? undefined : `revert data ${revert.data}`,
      metaMessages: [
        revert.errorName
          ? 'The contract refused the call; check its preconditions for this error.'
          : 'The revert data matched no error in the ABI; pass the ABI of the contract that reverted.',
      ],
    })
    this.errorName = revert.errorName
    this.args = revert.args
    this.data = revert.data
    this.target = target
  }
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

let aaveErrorTable: Map<string, string> | undefined

/**
 * Aave V3 reverts with `Error("<code>")` (libraries/helpers/Errors.sol, e.g. '45' =
 * HEALTH_FACTOR_NOT_BELOW_THRESHOLD). This reads that table from the installed @aave/core-v3 sources.
 */
export function aaveErrorName(code: string): string | undefined {
  if (!aaveErrorTable) {
    aaveErrorTable = new Map()
    const path = join(repoRoot, 'node_modules/@aave/core-v3/contracts/protocol/libraries/helpers/Errors.sol')
    if (existsSync(path)) {
      for (const m of readFileSync(path, 'utf8').matchAll(/string public constant (\w+) = '(\d+)'/g)) {
        aaveErrorTable.set(m[2]!, m[1]!)
      }
    }
  }
  return aaveErrorTable.get(code)
}

function formatArg(value: unknown): string {
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'string') return JSON.stringify(value)
  try {
    return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))
  } catch {
    return String(value)
  }
}

/** Finds the revert data (`0x…`) somewhere in a viem/RPC error's cause chain. */
export function findRevertData(err: unknown): Hex | undefined {
  const seen = new Set<unknown>()
  let cur: unknown = err
  while (cur && typeof cur === 'object' && !seen.has(cur)) {
    seen.add(cur)
    const data = (cur as { data?: unknown }).data
    if (typeof data === 'string' && /^0x[0-9a-fA-F]*$/.test(data) && data.length >= 10) return data as Hex
    if (data && typeof data === 'object') {
      const inner = (data as { data?: unknown }).data
      if (typeof inner === 'string' && /^0x[0-9a-fA-F]*$/.test(inner) && inner.length >= 10) return inner as Hex
    }
    // viem's ContractFunctionRevertedError keeps the raw data under `raw`.
    const raw = (cur as { raw?: unknown }).raw
    if (typeof raw === 'string' && /^0x[0-9a-fA-F]*$/.test(raw) && raw.length >= 10) return raw as Hex
    cur = (cur as { cause?: unknown }).cause
  }
  return undefined
}

/**
 * Decodes revert data against `abi` (plus the built-in `Error(string)` and `Panic(uint256)`).
 * Aave's numeric `Error("NN")` reasons are named from Errors.sol.
 */
export function decodeRevert(data: Hex | undefined, abi: Abi): DecodedRevert {
  if (!data || data === '0x') return { args: [], data: data ?? '0x', description: 'no revert data' }
  try {
    const decoded = decodeErrorResult({ abi, data })
    const args = (decoded.args ?? []) as readonly unknown[]
    let description = `${decoded.errorName}(${args.map(formatArg).join(', ')})`
    if (decoded.errorName === 'Error' && typeof args[0] === 'string') {
      const named = /^\d+$/.test(args[0]) ? aaveErrorName(args[0]) : undefined
      if (named) description += ` = ${named}`
    }
    return { errorName: decoded.errorName, args, data, description }
  } catch {
    return { args: [], data, description: `unknown error (selector ${data.slice(0, 10)})` }
  }
}

function chainOf(ctx: DeployContext): Chain | null {
  return ctx.wallet.chain ?? ctx.client.chain ?? null
}

async function failure(ctx: DeployContext, target: string, abi: Abi, err: unknown, replay?: () => Promise<unknown>): Promise<never> {
  let data = findRevertData(err)
  if (!data && replay) {
    try {
      await replay()
    } catch (replayErr) {
      data = findRevertData(replayErr)
    }
  }
  const looksLikeRevert =
    data !== undefined ||
    (err instanceof Error && /revert|execution reverted/i.test(err.message)) ||
    err === undefined
  if (!looksLikeRevert) throw new TransactionFailedError(target, err)
  throw new ContractRevertError(target, decodeRevert(data, abi), err)
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
    return failure(ctx, target, artifact.abi, err)
  }
  const receipt = await ctx.client.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success' || !receipt.contractAddress) {
    return failure(ctx, target, artifact.abi, undefined)
  }
  return receipt.contractAddress
}

/**
 * Sends one contract call as a transaction from `ctx.account` and waits for its receipt.
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
  let hash: Hex
  try {
    hash = await ctx.wallet.writeContract({
      address,
      abi,
      functionName,
      args: args as unknown[],
      value,
      gas,
      account: ctx.account,
      chain: chainOf(ctx),
    } as Parameters<WalletClient['writeContract']>[0])
  } catch (err) {
    return failure(ctx, target, abi, err)
  }
  const receipt = await ctx.client.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') {
    return failure(ctx, target, abi, undefined, () =>
      ctx.client.simulateContract({
        address,
        abi,
        functionName,
        args: args as unknown[],
        value,
        account: ctx.account,
        blockNumber: receipt.blockNumber - 1n,
      } as Parameters<PublicClient['simulateContract']>[0]),
    )
  }
  return receipt
}
