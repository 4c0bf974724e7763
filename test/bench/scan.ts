/**
 * Scan benchmark: against a devnet chain, seeds `--morpho` Morpho Blue borrowers (default 10,000)
 * and `--aave` Aave V3 users (default 2,000) with the devnet's seeders (real transactions), applies
 * the scenario's price shock (part of the book becomes liquidatable), then times discovery (chunked getLogs) and the read + evaluate scan at one block, and prints one JSON
 * line per protocol and position source:
 *   {"bench":"scan","protocol":"morpho-blue","positions":10000,"positionsPerSecond":…,…}
 * plus a breakdown of the Morpho hot path (slot derivation, eth_call wall time, decoding, evaluation).
 *
 * usage: npm run bench -- scan [--morpho 10000] [--aave 2000] [--rounds 5] [--concurrency 2]
 *                              [--scenario scenarios/devnet/test.yaml]
 */
import { parseArgs } from 'node:util'
import type { Address } from 'viem'
import { readAaveAccounts, discoverAaveUsers } from '../../chains/aave/reader.js'
import { applyPriceSteps, seedAaveUsers, seedMorphoBorrowers, startDevnet } from '../../chains/devnet/devnet.js'
import { createChainClient, readBlockRef, type ChainClient } from '../../chains/evm/client.js'
import { decodeAggregate3, encodeAggregate3, estimateGasPerCall } from '../../chains/evm/multicall.js'
import { discoverMorphoBorrowers, evaluateMorphoPositions, positionBorrowSharesAndCollateralSlot, readMorphoMarkets, readMorphoPositions, readMorphoPositionsBySlots, scanMorpho, type MorphoPositionKey } from '../../chains/morpho/reader.js'

const ms = (t0: number) => performance.now() - t0
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Wraps client.request to sum eth_call wall time and response size (concurrent calls overlap: wall time is measured per scan). */
function instrument(client: ChainClient) {
  const stats = { calls: 0, responseChars: 0, requestChars: 0 }
  const original = client.request
  client.request = (async (args: { method: string; params?: unknown[] }, opts?: unknown) => {
    const out = await (original as (a: unknown, o?: unknown) => Promise<unknown>)(args, opts)
    if (args.method === 'eth_call') {
      stats.calls++
      stats.responseChars += typeof out === 'string' ? out.length : 0
      stats.requestChars += JSON.stringify(args.params).length
    }
    return out
  }) as typeof client.request
  return { stats, reset: () => Object.assign(stats, { calls: 0, responseChars: 0, requestChars: 0 }) }
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      morpho: { type: 'string', default: '10000' },
      aave: { type: 'string', default: '2000' },
      rounds: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '2' },
      scenario: { type: 'string', default: 'scenarios/devnet/test.yaml' },
    },
  })
  const nMorpho = Number(values.morpho)
  const nAave = Number(values.aave)
  const rounds = Number(values.rounds)
  const concurrency = Number(values.concurrency)
  const devnet = await startDevnet({ scenario: values.scenario!, log: (l) => process.stderr.write(`${l}\n`) })
  try {
    const chain = devnet.chains[0]
    const client = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], timeoutMs: 60_000 })
    const { stats, reset } = instrument(client)
    const morpho = chain.deployment.morpho!
    const [marketName, market] = Object.entries(morpho.markets)[0]

    // ── Morpho Blue ──
    const seedM = await seedMorphoBorrowers(chain, marketName, nMorpho)
    process.stderr.write(`seeded ${seedM.borrowers.length} Morpho borrowers in ${round(seedM.seconds)} s (${seedM.transactions} txs)\n`)
    const seedA = await seedAaveUsers(chain, nAave)
    process.stderr.write(`seeded ${seedA.borrowers.length} Aave users in ${round(seedA.seconds)} s (${seedA.transactions} txs)\n`)
    // The scenario's price shock: part of the book becomes liquidatable, so the scan also prices liquidations.
    await applyPriceSteps({ chains: [chain] }, devnet.scenario.pricePath)
    const head = await client.getBlockNumber()
    let t = performance.now()
    const borrowers = await discoverMorphoBorrowers(client, { morpho: morpho.address, market: market.id, fromBlock: market.startBlock, toBlock: head })
    const discoveryMs = ms(t)
    const block = await readBlockRef(client, head)
    const keys: MorphoPositionKey[] = borrowers.map((borrower) => ({ market: market.id, borrower }))

    // Cold: slot derivation (keccak per borrower) is paid once per borrower, then cached.
    t = performance.now()
    for (const k of keys) positionBorrowSharesAndCollateralSlot(k.market, k.borrower)
    const slotsMs = ms(t)

    // Where the time goes in one eth_call of the hot path: a raw fetch (node execution + JSON-RPC
    // transfer) of 2,000 position slots through aggregate3, then decoding its answer.
    const probeKeys = keys.slice(0, 2000)
    const slotCalls = [{ target: morpho.address, callData: ('0x7784c685' + (32).toString(16).padStart(64, '0') + probeKeys.length.toString(16).padStart(64, '0') + probeKeys.map((k) => positionBorrowSharesAndCollateralSlot(k.market, k.borrower).slice(2)).join('')) as `0x${string}` }]
    const getterCalls = probeKeys.map((k) => ({ target: morpho.address, callData: `0x93c52062${k.market.slice(2)}${k.borrower.slice(2).toLowerCase().padStart(64, '0')}` as `0x${string}` }))
    const probe: Record<string, unknown> = {}
    for (const [name, calls] of [['extSloads', slotCalls], ['position', getterCalls]] as const) {
      const data = encodeAggregate3(calls)
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ to: chain.deployment.multicall3, data }, `0x${block.blockNumber.toString(16)}`] })
      const fetchTimes: number[] = []
      let text = ''
      for (let r = 0; r < 3; r++) {
        t = performance.now()
        text = await (await fetch(chain.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text()
        fetchTimes.push(ms(t))
      }
      t = performance.now()
      const hex = (JSON.parse(text) as { result: string }).result
      let sum = 0n
      decodeAggregate3(hex, calls.length, (_i, _ok, h, s, e) => {
        for (let at = name === 'extSloads' ? s + 128 : s + 64; at < e; at += name === 'extSloads' ? 64 : 192) sum += BigInt('0x' + h.slice(at, at + 64))
      })
      const decodeMs = ms(t)
      const gas = name === 'extSloads' ? undefined : await estimateGasPerCall(client, getterCalls.slice(0, 64), { blockNumber: block.blockNumber })
      probe[name] = { positions: probeKeys.length, ethCallMs: round(median(fetchTimes)), responseKB: Math.round(text.length / 1024), parseAndDecodeMs: round(decodeMs), ...(gas ? { gasPerCall: Number(gas) } : {}) }
      void sum
    }
    console.log(JSON.stringify({ bench: 'scan', protocol: 'morpho-blue', probe }))

    for (const source of ['extSloads', 'position'] as const) {
      const times: number[] = []
      let liquidatable = 0
      let positions = 0
      for (let r = 0; r < rounds; r++) {
        reset()
        t = performance.now()
        const scan = await scanMorpho(client, { morpho: morpho.address, borrowers: new Map([[market.id, borrowers]]), block }, { positionSource: source, concurrency })
        times.push(ms(t))
        liquidatable = scan.accounts.filter((a) => a.liquidatable).length
        positions = scan.positions.length
      }
      const callStats = { ...stats }
      // Breakdown of one warm scan: market reads, position reads (eth_call + decode), evaluation.
      t = performance.now()
      const snapshots = await readMorphoMarkets(client, morpho.address, [market.id], block)
      const marketsMs = ms(t)
      t = performance.now()
      const read = source === 'extSloads' ? readMorphoPositionsBySlots : readMorphoPositions
      const pos = await read(client, morpho.address, keys, { blockNumber: block.blockNumber, concurrency })
      const readMs = ms(t)
      t = performance.now()
      evaluateMorphoPositions(morpho.address, block, new Map(snapshots.map((s) => [s.id, s])), keys, pos)
      const evalMs = ms(t)
      const scanMs = median(times)
      console.log(
        JSON.stringify({
          bench: 'scan',
          protocol: 'morpho-blue',
          positionSource: source,
          positions,
          positionsPerSecond: Math.round((positions / scanMs) * 1000),
          bestPositionsPerSecond: Math.round((positions / Math.min(...times)) * 1000),
          scanSeconds: round(scanMs / 1000, 3),
          rounds,
          concurrency,
          liquidatable,
          discoverySeconds: round(discoveryMs / 1000, 3),
          seedSeconds: round(seedM.seconds, 1),
          breakdownMs: {
            slotDerivationCold: source === 'extSloads' ? round(slotsMs) : 0,
            marketReads: round(marketsMs),
            positionReads: round(readMs),
            evaluate: round(evalMs),
          },
          ethCallsPerScan: callStats.calls,
          responseKBPerScan: Math.round(callStats.responseChars / 2 / 1024),
          requestKBPerScan: Math.round(callStats.requestChars / 2 / 1024),
        }),
      )
    }

    // ── Aave V3 ──
    const aave = chain.deployment.aave!
    const deployment = { pool: aave.pool, dataProvider: aave.dataProvider, oracle: aave.oracle, startBlock: aave.startBlock }
    const headA = await client.getBlockNumber()
    t = performance.now()
    const users: Address[] = await discoverAaveUsers(client, { pool: aave.pool, fromBlock: aave.startBlock, toBlock: headA })
    const discoveryA = ms(t)
    const blockA = await readBlockRef(client, headA)
    for (const detail of ['all', 'none'] as const) {
      const times: number[] = []
      let accounts = 0
      let liquidatable = 0
      for (let r = 0; r < rounds; r++) {
        reset()
        t = performance.now()
        const scan = await readAaveAccounts(client, { deployment, users, block: blockA }, { reserveDetail: detail, concurrency })
        times.push(ms(t))
        accounts = scan.accounts.length
        liquidatable = scan.accounts.filter((a) => a.liquidatable).length
      }
      const scanMs = median(times)
      console.log(
        JSON.stringify({
          bench: 'scan',
          protocol: 'aave-v3',
          reserveDetail: detail,
          positions: users.length,
          accountsWithDebt: accounts,
          positionsPerSecond: Math.round((users.length / scanMs) * 1000),
          bestPositionsPerSecond: Math.round((users.length / Math.min(...times)) * 1000),
          scanSeconds: round(scanMs / 1000, 3),
          rounds,
          concurrency,
          liquidatable,
          discoverySeconds: round(discoveryA / 1000, 3),
          seedSeconds: round(seedA.seconds, 1),
          ethCallsPerScan: stats.calls,
          responseKBPerScan: Math.round(stats.responseChars / 2 / 1024),
        }),
      )
    }
  } finally {
    await devnet.stop()
  }
}
