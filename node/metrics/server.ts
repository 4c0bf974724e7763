/**
 * The metrics and health server (fastify), on a loopback port by default:
 * - `GET /metrics`: the Prometheus registry (text exposition format);
 * - `GET /healthz`: 200 while the process serves requests (liveness);
 * - `GET /readyz`: runs the injected readiness checks (each RPC reachable, peers connected, store
 *   open, ...) in parallel with a timeout; 200 `{"status":"ready"}` when all pass, 503
 *   `{"status":"degraded","failing":[...]}` otherwise, with every check's result in `checks`.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import { BaseError } from '../../protocol/errors.js'
import { createHealthMetrics } from './registry.js'

/** The result of one readiness check; `info` carries figures for `liqnet status` (e.g. a chain's head). */
export type CheckResult = { ok: boolean; detail?: string; info?: Record<string, string | number | boolean> }

/** A named readiness check. Throwing or timing out counts as failing. */
export type ReadinessCheck = {
  /** Stable name, e.g. `rpc:chain-a`, `peers`, `store` (a metric label). */
  name: string
  check(signal: AbortSignal): Promise<CheckResult> | CheckResult
}

export type MetricsServerOptions = {
  register: Registry
  /** @default '127.0.0.1' */
  host?: string
  /** 0 picks a free port. @default 9464 */
  port?: number
  checks?: readonly ReadinessCheck[]
  /** Timeout of one readiness check, ms. @default 2000 */
  checkTimeoutMs?: number
}

export const defaultMetricsServerOptions = { host: '127.0.0.1', port: 9464, checkTimeoutMs: 2000 } as const

export type PortInUseErrorType = PortInUseError
/** The port is taken: one line naming it and the key to change. */
export class PortInUseError extends BaseError {
  override name = 'PortInUseError'
  constructor(what: string, host: string, port: number, key: string, cause?: unknown) {
    super(`Port ${port} on ${host} is already in use (${what}); set ${key} to a free port.`, { cause })
  }
}

export type ServerListenErrorType = ServerListenError
export class ServerListenError extends BaseError {
  override name = 'ServerListenError'
  constructor(what: string, host: string, port: number, cause: unknown) {
    super(`Cannot listen on ${host}:${port} (${what}).`, { cause })
  }
}

/** Starts a fastify instance, turning EADDRINUSE into {@link PortInUseError}. */
export async function listenOrThrow(app: FastifyInstance, host: string, port: number, what: string, key: string): Promise<number> {
  try {
    await app.listen({ host, port })
  } catch (err) {
    await app.close().catch(() => {})
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(what, host, port, key, err)
    throw new ServerListenError(what, host, port, err)
  }
  const addr = app.server.address()
  return typeof addr === 'object' && addr !== null ? addr.port : port
}

export type ReadinessReport = {
  status: 'ready' | 'degraded'
  checks: ({ name: string; durationMs: number } & CheckResult)[]
  failing: string[]
}

/** Runs every check in parallel, each with its own timeout. */
export async function runChecks(checks: readonly ReadinessCheck[], timeoutMs: number): Promise<ReadinessReport> {
  const results = await Promise.all(
    checks.map(async (c) => {
      const started = performance.now()
      const signal = AbortSignal.timeout(timeoutMs)
      let r: CheckResult
      try {
        r = await Promise.race([
          Promise.resolve(c.check(signal)),
          new Promise<CheckResult>((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, detail: `timed out after ${timeoutMs} ms` }), { once: true })),
        ])
      } catch (err) {
        r = { ok: false, detail: err instanceof BaseError ? err.shortMessage : err instanceof Error ? err.message : String(err) }
      }
      return { name: c.name, durationMs: Math.round(performance.now() - started), ...r }
    }),
  )
  const failing = results.filter((r) => !r.ok).map((r) => r.name)
  return { status: failing.length ? 'degraded' : 'ready', checks: results, failing }
}

export type MetricsServer = {
  /** `http://host:port` */
  url: string
  port: number
  /** Adds a readiness check (e.g. once a subsystem has started). */
  addCheck(check: ReadinessCheck): void
  close(): Promise<void>
}

/**
 * Starts the server.
 * @throws PortInUseError, ServerListenError
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const o = { ...defaultMetricsServerOptions, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<MetricsServerOptions>
  const checks = [...(o.checks ?? [])]
  const health = createHealthMetricsOnce(o.register)
  const startedAt = Date.now()
  const app = Fastify({ logger: false })
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', o.register.contentType)
    return o.register.metrics()
  })
  app.get('/healthz', async () => ({ status: 'alive', uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) }))
  app.get('/readyz', async (_req, reply) => {
    const report = await runChecks(checks, o.checkTimeoutMs)
    for (const c of report.checks) health.checkUp.set({ check: c.name }, c.ok ? 1 : 0)
    reply.code(report.status === 'ready' ? 200 : 503)
    return report
  })
  const port = await listenOrThrow(app, o.host, o.port, 'metrics server', 'metrics.port')
  return {
    url: `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`,
    port,
    addCheck: (c) => void checks.push(c),
    close: () => app.close(),
  }
}

const healthMetrics = new WeakMap<Registry, ReturnType<typeof createHealthMetrics>>()
function createHealthMetricsOnce(register: Registry) {
  let m = healthMetrics.get(register)
  if (!m) healthMetrics.set(register, (m = createHealthMetrics(register)))
  return m
}

// ---------------------------------------------------------------- common checks

/** Fails when the store's level database is not open. */
export function storeCheck(store: { db: { status: string } }): ReadinessCheck {
  return { name: 'store', check: () => (store.db.status === 'open' ? { ok: true } : { ok: false, detail: `level database is ${store.db.status}` }) }
}

/** Fails with fewer than `min` connected peers. */
export function peersCheck(libp2p: { getPeers(): unknown[] }, min = 1): ReadinessCheck {
  return {
    name: 'peers',
    check: () => {
      const n = libp2p.getPeers().length
      return n >= min ? { ok: true, info: { peers: n } } : { ok: false, detail: `${n} peers connected, need ${min}`, info: { peers: n } }
    },
  }
}

/**
 * Fails when the chain's RPC does not answer `eth_blockNumber` (the node then keeps running,
 * degraded, and recovers when the RPC returns). `info.head` is the block number.
 */
export function rpcCheck(name: string, client: { getBlockNumber(args?: { cacheTime?: number }): Promise<bigint> }): ReadinessCheck {
  return {
    name: `rpc:${name}`,
    async check() {
      const head = await client.getBlockNumber({ cacheTime: 0 })
      return { ok: true, info: { head: Number(head) } }
    },
  }
}
