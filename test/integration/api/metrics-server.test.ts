import assert from 'node:assert/strict'
import { startAnvil, type Anvil } from '../../../chains/devnet/anvil.js'
import { getFreePort } from '../../../chains/devnet/ports.js'
import { createChainClient } from '../../../chains/evm/client.js'
import { createMetricsRegistry } from '../../../node/metrics/registry.js'
import { PortInUseError, rpcCheck, startMetricsServer, type MetricsServer } from '../../../node/metrics/server.js'

describe('metrics and health server (real HTTP, real anvil RPC)', function () {
  this.timeout(30_000)
  let anvil: Anvil | undefined
  let server: MetricsServer | undefined
  const stopped: (() => Promise<void>)[] = []
  after(async () => {
    await server?.close()
    for (const s of stopped) await s()
    await anvil?.stop()
  })

  it('serves /metrics and /healthz, and /readyz goes degraded when the RPC dies and ready when it returns', async () => {
    const rpcPort = await getFreePort()
    anvil = await startAnvil({ chainId: 31337, port: rpcPort })
    const client = createChainClient({ chainId: 31337, rpcUrls: [anvil.rpcUrl], retryCount: 0, timeoutMs: 500 })
    let storeOpen = true
    const register = createMetricsRegistry()
    server = await startMetricsServer({
      register,
      port: 0,
      checkTimeoutMs: 1000,
      checks: [rpcCheck('chain-a', client), { name: 'store', check: () => (storeOpen ? { ok: true } : { ok: false, detail: 'closed' }) }],
    })
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)

    const metrics = await fetch(`${server.url}/metrics`)
    assert.equal(metrics.status, 200)
    assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/)
    const text = await metrics.text()
    assert.match(text, /^liqnet_process_cpu_user_seconds_total /m)
    assert.match(text, /liqnet_nodejs_eventloop_lag_seconds/)

    const health = await fetch(`${server.url}/healthz`)
    assert.equal(health.status, 200)
    assert.equal(((await health.json()) as { status: string }).status, 'alive')

    const ready = async () => {
      const r = await fetch(`${server!.url}/readyz`)
      return { status: r.status, body: (await r.json()) as { status: string; failing: string[]; checks: { name: string; ok: boolean; info?: { head?: number }; detail?: string }[] } }
    }
    let r = await ready()
    assert.equal(r.status, 200)
    assert.equal(r.body.status, 'ready')
    assert.equal(r.body.checks.find((c) => c.name === 'rpc:chain-a')!.info!.head, 0)

    // An injected check fails: 503 naming it.
    storeOpen = false
    r = await ready()
    assert.equal(r.status, 503)
    assert.deepEqual(r.body.failing, ['store'])
    storeOpen = true

    // The RPC goes away: degraded, named, and the metric says so.
    await anvil.stop()
    r = await ready()
    assert.equal(r.status, 503)
    assert.deepEqual(r.body.failing, ['rpc:chain-a'])
    assert.ok(r.body.checks.find((c) => c.name === 'rpc:chain-a')!.detail)
    assert.match(await (await fetch(`${server.url}/metrics`)).text(), /liqnet_ready_check_up\{check="rpc:chain-a"\} 0/)

    // It comes back on the same port: ready again.
    anvil = await startAnvil({ chainId: 31337, port: rpcPort })
    r = await ready()
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.match(await (await fetch(`${server.url}/metrics`)).text(), /liqnet_ready_check_up\{check="rpc:chain-a"\} 1/)
  })

  it('a port already in use is a one-line PortInUseError naming the port and the key', async () => {
    const first = await startMetricsServer({ register: createMetricsRegistry({ defaultMetrics: false }), port: 0 })
    stopped.push(first.close)
    await assert.rejects(
      startMetricsServer({ register: createMetricsRegistry({ defaultMetrics: false }), port: first.port }),
      (e: unknown) => e instanceof PortInUseError && e.shortMessage === `Port ${first.port} on 127.0.0.1 is already in use (metrics server); set metrics.port to a free port.` && !e.shortMessage.includes('\n'),
    )
  })
})
