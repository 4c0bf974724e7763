import {
  type Abi,
  BaseError as ViemBaseError,
  decodeErrorResult,
  type Hex,
  HttpRequestError,
  isHex,
  RpcRequestError,
  TimeoutError,
  WebSocketRequestError,
  SocketClosedError,
} from 'viem'
import { BaseError } from '../../protocol/errors.js'

/**
 * Every RPC URL of a chain failed for one request: refused, timed out, or
 * answered garbage, on every retry (exponential backoff).
 *
 * What to do next: check the URLs (is the node up? reachable?), or add
 * another URL to the chain's `rpcUrls` fallback list.
 */
export class RpcUnavailableError extends BaseError {
  override name = 'RpcUnavailableError' as const
  readonly chainId: number
  readonly method: string
  readonly urls: readonly string[]

  constructor(params: {
    chainId: number
    method: string
    urls: readonly string[]
    /** Last failure seen per URL, for the report. */
    failures?: ReadonlyMap<string, string>
    cause?: unknown
  }) {
    const lines = params.urls.map((url) => {
      const why = params.failures?.get(url)
      return `  ${redactUrl(url)}${why ? ` → ${why}` : ''}`
    })
    super(`No RPC URL of chain ${params.chainId} answered ${params.method}.`, {
      cause: params.cause,
      metaMessages: [
        'URLs tried (in order):',
        ...lines,
        'Check that the nodes are up, or add another URL to rpcUrls.',
      ],
    })
    this.chainId = params.chainId
    this.method = params.method
    this.urls = params.urls
  }
}

/**
 * One RPC URL answered something that is not a valid JSON-RPC result for the
 * method asked (not JSON, no `result`, a result of the wrong shape). The
 * fallback transport moves on to the next URL when it sees this.
 */
export class InvalidRpcResponseError extends BaseError {
  override name = 'InvalidRpcResponseError' as const
  readonly url: string
  readonly method: string

  constructor(params: { url: string; method: string; reason: string; cause?: unknown }) {
    super(`RPC URL ${redactUrl(params.url)} gave an invalid answer to ${params.method}: ${params.reason}.`, {
      cause: params.cause,
      metaMessages: ['The URL is skipped for this request; the next URL of the fallback list is tried.'],
    })
    this.url = params.url
    this.method = params.method
  }
}

/**
 * A contract call reverted. `errorName` and `args` are the custom error
 * decoded with the contract's ABI (`Error(string)` and `Panic(uint256)` are
 * always known); `errorName` is undefined when the selector is not in the ABI.
 */
export class ContractRevertError extends BaseError {
  override name = 'ContractRevertError' as const
  readonly data: Hex
  readonly errorName?: string
  readonly args?: readonly unknown[]
  readonly address?: string
  readonly functionName?: string

  constructor(params: {
    data: Hex
    errorName?: string
    args?: readonly unknown[]
    address?: string
    functionName?: string
    cause?: unknown
  }) {
    const where = [params.functionName, params.address && `at ${params.address}`].filter(Boolean).join(' ')
    const what =
      params.errorName === undefined
        ? `unknown error ${params.data.slice(0, 10)}`
        : `${params.errorName}(${(params.args ?? []).map(formatArg).join(', ')})`
    super(`Contract call ${where ? `${where} ` : ''}reverted: ${what}.`, {
      cause: params.cause,
      details: params.data === '0x' ? 'no revert data' : `revert data ${params.data.slice(0, 138)}`,
      metaMessages:
        params.errorName === undefined
          ? ['Add the contract\'s custom errors to the ABI passed to decodeRevert to name the error.']
          : undefined,
    })
    this.data = params.data
    this.errorName = params.errorName
    this.args = params.args
    this.address = params.address
    this.functionName = params.functionName
  }
}

/** A chain read failed for a reason that is neither the RPC nor a revert (e.g. undecodable data). */
export class ChainReadError extends BaseError {
  override name: string = 'ChainReadError'
  readonly chainId?: number

  constructor(shortMessage: string, params: { chainId?: number; cause?: unknown; metaMessages?: string[] } = {}) {
    super(shortMessage, { cause: params.cause, metaMessages: params.metaMessages })
    this.chainId = params.chainId
  }
}

function formatArg(x: unknown): string {
  if (typeof x === 'bigint') return x.toString()
  if (typeof x === 'string') return JSON.stringify(x)
  try {
    return JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))
  } catch {
    return String(x)
  }
}

/** Hides credentials and API keys in a URL (userinfo and any path part longer than 20 characters). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.username || u.password) {
      u.username = '***'
      u.password = ''
    }
    u.pathname = u.pathname
      .split('/')
      .map((p) => (p.length > 20 ? `${p.slice(0, 4)}…` : p))
      .join('/')
    u.search = u.search ? '?…' : ''
    return u.toString()
  } catch {
    return url
  }
}

/**
 * Decodes revert data into the custom error's name and arguments with the
 * contract's ABI (viem `decodeErrorResult`), as a {@link ContractRevertError}.
 * Never throws: undecodable data gives a ContractRevertError without errorName.
 *
 * @example
 * decodeRevert('0x…', morphoAbi).errorName
 */
export function decodeRevert(
  data: Hex,
  abi: Abi | readonly unknown[] | undefined,
  context: { address?: string; functionName?: string; cause?: unknown } = {},
): ContractRevertError {
  if (data.length >= 10 && isHex(data)) {
    try {
      const decoded = decodeErrorResult({ abi: (abi ?? []) as Abi, data })
      let args = decoded.args as readonly unknown[] | undefined
      return new ContractRevertError({ data, errorName: decoded.errorName, args, ...context })
    } catch {
      // unknown selector, or malformed arguments: fall through
    }
  }
  return new ContractRevertError({ data, ...context })
}

/** Finds revert data in a viem error's cause chain (execution reverted with data). */
export function findRevertData(err: unknown): Hex | undefined {
  let e: unknown = err
  for (let depth = 0; e && depth < 16; depth++) {
    const data = (e as { data?: unknown }).data
    if (typeof data === 'string' && isHex(data)) return data
    if (data && typeof data === 'object' && typeof (data as { data?: unknown }).data === 'string') {
      const inner = (data as { data: string }).data
      if (isHex(inner)) return inner
    }
    if (typeof (e as { raw?: unknown }).raw === 'string' && isHex((e as { raw: string }).raw)) return (e as { raw: Hex }).raw
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

/** True if the error (or its cause chain) says the call reverted ("execution reverted"). */
export function isRevert(err: unknown): boolean {
  let e: unknown = err
  for (let depth = 0; e && depth < 16; depth++) {
    if (e instanceof ContractRevertError) return true
    const name = (e as { name?: string }).name
    if (name === 'ContractFunctionRevertedError' || name === 'ExecutionRevertedError') return true
    const code = (e as { code?: unknown }).code
    const msg = (e as { message?: unknown }).message
    if (code === 3 || (typeof msg === 'string' && /execution reverted|revert/i.test(msg) && code !== undefined)) return true
    e = (e as { cause?: unknown }).cause
  }
  return false
}

/** True if the error is the transport failing (no answer, timeout, garbage), not the node answering an error. */
export function isTransportFailure(err: unknown): boolean {
  return (
    err instanceof InvalidRpcResponseError ||
    err instanceof HttpRequestError ||
    err instanceof TimeoutError ||
    err instanceof WebSocketRequestError ||
    err instanceof SocketClosedError ||
    err instanceof SyntaxError ||
    (err instanceof ViemBaseError && !(err instanceof RpcRequestError) && err.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError) !== null && !hasRpcCode(err))
  )
}

function hasRpcCode(err: unknown): boolean {
  let e: unknown = err
  for (let depth = 0; e && depth < 16; depth++) {
    if (e instanceof RpcRequestError) return true
    e = (e as { cause?: unknown }).cause
  }
  return false
}

/**
 * Turns whatever a viem action threw into a liqnet {@link BaseError}:
 * an {@link RpcUnavailableError} found in the chain is returned as is,
 * a revert becomes a {@link ContractRevertError} decoded with `abi`,
 * anything else a {@link ChainReadError} carrying the original as `cause`.
 */
export function toChainError(
  err: unknown,
  context: { chainId?: number; abi?: Abi | readonly unknown[]; address?: string; functionName?: string; what?: string } = {},
): BaseError {
  if (err instanceof BaseError) return err
  let e: unknown = err
  for (let depth = 0; e && depth < 16; depth++) {
    if (e instanceof BaseError) return e
    e = (e as { cause?: unknown }).cause
  }
  if (isRevert(err)) {
    const data = findRevertData(err) ?? '0x'
    return decodeRevert(data, context.abi, { address: context.address, functionName: context.functionName, cause: err })
  }
  const short = err instanceof ViemBaseError ? err.shortMessage : err instanceof Error ? err.message : String(err)
  return new ChainReadError(`${context.what ?? 'Chain read'} failed: ${short}`, { chainId: context.chainId, cause: err })
}
