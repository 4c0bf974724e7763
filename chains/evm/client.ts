import {
  type Address,
  type Chain,
  createPublicClient,
  defineChain,
  type EIP1193RequestFn,
  fallback,
  http,
  type PublicClient,
  type Transport,
  BaseError as ViemBaseError,
} from 'viem'
import { BaseError } from '../../protocol/errors.js'
import type { BlockRef } from '../types.js'
import { ChainReadError, InvalidRpcResponseError, isTransportFailure, redactUrl, RpcUnavailableError, toChainError } from './errors.js'

/** The canonical Multicall3 address (same on every chain it is deployed on; the devnet plants it there too). */
export const MULTICALL3_ADDRESS: Address = '0xcA11bde05977b3631167028862bE2a173976CA11'

/** Options of {@link createChainClient}. Defaults in {@link defaultChainClientOptions}. */
export type ChainClientOptions = {
  /** EIP-155 chain id; checked against `eth_chainId` by {@link assertChainId}. */
  chainId: number
  /** HTTP(S) JSON-RPC URLs, tried in this order for every request (no ranking). At least one. */
  rpcUrls: readonly string[]
  /** WebSocket URLs, used by the block follower for new heads. */
  wsUrls?: readonly string[]
  /** Per-URL request timeout. @default 10_000 ms */
  timeoutMs?: number
  /** Retries of the whole URL list after every URL failed. @default 3 */
  retryCount?: number
  /** Base of the exponential backoff between retries: delay = retryDelayMs · 2^attempt. @default 150 ms */
  retryDelayMs?: number
  /** Multicall3 address. @default MULTICALL3_ADDRESS */
  multicallAddress?: Address
  /** Polling interval of the block follower's polling mode. @default 1_000 ms */
  pollingIntervalMs?: number
  /** Chain name for messages. @default `chain-${chainId}` */
  name?: string
  /**
   * Largest JSON-RPC response body accepted, bytes (bigger ones fail over like garbage; getLogs
   * halves its range on them). @default 64 MiB
   */
  maxResponseBytes?: number
}

export const defaultChainClientOptions = {
  timeoutMs: 10_000,
  retryCount: 3,
  retryDelayMs: 150,
  multicallAddress: MULTICALL3_ADDRESS,
  pollingIntervalMs: 1_000,
  maxResponseBytes: 64 * 1024 * 1024,
} as const

/** The resolved options a {@link ChainClient} carries as `client.liqnet`. */
export type ChainClientConfig = Required<Omit<ChainClientOptions, 'wsUrls' | 'name'>> & {
  wsUrls: readonly string[]
  name: string
}

/** A viem PublicClient over a fallback of the chain's HTTP URLs, carrying its liqnet config as `liqnet`. */
export type ChainClient = PublicClient<Transport, Chain> & { liqnet: ChainClientConfig }

/** Bad options given to {@link createChainClient}. */
export class InvalidChainClientOptionsError extends BaseError {
  override name = 'InvalidChainClientOptionsError' as const
  constructor(field: string, rule: string) {
    super(`Invalid chain client option \`${field}\`: ${rule}.`)
  }
}

/** eth_chainId answered a different chain id than configured. */
export class ChainIdMismatchError extends BaseError {
  override name = 'ChainIdMismatchError' as const
  constructor(expected: number, actual: number) {
    super(`RPC serves chain ${actual}, but chain ${expected} was configured.`, {
      metaMessages: ['Check rpcUrls: one of them points at another chain.'],
    })
  }
}

const QUANTITY = /^0x(0|[1-9a-fA-F][0-9a-fA-F]*)$/
const DATA = /^0x([0-9a-fA-F]{2})*$/

/** Checks the shape of a JSON-RPC result per method; returns why it is invalid, or undefined if it looks right. */
export function checkRpcResult(method: string, result: unknown): string | undefined {
  switch (method) {
    case 'eth_chainId':
    case 'eth_blockNumber':
    case 'eth_gasPrice':
    case 'eth_getBalance':
    case 'eth_estimateGas':
    case 'eth_getTransactionCount':
    case 'eth_maxPriorityFeePerGas':
    case 'eth_blobBaseFee':
      return typeof result === 'string' && QUANTITY.test(result) ? undefined : 'expected a hex quantity'
    case 'eth_call':
    case 'eth_getCode':
    case 'eth_getStorageAt':
      // DATA is validated on length/hex only for short results: a regex over megabytes is slow.
      if (typeof result !== 'string' || !result.startsWith('0x') || result.length % 2 !== 0)
        return 'expected hex data'
      if (result.length <= 4096 && !DATA.test(result)) return 'expected hex data'
      return undefined
    case 'eth_getLogs':
      if (!Array.isArray(result)) return 'expected an array of logs'
      for (const log of result)
        if (!log || typeof log !== 'object' || !Array.isArray((log as { topics?: unknown }).topics))
          return 'expected log objects with topics'
      return undefined
    case 'eth_getBlockByNumber':
    case 'eth_getBlockByHash':
      if (result === null) return undefined
      if (!result || typeof result !== 'object') return 'expected a block object'
      {
        const b = result as { number?: unknown; hash?: unknown; timestamp?: unknown }
        if (typeof b.timestamp !== 'string' || !QUANTITY.test(b.timestamp)) return 'block without a valid timestamp'
        if (b.hash !== null && (typeof b.hash !== 'string' || b.hash.length !== 66)) return 'block without a valid hash'
      }
      return undefined
    default:
      return result === undefined ? 'no result' : undefined
  }
}

/**
 * One URL's transport: viem `http` with no retry of its own (the fallback
 * retries the whole list), whose results are checked by shape so that a URL
 * answering garbage fails over like a dead one.
 */
function checkedHttp(url: string, timeoutMs: number, maxResponseBytes: number, failures: Map<string, string>): Transport {
  const inner = http(url, { timeout: timeoutMs, retryCount: 0, batch: false, maxResponseBodySize: maxResponseBytes })
  return ((params) => {
    const t = inner(params)
    const request = (async (args, options) => {
      let result: unknown
      try {
        result = await t.request(args as never, options)
      } catch (err) {
        failures.set(url, err instanceof ViemBaseError ? err.shortMessage : String((err as Error)?.message ?? err))
        // A non-JSON body surfaces as a bare SyntaxError: give it a name the fallback can skip.
        if (err instanceof SyntaxError)
          throw new InvalidRpcResponseError({ url, method: args.method, reason: 'not JSON', cause: err })
        throw err
      }
      const bad = checkRpcResult(args.method, result)
      if (bad) {
        failures.set(url, `invalid answer: ${bad}`)
        throw new InvalidRpcResponseError({ url, method: args.method, reason: bad })
      }
      return result
    }) as EIP1193RequestFn
    return { ...t, request }
  }) as Transport
}

/**
 * Creates a viem PublicClient that reads one chain through a fallback list of
 * HTTP URLs: `fallback([http(url0), http(url1), ...], { rank: false })`, each
 * URL tried in order with `timeoutMs`, then the whole list retried
 * `retryCount` times with exponential backoff (retryDelayMs · 2^attempt).
 * A URL that is dead, times out, or answers garbage (not JSON-RPC, or a
 * result of the wrong shape) is skipped for the next.
 *
 * When every URL failed, the request throws {@link RpcUnavailableError}
 * (naming the URLs tried and each one's last failure); viem actions wrap it
 * as the `cause` of their own error: use `toChainError` to get it back.
 * JSON-RPC errors that the node itself answered (reverts, "header not found")
 * pass through unchanged.
 *
 * @throws InvalidChainClientOptionsError for an empty URL list or a bad number.
 * @example
 * const client = createChainClient({ chainId: 31337, rpcUrls: ['http://127.0.0.1:8545'] })
 * await client.getBlockNumber()
 */
export function createChainClient(options: ChainClientOptions): ChainClient {
  const cfg = resolveOptions(options)
  const failures = new Map<string, string>()
  const chain = defineChain({
    id: cfg.chainId,
    name: cfg.name,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [...cfg.rpcUrls], webSocket: cfg.wsUrls.length ? [...cfg.wsUrls] : undefined } },
    contracts: { multicall3: { address: cfg.multicallAddress } },
  })
  const inner = fallback(
    cfg.rpcUrls.map((url) => checkedHttp(url, cfg.timeoutMs, cfg.maxResponseBytes, failures)),
    { rank: false, retryCount: cfg.retryCount, retryDelay: cfg.retryDelayMs },
  )
  const transport = ((params) => {
    const t = inner(params)
    const request = (async (args, opts) => {
      try {
        return await t.request(args as never, opts)
      } catch (err) {
        if (isTransportFailure(err))
          throw new RpcUnavailableError({
            chainId: cfg.chainId,
            method: args.method,
            urls: cfg.rpcUrls,
            failures: new Map(cfg.rpcUrls.map((u) => [u, failures.get(u) ?? 'failed'])),
            cause: err,
          })
        throw err
      }
    }) as EIP1193RequestFn
    return { ...t, request }
  }) as Transport
  const client = createPublicClient({
    chain,
    transport,
    pollingInterval: cfg.pollingIntervalMs,
    cacheTime: 0,
  })
  return Object.assign(client, { liqnet: cfg }) as unknown as ChainClient
}

function resolveOptions(o: ChainClientOptions): ChainClientConfig {
  if (!Number.isSafeInteger(o.chainId) || o.chainId <= 0) throw new InvalidChainClientOptionsError('chainId', 'a positive integer')
  if (!Array.isArray(o.rpcUrls) || o.rpcUrls.length === 0)
    throw new InvalidChainClientOptionsError('rpcUrls', 'at least one http(s) URL')
  for (const url of o.rpcUrls)
    if (!/^https?:\/\//.test(url)) throw new InvalidChainClientOptionsError('rpcUrls', `an http(s) URL, got ${redactUrl(url)}`)
  for (const url of o.wsUrls ?? [])
    if (!/^wss?:\/\//.test(url)) throw new InvalidChainClientOptionsError('wsUrls', `a ws(s) URL, got ${redactUrl(url)}`)
  const num = (field: string, v: number | undefined, d: number, min: number) => {
    const x = v ?? d
    if (!Number.isFinite(x) || x < min) throw new InvalidChainClientOptionsError(field, `a number ≥ ${min}`)
    return x
  }
  return {
    chainId: o.chainId,
    rpcUrls: [...o.rpcUrls],
    wsUrls: [...(o.wsUrls ?? [])],
    timeoutMs: num('timeoutMs', o.timeoutMs, defaultChainClientOptions.timeoutMs, 1),
    retryCount: num('retryCount', o.retryCount, defaultChainClientOptions.retryCount, 0),
    retryDelayMs: num('retryDelayMs', o.retryDelayMs, defaultChainClientOptions.retryDelayMs, 0),
    multicallAddress: o.multicallAddress ?? defaultChainClientOptions.multicallAddress,
    pollingIntervalMs: num('pollingIntervalMs', o.pollingIntervalMs, defaultChainClientOptions.pollingIntervalMs, 1),
    maxResponseBytes: num('maxResponseBytes', o.maxResponseBytes, defaultChainClientOptions.maxResponseBytes, 1024),
    name: o.name ?? `chain-${o.chainId}`,
  }
}

/**
 * Checks that the RPC serves the configured chain.
 * @throws ChainIdMismatchError, RpcUnavailableError
 */
export async function assertChainId(client: ChainClient): Promise<void> {
  const id = await client.getChainId()
  if (id !== client.liqnet.chainId) throw new ChainIdMismatchError(client.liqnet.chainId, id)
}

/**
 * Reads a block's number, hash and timestamp (s): the reference every read at that block carries.
 * @param blockNumber default the latest block.
 * @throws RpcUnavailableError, ChainReadError
 */
export async function readBlockRef(client: ChainClient, blockNumber?: bigint): Promise<BlockRef> {
  let b
  try {
    b = blockNumber === undefined ? await client.getBlock({ blockTag: 'latest' }) : await client.getBlock({ blockNumber })
  } catch (err) {
    throw toChainError(err, { chainId: client.liqnet.chainId, what: 'getBlock' })
  }
  if (b.number === null || b.hash === null) throw new ChainReadError('The block is pending.', { chainId: client.liqnet.chainId })
  return { chainId: client.liqnet.chainId, blockNumber: b.number, blockHash: b.hash, timestamp: b.timestamp }
}
