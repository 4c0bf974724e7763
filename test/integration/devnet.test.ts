/**
 * The devnet on real anvil chains (scenarios/devnet/test.yaml): a cold start deploys everything and dumps the
 * state; a warm start reloads the dump, faster, with identical addresses. Checks the deployment file, the
 * LayerZero wiring read back from each EndpointV2, Multicall3, the pools, the borrowers' positions on both
 * protocols around the documented shock, the price helper and the bulk seeders.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getAddress, type Address, type PublicClient } from 'viem'
import {
  aaveOracleAbi,
  aavePoolAbi,
  endpointV2Abi,
  morphoAbi,
  morphoFeedOracleAbi,
  simpleMessageLibAbi,
  uniswapV2PairAbi,
} from '../../contracts/out/abis.js'
import {
  applyPriceSteps,
  devnetClient,
  readDeploymentFile,
  seedAaveUsers,
  seedMorphoBorrowers,
  setPriceUsd,
  startDevnet,
} from '../../chains/devnet/devnet.js'
import { InvalidScenarioError, loadScenario, toUnits } from '../../chains/devnet/scenario.js'
import { AnvilStartError, runningAnvilPids, startAnvil } from '../../chains/devnet/anvil.js'
import type { Devnet, DevnetChain } from '../../chains/devnet/types.js'

const SCENARIO = 'scenarios/devnet/test.yaml'
const WAD = 10n ** 18n

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('devnet (chain)', function () {
  this.timeout(60_000)
  let stateDir: string
  let cold: Devnet | undefined
  let warm: Devnet | undefined
  const lines: string[] = []

  before(async function () {
    stateDir = mkdtempSync(join(tmpdir(), 'liqnet-devnet-'))
    cold = await startDevnet({ scenario: SCENARIO, stateDir, fresh: true, log: (l) => lines.push(l) })
  })

  after(async function () {
    await cold?.stop()
    await warm?.stop()
    rmSync(stateDir, { recursive: true, force: true })
  })

  it('cold start: deploys both chains from nothing and prints devnetColdStartSeconds', function () {
    assert.ok(cold)
    assert.equal(cold.coldStart, true)
    const figure = lines.map((l) => (l.startsWith('{') ? JSON.parse(l) : undefined)).find((o) => o?.devnetColdStartSeconds !== undefined)
    assert.equal(figure?.devnetColdStartSeconds, cold.startSeconds)
    assert.deepEqual(cold.chains.map((c) => [c.name, c.chainId, c.eid]), [['alpha', 31101, 40101], ['beta', 31102, 40102]])
    for (const c of cold.chains) {
      assert.match(c.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.ok(alive(c.pid))
    }
  })

  it('writes the deployment file with the addresses of every chain, each holding code', async function () {
    const file = readDeploymentFile(cold!.deploymentFile)
    assert.equal(file.scenario, 'test')
    assert.deepEqual(Object.keys(file.chains), ['alpha', 'beta'])
    for (const c of cold!.chains) {
      const f = file.chains[c.name]
      assert.equal(f.rpcUrl, c.rpcUrl)
      assert.deepEqual(f.deployment, c.deployment)
      assert.equal(f.accounts.relayer.address, c.accounts.relayer.address)
      assert.deepEqual(Object.keys(f.accounts.borrowers).sort(), ['aave-above', 'aave-below', 'aave-deep', 'morpho-above', 'morpho-below'])
      const d = c.deployment
      const addresses: Address[] = [
        d.multicall3,
        ...Object.values(d.tokens).map((t) => t.address),
        ...Object.values(d.priceFeeds),
        d.morpho!.address,
        d.morpho!.irm,
        ...Object.values(d.morpho!.markets).map((m) => m.oracle),
        d.aave!.pool,
        d.aave!.addressesProvider,
        d.aave!.oracle,
        d.aave!.dataProvider,
        ...Object.values(d.aave!.reserves).flatMap((r) => [r.aToken, r.variableDebtToken, r.stableDebtToken]),
        d.uniswapV2!.factory,
        ...Object.values(d.uniswapV2!.pairs).map((p) => p.address),
        d.layerzero.endpoint,
        d.layerzero.sendLib,
      ]
      const client = devnetClient(c)
      const codes = await Promise.all(addresses.map((address) => client.getCode({ address })))
      codes.forEach((code, i) => assert.ok(code && code.length > 2, `${c.name}: no code at ${addresses[i]}`))
    }
    // bigints survive the JSON round trip
    assert.equal(typeof file.chains.alpha.deployment.morpho!.markets['WETH/USDC'].params.lltv, 'bigint')
    assert.equal(JSON.parse(readFileSync(cold!.deploymentFile, 'utf8')).chains.alpha.deployment.morpho.markets['WETH/USDC'].params.lltv, '860000000000000000')
  })

  it('wires LayerZero EndpointV2 + SimpleMessageLib for every pair of chains with the scenario EIDs', async function () {
    for (const c of cold!.chains) {
      const client = devnetClient(c)
      const { endpoint, sendLib, receiveLib, eid } = c.deployment.layerzero
      const read = (functionName: string, args: readonly unknown[] = []) =>
        client.readContract({ address: endpoint, abi: endpointV2Abi, functionName, args } as never) as Promise<unknown>
      assert.equal(await read('eid'), eid)
      assert.equal(await read('isRegisteredLibrary', [sendLib]), true)
      for (const other of cold!.chains.filter((o) => o !== c)) {
        assert.equal(getAddress((await read('defaultSendLibrary', [other.eid])) as Address), getAddress(sendLib))
        assert.equal(getAddress((await read('defaultReceiveLibrary', [other.eid])) as Address), getAddress(receiveLib))
        assert.equal(await read('isSupportedEid', [other.eid]), true)
      }
      const whitelisted = await client.readContract({ address: sendLib, abi: simpleMessageLibAbi, functionName: 'whitelistCaller' })
      assert.equal(getAddress(whitelisted), getAddress(c.accounts.relayer.address))
    }
  })

  it('plants Multicall3 and seeds the Uniswap V2 pairs with the scenario reserves', async function () {
    const scenario = loadScenario(SCENARIO)
    for (const c of cold!.chains) {
      const client = devnetClient(c)
      const pairs = scenario.chains.find((s) => s.name === c.name)!.uniswapV2!.pairs
      const results = await client.multicall({
        contracts: Object.values(c.deployment.uniswapV2!.pairs).map((p) => ({ address: p.address, abi: uniswapV2PairAbi, functionName: 'getReserves' }) as const),
        allowFailure: false,
      })
      pairs.forEach((p, i) => {
        const pair = c.deployment.uniswapV2!.pairs[`${p.tokens[0]}/${p.tokens[1]}`]
        const [r0, r1] = results[i]
        const a = c.deployment.tokens[p.tokens[0]]
        const want0 = toUnits(p.reserves[0], a.decimals)
        const want1 = toUnits(p.reserves[1], c.deployment.tokens[p.tokens[1]].decimals)
        const aIsToken0 = getAddress(pair.token0) === getAddress(a.address)
        assert.deepEqual([r0, r1], aIsToken0 ? [want0, want1] : [want1, want0])
      })
    }
  })

  it('opens the borrowers positions: Morpho and Aave, on both sides of the threshold after the shock', async function () {
    for (const c of cold!.chains) {
      const client = devnetClient(c)
      const market = c.deployment.morpho!.markets['WETH/USDC']
      for (const name of ['morpho-above', 'morpho-below']) {
        const [, borrowShares, collateral] = await client.readContract({ address: c.deployment.morpho!.address, abi: morphoAbi, functionName: 'position', args: [market.id, c.accounts.borrowers[name].address] })
        assert.equal(collateral, WAD, `${c.name} ${name} collateral`)
        assert.ok(borrowShares > 0n, `${c.name} ${name} has no borrow`)
      }
      for (const name of ['aave-above', 'aave-below', 'aave-deep']) {
        const data = await client.readContract({ address: c.deployment.aave!.pool, abi: aavePoolAbi, functionName: 'getUserAccountData', args: [c.accounts.borrowers[name].address] })
        assert.ok(data[1] > 0n && data[5] > WAD, `${c.name} ${name}: debt ${data[1]}, health factor ${data[5]}`)
      }
    }
    // The documented shock: WETH $3000 → $2400 on every chain.
    await applyPriceSteps(cold!, cold!.scenario.pricePath)
    for (const c of cold!.chains) {
      const client = devnetClient(c)
      const hf = async (name: string) =>
        (await client.readContract({ address: c.deployment.aave!.pool, abi: aavePoolAbi, functionName: 'getUserAccountData', args: [c.accounts.borrowers[name].address] }))[5]
      const [above, below, deep] = await Promise.all([hf('aave-above'), hf('aave-below'), hf('aave-deep')])
      assert.ok(above > WAD && above < (WAD * 105n) / 100n, `aave-above HF ${above}`)
      assert.ok(below < WAD && below > (WAD * 95n) / 100n, `aave-below HF ${below}`)
      assert.ok(deep < (WAD * 95n) / 100n, `aave-deep HF ${deep}`)
      // Morpho: HF = collateral · price / 1e36 · LLTV / debt (interest is negligible here).
      const market = c.deployment.morpho!.markets['WETH/USDC']
      const price = await client.readContract({ address: market.oracle, abi: morphoFeedOracleAbi, functionName: 'price' })
      assert.equal(price, 2400n * 10n ** 24n)
      const [, , totalBorrowAssets, totalBorrowShares] = await client.readContract({ address: c.deployment.morpho!.address, abi: morphoAbi, functionName: 'market', args: [market.id] })
      const morphoHf = async (name: string) => {
        const [, shares, collateral] = await client.readContract({ address: c.deployment.morpho!.address, abi: morphoAbi, functionName: 'position', args: [market.id, c.accounts.borrowers[name].address] })
        const debt = (shares * (totalBorrowAssets + 1n) + totalBorrowShares + 10n ** 6n - 1n) / (totalBorrowShares + 10n ** 6n)
        return (((collateral * price) / 10n ** 36n) * market.params.lltv) / debt
      }
      assert.ok((await morphoHf('morpho-above')) > WAD)
      assert.ok((await morphoHf('morpho-below')) < WAD)
    }
  })

  it('setPriceUsd moves the Aave and the Morpho price together', async function () {
    const c = cold!.chains[1]
    const client = devnetClient(c)
    await setPriceUsd(c, 'WETH', 2000n * 10n ** 8n)
    const aavePrice = await client.readContract({ address: c.deployment.aave!.oracle, abi: aaveOracleAbi, functionName: 'getAssetPrice', args: [c.deployment.tokens.WETH.address] })
    const morphoPrice = await client.readContract({ address: c.deployment.morpho!.markets['WETH/USDC'].oracle, abi: morphoFeedOracleAbi, functionName: 'price' })
    assert.equal(aavePrice, 2000n * 10n ** 8n)
    assert.equal(morphoPrice, 2000n * 10n ** 24n)
  })

  it('stops the chains by PID', async function () {
    const pids = cold!.chains.map((c) => c.pid)
    await cold!.stop()
    await cold!.stop() // idempotent
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} still alive`)
    for (const pid of pids) assert.ok(!runningAnvilPids().includes(pid))
  })

  it('warm start: reloads the dumped state faster, with identical addresses and positions', async function () {
    lines.length = 0
    warm = await startDevnet({ scenario: SCENARIO, stateDir, log: (l) => lines.push(l) })
    assert.equal(warm.coldStart, false, lines.join('\n'))
    assert.ok(warm.startSeconds < cold!.startSeconds, `warm ${warm.startSeconds} s, cold ${cold!.startSeconds} s`)
    assert.ok(lines.some((l) => l.startsWith('{"devnetWarmStartSeconds"')))
    assert.deepEqual(warm.chains.map((c) => c.deployment), cold!.chains.map((c) => c.deployment))
    for (const c of warm.chains) {
      const client = devnetClient(c)
      // The dump was taken before the shock: prices and positions are as deployed.
      const aavePrice = await client.readContract({ address: c.deployment.aave!.oracle, abi: aaveOracleAbi, functionName: 'getAssetPrice', args: [c.deployment.tokens.WETH.address] })
      assert.equal(aavePrice, 3000n * 10n ** 8n)
      const data = await client.readContract({ address: c.deployment.aave!.pool, abi: aavePoolAbi, functionName: 'getUserAccountData', args: [c.accounts.borrowers['aave-below'].address] })
      assert.ok(data[1] > 0n)
      // History is kept: the market's CreateMarket event is still there at its start block.
      const logs = await client.getLogs({ address: c.deployment.morpho!.address, fromBlock: c.deployment.morpho!.markets['WETH/USDC'].startBlock, toBlock: c.deployment.morpho!.markets['WETH/USDC'].startBlock })
      assert.ok(logs.length > 0)
    }
  })

  it('seeds bulk Morpho borrowers and Aave users with real transactions', async function () {
    const c: DevnetChain = warm!.chains[0]
    const morpho = await seedMorphoBorrowers(c, 'WETH/USDC', 60, { chunkSize: 25 })
    assert.equal(morpho.borrowers.length, 60)
    assert.equal(morpho.transactions, 4) // liquidity + 3 chunks
    const client: PublicClient = devnetClient(c)
    const market = c.deployment.morpho!.markets['WETH/USDC']
    const [, shares, collateral] = await client.readContract({ address: c.deployment.morpho!.address, abi: morphoAbi, functionName: 'position', args: [market.id, morpho.borrowers[59]] })
    assert.equal(collateral, WAD)
    assert.ok(shares > 0n)
    const aave = await seedAaveUsers(c, 10)
    assert.equal(aave.borrowers.length, 10)
    const data = await client.readContract({ address: c.deployment.aave!.pool, abi: aavePoolAbi, functionName: 'getUserAccountData', args: [aave.borrowers[9]] })
    assert.ok(data[1] > 0n && data[5] > WAD)
  })

  it('reports an anvil that cannot start (bad state file) as AnvilStartError, leaving no process', async function () {
    const before = runningAnvilPids().length
    const bad = join(stateDir, 'not-a-state.json')
    await import('node:fs').then((fs) => fs.writeFileSync(bad, 'garbage'))
    await assert.rejects(startAnvil({ chainId: 31199, loadState: bad, startTimeoutMs: 10_000 }), (e: unknown) => e instanceof AnvilStartError)
    assert.equal(runningAnvilPids().length, before)
  })

  it('refuses a malformed scenario before starting any chain', async function () {
    const before = runningAnvilPids().length
    await assert.rejects(
      startDevnet({ scenario: { chains: [{ name: 'a', chainId: 1, eid: 1, tokens: [{ symbol: 'X', decimals: 18, priceUsd: '1' }] }, { name: 'b', chainId: 2, eid: 1, tokens: [{ symbol: 'X', decimals: 18, priceUsd: '1' }] }] }, stateDir }),
      (e: unknown) => e instanceof InvalidScenarioError && /chains\[1\]\.eid: must be unique/.test(e.message),
    )
    assert.equal(runningAnvilPids().length, before)
  })
})
