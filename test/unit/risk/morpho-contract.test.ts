/**
 * The Morpho Blue math against the real contract (chain): Morpho Blue 1.0.0, compiled from
 * @morpho-org/morpho-blue, runs on anvil; each case overrides the market, the position and the oracle price
 * in the storage of an `eth_call` to `liquidate`, and compares what the contract returns (or its revert) with
 * `simulateLiquidation`. No transaction per case, so hundreds of cases take a second or two.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  decodeFunctionResult,
  encodeAbiParameters,
  encodeFunctionData,
  http,
  keccak256,
  maxUint256,
  toHex,
  zeroAddress,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { startAnvil, type Anvil } from '../../../chains/devnet/anvil.js'
import { deploy, send, type DeployContext } from '../../../chains/devnet/deploy/common.js'
import { findRevertData } from '../../../chains/evm/errors.js'
import { erc20MockAbi, irmMockAbi, morphoAbi, oracleMockAbi } from '../../../contracts/out/abis.js'
import {
  ORACLE_PRICE_SCALE,
  RiskRevertError,
  WAD,
  accrueInterest,
  borrowedAssets,
  maxSeizableCollateral,
  simulateLiquidation,
  type MorphoMarket,
  type MorphoPosition,
} from '../../../protocol/risk/index.js'

const MNEMONIC = 'test test test test test test test test test test test junk'
const BORROWER: Address = '0x00000000000000000000000000000000000b0b00'

/** A bigint spread evenly over orders of magnitude: 10^minExp ≤ x < 10^(maxExp+1) (or 0 when zero is allowed). */
function logBigInt(minExp: number, maxExp: number, allowZero = false): fc.Arbitrary<bigint> {
  const body = fc
    .integer({ min: minExp, max: maxExp })
    .chain((e) => fc.bigInt({ min: 10n ** BigInt(e), max: 10n ** BigInt(e + 1) - 1n }))
  return allowZero ? fc.oneof({ arbitrary: fc.constant(0n), weight: 1 }, { arbitrary: body, weight: 9 }) : body
}

type Case = {
  market: MorphoMarket
  position: MorphoPosition
  price: bigint
  lltv: bigint
  amounts: { seizedAssets: bigint; repaidShares?: 0n } | { seizedAssets?: 0n; repaidShares: bigint }
}

/**
 * Positions around the liquidation price (0.5..1.5 × it, so both verdicts), and liquidations of a fraction of
 * the position up to 1.2 × the largest, through either argument (so reverts are compared too).
 */
const caseArb: fc.Arbitrary<Case> = fc
  .record({
    totalBorrowAssets: logBigInt(0, 30),
    sharesPerAssetPpm: fc.bigInt({ min: 250_000n, max: 1_000_000n }),
    positionPpm: fc.bigInt({ min: 0n, max: 1_000_000n }),
    collateral: logBigInt(0, 29, true),
    lltv: fc.oneof(fc.constantFrom(0n, 625n * 10n ** 15n, 86n * 10n ** 16n, 945n * 10n ** 15n, 98n * 10n ** 16n), fc.bigInt({ min: 0n, max: WAD - 1n })),
    pricePpm: fc.bigInt({ min: 500_000n, max: 1_500_000n }),
    fallbackPrice: logBigInt(20, 46),
    bySeized: fc.boolean(),
    amountPpm: fc.oneof(fc.bigInt({ min: 0n, max: 1_200_000n }), fc.constantFrom(1_000_000n)),
    extra: fc.bigInt({ min: 0n, max: 2n }),
  })
  .map((r) => {
    const totalBorrowShares = r.totalBorrowAssets * r.sharesPerAssetPpm
    const market: MorphoMarket = {
      totalSupplyAssets: r.totalBorrowAssets * 2n,
      totalSupplyShares: r.totalBorrowAssets * 2_000_000n,
      totalBorrowAssets: r.totalBorrowAssets,
      totalBorrowShares,
      lastUpdate: 1n,
      fee: 0n,
    }
    const position: MorphoPosition = { supplyShares: 0n, borrowShares: (totalBorrowShares * r.positionPpm) / 1_000_000n, collateral: r.collateral }
    const denom = position.collateral * r.lltv
    let price = denom === 0n ? r.fallbackPrice : (borrowedAssets(position, market) * ORACLE_PRICE_SCALE * WAD * r.pricePpm) / (denom * 1_000_000n)
    if (price === 0n) price = 1n
    let amounts: Case['amounts']
    if (r.bySeized) {
      let max = 0n
      try {
        max = maxSeizableCollateral(position, market, price, r.lltv)
      } catch {
        max = position.collateral
      }
      amounts = { seizedAssets: (max * r.amountPpm) / 1_000_000n + r.extra }
    } else {
      amounts = { repaidShares: (position.borrowShares * r.amountPpm) / 1_000_000n + r.extra }
    }
    return { market, position, price, lltv: r.lltv, amounts }
  })
  // Keep the oracle price times collateral within uint256, as real markets are.
  .filter((c) => c.position.collateral * c.price < 1n << 250n)

type Outcome = { ok: true; seizedAssets: bigint; repaidAssets: bigint } | { ok: false; reason: string }

/** The revert reason as the contract states it: the require string, or `panic 0xNN`. */
function reasonOf(data: Hex | undefined): string {
  if (!data) return 'no revert data'
  const decoded = decodeErrorResult({ abi: [], data })
  if (decoded.errorName === 'Error') return String(decoded.args[0])
  if (decoded.errorName === 'Panic') return `panic 0x${(decoded.args[0] as bigint).toString(16)}`
  return decoded.errorName
}

function simulated(c: Case): Outcome {
  try {
    const r = simulateLiquidation(c.position, c.market, c.price, c.lltv, c.amounts)
    return { ok: true, seizedAssets: r.seizedAssets, repaidAssets: r.repaidAssets }
  } catch (e) {
    if (!(e instanceof RiskRevertError)) throw e
    const panic = /panic (0x[0-9a-f]+)/.exec(e.reason)
    return { ok: false, reason: panic ? `panic ${panic[1]}` : e.reason }
  }
}

const slot = (v: bigint): Hex => toHex(v, { size: 32 })
const pack = (low: bigint, high: bigint): Hex => slot(low | (high << 128n))

describe('risk/morpho against the Morpho Blue contract (chain)', function () {
  this.timeout(60_000)
  let anvil: Anvil
  let client: PublicClient
  let ctx: DeployContext
  let morpho: Address
  let oracle: Address
  let loanToken: Address
  let collateralToken: Address

  before(async function () {
    anvil = await startAnvil({ chainId: 31337 })
    client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl), pollingInterval: 50 }) as PublicClient
    const account = mnemonicToAccount(MNEMONIC, { addressIndex: 0 })
    ctx = { client, account, wallet: createWalletClient({ account, chain: foundry, transport: http(anvil.rpcUrl) }) }
    morpho = await deploy(ctx, 'Morpho', [account.address])
    oracle = await deploy(ctx, 'OracleMock')
    loanToken = await deploy(ctx, 'ERC20Mock')
    collateralToken = await deploy(ctx, 'ERC20Mock')
    // The liquidator can pay any debt; Morpho holds any collateral.
    await send(ctx, { address: loanToken, abi: erc20MockAbi, functionName: 'setBalance', args: [account.address, 1n << 255n] })
    await send(ctx, { address: loanToken, abi: erc20MockAbi, functionName: 'approve', args: [morpho, maxUint256] })
    await send(ctx, { address: collateralToken, abi: erc20MockAbi, functionName: 'setBalance', args: [morpho, 1n << 255n] })
  })

  after(async function () {
    await anvil?.stop()
  })

  /** `liquidate` in an eth_call, on the case's state written into Morpho's and the oracle's storage. */
  async function onChain(c: Case): Promise<Outcome> {
    const marketParams = { loanToken, collateralToken, oracle, irm: zeroAddress, lltv: c.lltv }
    const id = keccak256(
      encodeAbiParameters(
        [{ type: 'address' }, { type: 'address' }, { type: 'address' }, { type: 'address' }, { type: 'uint256' }],
        [loanToken, collateralToken, oracle, zeroAddress, c.lltv],
      ),
    )
    // Morpho storage: slot 2 position (mapping(Id => mapping(address => Position))), slot 3 market (mapping(Id => Market)).
    const marketSlot = BigInt(keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }], [id, 3n])))
    const inner = keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }], [id, 2n]))
    const positionSlot = BigInt(keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'bytes32' }], [BORROWER, inner])))
    const m = c.market
    const data = encodeFunctionData({
      abi: morphoAbi,
      functionName: 'liquidate',
      args: [marketParams, BORROWER, c.amounts.seizedAssets ?? 0n, c.amounts.repaidShares ?? 0n, '0x'],
    })
    try {
      const res = await client.call({
        account: ctx.account,
        to: morpho,
        data,
        stateOverride: [
          {
            address: morpho,
            stateDiff: [
              { slot: slot(marketSlot), value: pack(m.totalSupplyAssets, m.totalSupplyShares) },
              { slot: slot(marketSlot + 1n), value: pack(m.totalBorrowAssets, m.totalBorrowShares) },
              { slot: slot(marketSlot + 2n), value: pack(m.lastUpdate, m.fee) },
              { slot: slot(positionSlot), value: slot(c.position.supplyShares) },
              { slot: slot(positionSlot + 1n), value: pack(c.position.borrowShares, c.position.collateral) },
            ],
          },
          { address: oracle, stateDiff: [{ slot: slot(0n), value: slot(c.price) }] },
        ],
      })
      const [seizedAssets, repaidAssets] = decodeFunctionResult({ abi: morphoAbi, functionName: 'liquidate', data: res.data! }) as readonly [bigint, bigint]
      return { ok: true, seizedAssets, repaidAssets }
    } catch (e) {
      return { ok: false, reason: reasonOf(findRevertData(e)) }
    }
  }

  it('a known liquidation: same seized and repaid assets as the contract', async function () {
    const market: MorphoMarket = {
      totalSupplyAssets: 2000n * WAD,
      totalSupplyShares: 2000n * 10n ** 24n,
      totalBorrowAssets: 1000n * WAD - 1n,
      totalBorrowShares: 1000n * 10n ** 24n - 1_000_000n,
      lastUpdate: 1n,
      fee: 0n,
    }
    const position = { supplyShares: 0n, borrowShares: 86n * 10n ** 24n + 1n, collateral: 100n * WAD }
    const c: Case = { market, position, price: ORACLE_PRICE_SCALE, lltv: 86n * 10n ** 16n, amounts: { repaidShares: 10n ** 24n } }
    assert.deepEqual(await onChain(c), { ok: true, seizedAssets: 1043841336116910229n, repaidAssets: WAD })
    assert.deepEqual(simulated(c), await onChain(c))
    // One share fewer of debt: exactly at the boundary, healthy.
    const healthy = { ...c, position: { ...position, borrowShares: 86n * 10n ** 24n } }
    assert.deepEqual(await onChain(healthy), { ok: false, reason: 'position is healthy' })
    assert.deepEqual(simulated(healthy), { ok: false, reason: 'position is healthy' })
  })

  it('simulateLiquidation returns or reverts exactly as liquidate does, on random states', async function () {
    let succeeded = 0
    let reverted = 0
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const expected = await onChain(c)
        assert.deepEqual(simulated(c), expected)
        if (expected.ok) succeeded++
        else reverted++
      }),
      { numRuns: 200 },
    )
    // Both sides of the boundary were exercised.
    assert.ok(succeeded > 20 && reverted > 20, `succeeded ${succeeded}, reverted ${reverted}`)
  })

  it('accrueInterest gives the market state of _accrueInterest, with the IRM rate and a 10% fee', async function () {
    const irm = await deploy(ctx, 'IrmMock')
    const lltv = 86n * 10n ** 16n
    const mp = { loanToken, collateralToken, oracle, irm, lltv }
    const me = ctx.account.address
    const call = (functionName: string, args: readonly unknown[], address: Address = morpho, abi: typeof morphoAbi | typeof erc20MockAbi | typeof oracleMockAbi = morphoAbi) =>
      send(ctx, { address, abi, functionName, args })
    await call('enableIrm', [irm])
    await call('enableLltv', [lltv])
    await call('createMarket', [mp])
    await call('setFeeRecipient', [me])
    await call('setFee', [mp, 10n ** 17n])
    await call('setPrice', [ORACLE_PRICE_SCALE], oracle, oracleMockAbi)
    await call('setBalance', [me, 10n ** 30n], collateralToken, erc20MockAbi)
    await call('approve', [morpho, maxUint256], collateralToken, erc20MockAbi)
    await call('supply', [mp, 1000n * WAD, 0n, me, '0x'])
    await call('supplyCollateral', [mp, 2000n * WAD, me, '0x'])
    await call('borrow', [mp, 777n * WAD, 0n, me, me])

    const id = keccak256(
      encodeAbiParameters(
        [{ type: 'address' }, { type: 'address' }, { type: 'address' }, { type: 'address' }, { type: 'uint256' }],
        [loanToken, collateralToken, oracle, irm, lltv],
      ),
    )
    const readMarket = async (): Promise<MorphoMarket> => {
      const [totalSupplyAssets, totalSupplyShares, totalBorrowAssets, totalBorrowShares, lastUpdate, fee] =
        (await client.readContract({ address: morpho, abi: morphoAbi, functionName: 'market', args: [id] })) as readonly bigint[]
      return { totalSupplyAssets, totalSupplyShares, totalBorrowAssets, totalBorrowShares, lastUpdate, fee }
    }
    for (const seconds of [1, 59, 3_600, 86_400 * 30, 86_400 * 365 * 3]) {
      const before = await readMarket()
      const rate = (await client.readContract({ address: irm, abi: irmMockAbi, functionName: 'borrowRateView', args: [mp, before] })) as bigint
      await anvil.request('evm_increaseTime', [seconds])
      const receipt = await call('accrueInterest', [mp])
      const block = await client.getBlock({ blockNumber: receipt.blockNumber })
      const after = await readMarket()
      assert.deepEqual(accrueInterest(before, rate, block.timestamp), after, `after ${seconds} s`)
      assert.ok(after.totalBorrowAssets > before.totalBorrowAssets)
    }
  })
})
