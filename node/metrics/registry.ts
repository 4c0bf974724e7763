/**
 * The node's Prometheus registry (prom-client): process and Node.js default metrics
 * (`liqnet_process_cpu_seconds_total`, `liqnet_nodejs_eventloop_lag_seconds`, ...) plus whatever
 * the subsystems register on it (gossip, consensus, settlement, RPC, API).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'

export type MetricsRegistryOptions = {
  /** Collect process and Node.js metrics. @default true */
  defaultMetrics?: boolean
  /** Prefix of the default metrics. @default 'liqnet_' */
  prefix?: string
  /** Labels added to every metric (e.g. `{ operator: '0x...' }`). */
  labels?: Record<string, string>
}

export function createMetricsRegistry(options: MetricsRegistryOptions = {}): Registry {
  const register = new Registry()
  if (options.labels) register.setDefaultLabels(options.labels)
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register, prefix: options.prefix ?? 'liqnet_' })
  return register
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>

/** Metrics of the risk-feed API. Labels are route names and codes, never free text. */
export function createApiMetrics(register: Registry) {
  const registers = [register]
  return {
    requests: new Counter({ name: 'liqnet_api_requests_total', help: 'Risk-feed API requests, by route and status code', labelNames: ['route', 'status'] as const, registers }),
    itemsSigned: new Counter({ name: 'liqnet_api_items_signed_total', help: 'Feed items signed (cache misses), by kind', labelNames: ['kind'] as const, registers }),
    subscribers: new Gauge({ name: 'liqnet_api_stream_subscribers', help: 'Connected /v1/stream subscribers', registers }),
    streamSent: new Counter({ name: 'liqnet_api_stream_items_sent_total', help: 'Items sent on /v1/stream, by kind', labelNames: ['kind'] as const, registers }),
    streamDropped: new Counter({ name: 'liqnet_api_stream_dropped_total', help: 'Subscribers disconnected, by reason code', labelNames: ['reason'] as const, registers }),
  }
}

export type HealthMetrics = ReturnType<typeof createHealthMetrics>

/** Readiness check results as metrics, so Prometheus sees what /readyz sees. */
export function createHealthMetrics(register: Registry) {
  return {
    checkUp: new Gauge({ name: 'liqnet_ready_check_up', help: 'Last result of each readiness check (1 ok, 0 failing)', labelNames: ['check'] as const, registers: [register] }),
  }
}
