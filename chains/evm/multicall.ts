import {
  type Abi,
  type Address,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type ContractFunctionReturnType,
  decodeFunctionResult,
  encodeFunctionData,
  type Hex,
  numberToHex,
} from 'viem'
import type { BaseError } from '../../protocol/errors.js'
import type { ChainClient } from './client.js'
import { ChainReadError, decodeRevert, isRevert, toChainError } from './errors.js'

/** One call of a batch: `callData` sent to `target`. */
export type Call = {
  target: Address
  callData: Hex
  /** Estimated gas of this call inside Multicall3; falls back to `MulticallOptions.gasPerCall`. */
  gas?: bigint
}

/** The raw outcome of one call: `returnData` is the return value, or the revert data when `success` is false. */
export type CallResult = { success: boolean; returnData: Hex }

/** Options of {@link multicall}. Defaults in {@link defaultMulticallOptions}. */
export type MulticallOptions = {
  /** Block to read at; default the latest. */
  blockNumber?: bigint
  /** Multicall3 address. @default client.liqnet.multicallAddress */
  multicallAddress?: Address
  /**
   * Gas budget of one eth_call (the sum of its calls' estimates). Nodes cap eth_call gas
   * (geth `--rpc.gascap` 50M, anvil the block gas limit 30M); stay well under.
   * @default 20_000_000n
   */
  gasCap?: bigint
  /** Gas estimate of a call that has no `gas` of its own. @default 30_000n */
  gasPerCall?: bigint
  /** Most calls in one eth_call, whatever their gas (bounds request and response size). @default 4_000 */
  maxCallsPerChunk?: number
  /** eth_calls in flight at once. @default 4 */
  concurrency?: number
  signal?: AbortSignal
}

export const defaultMulticallOptions = {
  gasCap: 20_000_000n,
  gasPerCall: 30_000n,
  maxCallsPerChunk: 4_000,
  concurrency: 4,
} as const

/** Fixed gas of the Multicall3 frame itself (intrinsic + calldata + loop), added once per chunk. */
const CHUNK_BASE_GAS = 60_000n

const AGGREGATE3_SELECTOR = '82ad56cb'
const ZERO_WORD = '0'.repeat(64)
const ONE_WORD = '0'.repeat(63) + '1'
const OFFSET_0x60 = '0'.repeat(62) + '60'

/** A uint256 as 64 lowercase hex digits (no 0x). */
function word(n: number): string {
  return n.toString(16).padStart(64, '0')
}

/**
 * ABI-encodes `aggregate3((address target, bool allowFailure, bytes callData)[])`,
 * every call with allowFailure = true. Hand-written: viem's generic encoder
 * costs more than the eth_call itself for thousands of calls.
 */
export function encodeAggregate3(calls: readonly Call[]): Hex {
  const n = calls.length
  const parts: string[] = new Array(3 + n * 2)
  parts[0] = '0x' + AGGREGATE3_SELECTOR + word(32) + word(n)
  // Offsets of each tuple, relative to the start of the offsets block.
  let offset = n * 32
  const offsets: string[] = new Array(n)
  const bodies: string[] = new Array(n)
  for (let i = 0; i < n; i++) {
    const c = calls[i]
    const data = c.callData.slice(2)
    const len = data.length / 2
    const padded = Math.ceil(len / 32) * 32
    offsets[i] = word(offset)
    bodies[i] =
      c.target.slice(2).toLowerCase().padStart(64, '0') +
      ONE_WORD +
      OFFSET_0x60 +
      word(len) +
      data +
      '0'.repeat((padded - len) * 2)
    offset += 128 + padded
  }
  return (parts[0] + offsets.join('') + bodies.join('')) as Hex
}

/**
 * Decodes aggregate3's `(bool success, bytes returnData)[]` straight off the hex string.
 * `onResult(i, success, hex, start, end)` receives hex-character bounds of call i's
 * return data inside `hex`, so hot paths can parse words without slicing copies.
 *
 * @throws ChainReadError if the data is not a well-formed Result[] of `expected` entries.
 */
export function decodeAggregate3(
  hex: string,
  expected: number,
  onResult: (i: number, success: boolean, hex: string, start: number, end: number) => void,
): void {
  const readNum = (byteOffset: number): number => {
    const at = 2 + byteOffset * 2
    if (at + 64 > hex.length) throw new ChainReadError('Multicall3 answer is truncated.')
    // Offsets and lengths fit in 48 bits; parse only the low 12 hex digits (the rest must be 0).
    return parseInt(hex.slice(at + 52, at + 64), 16)
  }
  const arrayStart = readNum(0)
  const n = readNum(arrayStart)
  if (n !== expected)
    throw new ChainReadError(`Multicall3 returned ${n} results for ${expected} calls.`)
  const base = arrayStart + 32
  for (let i = 0; i < n; i++) {
    const tuple = base + readNum(base + i * 32)
    const success = hex.charCodeAt(2 + (tuple + 31) * 2 + 1) === 49 /* '1' */
    const dataAt = tuple + readNum(tuple + 32)
    const len = readNum(dataAt)
    const start = 2 + (dataAt + 32) * 2
    const end = start + len * 2
    if (end > hex.length) throw new ChainReadError('Multicall3 answer is truncated.')
    onResult(i, success, hex, start, end)
  }
}

/** Parses `count` 32-byte words of `hex` from hex-character index `start` as uint256 bigints. */
export function readWords(hex: string, start: number, count: number): bigint[] {
  const out = new Array<bigint>(count)
  for (let k = 0; k < count; k++) out[k] = BigInt('0x' + hex.slice(start + k * 64, start + (k + 1) * 64))
  return out
}

/** Splits calls into chunks whose summed gas estimate stays under `gasCap` and whose size under `maxCalls`. */
export function chunkCalls(
  calls: readonly Call[],
  gasCap: bigint,
  gasPerCall: bigint,
  maxCalls: number,
): { start: number; end: number }[] {
  const chunks: { start: number; end: number }[] = []
  let start = 0
  let gas = CHUNK_BASE_GAS
  for (let i = 0; i < calls.length; i++) {
    const g = calls[i].gas ?? gasPerCall
    if (i > start && (gas + g > gasCap || i - start >= maxCalls)) {
      chunks.push({ start, end: i })
      start = i
      gas = CHUNK_BASE_GAS
    }
    gas += g
  }
  if (start < calls.length) chunks.push({ start, end: calls.length })
  return chunks
}

/** Runs `fn` over `items` with at most `limit` promises in flight; rejects on the first failure. */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  let failed = false
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++
      try {
        out[i] = await fn(items[i], i)
      } catch (err) {
        failed = true
        throw err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker))
  return out
}

function blockTag(blockNumber: bigint | undefined): string {
  return blockNumber === undefined ? 'latest' : numberToHex(blockNumber)
}

/** True if an eth_call failed because the batch was too big for the node (gas cap, out of gas, size). */
function isTooBig(err: unknown): boolean {
  let e: unknown = err
  for (let d = 0; e && d < 16; d++) {
    const msg = String((e as { message?: unknown }).message ?? '') + String((e as { details?: unknown }).details ?? '')
    if (/out of gas|gas limit|gas cap|exceeds|too large|too big|response size|413|OutOfGas/i.test(msg)) return true
    e = (e as { cause?: unknown }).cause
  }
  return false
}

/**
 * Runs one eth_call of aggregate3 over `calls[start:end]` and feeds each result to `onResult`;
 * halves the range and retries when the node refuses it as too big.
 */
async function runChunk(
  client: ChainClient,
  calls: readonly Call[],
  start: number,
  end: number,
  address: Address,
  tag: string,
  onResult: (i: number, success: boolean, hex: string, s: number, e: number) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  signal?.throwIfAborted()
  const data = encodeAggregate3(calls.slice(start, end))
  let answer: string
  try {
    answer = (await client.request({ method: 'eth_call', params: [{ to: address, data }, tag] as never })) as string
  } catch (err) {
    if (end - start > 1 && (isTooBig(err) || isRevert(err))) {
      // A revert of aggregate3 itself (allowFailure is true everywhere) means out of gas inside it.
      const mid = start + Math.floor((end - start) / 2)
      await runChunk(client, calls, start, mid, address, tag, onResult, signal)
      await runChunk(client, calls, mid, end, address, tag, onResult, signal)
      return
    }
    throw toChainError(err, { chainId: client.liqnet.chainId, what: `Multicall3 aggregate3 of ${end - start} calls` })
  }
  if (answer === '0x')
    throw new ChainReadError(`No Multicall3 contract at ${address} on chain ${client.liqnet.chainId}.`, {
      chainId: client.liqnet.chainId,
      metaMessages: ['Deploy Multicall3 there, or pass multicallAddress.'],
    })
  decodeAggregate3(answer, end - start, (i, ok, hex, s, e) => onResult(start + i, ok, hex, s, e))
}

/**
 * Low-level batched read: every call through Multicall3 `aggregate3` (allowFailure = true),
 * chunked so that each eth_call's summed gas estimate stays under `gasCap`, chunks run with
 * bounded concurrency, results decoded without copies: `onResult(i, success, hex, start, end)`
 * gets the hex-character bounds of call i's return (or revert) data inside `hex`.
 *
 * @throws RpcUnavailableError when no RPC URL answers; ChainReadError when Multicall3 is missing
 *   or answers malformed data.
 */
export async function multicallRaw(
  client: ChainClient,
  calls: readonly Call[],
  onResult: (i: number, success: boolean, hex: string, start: number, end: number) => void,
  options: MulticallOptions = {},
): Promise<void> {
  if (calls.length === 0) return
  const gasCap = options.gasCap ?? defaultMulticallOptions.gasCap
  const gasPerCall = options.gasPerCall ?? defaultMulticallOptions.gasPerCall
  const maxCalls = options.maxCallsPerChunk ?? defaultMulticallOptions.maxCallsPerChunk
  const concurrency = options.concurrency ?? defaultMulticallOptions.concurrency
  const address = options.multicallAddress ?? client.liqnet.multicallAddress
  const tag = blockTag(options.blockNumber)
  const chunks = chunkCalls(calls, gasCap, gasPerCall, maxCalls)
  await mapWithConcurrency(chunks, concurrency, ({ start, end }) =>
    runChunk(client, calls, start, end, address, tag, onResult, options.signal),
  )
}

/**
 * Batched read returning each call's `{ success, returnData }` (see {@link multicallRaw}).
 *
 * @example
 * const results = await multicall(client, [{ target: pair, callData: '0x0902f1ac' }], { blockNumber })
 */
export async function multicall(client: ChainClient, calls: readonly Call[], options: MulticallOptions = {}): Promise<CallResult[]> {
  const out = new Array<CallResult>(calls.length)
  await multicallRaw(
    client,
    calls,
    (i, success, hex, s, e) => {
      out[i] = { success, returnData: ('0x' + hex.slice(s, e)) as Hex }
    },
    options,
  )
  return out
}

/** One typed contract read for {@link readContracts}. */
export type ContractRead<
  abi extends Abi = Abi,
  functionName extends ContractFunctionName<abi, 'pure' | 'view'> = ContractFunctionName<abi, 'pure' | 'view'>,
> = {
  address: Address
  abi: abi
  functionName: functionName
  args?: ContractFunctionArgs<abi, 'pure' | 'view', functionName>
  gas?: bigint
}

/** Outcome of one typed read: the decoded result, or the call's decoded revert. */
export type ReadResult<T = unknown> = { status: 'success'; result: T } | { status: 'failure'; error: BaseError }

/**
 * Typed batched reads: encodes with the ABI, runs {@link multicall}, decodes each result with
 * viem `decodeFunctionResult` (a revert becomes a decoded ContractRevertError). Convenient for
 * tens to hundreds of reads; for thousands of fixed-size results use {@link multicallRaw} with
 * {@link readWords}, which is several times faster.
 */
export async function readContracts<const contracts extends readonly ContractRead<any, any>[]>(
  client: ChainClient,
  contracts: contracts,
  options: MulticallOptions = {},
): Promise<{ [K in keyof contracts]: ReadResult<contracts[K] extends ContractRead<infer abi, infer fn> ? ContractFunctionReturnType<abi, 'pure' | 'view', fn> : unknown> }> {
  const calls: Call[] = contracts.map((c) => ({
    target: c.address,
    callData: encodeFunctionData({ abi: c.abi, functionName: c.functionName, args: c.args } as never),
    gas: c.gas,
  }))
  const raw = await multicall(client, calls, options)
  return raw.map((r, i) => {
    const c = contracts[i]
    if (!r.success) return { status: 'failure', error: decodeRevert(r.returnData, c.abi, { address: c.address, functionName: c.functionName }) }
    try {
      return { status: 'success', result: decodeFunctionResult({ abi: c.abi, functionName: c.functionName, data: r.returnData } as never) }
    } catch (err) {
      return {
        status: 'failure',
        error: new ChainReadError(`Could not decode ${c.functionName} at ${c.address}.`, { chainId: client.liqnet.chainId, cause: err }),
      }
    }
  }) as never
}

/** Like {@link readContracts}, but throws the first failure (as a liqnet BaseError) instead of returning it. */
export async function readContractsStrict<const contracts extends readonly ContractRead<any, any>[]>(
  client: ChainClient,
  contracts: contracts,
  options: MulticallOptions = {},
): Promise<{ [K in keyof contracts]: contracts[K] extends ContractRead<infer abi, infer fn> ? ContractFunctionReturnType<abi, 'pure' | 'view', fn> : unknown }> {
  const results = await readContracts(client, contracts, options)
  return (results as readonly ReadResult[]).map((r) => {
    if (r.status === 'failure') throw r.error
    return r.result
  }) as never
}

/**
 * Measures the gas of `sample` calls inside aggregate3 with eth_estimateGas and returns a
 * per-call estimate (×1.25 margin), to size chunks with `gasPerCall`. Falls back to
 * `fallbackGas` when the node cannot estimate.
 */
export async function estimateGasPerCall(
  client: ChainClient,
  sample: readonly Call[],
  options: { blockNumber?: bigint; multicallAddress?: Address; fallbackGas?: bigint } = {},
): Promise<bigint> {
  const fallbackGas = options.fallbackGas ?? defaultMulticallOptions.gasPerCall
  if (sample.length === 0) return fallbackGas
  const to = options.multicallAddress ?? client.liqnet.multicallAddress
  const tag = blockTag(options.blockNumber)
  try {
    const [one, all] = await Promise.all(
      [sample.slice(0, 1), sample].map(
        async (s) => BigInt((await client.request({ method: 'eth_estimateGas', params: [{ to, data: encodeAggregate3(s) }, tag] as never })) as string),
      ),
    )
    const perCall = sample.length > 1 ? (all - one) / BigInt(sample.length - 1) : one
    const est = (perCall * 5n) / 4n
    return est > 0n ? est : fallbackGas
  } catch {
    return fallbackGas
  }
}
