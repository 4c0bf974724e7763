import { Command } from 'commander'
import { BaseError } from '../../protocol/errors.js'
import { addConfigOptions } from '../config/cli.js'
import { loadConfigFromCli } from '../config/cli.js'
import type { ReadinessReport } from '../metrics/server.js'

export type NodeUnreachableErrorType = NodeUnreachableError
export class NodeUnreachableError extends BaseError {
  override name = 'NodeUnreachableError'
  constructor(url: string, cause: unknown) {
    super(`No liqnet node answers at ${url}; is it running, and is metrics.port right?`, { cause })
  }
}

/** A node's state as `liqnet status` reports it. */
export type NodeStatus = {
  url: string
  alive: boolean
  uptimeSeconds?: number
  ready: boolean
  /** Names of failing readiness checks (e.g. `rpc:chain-a`). */
  failing: string[]
  checks: ReadinessReport['checks']
  peers?: number
  consensus: { height?: number; round?: number; decisions?: number }
  /** Heads of each chain's RPC check (chain name → block). */
  chains: Record<string, { ok: boolean; head?: number; detail?: string }>
  gossip: { accepted?: number; rejected?: number; ignored?: number }
  settlement: Record<string, number>
}

/** Parses Prometheus text exposition into (name, labels) → value. Only what `status` needs. */
export function parseMetrics(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = []
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line)
    if (!m) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2]
    out.push({ name: m[1], labels, value: Number(m[3]) })
  }
  return out
}

/**
 * Reads a node's `/healthz`, `/readyz` and `/metrics` on its metrics port.
 * @throws NodeUnreachableError
 */
export async function readNodeStatus(metricsUrl: string, timeoutMs = 5000): Promise<NodeStatus> {
  const base = metricsUrl.replace(/\/+$/, '')
  const get = async (path: string) => {
    try {
      return await fetch(`${base}${path}`, { signal: AbortSignal.timeout(timeoutMs) })
    } catch (err) {
      throw new NodeUnreachableError(base, err)
    }
  }
  const health = await get('/healthz')
  const h = (await health.json().catch(() => ({}))) as { uptimeSeconds?: number }
  const readyRes = await get('/readyz')
  const ready = (await readyRes.json().catch(() => ({ status: 'degraded', checks: [], failing: ['readyz'] }))) as ReadinessReport
  const metrics = parseMetrics(await (await get('/metrics')).text())
  const one = (name: string) => metrics.find((m) => m.name === name)?.value
  const sum = (name: string, pred: (l: Record<string, string>) => boolean = () => true) => {
    const ms = metrics.filter((m) => m.name === name && pred(m.labels))
    return ms.length ? ms.reduce((a, m) => a + m.value, 0) : undefined
  }
  const chains: NodeStatus['chains'] = {}
  for (const c of ready.checks ?? []) {
    if (!c.name.startsWith('rpc:')) continue
    chains[c.name.slice(4)] = { ok: c.ok, ...(typeof c.info?.head === 'number' ? { head: c.info.head } : {}), ...(c.detail ? { detail: c.detail } : {}) }
  }
  const settlement: Record<string, number> = {}
  for (const m of metrics) if (m.name === 'liqnet_settlement_legs' && m.labels.state) settlement[m.labels.state] = m.value
  return {
    url: base,
    alive: health.ok,
    uptimeSeconds: h.uptimeSeconds,
    ready: readyRes.status === 200,
    failing: ready.failing ?? [],
    checks: ready.checks ?? [],
    peers: one('liqnet_p2p_peers'),
    consensus: { height: one('liqnet_consensus_height'), round: one('liqnet_consensus_round'), decisions: sum('liqnet_consensus_decisions_total') },
    chains,
    gossip: {
      accepted: sum('liqnet_gossip_messages_total', (l) => l.outcome === 'ACCEPT'),
      rejected: sum('liqnet_gossip_messages_total', (l) => l.outcome === 'REJECT'),
      ignored: sum('liqnet_gossip_messages_total', (l) => l.outcome === 'IGNORE'),
    },
    settlement,
  }
}

/** The readable summary of a status. */
export function formatStatus(s: NodeStatus): string {
  const v = (x: number | undefined) => (x === undefined ? '-' : String(x))
  const lines = [
    `node      ${s.url}  ${s.alive ? 'alive' : 'NOT ALIVE'}${s.uptimeSeconds !== undefined ? `, up ${s.uptimeSeconds} s` : ''}`,
    `ready     ${s.ready ? 'yes' : `DEGRADED (${s.failing.join(', ')})`}`,
    `peers     ${v(s.peers)}`,
    `consensus height ${v(s.consensus.height)}, round ${v(s.consensus.round)}, decided ${v(s.consensus.decisions)}`,
    `gossip    accepted ${v(s.gossip.accepted)}, rejected ${v(s.gossip.rejected)}, ignored ${v(s.gossip.ignored)}`,
  ]
  for (const [name, c] of Object.entries(s.chains)) lines.push(`chain     ${name}: ${c.ok ? `head ${v(c.head)}` : `RPC DOWN (${c.detail ?? 'failing'})`}`)
  if (Object.keys(s.settlement).length) lines.push(`legs      ${Object.entries(s.settlement).map(([k, n]) => `${k} ${n}`).join(', ')}`)
  for (const c of s.checks) if (!c.ok && !c.name.startsWith('rpc:')) lines.push(`check     ${c.name}: ${c.detail ?? 'failing'}`)
  return lines.join('\n')
}

/** Adds `liqnet status`. */
export function registerStatus(program: Command): void {
  const cmd = program
    .command('status')
    .description(
      "Query a running node's metrics port (/healthz, /readyz, /metrics) and print a summary: liveness, readiness and failing checks, " +
        'peers, consensus height and round, each chain\'s RPC head (or that it is down), gossip and settlement counts. ' +
        'The URL comes from --url, else from the config (metrics.host, metrics.port). Exits 1 when the node is unreachable, 2 when it is degraded.',
    )
    .option('--url <url>', 'metrics URL of the node, e.g. http://127.0.0.1:9464')
    .option('--json', 'print the status as one JSON object', false)
    .option('--timeout-ms <n>', 'per-request timeout, ms', '5000')
  addConfigOptions(cmd)
  cmd.action(async (opts: Record<string, unknown> & { url?: string; json: boolean; timeoutMs: string }) => {
    let url = opts.url
    if (!url) {
      const { config } = loadConfigFromCli(opts)
      const host = config.metrics.host === '0.0.0.0' ? '127.0.0.1' : config.metrics.host
      url = `http://${host.includes(':') ? `[${host}]` : host}:${config.metrics.port}`
    }
    const status = await readNodeStatus(url, Number(opts.timeoutMs) || 5000)
    process.stdout.write((opts.json ? JSON.stringify(status) : formatStatus(status)) + '\n')
    if (!status.ready) process.exitCode = 2
  })
}
