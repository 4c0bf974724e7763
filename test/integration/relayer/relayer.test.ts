import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createWalletClient, encodeFunctionData, http, type Hex } from 'viem'
import { endpointV2Abi, simpleMessageLibAbi } from '../../../contracts/out/abis.js'
import { accountOf, RELAYER_KEY } from '../../../chains/devnet/accounts.js'
import { setBlockTime } from '../../../chains/devnet/anvil.js'
import { decodeEndpointLog, endpointTopics, LzMessageTracker, type LzPacketDelivered, type LzPacketSent } from '../../../chains/bridges/layerzero/index.js'
import { startRelayer, type Relayer } from '../../../chains/devnet/relayer.js'
import { createChainClient } from '../../../chains/evm/client.js'
import { deliveries, KIND, received, sendPings, startPingChains, until, type PingChain } from './helpers.js'

/** Every PacketSent of a chain's endpoint, decoded. */
async function packetsSent(c: PingChain): Promise<LzPacketSent[]> {
  const logs = await c.client.getLogs({ address: c.endpoint, fromBlock: 0n, toBlock: 'latest' })
  return logs.filter((l) => l.topics[0] === endpointTopics.packetSent).map((l) => decodeEndpointLog(l) as LzPacketSent)
}

/** PacketDelivered events on a chain's endpoint. */
async function deliveredCount(c: PingChain): Promise<number> {
  const logs = await c.client.getLogs({ address: c.endpoint, fromBlock: 0n, toBlock: 'latest' })
  return logs.filter((l) => l.topics[0] === endpointTopics.packetDelivered).length
}

function trackerOf(chains: PingChain[]): LzMessageTracker {
  return new LzMessageTracker({
    chains: chains.map((c) => ({ eid: c.eid, endpoint: c.endpoint, client: createChainClient({ chainId: c.chainId, rpcUrls: [c.anvil.rpcUrl], retryCount: 0 }) })),
  })
}

describe('devnet LayerZero relayer (2 anvil chains, real EndpointV2 + SimpleMessageLib)', function () {
  this.timeout(60_000)
  let chains: PingChain[]
  let a: PingChain
  let b: PingChain
  let dir: string
  const relayers: Relayer[] = []

  before(async () => {
    chains = await startPingChains(2)
    ;[a, b] = chains as [PingChain, PingChain]
    dir = mkdtempSync(join(tmpdir(), 'liqnet-relayer-'))
  })

  after(async () => {
    await Promise.all(relayers.map((r) => r.stop()))
    await Promise.all((chains ?? []).map((c) => c.anvil.stop()))
    rmSync(dir, { recursive: true, force: true })
  })

  async function relayer(stateFile: string, extra: { maxAttempts?: number } = {}): Promise<Relayer> {
    const r = await startRelayer({ chains: chains.map((c) => c.relayer), stateFile, pollMs: 30, ...extra })
    relayers.push(r)
    return r
  }

  it('delivers A -> B -> A: the pong is sent from inside lzReceive and delivered back; the tracker follows both GUIDs', async () => {
    const tracker = trackerOf(chains)
    const before = { a: await received(a), b: await received(b) }
    await sendPings(a, b, [1], KIND.roundTrip)
    const r = await relayer(join(dir, 'roundtrip.json'))
    await until(async () => (await received(a)) === before.a + 1n, 20_000, 'the pong on A')
    await r.stop()

    assert.equal(await received(b), before.b + 1n)
    await tracker.poll()
    const msgs = tracker.list()
    assert.equal(msgs.length, 2, 'ping and pong')
    const ping = msgs.find((m) => m.packet!.srcEid === a.eid)!
    const pong = msgs.find((m) => m.packet!.srcEid === b.eid)!
    for (const m of [ping, pong]) {
      assert.equal(m.state, 'delivered')
      assert.ok(m.sent && m.verified && m.delivered, 'sent, verified and delivered logs')
      assert.equal(m.lzReceive?.gas, 200_000n)
    }
    assert.equal(ping.packet!.dstEid, b.eid)
    assert.equal(pong.packet!.dstEid, a.eid)
    // The pong was sent in the transaction that delivered the ping.
    assert.equal(pong.sent!.transactionHash, ping.delivered!.transactionHash)
    assert.equal(await deliveries(b, ping.guid), 1n)
    assert.equal(await deliveries(a, pong.guid), 1n)
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'roundtrip.json'), 'utf8')).version, 1)
  })

  it('packets left verified but not delivered (a relayer stopped between its two steps) and a restart mid-run: every message is delivered exactly once, none validated twice', async () => {
    const stateFile = join(dir, 'restart.json')
    const startA = await received(a)
    const startB = await received(b)
    const hashesAB = await sendPings(a, b, [10, 11, 12, 13, 14, 15])
    const hashesBA = await sendPings(b, a, [20, 21, 22, 23])
    // The state a relayer leaves when it stops after validatePacket and before lzReceive: the first three A -> B
    // packets verified on B (by the whitelisted relayer key), not delivered.
    const preVerified = (await packetsSent(a)).filter((e) => hashesAB.includes(e.log.transactionHash)).slice(0, 3)
    const wallet = createWalletClient({ account: accountOf(RELAYER_KEY), transport: http(b.anvil.rpcUrl) })
    for (const e of preVerified) {
      const hash = await wallet.sendTransaction({ chain: null, to: b.lib, data: encodeFunctionData({ abi: simpleMessageLibAbi, functionName: 'validatePacket', args: [e.packet.encoded] }), gas: 300_000n })
      assert.equal((await b.client.waitForTransactionReceipt({ hash })).status, 'success')
    }

    const first = await relayer(stateFile)
    // Stop at the first delivery: the other chain's batch may be cut short.
    await new Promise<void>((res) => first.addEventListener('relayer:delivered', () => void first.stop().then(res), { once: true }))
    const deliveredByFirst = first.stats.delivered
    assert.ok(deliveredByFirst >= 1)

    const second = await relayer(stateFile)
    await second.settled(AbortSignal.timeout(30_000))
    await second.stop()

    assert.equal(await received(b), startB + 6n)
    assert.equal(await received(a), startA + 4n)
    assert.equal(first.stats.delivered + second.stats.delivered, 10, 'ten lzReceive transactions in all')
    assert.equal(first.stats.verified + second.stats.verified, 10 - preVerified.length, 'no packet validated twice')
    // Exactly once: per GUID and per endpoint.
    const sentAB = (await packetsSent(a)).filter((e) => hashesAB.includes(e.log.transactionHash))
    const sentBA = (await packetsSent(b)).filter((e) => hashesBA.includes(e.log.transactionHash))
    assert.equal(sentAB.length, 6)
    assert.equal(sentBA.length, 4)
    for (const e of sentAB) assert.equal(await deliveries(b, e.packet.guid), 1n, `GUID ${e.packet.guid} delivered once on B`)
    for (const e of sentBA) assert.equal(await deliveries(a, e.packet.guid), 1n, `GUID ${e.packet.guid} delivered once on A`)
    const lastAB = sentAB.at(-1)!.packet
    const lazy = await b.client.readContract({ address: b.endpoint, abi: endpointV2Abi, functionName: 'lazyInboundNonce', args: [lastAB.receiverAddress, a.eid, lastAB.sender] })
    assert.equal(lazy, lastAB.nonce, 'the lazy inbound nonce reached the last nonce')
    // Every PacketSent so far (round trip test included) has exactly one PacketDelivered.
    assert.equal(await deliveredCount(b), (await packetsSent(a)).length)
    assert.equal(await deliveredCount(a), (await packetsSent(b)).length)
  })

  it('delivers a batch to a chain with interval mining in one block: every validatePacket and lzReceive share it', async () => {
    const stateFile = join(dir, 'batch.json')
    const r0 = await relayer(stateFile)
    await r0.settled(AbortSignal.timeout(20_000))
    await r0.stop()
    const startB = await received(b)
    const hashes = await sendPings(a, b, [40, 41, 42, 43, 44, 45, 46, 47])
    const stopMining = await setBlockTime(b.anvil, 1000)
    try {
      const r = await relayer(stateFile)
      await until(async () => (await received(b)) === startB + 8n, 20_000, 'eight deliveries on B')
      await r.stop()
      assert.equal(r.stats.verified, 8)
      assert.equal(r.stats.delivered, 8)
    } finally {
      stopMining()
      await setBlockTime(b.anvil, 0)
    }
    const nonces = new Set((await packetsSent(a)).filter((e) => hashes.includes(e.log.transactionHash)).map((e) => e.packet.nonce))
    const logs = await b.client.getLogs({ address: b.endpoint, fromBlock: 0n, toBlock: 'latest' })
    const ours = logs
      .filter((l) => l.topics[0] === endpointTopics.packetDelivered)
      .map((l) => decodeEndpointLog(l) as LzPacketDelivered)
      .filter((d) => d.origin.srcEid === a.eid && nonces.has(d.origin.nonce))
    assert.equal(ours.length, 8)
    const blocks = new Set(ours.map((d) => d.log.blockNumber))
    assert.ok(blocks.size >= 1 && blocks.size <= 2, `eight deliveries in at most 2 blocks (got ${blocks.size})`)
  })

  it('resumes from its stored cursor: a restart rescans nothing and delivers what came meanwhile', async () => {
    const stateFile = join(dir, 'cursor.json')
    const r1 = await relayer(stateFile)
    await r1.settled(AbortSignal.timeout(20_000))
    await r1.stop()
    const cursors = JSON.parse(readFileSync(stateFile, 'utf8')).chains as Record<string, { nextBlock: string }>
    assert.equal(Object.keys(cursors).length, 2)

    const startB = await received(b)
    await sendPings(a, b, [30])
    const r2 = await relayer(stateFile)
    await r2.settled(AbortSignal.timeout(20_000))
    await r2.stop()
    assert.equal(await received(b), startB + 1n)
    assert.equal(r2.stats.packetsSeen, 1, 'only the new packet was scanned')
    assert.equal(r2.stats.delivered, 1)
  })

  it('a message whose lzReceive reverts is alerted (LzReceiveAlert) and does not block the messages after it', async () => {
    const tracker = trackerOf(chains)
    const startB = await received(b)
    await sendPings(a, b, [40], KIND.revert)
    await sendPings(a, b, [41, 42])
    const r = await relayer(join(dir, 'alert.json'), { maxAttempts: 2 })
    await until(async () => (await received(b)) === startB + 2n && r.stats.alerts === 1, 20_000, 'two deliveries and one alert')
    await r.stop()
    await tracker.poll()
    const alerted = tracker.list().filter((m) => m.state === 'alerted')
    assert.equal(alerted.length, 1)
    const m = alerted[0]!
    assert.ok(m.alert && m.alert.reason.length >= 10, 'the alert carries the revert data')
    // PingRejected(uint64 id = 40)
    assert.ok(m.alert.reason.endsWith((40).toString(16).padStart(64, '0')), 'revert data of PingRejected(40)')
    assert.equal(await deliveries(b, m.guid as Hex), 0n)
  })
})
