import assert from 'node:assert/strict'
import { createWalletClient, encodeFunctionData, http, type Address, type Hex, maxUint256 } from 'viem'
import { aavePoolAbi, devnetERC20Abi, morphoAbi, uniswapV2PairAbi } from '../../../contracts/out/abis.js'
import { applyPriceSteps, setPriceUsd, startDevnet } from '../../../chains/devnet/devnet.js'
import { getFreePort } from '../../../chains/devnet/ports.js'
import type { Devnet, DevnetChain } from '../../../chains/devnet/types.js'
import { readAaveAccounts, discoverAaveUsers, AaveTracker } from '../../../chains/aave/reader.js'
import { createChainClient, readBlockRef, type ChainClient } from '../../../chains/evm/client.js'
import { decodeRevert, findRevertData } from '../../../chains/evm/errors.js'
import { discoverMorphoBorrowers, MorphoTracker, readMorphoPositions, readMorphoPositionsBySlots, scanMorpho } from '../../../chains/morpho/reader.js'
import { createBlockFollower } from '../../../chains/evm/follower.js'
import { poolDepth, quoteExactIn, readUniswapV2Pools } from '../../../chains/uniswap-v2/reader.js'
import { getAmountOut } from '../../../protocol/risk/uniswap-v2.js'
import type { AaveAccountHealth, MorphoAccountHealth } from '../../../chains/types.js'
import { waitFor } from './helpers.js'

type Sim = { ok: true } | { ok: false; errorName?: string; reason?: string }

describe('chain readers on the devnet (test scenario)', function () {
  this.timeout(90_000)
  let devnet: Devnet
  let chain: DevnetChain
  let client: ChainClient
  let wallet: ReturnType<typeof createWalletClient>
  let liquidator: Address
  // Blocks before and after the -20% WETH shock.
  let preShock: bigint
  let postShock: bigint

  const borrower = (name: string) => chain.accounts.borrowers[name].address
  const token = (symbol: string) => chain.deployment.tokens[symbol].address

  /** eth_call of `data` to `to` from the liquidator at `block`: success, or the decoded revert. */
  async function simulate(to: Address, data: Hex, block: bigint, abi: readonly unknown[]): Promise<Sim> {
    try {
      await client.call({ account: liquidator, to, data, blockNumber: block })
      return { ok: true }
    } catch (err) {
      const r = decodeRevert(findRevertData(err) ?? '0x', abi)
      return { ok: false, errorName: r.errorName, reason: r.args?.[0] as string | undefined }
    }
  }

  /** Sends a transaction for real; resolves to the receipt status. */
  async function send(to: Address, data: Hex): Promise<'success' | 'reverted'> {
    const hash = await wallet.sendTransaction({ account: chain.accounts.liquidator, to, data, gas: 3_000_000n, chain: null })
    return (await client.waitForTransactionReceipt({ hash, pollingInterval: 20 })).status
  }

  before(async () => {
    devnet = await startDevnet({ scenario: 'scenarios/devnet/test.yaml' })
    chain = devnet.chains[0]
    const dead = `http://127.0.0.1:${await getFreePort()}`
    // A dead URL first: every read below goes through the fallback.
    client = createChainClient({ chainId: chain.chainId, rpcUrls: [dead, chain.rpcUrl], retryCount: 1, retryDelayMs: 10, pollingIntervalMs: 50 })
    liquidator = chain.accounts.liquidator.address
    wallet = createWalletClient({ transport: http(chain.rpcUrl) })
    // Fund the liquidator with USDC and approve Morpho and the Aave Pool.
    const usdc = token('USDC')
    assert.equal(await send(usdc, encodeFunctionData({ abi: devnetERC20Abi, functionName: 'mint', args: [liquidator, 10n ** 12n] })), 'success')
    for (const spender of [chain.deployment.morpho!.address, chain.deployment.aave!.pool])
      assert.equal(await send(usdc, encodeFunctionData({ abi: devnetERC20Abi, functionName: 'approve', args: [spender, maxUint256] })), 'success')
    preShock = await client.getBlockNumber()
    await applyPriceSteps({ chains: [chain] }, devnet.scenario.pricePath)
    postShock = await client.getBlockNumber()
    assert.ok(postShock > preShock)
  })
  after(async () => {
    await devnet?.stop()
  })

  describe('Morpho Blue', () => {
    let market: NonNullable<DevnetChain['deployment']['morpho']>['markets'][string]

    async function scanAt(block: bigint): Promise<Map<string, MorphoAccountHealth>> {
      const borrowers = await discoverMorphoBorrowers(client, { morpho: chain.deployment.morpho!.address, market: market.id, fromBlock: market.startBlock, toBlock: block })
      const scan = await scanMorpho(client, { morpho: chain.deployment.morpho!.address, borrowers: new Map([[market.id, borrowers]]), blockNumber: block })
      return new Map(scan.accounts.map((a) => [a.borrower, a]))
    }

    async function liquidateData(a: MorphoAccountHealth): Promise<Hex> {
      // Healthy positions: try to seize 1 wei of collateral; liquidatable: the most the reader allows.
      const seized = a.liquidatable ? a.maxSeizable : 1n
      return encodeFunctionData({ abi: morphoAbi, functionName: 'liquidate', args: [market.params, a.borrower, seized, 0n, '0x'] })
    }

    before(() => {
      market = chain.deployment.morpho!.markets['WETH/USDC']
    })

    it('discovers the scripted borrowers from Borrow/SupplyCollateral logs', async () => {
      const found = await discoverMorphoBorrowers(client, { morpho: chain.deployment.morpho!.address, market: market.id, fromBlock: market.startBlock, toBlock: postShock, chunkSize: 3n })
      assert.ok(found.includes(borrower('morpho-above')) && found.includes(borrower('morpho-below')), `found ${found}`)
    })

    it('verdicts match a simulated liquidate at the same block, before and after the shock', async () => {
      for (const [block, expectBelow] of [[preShock, false], [postShock, true]] as const) {
        const accounts = await scanAt(block)
        const above = accounts.get(borrower('morpho-above'))!
        const below = accounts.get(borrower('morpho-below'))!
        assert.equal(above.liquidatable, false)
        assert.equal(below.liquidatable, expectBelow, `morpho-below at ${block}: HF ${below.healthFactor}`)
        for (const a of [above, below]) {
          const sim = await simulate(chain.deployment.morpho!.address, await liquidateData(a), block, morphoAbi)
          assert.equal(sim.ok, a.liquidatable, `liquidate ${a.borrower} at ${block}: reader says ${a.liquidatable}, chain says ${JSON.stringify(sim)}`)
          if (!sim.ok) assert.equal(sim.reason, 'position is healthy')
        }
        assert.ok(below.healthFactor < above.healthFactor)
        if (expectBelow) {
          assert.ok(below.healthFactor < 10n ** 18n && above.healthFactor >= 10n ** 18n)
          assert.ok(below.maxSeizable > 0n && below.maxSeizable <= below.collateral)
          assert.equal(below.liquidationIncentiveFactor, 1_043_841_336_116_910_229n) // 1/(1-0.3*0.14), rounded down
        }
      }
    })

    it('reads the same positions through extSloads (MorphoStorageLib slots) as through the position getter', async () => {
      const borrowers = await discoverMorphoBorrowers(client, { morpho: chain.deployment.morpho!.address, market: market.id, fromBlock: market.startBlock, toBlock: postShock })
      const keys = borrowers.map((b) => ({ market: market.id, borrower: b }))
      const bySlots = await readMorphoPositionsBySlots(client, chain.deployment.morpho!.address, keys, { blockNumber: postShock })
      const byGetter = await readMorphoPositions(client, chain.deployment.morpho!.address, keys, { blockNumber: postShock })
      assert.deepEqual(bySlots.map((p) => [p.borrowShares, p.collateral]), byGetter.map((p) => [p.borrowShares, p.collateral]))
      assert.ok(byGetter.every((p) => p.collateral > 0n))
    })

    it('the tracker flips on the price change without re-reading positions, and re-reads after a real liquidation', async () => {
      const tracker = new MorphoTracker(client, { morpho: chain.deployment.morpho!.address, markets: [{ id: market.id, startBlock: market.startBlock }] })
      const first = await tracker.init(preShock)
      assert.equal(first.accounts.filter((a) => a.liquidatable).length, 0)
      const upd = await tracker.update(postShock)
      assert.deepEqual(upd.priceChanged, [market.id])
      assert.equal(upd.reread, 0)
      assert.deepEqual(upd.flipped.map((a) => a.borrower), [borrower('morpho-below')])

      // Real transactions: the liquidatable one goes through, the healthy one reverts.
      const below = upd.accounts.find((a) => a.borrower === borrower('morpho-below'))!
      const above = upd.accounts.find((a) => a.borrower === borrower('morpho-above'))!
      assert.equal(await send(chain.deployment.morpho!.address, await liquidateData(above)), 'reverted')
      assert.equal(await send(chain.deployment.morpho!.address, await liquidateData(below)), 'success')
      const next = await tracker.update(await client.getBlockNumber())
      assert.ok(next.reread >= 1, 'the Liquidate log makes the tracker re-read the borrower')
      const after2 = next.accounts.find((a) => a.borrower === borrower('morpho-below'))
      assert.ok(!after2 || after2.collateral < below.collateral)
    })
  })

  describe('follower-driven tracking', () => {
    it('a follower over WebSocket drives the Morpho tracker: a price move flips the healthy borrower', async () => {
      const market = chain.deployment.morpho!.markets['WETH/USDC']
      const ws = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], wsUrls: [chain.wsUrl], pollingIntervalMs: 50 })
      const tracker = new MorphoTracker(ws, { morpho: chain.deployment.morpho!.address, markets: [{ id: market.id, startBlock: market.startBlock }] })
      const first = await tracker.init()
      assert.equal(first.accounts.find((a) => a.borrower === borrower('morpho-above'))?.liquidatable, false)
      const flipped: string[] = []
      const sources = new Set<string>()
      const follower = createBlockFollower(ws)
      follower.addEventListener('follower:block', (e) => {
        sources.add(e.detail.source)
        void tracker.update(e.detail.blockNumber).then((u) => flipped.push(...u.flipped.map((a) => a.borrower)))
      })
      await follower.start()
      try {
        await new Promise((r) => setTimeout(r, 200))
        await setPriceUsd(chain, 'WETH', 2_200n * 10n ** 8n) // morpho-above: HF 1.032 at $2400 → 0.946 at $2200
        await waitFor(() => flipped.includes(borrower('morpho-above')), 10_000, 'the flip of morpho-above')
        assert.ok(sources.has('ws'), `heads came from ${[...sources]}`)
      } finally {
        await follower.stop()
        await setPriceUsd(chain, 'WETH', 2_400n * 10n ** 8n) // back to the scenario's shocked price for the next suites
      }
    })
  })

  describe('Aave V3', () => {
    const deployment = () => ({
      pool: chain.deployment.aave!.pool,
      dataProvider: chain.deployment.aave!.dataProvider,
      oracle: chain.deployment.aave!.oracle,
      startBlock: chain.deployment.aave!.startBlock,
    })

    async function liquidationCallData(a: AaveAccountHealth): Promise<Hex> {
      const usdc = a.reserves.find((r) => r.asset === token('USDC'))
      const debtToCover = a.liquidatable ? usdc!.maxDebtToCover : 1n
      return encodeFunctionData({ abi: aavePoolAbi, functionName: 'liquidationCall', args: [token('WETH'), token('USDC'), a.user, debtToCover, false] })
    }

    it('verdicts, close factors and bonuses match liquidationCall at the same block, before and after the shock', async () => {
      const users = await discoverAaveUsers(client, { pool: deployment().pool, fromBlock: deployment().startBlock, toBlock: postShock })
      for (const name of ['aave-above', 'aave-below', 'aave-deep']) assert.ok(users.includes(borrower(name)), `${name} discovered`)
      for (const [block, shocked] of [[preShock, false], [postShock, true]] as const) {
        const scan = await readAaveAccounts(client, { deployment: deployment(), users, blockNumber: block })
        const get = (name: string) => scan.accounts.find((a) => a.user === borrower(name))!
        const expected: Record<string, [boolean, bigint]> = shocked
          ? { 'aave-above': [false, 5000n], 'aave-below': [true, 5000n], 'aave-deep': [true, 10000n] }
          : { 'aave-above': [false, 5000n], 'aave-below': [false, 5000n], 'aave-deep': [false, 5000n] }
        for (const [name, [liq, cf]] of Object.entries(expected)) {
          const a = get(name)
          assert.equal(a.liquidatable, liq, `${name} at ${block}: HF ${a.healthFactor}`)
          assert.equal(a.closeFactorBps, cf, `${name} close factor`)
          const weth = a.reserves.find((r) => r.asset === token('WETH'))!
          assert.equal(weth.liquidationBonusBps, 10500n)
          assert.ok(weth.aTokenBalance >= 10n ** 18n && weth.usageAsCollateralEnabled)
          const sim = await simulate(deployment().pool, await liquidationCallData(a), block, aavePoolAbi)
          assert.equal(sim.ok, a.liquidatable, `liquidationCall ${name} at ${block}: reader ${a.liquidatable}, chain ${JSON.stringify(sim)}`)
          if (!sim.ok) assert.equal(sim.reason, '45') // HEALTH_FACTOR_NOT_BELOW_THRESHOLD
        }
        if (shocked) {
          const deep = get('aave-deep')
          const usdc = deep.reserves.find((r) => r.asset === token('USDC'))!
          assert.equal(usdc.maxDebtToCover, usdc.totalDebt, 'close factor 100%: the whole debt')
        }
      }
    })

    it('a real liquidationCall succeeds for a liquidatable user and reverts for a healthy one; the tracker re-reads them', async () => {
      const tracker = new AaveTracker(client, deployment())
      const init = await tracker.init()
      const get = (name: string) => init.accounts.find((a) => a.user === borrower(name))!
      assert.equal(await send(deployment().pool, await liquidationCallData(get('aave-above'))), 'reverted')
      assert.equal(await send(deployment().pool, await liquidationCallData(get('aave-below'))), 'success')
      const upd = await tracker.update(await client.getBlockNumber())
      assert.ok(upd.reread >= 1)
      const below = upd.accounts.find((a) => a.user === borrower('aave-below'))!
      assert.ok(below.totalDebtBase < get('aave-below').totalDebtBase)
    })
  })

  describe('Uniswap V2', () => {
    it('the computed amount out matches a real swap to the wei; the depth curve is monotonic', async () => {
      const pair = chain.deployment.uniswapV2!.pairs['WETH/USDC'] ?? Object.values(chain.deployment.uniswapV2!.pairs)[0]
      const weth = token('WETH')
      const usdc = token('USDC')
      const amountIn = 3n * 10n ** 18n + 123_456_789n
      assert.equal(await send(weth, encodeFunctionData({ abi: devnetERC20Abi, functionName: 'mint', args: [liquidator, amountIn] })), 'success')
      const block = await readBlockRef(client)
      const [pool] = await readUniswapV2Pools(client, [{ address: pair.address }], { block })
      assert.equal(pool.token0, pair.token0)
      const { amountOut, tokenOut } = quoteExactIn(pool, weth, amountIn)
      assert.equal(tokenOut, usdc)
      const depth = poolDepth(pool, weth)
      assert.deepEqual(depth.points.map((p) => p.impactBps), [50n, 100n, 200n, 500n])
      for (let i = 1; i < depth.points.length; i++) assert.ok(depth.points[i].amountIn > depth.points[i - 1].amountIn)
      const [reserveIn, reserveOut] = pool.token0 === weth ? [pool.reserve0, pool.reserve1] : [pool.reserve1, pool.reserve0]
      for (const p of depth.points) assert.equal(p.amountOut, getAmountOut(p.amountIn, reserveIn, reserveOut))

      const balanceOf = async (t: Address) => (await client.readContract({ address: t, abi: devnetERC20Abi, functionName: 'balanceOf', args: [liquidator] })) as bigint
      const usdcBefore = await balanceOf(usdc)
      assert.equal(await send(weth, encodeFunctionData({ abi: devnetERC20Abi, functionName: 'transfer', args: [pair.address, amountIn] })), 'success')
      const outs = (x: bigint): [bigint, bigint] => (pool.token0 === weth ? [0n, x] : [x, 0n])
      // One wei more than computed breaks the constant product.
      const greedy = await simulate(pair.address, encodeFunctionData({ abi: uniswapV2PairAbi, functionName: 'swap', args: [...outs(amountOut + 1n), liquidator, '0x'] }), await client.getBlockNumber(), uniswapV2PairAbi)
      assert.deepEqual(greedy, { ok: false, errorName: 'Error', reason: 'UniswapV2: K' })
      assert.equal(await send(pair.address, encodeFunctionData({ abi: uniswapV2PairAbi, functionName: 'swap', args: [...outs(amountOut), liquidator, '0x'] })), 'success')
      assert.equal((await balanceOf(usdc)) - usdcBefore, amountOut)
    })
  })
})
