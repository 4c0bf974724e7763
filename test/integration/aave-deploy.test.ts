import assert from 'node:assert/strict'
import {
  createPublicClient,
  createWalletClient,
  http,
  maxUint256,
  parseEventLogs,
  type Address,
  type PublicClient,
} from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { startAnvil, type Anvil } from '../../chains/devnet/anvil.js'
import { deployAaveV3, InvalidAaveReserveError, type AaveV3Deployment } from '../../chains/devnet/deploy/aave.js'
import { deploy, send, type DeployContext } from '../../chains/devnet/deploy/common.js'
import { ContractRevertError } from '../../chains/evm/errors.js'
import {
  aavePoolAbi,
  aaveOracleAbi,
  aaveProtocolDataProviderAbi,
  devnetERC20Abi,
  devnetPriceFeedAbi,
} from '../../contracts/out/abis.js'

/** anvil's default dev mnemonic: its accounts are funded with 10,000 ETH. */
const MNEMONIC = 'test test test test test test test test test test test junk'

describe('Aave V3 devnet deployment (chain)', function () {
  this.timeout(60_000)
  let anvil: Anvil
  let client: PublicClient
  const ctxOf = (i: number): DeployContext => {
    const account = mnemonicToAccount(MNEMONIC, { addressIndex: i })
    return { client, account, wallet: createWalletClient({ account, chain: foundry, transport: http(anvil.rpcUrl) }) }
  }
  let deployer: DeployContext
  let borrower: DeployContext
  let liquidator: DeployContext
  let weth: Address
  let usdc: Address
  let wethFeed: Address
  let usdcFeed: Address
  let aave: AaveV3Deployment
  let deploySeconds = 0

  before(async function () {
    anvil = await startAnvil({ chainId: 31337, hardfork: 'cancun' })
    client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl), pollingInterval: 50 }) as PublicClient
    deployer = ctxOf(0)
    borrower = ctxOf(1)
    liquidator = ctxOf(2)
  })

  after(async function () {
    await anvil?.stop()
  })

  it('refuses reserve parameters Aave would refuse, naming the field, before any transaction', async function () {
    const base = {
      symbol: 'X',
      asset: '0x0000000000000000000000000000000000000001' as Address,
      decimals: 18,
      priceFeed: '0x0000000000000000000000000000000000000002' as Address,
      ltvBps: 8000,
      liquidationThresholdBps: 8250,
      liquidationBonusBps: 10500,
      borrowingEnabled: true,
    }
    await assert.rejects(
      deployAaveV3(deployer, { reserves: [{ ...base, ltvBps: 9000 }] }),
      (e: unknown) => e instanceof InvalidAaveReserveError && /ltvBps/.test(e.shortMessage),
    )
    await assert.rejects(
      deployAaveV3(deployer, { reserves: [{ ...base, liquidationThresholdBps: 9800 }] }),
      (e: unknown) => e instanceof InvalidAaveReserveError && /liquidationBonusBps/.test(e.shortMessage),
    )
    assert.equal(await client.getBlockNumber(), 0n)
  })

  it('deploys a real Aave V3 market with two reserves', async function () {
    weth = await deploy(deployer, 'DevnetERC20', ['Wrapped Ether', 'WETH', 18])
    usdc = await deploy(deployer, 'DevnetERC20', ['USD Coin', 'USDC', 6])
    wethFeed = await deploy(deployer, 'DevnetPriceFeed', ['WETH / USD', 3000n * 10n ** 8n])
    usdcFeed = await deploy(deployer, 'DevnetPriceFeed', ['USDC / USD', 10n ** 8n])
    const t0 = performance.now()
    aave = await deployAaveV3(deployer, {
      reserves: [
        { symbol: 'WETH', asset: weth, decimals: 18, priceFeed: wethFeed, ltvBps: 8000, liquidationThresholdBps: 8250, liquidationBonusBps: 10500, borrowingEnabled: true },
        { symbol: 'USDC', asset: usdc, decimals: 6, priceFeed: usdcFeed, ltvBps: 7500, liquidationThresholdBps: 8000, liquidationBonusBps: 10450, reserveFactorBps: 1000, borrowingEnabled: true },
      ],
    })
    deploySeconds = (performance.now() - t0) / 1000
    console.log(`      deployAaveV3: ${deploySeconds.toFixed(2)} s`)

    const price = await client.readContract({ address: aave.oracle, abi: aaveOracleAbi, functionName: 'getAssetPrice', args: [weth] })
    assert.equal(price, 3000n * 10n ** 8n)
    const cfg = await client.readContract({
      address: aave.dataProvider,
      abi: aaveProtocolDataProviderAbi,
      functionName: 'getReserveConfigurationData',
      args: [usdc],
    })
    // decimals, ltv, liquidationThreshold, liquidationBonus, reserveFactor, usageAsCollateralEnabled, borrowingEnabled, ..., isActive, isFrozen
    assert.deepEqual(cfg.slice(0, 7), [6n, 7500n, 8000n, 10450n, 1000n, true, true])
    assert.equal(cfg[8], true)
    for (const r of Object.values(aave.reserves)) {
      assert.notEqual(r.aToken, r.variableDebtToken)
      assert.ok((await client.getCode({ address: r.aToken }))!.length > 2)
    }
    assert.deepEqual(Object.keys(aave.reserves).sort(), ['USDC', 'WETH'])
  })

  it('supplies, borrows, refuses a liquidation while healthy (decoded error), and liquidates after a price move', async function () {
    const pool = aave.pool
    // Lender: 1,000,000 USDC of liquidity.
    await send(deployer, { address: usdc, abi: devnetERC20Abi, functionName: 'mint', args: [deployer.account.address, 1_000_000n * 10n ** 6n] })
    await send(deployer, { address: usdc, abi: devnetERC20Abi, functionName: 'approve', args: [pool, maxUint256] })
    await send(deployer, { address: pool, abi: aavePoolAbi, functionName: 'supply', args: [usdc, 1_000_000n * 10n ** 6n, deployer.account.address, 0] })

    // Borrower: 10 WETH ($30,000) of collateral, 20,000 USDC of variable debt: HF = 30000 * 0.825 / 20000 = 1.2375.
    const user = borrower.account.address
    await send(borrower, { address: weth, abi: devnetERC20Abi, functionName: 'mint', args: [user, 10n * 10n ** 18n] })
    await send(borrower, { address: weth, abi: devnetERC20Abi, functionName: 'approve', args: [pool, maxUint256] })
    await send(borrower, { address: pool, abi: aavePoolAbi, functionName: 'supply', args: [weth, 10n * 10n ** 18n, user, 0] })
    await send(borrower, { address: pool, abi: aavePoolAbi, functionName: 'borrow', args: [usdc, 20_000n * 10n ** 6n, 2n, 0, user] })
    const before = await client.readContract({ address: pool, abi: aavePoolAbi, functionName: 'getUserAccountData', args: [user] })
    assert.equal(before[0], 30_000n * 10n ** 8n) // totalCollateralBase, USD 1e8
    assert.equal(before[1], 20_000n * 10n ** 8n) // totalDebtBase
    assert.ok(before[5] > 10n ** 18n)

    // Liquidator.
    const me = liquidator.account.address
    await send(liquidator, { address: usdc, abi: devnetERC20Abi, functionName: 'mint', args: [me, 100_000n * 10n ** 6n] })
    await send(liquidator, { address: usdc, abi: devnetERC20Abi, functionName: 'approve', args: [pool, maxUint256] })
    const debtToCover = 5_000n * 10n ** 6n
    const liquidate = () =>
      send(liquidator, { address: pool, abi: aavePoolAbi, functionName: 'liquidationCall', args: [weth, usdc, user, debtToCover, false] })

    await assert.rejects(liquidate(), (e: unknown) => {
      assert.ok(e instanceof ContractRevertError, `expected ContractRevertError, got ${String(e)}`)
      assert.equal(e.errorName, 'Error')
      assert.deepEqual(e.args, ['45'])
      assert.match(e.shortMessage, /HEALTH_FACTOR_NOT_BELOW_THRESHOLD/)
      return true
    })

    // WETH to $2,200: HF = 22000 * 0.825 / 20000 = 0.9075 (< 0.95, so the close factor is 100%).
    await send(deployer, { address: wethFeed, abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [2_200n * 10n ** 8n] })
    const after = await client.readContract({ address: pool, abi: aavePoolAbi, functionName: 'getUserAccountData', args: [user] })
    assert.ok(after[5] < 10n ** 18n, `health factor ${after[5]}`)

    const wethBefore = await client.readContract({ address: weth, abi: devnetERC20Abi, functionName: 'balanceOf', args: [me] })
    const receipt = await liquidate()
    assert.equal(receipt.status, 'success')
    const [event] = parseEventLogs({ abi: aavePoolAbi, logs: receipt.logs, eventName: 'LiquidationCall' })
    assert.ok(event, 'LiquidationCall event')
    assert.equal(event.args.user, user)
    assert.equal(event.args.debtToCover, debtToCover)
    // LiquidationLogic._calculateAvailableCollateralToLiquidate: base = debtPrice * debt * collateralUnit / (collateralPrice * debtUnit),
    // then percentMul by the liquidation bonus (10500); no protocol fee is configured.
    const base = (10n ** 8n * debtToCover * 10n ** 18n) / (2_200n * 10n ** 8n * 10n ** 6n)
    const seized = (base * 10_500n + 5_000n) / 10_000n
    assert.equal(event.args.liquidatedCollateralAmount, seized)
    const wethAfter = await client.readContract({ address: weth, abi: devnetERC20Abi, functionName: 'balanceOf', args: [me] })
    assert.equal(wethAfter - wethBefore, seized)
    console.log(`      liquidationCall gas: ${receipt.gasUsed}`)
  })
})
