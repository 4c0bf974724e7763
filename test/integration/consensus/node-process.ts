/**
 * One consensus node in its own process (the crash/restart test kills it with SIGKILL).
 * argv[2]: JSON { label, index, ports, dir, generation, maxHeight }. IPC in:
 * { cmd: 'setMax', height } | { cmd: 'status' } | { cmd: 'decided', height } | { cmd: 'stop' }.
 * IPC out: { type: 'ready', height } and replies with the request id. Its values carry the
 * generation in their tag, so after a restart it would build different values for the same heights.
 */
import { planConsensusCluster, startMember, testValues } from './helpers.js'

const cfg = JSON.parse(process.argv[2]) as { label: string; index: number; ports: number[]; dir: string; generation: number; maxHeight: string }
const send = (m: unknown) => process.send?.(m)
let maxHeight = BigInt(cfg.maxHeight)

const plan = await planConsensusCluster(cfg.ports.length, cfg.label, { ports: cfg.ports, dir: cfg.dir })
const me = await startMember(plan, cfg.index, {
  heightIntervalMs: 25,
  values: testValues({ tag: `node${cfg.index}/gen${cfg.generation}`, hasValue: (h) => h <= maxHeight }),
})
const decided = new Map<bigint, string>()
me.node.service.addEventListener('consensus:decided', (e) => decided.set(e.detail.height, e.detail.digest))

process.on('message', async (m: { id: number; cmd: string; height?: string }) => {
  try {
    if (m.cmd === 'setMax') {
      maxHeight = BigInt(m.height!)
      send({ id: m.id, ok: true })
    } else if (m.cmd === 'status') {
      const refusals = await me.node.register.getSingleMetricAsString('liqnet_consensus_protection_refusals_total')
      send({ id: m.id, height: String(me.node.service.height), refusals })
    } else if (m.cmd === 'decided') {
      const stored = await me.node.decisions.get(BigInt(m.height!))
      send({ id: m.id, digest: decided.get(BigInt(m.height!)) ?? stored?.digest, status: stored?.status })
    } else if (m.cmd === 'stop') {
      await me.node.stop()
      await me.host.stop()
      send({ id: m.id, stopped: true })
      process.exit(0)
    }
  } catch (err) {
    send({ id: m.id, error: String(err) })
  }
})
send({ type: 'ready', height: String(me.node.service.height) })
