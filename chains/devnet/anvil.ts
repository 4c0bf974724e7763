import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'
import { BaseError } from '../../protocol/errors.js'
import { getFreePort } from './ports.js'

/**
 * One local anvil process (npm `@foundry-rs/anvil`, pinned in package.json),
 * bound to 127.0.0.1 on a free port, with its own chain id and a pinned
 * hardfork. Stopped by PID (SIGTERM, then SIGKILL); every anvil still running
 * when this Node process exits is killed too.
 */

const repoRoot = dirname(dirname(dirname(fileURLToPath(import.meta.url))))
const require = createRequire(import.meta.url)

/** The hardfork every devnet chain runs (anvil's default is newer than Osaka). */
export const DEVNET_HARDFORK = 'cancun'
/** Block gas limit: large, so that bulk seeding fits in few transactions. */
export const DEVNET_GAS_LIMIT = 1_000_000_000n

export type AnvilOptions = {
  /** EVM chain id. */
  chainId: number
  /** TCP port on 127.0.0.1. @default a free port from getFreePort() */
  port?: number
  /** @default 'cancun' */
  hardfork?: string
  /** Block gas limit. @default 1_000_000_000n */
  gasLimit?: bigint
  /**
   * Interval mining from the start, in ms (anvil `--block-time`, fractions of a second allowed).
   * Without `mixedMining`, transactions wait for the next block. @default none: automine
   */
  blockTimeMs?: number
  /** With `blockTimeMs`: also mine every transaction at once (anvil `--mixed-mining`). */
  mixedMining?: boolean
  /** A state file written by `--dump-state` (JSON; see `dumpStateJson`) to start from. */
  loadState?: string
  /** Genesis timestamp (s). */
  timestamp?: bigint
  /** Extra CLI arguments. */
  extraArgs?: string[]
  /** How long to wait for the RPC to answer. @default 15_000 */
  startTimeoutMs?: number
}

/** A running anvil. */
export interface Anvil {
  pid: number
  port: number
  chainId: number
  /** http://127.0.0.1:<port> */
  rpcUrl: string
  /** ws://127.0.0.1:<port> */
  wsUrl: string
  /** One JSON-RPC call. @throws AnvilRpcError */
  request<T = unknown>(method: string, params?: unknown[]): Promise<T>
  /** Several JSON-RPC calls in one HTTP batch; results in order. @throws AnvilRpcError on the first error */
  batch(calls: { method: string; params?: unknown[] }[]): Promise<unknown[]>
  /** SIGTERM, then SIGKILL after `graceMs` (default 2000). Resolves once the process is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>
  /** Whether the process has exited. */
  readonly exited: boolean
}

/** anvil could not be started (binary missing, exited early, RPC never answered). */
export class AnvilStartError extends BaseError {
  override name = 'AnvilStartError'
  constructor(shortMessage: string, params: { cause?: unknown; details?: string } = {}) {
    super(shortMessage, {
      ...params,
      metaMessages: [
        'Check that @foundry-rs/anvil is installed (node_modules/.bin/anvil --version answers 1.7.1)',
        'and, with loadState, that the file was written by --dump-state / dumpStateJson (JSON, not the RPC hex).',
      ],
    })
  }
}

/** A JSON-RPC call to anvil failed or returned an error. */
export class AnvilRpcError extends BaseError {
  override name = 'AnvilRpcError'
  readonly method: string
  readonly code?: number
  constructor(method: string, params: { cause?: unknown; details?: string; code?: number }) {
    super(`anvil RPC ${method} failed.`, { cause: params.cause, details: params.details })
    this.method = method
    this.code = params.code
  }
}

/**
 * Path of the anvil executable: the platform binary shipped by
 * `@foundry-rs/anvil-<platform>-<arch>` (so the PID we hold is anvil itself,
 * not the npm wrapper), else `node_modules/.bin/anvil`.
 */
export function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  const platform = process.platform
  const exe = platform === 'win32' ? 'anvil.exe' : 'anvil'
  try {
    const p = require.resolve(`@foundry-rs/anvil-${platform}-${arch}/bin/${exe}`)
    if (existsSync(p)) return p
  } catch {
    // fall through to the npm wrapper
  }
  return join(repoRoot, 'node_modules', '.bin', 'anvil')
}

// ---------------------------------------------------------------------------
// Never leak processes: kill what is still alive when Node exits.
// ---------------------------------------------------------------------------

const live = new Map<number, ChildProcess>()
let exitHookInstalled = false

function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.on('exit', () => {
      for (const pid of live.keys()) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
    })
  }
  live.set(child.pid!, child)
  child.once('exit', () => live.delete(child.pid!))
}

/** PIDs of the anvils this process started and that are still running. */
export function runningAnvilPids(): number[] {
  return [...live.keys()]
}

// ---------------------------------------------------------------------------

let rpcId = 0

async function rpcCall<T>(url: string, method: string, params: unknown[], timeoutMs = 30_000): Promise<T> {
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (err) {
    throw new AnvilRpcError(method, { cause: err })
  }
  let body: { result?: T; error?: { code: number; message: string } }
  try {
    body = (await res.json()) as typeof body
  } catch (err) {
    throw new AnvilRpcError(method, { cause: err, details: `HTTP ${res.status}` })
  }
  if (body.error) throw new AnvilRpcError(method, { details: body.error.message, code: body.error.code })
  return body.result as T
}

async function rpcBatch(url: string, calls: { method: string; params?: unknown[] }[], timeoutMs = 60_000): Promise<unknown[]> {
  if (calls.length === 0) return []
  const first = ++rpcId
  rpcId += calls.length
  const label = `batch of ${calls.length} (${calls[0].method}...)`
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(calls.map((c, i) => ({ jsonrpc: '2.0', id: first + i, method: c.method, params: c.params ?? [] }))),
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (err) {
    throw new AnvilRpcError(label, { cause: err })
  }
  let body: { id: number; result?: unknown; error?: { code: number; message: string } }[]
  try {
    body = (await res.json()) as typeof body
  } catch (err) {
    throw new AnvilRpcError(label, { cause: err, details: `HTTP ${res.status}` })
  }
  if (!Array.isArray(body)) throw new AnvilRpcError(label, { details: JSON.stringify(body).slice(0, 300) })
  const byId = new Map(body.map((b) => [b.id, b]))
  return calls.map((c, i) => {
    const b = byId.get(first + i)
    if (!b) throw new AnvilRpcError(c.method, { details: 'no answer in the batch' })
    if (b.error) throw new AnvilRpcError(c.method, { details: b.error.message, code: b.error.code })
    return b.result
  })
}

function buildArgs(o: AnvilOptions, port: number): string[] {
  const args = [
    '--host', '127.0.0.1',
    '--port', String(port),
    '--chain-id', String(o.chainId),
    '--hardfork', o.hardfork ?? DEVNET_HARDFORK,
    '--gas-limit', String(o.gasLimit ?? DEVNET_GAS_LIMIT),
    '--silent',
  ]
  if (o.blockTimeMs !== undefined && o.blockTimeMs > 0) {
    args.push('--block-time', String(o.blockTimeMs / 1000))
    if (o.mixedMining) args.push('--mixed-mining')
  }
  if (o.loadState) args.push('--load-state', o.loadState)
  if (o.timestamp !== undefined) args.push('--timestamp', String(o.timestamp))
  if (o.extraArgs) args.push(...o.extraArgs)
  return args
}

async function startOnce(o: AnvilOptions, port: number): Promise<Anvil> {
  const bin = anvilBinary()
  const child = spawn(bin, buildArgs(o, port), { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (d: string) => {
    if (stderr.length < 8192) stderr += d
  })
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined))
    child.once('error', (err) => resolve(err))
  })
  if (spawned || child.pid === undefined) throw new AnvilStartError(`Cannot run anvil (${bin}).`, { cause: spawned })
  track(child)

  let exited = false
  let exitInfo = ''
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true
      exitInfo = `exit code ${code ?? '-'}, signal ${signal ?? '-'}`
      resolve()
    })
  })
  const rpcUrl = `http://127.0.0.1:${port}`
  const anvil: Anvil = {
    pid: child.pid,
    port,
    chainId: o.chainId,
    rpcUrl,
    wsUrl: `ws://127.0.0.1:${port}`,
    request: <T>(method: string, params: unknown[] = []) => rpcCall<T>(rpcUrl, method, params),
    batch: (calls) => rpcBatch(rpcUrl, calls),
    async stop(graceMs = 2000) {
      if (exited) return
      try {
        child.kill('SIGTERM')
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        if (!exited) {
          try {
            child.kill('SIGKILL')
          } catch {
            // already gone
          }
        }
      }, graceMs)
      await exitPromise
      clearTimeout(timer)
    },
    get exited() {
      return exited
    },
  }

  // Wait until the RPC answers with our chain id.
  const deadline = Date.now() + (o.startTimeoutMs ?? 15_000)
  for (;;) {
    if (exited) throw new AnvilStartError(`anvil exited before answering on port ${port} (${exitInfo}).`, { details: stderr.trim() || undefined })
    try {
      const id = await rpcCall<string>(rpcUrl, 'eth_chainId', [], 1000)
      if (Number(id) !== o.chainId) {
        await anvil.stop()
        throw new AnvilStartError(`Port ${port} answered chain id ${Number(id)}, not ${o.chainId}: another node holds it.`)
      }
      return anvil
    } catch (err) {
      if (err instanceof AnvilStartError) throw err
    }
    if (Date.now() > deadline) {
      await anvil.stop()
      throw new AnvilStartError(`anvil did not answer on port ${port} within ${o.startTimeoutMs ?? 15_000} ms.`, { details: stderr.trim() || undefined })
    }
    await new Promise((r) => setTimeout(r, 25))
  }
}

/**
 * Starts one anvil and waits until its RPC answers.
 * Retries on a fresh port (up to 3 times) if the port was taken meanwhile.
 *
 * @throws AnvilStartError
 * @example const anvil = await startAnvil({ chainId: 31337 }); ...; await anvil.stop()
 */
export async function startAnvil(options: AnvilOptions): Promise<Anvil> {
  let lastErr: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = options.port ?? (await getFreePort())
    try {
      return await startOnce(options, port)
    } catch (err) {
      lastErr = err
      if (options.port !== undefined) break
      if (!(err instanceof AnvilStartError) || !/exited before|another node/.test(err.shortMessage)) break
    }
  }
  throw lastErr
}

/**
 * Switches mining mode after deployment: `blockTimeMs` 0 = automine; a
 * positive whole number of seconds = anvil interval mining
 * (`evm_setIntervalMining`, which takes whole seconds). For other values
 * anvil has no RPC, so this returns a driver that mines with `evm_mine` every
 * `blockTimeMs` (stop it with the returned function).
 */
export async function setBlockTime(anvil: Anvil, blockTimeMs: number): Promise<() => void> {
  if (blockTimeMs <= 0) {
    await anvil.request('evm_setAutomine', [true])
    return () => {}
  }
  if (blockTimeMs % 1000 === 0) {
    await anvil.request('evm_setIntervalMining', [blockTimeMs / 1000])
    return () => {}
  }
  await anvil.request('evm_setAutomine', [false])
  let busy = false
  const timer = setInterval(() => {
    if (busy || anvil.exited) return
    busy = true
    anvil.request('evm_mine').catch(() => {}).finally(() => (busy = false))
  }, blockTimeMs)
  timer.unref()
  return () => clearInterval(timer)
}

/**
 * Reads the full chain state (`anvil_dumpState`, gzip hex) and returns it as
 * the JSON text that `--load-state` accepts (accounts, blocks, transactions).
 */
export async function dumpStateJson(anvil: Anvil): Promise<string> {
  const hex = await anvil.request<string>('anvil_dumpState')
  const buf = Buffer.from(hex.startsWith('0x') ? hex.slice(2) : hex, 'hex')
  // anvil gzips the dump; accept plain JSON too.
  return buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf).toString('utf8') : buf.toString('utf8')
}
