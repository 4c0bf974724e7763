import assert from 'node:assert/strict'
import {
  createPublicClient,
  createWalletClient,
  encodeAbiParameters,
  http,
  keccak256,
  parseEventLogs,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { startAnvil, type Anvil } from '../../../chains/devnet/anvil.js'
import { deployAaveV3 } from '../../../chains/devnet/deploy/aave.js'
import { deploy, send, TransactionFailedError, TxPipeline, type DeployContext } from '../../../chains/devnet/deploy/common.js'
import { ContractRevertError } from '../../../chains/evm/errors.js'
import { getArtifact } from '../../../contracts/artifacts.js'
import {
  aavePoolAbi,
  aggregate3Abi,
  devnetERC20Abi,
  devnetPriceFeedAbi,
  morphoAbi,
  morphoFeedOracleAbi,
  positionSeederAbi,
} from '../../../contracts/out/abis.js'

/** anvil's default dev mnemonic: its accounts are funded with 10,000 ETH. */
const MNEMONIC = 'test test test test test test test test test test test junk'
const MULTICALL3: Address = '0xcA11bde05977b3631167028862bE2a173976CA11'
const E8 = 10n ** 8n

describe('devnet contracts (chain)', function () {
  this.timeout(60_000)
  let anvil: Anvil
  let client: PublicClient
  let owner: DeployContext
  let other: DeployContext
  let weth: Address
  let usdc: Address
  let wethFeed: Address
  let usdcFeed: Address
  let oracle: Address

  before(async function () {
    anvil = await startAnvil({ chainId: 31337, hardfork: 'cancun' })
    client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl), pollingInterval: 50 }) as PublicClient
    const ctx = (i: number): DeployContext => {
      const account = mnemonicToAccount(MNEMONIC, { addressIndex: i })
      return { client, account, wallet: createWalletClient({ account, chain: foundry, transport: http(anvil.rpcUrl) }) }
    }
    owner = ctx(0)
    other = ctx(1)
    weth = await deploy(owner, 'DevnetERC20', ['Wrapped Ether', 'WETH', 18])
    usdc = await deploy(owner, 'DevnetERC20', ['USD Coin', 'USDC', 6])
    wethFeed = await deploy(owner, 'DevnetPriceFeed', ['WETH / USD', 3_000n * E8])
    usdcFeed = await deploy(owner, 'DevnetPriceFeed', ['USDC / USD', E8])
    oracle = await deploy(owner, 'MorphoFeedOracle', [wethFeed, usdcFeed, 18, 6])
  })

  after(async function () {
    await anvil?.stop()
  })

  it('DevnetERC20: decimals as deployed, open mint', async function () {
    assert.equal(await client.readContract({ address: usdc, abi: devnetERC20Abi, functionName: 'decimals' }), 6)
    await send(other, { address: usdc, abi: devnetERC20Abi, functionName: 'mint', args: [other.account.address, 123n] })
    assert.equal(await client.readContract({ address: usdc, abi: devnetERC20Abi, functionName: 'balanceOf', args: [other.account.address] }), 123n)
  })

  it('DevnetPriceFeed: Chainlink-style reads, owner-only setAnswer, decoded custom errors', async function () {
    const read = <F extends 'latestAnswer' | 'decimals' | 'latestRound'>(functionName: F) =>
      client.readContract({ address: wethFeed, abi: devnetPriceFeedAbi, functionName })
    assert.equal(await read('decimals'), 8)
    assert.equal(await read('latestAnswer'), 3_000n * E8)
    await send(owner, { address: wethFeed, abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [3_100n * E8] })
    const [roundId, answer, , updatedAt, answeredInRound] = await client.readContract({
      address: wethFeed,
      abi: devnetPriceFeedAbi,
      functionName: 'latestRoundData',
    })
    assert.equal(answer, 3_100n * E8)
    assert.equal(roundId, 2n)
    assert.equal(answeredInRound, 2n)
    assert.ok(updatedAt > 0n)

    await assert.rejects(
      send(other, { address: wethFeed, abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [1n] }),
      (e: unknown) =>
        e instanceof ContractRevertError &&
        e.errorName === 'OwnableUnauthorizedAccount' &&
        e.args[0] === other.account.address &&
        /OwnableUnauthorizedAccount\("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"\)/.test(e.shortMessage),
    )
    // With a gas limit given, the transaction is mined and reverts on-chain: the error is read back by replaying it.
    await assert.rejects(
      send(other, { address: wethFeed, abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [1n], gas: 200_000n }),
      (e: unknown) => e instanceof ContractRevertError && e.errorName === 'OwnableUnauthorizedAccount',
    )
    // Not a revert: an account without funds.
    const poor = mnemonicToAccount(MNEMONIC, { addressIndex: 40 })
    await assert.rejects(
      send(
        { client, account: poor, wallet: createWalletClient({ account: poor, chain: foundry, transport: http(anvil.rpcUrl) }) },
        { address: wethFeed, abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [1n], gas: 200_000n },
      ),
      (e: unknown) => e instanceof TransactionFailedError,
    )
    await assert.rejects(
      send(owner, { address: wethFeed, abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [0n] }),
      (e: unknown) => e instanceof ContractRevertError && e.errorName === 'NonPositiveAnswer' && e.args[0] === 0n,
    )
    await assert.rejects(
      deploy(owner, 'DevnetPriceFeed', ['bad', -1n]),
      (e: unknown) => e instanceof ContractRevertError && e.errorName === 'NonPositiveAnswer' && e.args[0] === -1n,
    )
    await send(owner, { address: wethFeed, abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [3_000n * E8] })
  })

  it('TxPipeline: predicted addresses, receipts in order, the first revert decoded', async function () {
    const tx = await new TxPipeline(other).init()
    const feed = tx.deploy('DevnetPriceFeed', ['P / USD', 7n * E8])
    tx.call({ address: feed, abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [8n * E8] })
    const receipts = await tx.flush()
    assert.equal(receipts.length, 2)
    assert.equal(receipts[0]!.contractAddress?.toLowerCase(), feed.toLowerCase())
    assert.ok(receipts[1]!.blockNumber > receipts[0]!.blockNumber)
    assert.equal(await client.readContract({ address: feed, abi: devnetPriceFeedAbi, functionName: 'latestAnswer' }), 8n * E8)

    tx.call({ address: feed, abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [9n * E8] })
    tx.call({ address: feed, abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [-1n], label: 'negative price' })
    tx.call({ address: feed, abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [0n] })
    await assert.rejects(tx.flush(), (e: unknown) => {
      assert.ok(e instanceof ContractRevertError)
      assert.equal(e.target, 'negative price')
      assert.equal(e.errorName, 'NonPositiveAnswer')
      assert.deepEqual(e.args, [-1n])
      return true
    })
    assert.equal(await client.readContract({ address: feed, abi: devnetPriceFeedAbi, functionName: 'latestAnswer' }), 9n * E8)
  })

  it('MorphoFeedOracle: price = collateralUsd / loanUsd * 10^(36 + loanDecimals - collateralDecimals), following the feeds', async function () {
    const price = () => client.readContract({ address: oracle, abi: morphoFeedOracleAbi, functionName: 'price' })
    assert.equal(await price(), 3_000n * 10n ** 24n)
    await send(owner, { address: wethFeed, abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [2_345_67000000n] })
    await send(owner, { address: usdcFeed, abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [99_990000n] })
    assert.equal(await price(), (2_345_67000000n * 10n ** 24n) / 99_990000n)
    // Reverse pair (USDC collateral, WETH loan): exponent 36 + 18 - 6.
    const reverse = await deploy(owner, 'MorphoFeedOracle', [usdcFeed, wethFeed, 6, 18])
    assert.equal(
      await client.readContract({ address: reverse, abi: morphoFeedOracleAbi, functionName: 'price' }),
      (99_990000n * 10n ** 48n) / 2_345_67000000n,
    )
    await send(owner, { address: wethFeed, abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [3_000n * E8] })
    await send(owner, { address: usdcFeed, abi: devnetPriceFeedAbi, functionName: 'setAnswer', args: [E8] })
    await assert.rejects(
      deploy(owner, 'MorphoFeedOracle', [usdcFeed, wethFeed, 60, 0]),
      (e: unknown) => e instanceof ContractRevertError && e.errorName === 'UnsupportedDecimals',
    )
  })

  it('Aggregate3: planted at the canonical Multicall3 address, viem multicall works unchanged', async function () {
    await anvil.request('anvil_setCode', [MULTICALL3, getArtifact('Aggregate3').deployedBytecode])
    const results = await client.multicall({
      multicallAddress: MULTICALL3,
      contracts: [
        { address: usdc, abi: devnetERC20Abi, functionName: 'decimals' },
        { address: wethFeed, abi: devnetPriceFeedAbi, functionName: 'latestAnswer' },
        { address: oracle, abi: morphoFeedOracleAbi, functionName: 'price' },
        { address: usdc, abi: devnetERC20Abi, functionName: 'transferFrom', args: [owner.account.address, other.account.address, 1n] },
      ],
    })
    assert.deepEqual(results.slice(0, 3), [
      { status: 'success', result: 6 },
      { status: 'success', result: 3_000n * E8 },
      { status: 'success', result: 3_000n * 10n ** 24n },
    ])
    assert.equal(results[3]!.status, 'failure')
    await assert.rejects(
      client.multicall({
        multicallAddress: MULTICALL3,
        allowFailure: false,
        contracts: [{ address: usdc, abi: devnetERC20Abi, functionName: 'transferFrom', args: [owner.account.address, other.account.address, 1n] }],
      }),
    )
    const block = await client.getBlock()
    const [n, ts] = await Promise.all([
      client.readContract({ address: MULTICALL3, abi: aggregate3Abi, functionName: 'getBlockNumber' }),
      client.readContract({ address: MULTICALL3, abi: aggregate3Abi, functionName: 'getCurrentBlockTimestamp' }),
    ])
    assert.ok(n >= block.number)
    assert.ok(ts >= block.timestamp)
  })

  it('PositionSeeder: opens real Morpho Blue borrowers and Aave V3 users in bulk, with the protocols\' events', async function () {
    // Morpho Blue with IrmMock and one WETH/USDC market at LLTV 86%.
    const morpho = await deploy(owner, 'Morpho', [owner.account.address])
    const irm = await deploy(owner, 'IrmMock')
    const lltv = 860_000_000_000_000_000n
    await send(owner, { address: morpho, abi: morphoAbi, functionName: 'enableIrm', args: [irm] })
    await send(owner, { address: morpho, abi: morphoAbi, functionName: 'enableLltv', args: [lltv] })
    const marketParams = { loanToken: usdc, collateralToken: weth, oracle, irm, lltv }
    await send(owner, { address: morpho, abi: morphoAbi, functionName: 'createMarket', args: [marketParams] })
    const id = keccak256(
      encodeAbiParameters([{ type: 'address' }, { type: 'address' }, { type: 'address' }, { type: 'address' }, { type: 'uint256' }], [
        usdc, weth, oracle, irm, lltv,
      ]),
    ) as Hex

    const seeder = await deploy(owner, 'PositionSeeder')
    const n = 200n
    await send(owner, { address: seeder, abi: positionSeederAbi, functionName: 'supplyMorphoLiquidity', args: [morpho, marketParams, n * 3_000n * 10n ** 6n, owner.account.address] })
    // 1 WETH ($3,000) each; borrow from $1,000 to $2,500 (max at LLTV 86% is $2,580).
    const batch = (firstIndex: bigint, count: bigint) => ({
      morpho, marketParams, firstIndex, count, total: n, collateral: 10n ** 18n,
      borrowMin: 1_000n * 10n ** 6n, borrowMax: 2_500n * 10n ** 6n, receiver: owner.account.address,
    })
    const t0 = performance.now()
    const r1 = await send(owner, { address: seeder, abi: positionSeederAbi, functionName: 'seedMorpho', args: [batch(0n, 100n)], gas: 200_000_000n })
    const r2 = await send(owner, { address: seeder, abi: positionSeederAbi, functionName: 'seedMorpho', args: [batch(100n, 100n)], gas: 200_000_000n })
    const seconds = (performance.now() - t0) / 1000
    const logs = [...r1.logs, ...r2.logs]
    const borrows = parseEventLogs({ abi: morphoAbi, logs, eventName: 'Borrow' })
    const supplies = parseEventLogs({ abi: morphoAbi, logs, eventName: 'SupplyCollateral' })
    const created = parseEventLogs({ abi: positionSeederAbi, logs, eventName: 'MorphoBorrowerCreated' })
    assert.equal(borrows.length, 200)
    assert.equal(supplies.length, 200)
    assert.equal(new Set(borrows.map((b) => b.args.onBehalf)).size, 200)
    console.log(`      seedMorpho: 200 borrowers in ${seconds.toFixed(2)} s, ${((r1.gasUsed + r2.gasUsed) / 200n).toString()} gas each`)
    for (const k of [0, 137, 199]) {
      const ev = created[k]!
      assert.equal(ev.args.index, BigInt(k))
      const [, borrowShares, collateral] = await client.readContract({ address: morpho, abi: morphoAbi, functionName: 'position', args: [id, ev.args.borrower] })
      assert.equal(collateral, 10n ** 18n)
      assert.ok(borrowShares > 0n)
      assert.equal(ev.args.borrowAssets, 1_000n * 10n ** 6n + (1_500n * 10n ** 6n * BigInt(k)) / 199n)
      assert.equal(borrows[k]!.args.onBehalf, ev.args.borrower)
      assert.equal(borrows[k]!.args.assets, ev.args.borrowAssets)
    }
    await assert.rejects(
      send(owner, { address: seeder, abi: positionSeederAbi, functionName: 'seedMorpho', args: [batch(150n, 100n)] }),
      (e: unknown) => e instanceof ContractRevertError && e.errorName === 'InvalidBatch',
    )

    // Aave V3: 50 users with 1 WETH each borrowing 1,000..2,000 USDC (LTV 80% allows 2,400).
    const aave = await deployAaveV3(owner, {
      reserves: [
        { symbol: 'WETH', asset: weth, decimals: 18, priceFeed: wethFeed, ltvBps: 8000, liquidationThresholdBps: 8250, liquidationBonusBps: 10500, borrowingEnabled: false },
        { symbol: 'USDC', asset: usdc, decimals: 6, priceFeed: usdcFeed, ltvBps: 7500, liquidationThresholdBps: 8000, liquidationBonusBps: 10500, borrowingEnabled: true },
      ],
    })
    await send(owner, { address: seeder, abi: positionSeederAbi, functionName: 'supplyAaveLiquidity', args: [aave.pool, usdc, 1_000_000n * 10n ** 6n, owner.account.address] })
    const ra = await send(owner, {
      address: seeder,
      abi: positionSeederAbi,
      functionName: 'seedAave',
      args: [{
        pool: aave.pool, collateralAsset: weth, debtAsset: usdc, firstIndex: 0n, count: 50n, total: 50n,
        collateral: 10n ** 18n, borrowMin: 1_000n * 10n ** 6n, borrowMax: 2_000n * 10n ** 6n, receiver: owner.account.address,
      }],
      gas: 200_000_000n,
    })
    const aaveBorrows = parseEventLogs({ abi: aavePoolAbi, logs: ra.logs, eventName: 'Borrow' })
    const aaveSupplies = parseEventLogs({ abi: aavePoolAbi, logs: ra.logs, eventName: 'Supply' })
    assert.equal(aaveBorrows.length, 50)
    assert.equal(aaveSupplies.length, 50)
    console.log(`      seedAave: ${(ra.gasUsed / 50n).toString()} gas per user`)
    const last = aaveBorrows[49]!.args.onBehalfOf
    const data = await client.readContract({ address: aave.pool, abi: aavePoolAbi, functionName: 'getUserAccountData', args: [last] })
    assert.equal(data[0], 3_000n * E8)
    assert.equal(data[1], 2_000n * E8)
    assert.equal(data[5], (3_000n * 8250n * 10n ** 18n) / (2_000n * 10_000n)) // HF = collateral * LT / debt
    assert.equal(await client.readContract({ address: usdc, abi: devnetERC20Abi, functionName: 'allowance', args: [seeder, aave.pool] }), 0n)
  })
})
