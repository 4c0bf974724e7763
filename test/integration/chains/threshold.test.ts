import assert from 'node:assert/strict'
import { createWalletClient, encodeFunctionData, http, maxUint256, type Address, type Hex } from 'viem'
import { devnetERC20Abi, morphoAbi } from '../../../contracts/out/abis.js'
import { anvilOf, setPriceUsd, startDevnet } from '../../../chains/devnet/devnet.js'
import { morphoOraclePrice } from '../../../chains/devnet/scenario.js'
import type { Devnet, DevnetChain } from '../../../chains/devnet/types.js'
import { createChainClient, readBlockRef, type ChainClient } from '../../../chains/evm/client.js'
import { decodeRevert, findRevertData } from '../../../chains/evm/errors.js'
import { readMorphoMarkets, readMorphoPositions, scanMorpho } from '../../../chains/morpho/reader.js'
import { accrueInterest, borrowedAssets, maxBorrow } from '../../../protocol/risk/morpho.js'

/**
 * The reader's Morpho Blue verdict at the exact liquidation threshold: the WETH price is set so that
 * the borrower's max borrow minus its borrowed assets (accrued to the block's timestamp) is exactly
 * -2, -1, 0, +1 or +2 loan-token base units, and at that very block the reader's "liquidatable"
 * must agree with a real `liquidate` (eth_call at that block). `_isHealthy` is maxBorrow >= borrowed,
 * so the verdict flips between -1 and 0.
 */
describe('Morpho Blue verdict at the threshold, to the wei (chain)', function () {
  this.timeout(90_000)
  let devnet: Devnet
  let chain: DevnetChain
  let client: ChainClient
  let liquidator: Address

  before(async () => {
    devnet = await startDevnet({ scenario: 'scenarios/devnet/test.yaml' })
    chain = devnet.chains[0]
    client = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl] })
    liquidator = chain.accounts.liquidator.address
    const wallet = createWalletClient({ transport: http(chain.rpcUrl) })
    const usdc = chain.deployment.tokens.USDC.address
    for (const data of [
      encodeFunctionData({ abi: devnetERC20Abi, functionName: 'mint', args: [liquidator, 10n ** 12n] }),
      encodeFunctionData({ abi: devnetERC20Abi, functionName: 'approve', args: [chain.deployment.morpho!.address, maxUint256] }),
    ]) {
      const hash = await wallet.sendTransaction({ account: chain.accounts.liquidator, to: usdc, data, gas: 200_000n, chain: null })
      assert.equal((await client.waitForTransactionReceipt({ hash, pollingInterval: 20 })).status, 'success')
    }
  })
  after(async () => {
    await devnet?.stop()
  })

  it('agrees with liquidate at maxBorrow - borrowed = -2, -1, 0, +1, +2', async () => {
    const morpho = chain.deployment.morpho!.address
    const market = chain.deployment.morpho!.markets['WETH/USDC']
    const borrower = chain.accounts.borrowers['morpho-below'].address
    const weth = chain.deployment.tokens.WETH
    const usdc = chain.deployment.tokens.USDC
    const anvil = anvilOf(chain)!
    const base = await readBlockRef(client)
    const [snapshot] = await readMorphoMarkets(client, morpho, [market.id], base)
    const [position] = await readMorphoPositions(client, morpho, [{ market: market.id, borrower }], { blockNumber: base.blockNumber })
    let snapshotId = await anvil.request<Hex>('evm_snapshot')

    const seen: boolean[] = []
    for (const margin of [-2n, -1n, 0n, 1n, 2n]) {
      // Every margin starts from the same state (a revert consumes its snapshot: take a new one).
      assert.equal(await anvil.request<boolean>('evm_revert', [snapshotId]), true)
      snapshotId = await anvil.request<Hex>('evm_snapshot')
      // The price moves in the next block, whose timestamp is pinned: its accrued debt is known now.
      const timestamp = base.timestamp + 100n
      const borrowed = borrowedAssets(position, accrueInterest(snapshot.stored, snapshot.borrowRate, timestamp))
      const oraclePrice = (usd: bigint) => morphoOraclePrice(usd, weth.decimals, 10n ** 8n, usdc.decimals)
      // Smallest WETH feed answer (USD 1e8) whose max borrow reaches borrowed + margin: one feed unit
      // moves max borrow by less than one USDC base unit, so every margin is reachable exactly.
      let lo = 1n
      let hi = 10n ** 14n
      while (lo < hi) {
        const mid = (lo + hi) / 2n
        if (maxBorrow(position, oraclePrice(mid), market.params.lltv) >= borrowed + margin) hi = mid
        else lo = mid + 1n
      }
      assert.equal(maxBorrow(position, oraclePrice(lo), market.params.lltv) - borrowed, margin)

      await anvil.request('evm_setNextBlockTimestamp', [Number(timestamp)])
      await setPriceUsd(chain, 'WETH', lo)
      const block = await readBlockRef(client)
      assert.equal(block.timestamp, timestamp)

      const scan = await scanMorpho(client, { morpho, borrowers: new Map([[market.id, [borrower]]]), block })
      const account = scan.accounts.find((a) => a.borrower === borrower)!
      assert.equal(account.maxBorrow - account.borrowAssets, margin, 'reader margin')
      const data = encodeFunctionData({
        abi: morphoAbi,
        functionName: 'liquidate',
        args: [market.params, borrower, account.liquidatable ? account.maxSeizable : 1n, 0n, '0x'],
      })
      let chainSays: boolean
      try {
        await client.call({ account: liquidator, to: morpho, data, blockNumber: block.blockNumber })
        chainSays = true
      } catch (err) {
        const revert = decodeRevert(findRevertData(err) ?? '0x', morphoAbi)
        assert.equal(revert.args[0], 'position is healthy', `unexpected revert at margin ${margin}: ${revert.description}`)
        chainSays = false
      }
      assert.equal(account.liquidatable, chainSays, `margin ${margin}: reader ${account.liquidatable}, liquidate ${chainSays}`)
      assert.equal(account.liquidatable, margin < 0n, `margin ${margin}`)
      seen.push(account.liquidatable)
    }
    assert.deepEqual(seen, [true, true, false, false, false])
  })
})
