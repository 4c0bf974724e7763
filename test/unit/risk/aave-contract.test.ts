/**
 * The Aave V3 math against the real contracts (chain): a minimal Aave V3 market from the @aave/core-v3 1.19.3
 * artifacts on anvil. Each case moves the collateral price, runs a real `liquidationCall` inside an anvil snapshot,
 * and compares the amounts the Pool moved with `collateralToSeize` / `liquidationCallAmounts`, fed from the
 * contracts' own reads (prices, reserve configuration bitmap, balances, account data).
 */
import assert from 'node:assert/strict'
import { createPublicClient, createWalletClient, http, maxUint256, parseEventLogs, type Address, type PublicClient } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { startAnvil, type Anvil } from '../../../chains/devnet/anvil.js'
import { deployAaveV3, type AaveV3Deployment } from '../../../chains/devnet/deploy/aave.js'
import { deploy, send, type DeployContext } from '../../../chains/devnet/deploy/common.js'
import { ContractRevertError } from '../../../chains/evm/errors.js'
import {
  aaveATokenAbi,
  aaveOracleAbi,
  aavePoolAbi,
  aavePoolConfiguratorAbi,
  devnetERC20Abi,
  devnetPriceFeedAbi,
} from '../../../contracts/out/abis.js'
import {
  RiskRevertError,
  closeFactorBps,
  collateralToSeize,
  decodeReserveConfiguration,
  healthFactorFromTotals,
  isLiquidatable,
  liquidationCallAmounts,
} from '../../../protocol/risk/index.js'

const MNEMONIC = 'test test test test test test test test test test test junk'
const TREASURY: Address = '0x0000000000000000000000000000000000007ea5'
const USDC = 10n ** 6n
const ETH = 10n ** 18n

describe('risk/aave against the Aave V3 Pool (chain)', function () {
  this.timeout(60_000)
  let anvil: Anvil
  let client: PublicClient
  let lender: DeployContext
  let borrower: DeployContext
  let liquidator: DeployContext
  let weth: Address
  let usdc: Address
  let wethFeed: Address
  let aave: AaveV3Deployment
  const ctxOf = (i: number): DeployContext => {
    const account = mnemonicToAccount(MNEMONIC, { addressIndex: i })
    return { client, account, wallet: createWalletClient({ account, chain: foundry, transport: http(anvil.rpcUrl) }) }
  }

  before(async function () {
    anvil = await startAnvil({ chainId: 31337 })
    client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl), pollingInterval: 50 }) as PublicClient
    lender = ctxOf(0)
    borrower = ctxOf(1)
    liquidator = ctxOf(2)
    weth = await deploy(lender, 'DevnetERC20', ['Wrapped Ether', 'WETH', 18])
    usdc = await deploy(lender, 'DevnetERC20', ['USD Coin', 'USDC', 6])
    wethFeed = await deploy(lender, 'DevnetPriceFeed', ['WETH / USD', 3000n * 10n ** 8n])
    const usdcFeed = await deploy(lender, 'DevnetPriceFeed', ['USDC / USD', 10n ** 8n])
    aave = await deployAaveV3(lender, {
      treasury: TREASURY,
      reserves: [
        { symbol: 'WETH', asset: weth, decimals: 18, priceFeed: wethFeed, ltvBps: 8000, liquidationThresholdBps: 8250, liquidationBonusBps: 10500, borrowingEnabled: true },
        { symbol: 'USDC', asset: usdc, decimals: 6, priceFeed: usdcFeed, ltvBps: 7500, liquidationThresholdBps: 8000, liquidationBonusBps: 10450, borrowingEnabled: true },
      ],
    })
    // 10% of the liquidation bonus on WETH goes to the treasury.
    await send(lender, { address: aave.poolConfigurator, abi: aavePoolConfiguratorAbi, functionName: 'setLiquidationProtocolFee', args: [weth, 1_000n] })

    const pool = aave.pool
    const mintApprove = async (ctx: DeployContext, token: Address, amount: bigint) => {
      await send(ctx, { address: token, abi: devnetERC20Abi, functionName: 'mint', args: [ctx.account.address, amount] })
      await send(ctx, { address: token, abi: devnetERC20Abi, functionName: 'approve', args: [pool, maxUint256] })
    }
    await mintApprove(lender, usdc, 1_000_000n * USDC)
    await send(lender, { address: pool, abi: aavePoolAbi, functionName: 'supply', args: [usdc, 1_000_000n * USDC, lender.account.address, 0] })
    // 10 WETH ($30,000) against 20,000 USDC: HF = 30000 × 0.825 / 20000 = 1.2375.
    const user = borrower.account.address
    await mintApprove(borrower, weth, 10n * ETH)
    await send(borrower, { address: pool, abi: aavePoolAbi, functionName: 'supply', args: [weth, 10n * ETH, user, 0] })
    await send(borrower, { address: pool, abi: aavePoolAbi, functionName: 'borrow', args: [usdc, 20_000n * USDC, 2n, 0, user] })
    await mintApprove(liquidator, usdc, 100_000n * USDC)
  })

  after(async function () {
    await anvil?.stop()
  })

  /** What the contracts say about the borrower now: the inputs of the risk math. */
  async function inputs() {
    const user = borrower.account.address
    const [accountData, collateralPrice, debtAssetPrice, config, userCollateralBalance] = await Promise.all([
      client.readContract({ address: aave.pool, abi: aavePoolAbi, functionName: 'getUserAccountData', args: [user] }),
      client.readContract({ address: aave.oracle, abi: aaveOracleAbi, functionName: 'getAssetPrice', args: [weth] }),
      client.readContract({ address: aave.oracle, abi: aaveOracleAbi, functionName: 'getAssetPrice', args: [usdc] }),
      client.readContract({ address: aave.pool, abi: aavePoolAbi, functionName: 'getConfiguration', args: [weth] }),
      client.readContract({ address: aave.reserves.WETH.aToken, abi: aaveATokenAbi, functionName: 'balanceOf', args: [user] }),
    ])
    const [totalCollateralBase, totalDebtBase, , currentLiquidationThreshold, , healthFactor] = accountData as readonly bigint[]
    const cfg = decodeReserveConfiguration((config as { data: bigint }).data)
    return { totalCollateralBase, totalDebtBase, currentLiquidationThreshold, healthFactor, collateralPrice, debtAssetPrice, cfg, userCollateralBalance }
  }

  /** Runs liquidationCall in a snapshot; returns what moved, then rolls back. */
  async function liquidateInSnapshot(debtToCover: bigint) {
    const snap = await anvil.request<string>('evm_snapshot')
    try {
      const receipt = await send(liquidator, {
        address: aave.pool,
        abi: aavePoolAbi,
        functionName: 'liquidationCall',
        args: [weth, usdc, borrower.account.address, debtToCover, false],
        // A fixed gas limit: an estimate made one block earlier can fall short once interest has accrued.
        gas: 3_000_000n,
      })
      const [event] = parseEventLogs({ abi: aavePoolAbi, eventName: 'LiquidationCall', logs: receipt.logs })
      const fee = await client.readContract({ address: aave.reserves.WETH.aToken, abi: aaveATokenAbi, functionName: 'balanceOf', args: [TREASURY] })
      const args = event.args as { debtToCover: bigint; liquidatedCollateralAmount: bigint }
      return { debtRepaid: args.debtToCover, collateral: args.liquidatedCollateralAmount, protocolFee: fee as bigint }
    } finally {
      await anvil.request('evm_revert', [snap])
    }
  }

  const setWethPrice = (usd: bigint) =>
    send(lender, { address: wethFeed, abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [usd * 10n ** 8n] })

  it('health factor from totals and the reserve bitmap match the Pool', async function () {
    const i = await inputs()
    assert.equal(healthFactorFromTotals(i.totalCollateralBase, i.totalDebtBase, i.currentLiquidationThreshold), i.healthFactor)
    assert.equal(i.cfg.liquidationThresholdBps, 8_250n)
    assert.equal(i.cfg.liquidationBonusBps, 10_500n)
    assert.equal(i.cfg.liquidationProtocolFeeBps, 1_000n)
    assert.equal(i.cfg.decimals, 18)
    assert.equal(isLiquidatable(i.healthFactor), false)
    // Healthy: the Pool refuses with '45' (HEALTH_FACTOR_NOT_BELOW_THRESHOLD), as liquidationCallAmounts does.
    await assert.rejects(
      liquidateInSnapshot(1_000n * USDC),
      (e: unknown) => e instanceof ContractRevertError && e.errorName === 'Error' && e.args[0] === '45',
    )
    assert.throws(
      () =>
        liquidationCallAmounts({
          healthFactor: i.healthFactor,
          userTotalDebt: 20_000n * USDC,
          debtToCover: 1_000n * USDC,
          debtAssetPrice: i.debtAssetPrice,
          debtAssetDecimals: 6,
          collateralPrice: i.collateralPrice,
          collateralDecimals: i.cfg.decimals,
          userCollateralBalance: i.userCollateralBalance,
          liquidationBonusBps: i.cfg.liquidationBonusBps,
          liquidationProtocolFeeBps: i.cfg.liquidationProtocolFeeBps,
        }),
      (e: unknown) => e instanceof RiskRevertError && e.reason.startsWith('45'),
    )
  })

  it('partial liquidation (close factor 50%): same collateral, protocol fee and debt as the Pool', async function () {
    await setWethPrice(2_400n) // HF = 24000 × 0.825 / 20000 ≈ 0.99
    const i = await inputs()
    assert.equal(healthFactorFromTotals(i.totalCollateralBase, i.totalDebtBase, i.currentLiquidationThreshold), i.healthFactor)
    assert.equal(isLiquidatable(i.healthFactor), true)
    assert.equal(closeFactorBps(i.healthFactor), 5_000n)
    const debtToCover = 3_000n * USDC // below the 50% cap
    const expected = collateralToSeize({
      debtToCover,
      debtAssetPrice: i.debtAssetPrice,
      debtAssetDecimals: 6,
      collateralPrice: i.collateralPrice,
      collateralDecimals: i.cfg.decimals,
      userCollateralBalance: i.userCollateralBalance,
      liquidationBonusBps: i.cfg.liquidationBonusBps,
      liquidationProtocolFeeBps: i.cfg.liquidationProtocolFeeBps,
    })
    const actual = await liquidateInSnapshot(debtToCover)
    assert.deepEqual(actual, { debtRepaid: expected.debtAmountNeeded, collateral: expected.collateralAmount, protocolFee: expected.protocolFee })
    assert.ok(expected.protocolFee > 0n)
  })

  it('collateral cap (close factor 100%): all the collateral, debt scaled back, as the Pool does', async function () {
    await setWethPrice(1_500n) // HF ≈ 0.62 < 0.95; $15,000 of collateral cannot cover the debt plus bonus
    const i = await inputs()
    assert.equal(closeFactorBps(i.healthFactor), 10_000n)
    const expected = liquidationCallAmounts({
      healthFactor: i.healthFactor,
      userTotalDebt: 20_001n * USDC, // any debt above the collateral value: the cap does not depend on it
      debtToCover: maxUint256,
      debtAssetPrice: i.debtAssetPrice,
      debtAssetDecimals: 6,
      collateralPrice: i.collateralPrice,
      collateralDecimals: i.cfg.decimals,
      userCollateralBalance: i.userCollateralBalance,
      liquidationBonusBps: i.cfg.liquidationBonusBps,
      liquidationProtocolFeeBps: i.cfg.liquidationProtocolFeeBps,
    })
    assert.equal(expected.collateralAmount + expected.protocolFee, i.userCollateralBalance)
    const actual = await liquidateInSnapshot(maxUint256)
    assert.deepEqual(actual, { debtRepaid: expected.debtAmountNeeded, collateral: expected.collateralAmount, protocolFee: expected.protocolFee })
  })
})
