import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
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
 * A contract call or transaction reverted. `errorName` and `args` are the
 * custom error decoded with the contract's ABI (`Error(string)` and
 * `Panic(uint256)` are always known); `errorName` is undefined (and `args`
 * empty) when the data matched no error. `description` is the human reading,
 * e.g. `NonPositiveAnswer(-5)` or `Error("45") = HEALTH_FACTOR_NOT_BELOW_THRESHOLD`;
 * read `errorName`/`args` rather than the message.
 */
export class ContractRevertError extends BaseError {
  override name = 'ContractRevertError' as const
  /** Raw revert data (`0x` when the node gave none). */
  readonly data: Hex
  readonly errorName?: string
  readonly args: readonly unknown[]
  readonly description: string
  readonly address?: string
  readonly functionName?: string
  /** What reverted, as the sender labelled it (e.g. `deploy Morpho`, `setAnswer on 0x…`). */
  readonly target?: string
  /** The mined transaction that reverted, when it was one (not a call or a gas estimation). */
  readonly transactionHash?: Hex

  constructor(params: {
    data: Hex
    errorName?: string
    args?: readonly unknown[]
    /** Defaults to `errorName(args…)`, or says the data is unknown or missing. */
    description?: string
    address?: string
    functionName?: string
    target?: string
    transactionHash?: Hex
    cause?: unknown
  }) {
    const description = params.description ?? describeRevert(params.data, params.errorName, params.args ?? [])
    const where = params.target ?? [params.functionName, params.address && `at ${params.address}`].filter(Boolean).join(' ')
    super(`${params.target ? '' : 'Contract call '}${where ? `${where} ` : ''}reverted: ${description}.`, {
      cause: params.cause,
      details: [
        params.data === '0x' ? 'no revert data' : `revert data ${params.data.slice(0, 138)}`,
        params.transactionHash && `transaction ${params.transactionHash}`,
      ]
        .filter(Boolean)
        .join(', '),
      metaMessages:
        params.errorName === undefined && params.data !== '0x'
          ? ['The revert data matched no error in the ABI; pass the ABI of the contract that reverted to decodeRevert to name it.']
          : undefined,
    })
    this.data = params.data
    this.errorName = params.errorName
    this.args = params.args ?? []
    this.description = description
    this.address = params.address
    this.functionName = params.functionName
    this.target = params.target
    this.transactionHash = params.transactionHash
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

function describeRevert(data: Hex, errorName: string | undefined, args: readonly unknown[]): string {
  if (errorName !== undefined) return `${errorName}(${args.map(formatArg).join(', ')})`
  return data === '0x' ? 'no revert data' : `unknown error (selector ${data.slice(0, 10)})`
}

let aaveErrorTable: Map<string, string> | undefined

/**
 * Names an Aave V3 revert reason: Aave reverts with `Error("<code>")`, the codes listed in
 * libraries/helpers/Errors.sol (e.g. '45' = HEALTH_FACTOR_NOT_BELOW_THRESHOLD). The table is read once
 * from the installed @aave/core-v3 sources; undefined for an unknown code or when they are not installed.
 * Pass it as `nameReason` to {@link decodeRevert}.
 */
export function aaveErrorName(code: string): string | undefined {
  if (!aaveErrorTable) {
    aaveErrorTable = new Map()
    try {
      const root = dirname(createRequire(import.meta.url).resolve('@aave/core-v3/package.json'))
      const source = readFileSync(join(root, 'contracts/protocol/libraries/helpers/Errors.sol'), 'utf8')
      for (const m of source.matchAll(/string public constant (\w+) = '(\d+)'/g)) aaveErrorTable.set(m[2]!, m[1]!)
    } catch {
      // sources not installed: codes stay unnamed
    }
  }
  return aaveErrorTable.get(code)
}

/**
 * Decodes revert data into the custom error's name and arguments with the
 * contract's ABI (viem `decodeErrorResult`), as a {@link ContractRevertError}.
 * Never throws: undecodable data gives a ContractRevertError without errorName.
 * With `nameReason`, an `Error(string)` reason it knows is named in the
 * description (e.g. {@link aaveErrorName}: `Error("45") = HEALTH_FACTOR_NOT_BELOW_THRESHOLD`).
 *
 * @example
 * decodeRevert('0x…', morphoAbi).errorName
 */
export function decodeRevert(
  data: Hex | undefined,
  abi: Abi | readonly unknown[] | undefined,
  context: {
    address?: string
    functionName?: string
    target?: string
    transactionHash?: Hex
    nameReason?: (reason: string) => string | undefined
    cause?: unknown
  } = {},
): ContractRevertError {
  const { nameReason, ...where } = context
  const raw = data ?? '0x'
  if (raw.length >= 10 && isHex(raw)) {
    try {
      const decoded = decodeErrorResult({ abi: (abi ?? []) as Abi, data: raw })
      const args = (decoded.args ?? []) as readonly unknown[]
      let description = describeRevert(raw, decoded.errorName, args)
      const named = decoded.errorName === 'Error' && typeof args[0] === 'string' ? nameReason?.(args[0]) : undefined
      if (named) description += ` = ${named}`
      return new ContractRevertError({ data: raw, errorName: decoded.errorName, args, description, ...where })
    } catch {
      // unknown selector, or malformed arguments: fall through
    }
  }
  return new ContractRevertError({ data: raw, ...where })
}

/**
 * Finds revert data (`0x` and at least a 4-byte selector) in a viem/RPC error's cause chain:
 * under `data`, `data.data`, or viem's `raw` (ContractFunctionRevertedError).
 */
export function findRevertData(err: unknown): Hex | undefined {
  const revertData = (x: unknown): x is Hex => typeof x === 'string' && x.length >= 10 && isHex(x)
  const seen = new Set<unknown>()
  let e: unknown = err
  for (let depth = 0; e && typeof e === 'object' && depth < 16 && !seen.has(e); depth++) {
    seen.add(e)
    const data = (e as { data?: unknown }).data
    if (revertData(data)) return data
    if (data && typeof data === 'object' && revertData((data as { data?: unknown }).data)) return (data as { data: Hex }).data
    const raw = (e as { raw?: unknown }).raw
    if (revertData(raw)) return raw
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
