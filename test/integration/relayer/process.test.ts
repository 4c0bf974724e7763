/**
 * The relayer as its own process (`chains/devnet/relayer.ts` run directly), killed with SIGKILL mid-run and
 * restarted on the same state file: every message is still delivered exactly once.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LzPacketSent } from '../../../chains/bridges/layerzero/index.js'
import { decodeEndpointLog, endpointTopics } from '../../../chains/bridges/layerzero/index.js'
import { deliveries, received, sendPings, startPingChains, until, type PingChain } from './helpers.js'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

describe('devnet relayer process: SIGKILL mid-run and restart', function () {
  this.timeout(60_000)
  let chains: PingChain[]
  let dir: string
  const children: ChildProcess[] = []

  before(async () => {
    chains = await startPingChains(2)
    dir = mkdtempSync(join(tmpdir(), 'liqnet-relayer-proc-'))
    // A deployments.json as the devnet writes it (only what the relayer reads).
    const file = {
      chains: Object.fromEntries(
        chains.map((c, k) => [
          `chain-${k}`,
          { chainId: c.chainId, eid: c.eid, rpcUrl: c.anvil.rpcUrl, deployment: { layerzero: { endpoint: c.endpoint, sendLib: c.lib, receiveLib: c.lib, eid: c.eid } } },
        ]),
      ),
    }
    writeFileSync(join(dir, 'deployments.json'), JSON.stringify(file))
  })

  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    await Promise.all((chains ?? []).map((c) => c.anvil.stop()))
    rmSync(dir, { recursive: true, force: true })
  })

  function spawnRelayer(): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'chains/devnet/relayer.ts'), '--deployments', join(dir, 'deployments.json'), '--poll-ms', '30'], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    child.stderr!.resume()
    children.push(child)
    return child
  }

  const exited = (c: ChildProcess) => new Promise<void>((res) => (c.exitCode !== null || c.signalCode !== null ? res() : c.once('exit', () => res())))

  it('delivers every packet exactly once', async () => {
    const [a, b] = chains as [PingChain, PingChain]
    const ids = Array.from({ length: 16 }, (_, i) => 100 + i)
    await sendPings(a, b, ids)
    const first = spawnRelayer()
    await until(async () => (await received(b)) >= 3n, 30_000, 'the first deliveries')
    first.kill('SIGKILL')
    await exited(first)
    const midway = await received(b)
    assert.ok(midway < 16n, `killed before the end (${midway} delivered)`)

    const second = spawnRelayer()
    await until(async () => (await received(b)) === 16n, 30_000, 'every delivery')
    second.kill('SIGTERM')
    await exited(second)
    assert.equal(second.exitCode, 0, 'a clean stop on SIGTERM')

    const logs = await a.client.getLogs({ address: a.endpoint, fromBlock: 0n, toBlock: 'latest' })
    const sent = logs.filter((l) => l.topics[0] === endpointTopics.packetSent).map((l) => (decodeEndpointLog(l) as LzPacketSent).packet)
    assert.equal(sent.length, 16)
    for (const p of sent) assert.equal(await deliveries(b, p.guid), 1n)
    const delivered = (await b.client.getLogs({ address: b.endpoint, fromBlock: 0n, toBlock: 'latest' })).filter((l) => l.topics[0] === endpointTopics.packetDelivered)
    assert.equal(delivered.length, 16, 'one PacketDelivered per packet')
  })
})
