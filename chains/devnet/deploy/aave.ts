import { getContractAddress, isAddressEqual, zeroAddress, type Address } from 'viem'
import { getArtifact } from '../../../contracts/artifacts.js'
import { BaseError } from '../../../protocol/errors.js'
import { type PipelineContext, TxPipeline } from './common.js'

/** One Aave V3 reserve to list. Percentages are basis points (10_000 = 100%), as Aave's PercentageMath. */
export type AaveReserveParams = {
  /** Key of the reserve in the returned `reserves` record, e.g. 'WETH'. */
  symbol: string
  /** The underlying ERC-20. */
  asset: Address
  /** Decimals of the underlying. */
  decimals: number
  /** Chainlink-style USD feed, 8 decimals (AaveOracle reads `latestAnswer()`). */
  priceFeed: Address
  /** Loan-to-value, bps; 0 means the asset cannot back borrows. */
  ltvBps: number | bigint
  /** Liquidation threshold, bps (ltvBps ≤ it ≤ 10_000). */
  liquidationThresholdBps: number | bigint
  /** Liquidation bonus, bps above 100%, e.g. 10_500 = 5% bonus; threshold × bonus must stay ≤ 100%. */
  liquidationBonusBps: number | bigint
  /** Share of interest sent to the treasury, bps. @default 1_000 */
  reserveFactorBps?: number | bigint
  /** Whether the asset may be borrowed (variable rate). */
  borrowingEnabled: boolean
}

/** Parameters of {@link deployAaveV3}. */
export type DeployAaveV3Parameters = {
  reserves: AaveReserveParams[]
  /** PoolAddressesProvider market id. @default 'liqnet-devnet' */
  marketId?: string
  /** Receiver of reserve-factor accruals. @default the deploying account */
  treasury?: Address
}

/** Addresses of a deployed minimal Aave V3 market. */
export type AaveV3Deployment = {
  /** Pool proxy: supply, borrow, liquidationCall, getUserAccountData. */
  pool: Address
  addressesProvider: Address
  aclManager: Address
  /** PoolConfigurator proxy. */
  poolConfigurator: Address
  /** AaveOracle, base currency USD with 8 decimals (BASE_CURRENCY_UNIT = 1e8). */
  oracle: Address
  /** AaveProtocolDataProvider. */
  dataProvider: Address
  /** The shared DefaultReserveInterestRateStrategy. */
  interestRateStrategy: Address
  /** Block of the first deployment transaction: start here when scanning the Pool's events. */
  startBlock: bigint
  reserves: Record<string, { aToken: Address; variableDebtToken: Address; stableDebtToken: Address }>
}

/** Thrown when a reserve's parameters break one of Aave V3's configuration rules (PoolConfigurator). */
export class InvalidAaveReserveError extends BaseError {
  override name = 'InvalidAaveReserveError'
  constructor(symbol: string, field: string, rule: string) {
    super(`Aave reserve ${symbol}: ${field} ${rule}.`, {
      metaMessages: ['Fix the reserve in the scenario; basis points are integers where 10000 = 100%.'],
    })
  }
}

/** The Pool proxy is not where its address was predicted (the provider created other contracts first). */
export class AaveDeploymentMismatchError extends BaseError {
  override name = 'AaveDeploymentMismatchError'
  constructor(expected: Address, actual: Address) {
    super(`Aave Pool proxy is at ${actual}, not at the predicted ${expected}.`, {
      metaMessages: ['deployAaveV3 expects a fresh PoolAddressesProvider; report this as a bug.'],
    })
  }
}

const PERCENTAGE_FACTOR = 10_000n
const RAY = 10n ** 27n
/** Logic libraries that Pool links (PoolConfigurator links ConfiguratorLogic, FlashLoanLogic links BorrowLogic). */
const POOL_LIBRARIES = ['SupplyLogic', 'LiquidationLogic', 'EModeLogic', 'BridgeLogic', 'PoolLogic'] as const

function checkReserve(r: AaveReserveParams, seen: Set<string>): void {
  const bps = (field: keyof AaveReserveParams): bigint => {
    const v = r[field]
    if ((typeof v !== 'number' && typeof v !== 'bigint') || (typeof v === 'number' && !Number.isInteger(v))) {
      throw new InvalidAaveReserveError(r.symbol, field, 'must be an integer number of basis points')
    }
    const b = BigInt(v)
    if (b < 0n || b > 65_535n) throw new InvalidAaveReserveError(r.symbol, field, 'must lie in [0, 65535] bps')
    return b
  }
  if (!r.symbol) throw new InvalidAaveReserveError('(unnamed)', 'symbol', 'must be a non-empty string')
  if (seen.has(r.symbol)) throw new InvalidAaveReserveError(r.symbol, 'symbol', 'is listed twice')
  seen.add(r.symbol)
  if (!/^0x[0-9a-fA-F]{40}$/.test(r.asset)) throw new InvalidAaveReserveError(r.symbol, 'asset', 'must be an address')
  if (!/^0x[0-9a-fA-F]{40}$/.test(r.priceFeed)) throw new InvalidAaveReserveError(r.symbol, 'priceFeed', 'must be an address')
  if (!Number.isInteger(r.decimals) || r.decimals < 0 || r.decimals > 255) {
    throw new InvalidAaveReserveError(r.symbol, 'decimals', 'must be an integer in [0, 255]')
  }
  const ltv = bps('ltvBps')
  const threshold = bps('liquidationThresholdBps')
  const bonus = bps('liquidationBonusBps')
  if (r.reserveFactorBps !== undefined && bps('reserveFactorBps') > PERCENTAGE_FACTOR) {
    throw new InvalidAaveReserveError(r.symbol, 'reserveFactorBps', 'must be ≤ 10000')
  }
  if (ltv > threshold) throw new InvalidAaveReserveError(r.symbol, 'ltvBps', 'must be ≤ liquidationThresholdBps')
  if (threshold > 0n) {
    if (bonus <= PERCENTAGE_FACTOR) throw new InvalidAaveReserveError(r.symbol, 'liquidationBonusBps', 'must be > 10000 (100%)')
    // PoolConfigurator.configureReserveAsCollateral: liquidationThreshold.percentMul(liquidationBonus) <= PERCENTAGE_FACTOR
    if ((threshold * bonus + PERCENTAGE_FACTOR / 2n) / PERCENTAGE_FACTOR > PERCENTAGE_FACTOR) {
      throw new InvalidAaveReserveError(r.symbol, 'liquidationBonusBps', 'times liquidationThresholdBps must stay ≤ 100%')
    }
  }
}

/**
 * Deploys a minimal real Aave V3 market from the shipped @aave/core-v3 1.19.3 artifacts, logic libraries linked:
 * PoolAddressesProvider, ACLManager (deployer = ACL admin and pool admin), the 8 logic libraries, Pool and
 * PoolConfigurator behind the provider's proxies, AaveOracle (USD base, 1e8 unit) over the given feeds,
 * AaveProtocolDataProvider, AToken / VariableDebtToken / StableDebtToken implementations, one
 * DefaultReserveInterestRateStrategy (optimal usage 80%, slopes 4% and 75%), then lists every reserve
 * (`initReserves`), configures it as collateral, enables variable borrowing and sets its reserve factor.
 *
 * All transactions go out as one {@link TxPipeline} (about 37 for two reserves), so no other sender may
 * use the account meanwhile.
 *
 * @throws InvalidAaveReserveError for reserve parameters Aave would refuse (checked before any transaction);
 *         ContractRevertError naming the first transaction that reverted, with its decoded error;
 *         TransactionFailedError when a transaction could not be sent.
 * @example
 * const aave = await deployAaveV3(ctx, { reserves: [{ symbol: 'WETH', asset, decimals: 18, priceFeed, ltvBps: 8000,
 *   liquidationThresholdBps: 8250, liquidationBonusBps: 10500, borrowingEnabled: true }] })
 */
export async function deployAaveV3(ctx: PipelineContext, params: DeployAaveV3Parameters): Promise<AaveV3Deployment> {
  const seen = new Set<string>()
  for (const r of params.reserves) checkReserve(r, seen)
  const me = ctx.account.address
  const treasury = params.treasury ?? me
  const providerAbi = getArtifact('PoolAddressesProvider').abi
  const aclAbi = getArtifact('ACLManager').abi
  const configuratorAbi = getArtifact('PoolConfigurator').abi

  // Every address is known before anything is mined (CREATE addresses from nonces), so the whole market
  // goes out as one pipeline of transactions.
  const tx = await new TxPipeline(ctx).init()
  const addressesProvider = tx.deploy('PoolAddressesProvider', [params.marketId ?? 'liqnet-devnet', me])
  const callProvider = (functionName: string, args: readonly unknown[]) =>
    tx.call({ address: addressesProvider, abi: providerAbi, functionName, args })
  // The provider creates the Pool proxy, then the PoolConfigurator proxy (its CREATE nonces 1 and 2).
  const pool = getContractAddress({ from: addressesProvider, nonce: 1n })
  const poolConfigurator = getContractAddress({ from: addressesProvider, nonce: 2n })

  callProvider('setACLAdmin', [me])
  const aclManager = tx.deploy('ACLManager', [addressesProvider])
  callProvider('setACLManager', [aclManager])
  tx.call({ address: aclManager, abi: aclAbi, functionName: 'addPoolAdmin', args: [me] })

  // Logic libraries, then Pool and PoolConfigurator implementations linked against them.
  const libraries: Record<string, Address> = {}
  libraries.BorrowLogic = tx.deploy('BorrowLogic')
  for (const name of POOL_LIBRARIES) libraries[name] = tx.deploy(name)
  libraries.FlashLoanLogic = tx.deploy('FlashLoanLogic', [], { libraries })
  libraries.ConfiguratorLogic = tx.deploy('ConfiguratorLogic')
  const poolImpl = tx.deploy('Pool', [addressesProvider], { libraries })
  callProvider('setPoolImpl', [poolImpl])
  const configuratorImpl = tx.deploy('PoolConfigurator', [], { libraries })
  callProvider('setPoolConfiguratorImpl', [configuratorImpl])

  const oracle = tx.deploy('AaveOracle', [
    addressesProvider,
    params.reserves.map((r) => r.asset),
    params.reserves.map((r) => r.priceFeed),
    zeroAddress,
    zeroAddress, // base currency: USD
    10n ** 8n, // BASE_CURRENCY_UNIT: USD with 8 decimals, as the feeds
  ])
  callProvider('setPriceOracle', [oracle])
  const dataProvider = tx.deploy('AaveProtocolDataProvider', [addressesProvider])
  callProvider('setPoolDataProvider', [dataProvider])

  const aTokenImpl = tx.deploy('AToken', [pool])
  const variableDebtImpl = tx.deploy('VariableDebtToken', [pool])
  const stableDebtImpl = tx.deploy('StableDebtToken', [pool])
  const interestRateStrategy = tx.deploy('DefaultReserveInterestRateStrategy', [
    addressesProvider,
    (RAY * 80n) / 100n, // optimalUsageRatio
    0n, // baseVariableBorrowRate
    (RAY * 4n) / 100n, // variableRateSlope1
    (RAY * 75n) / 100n, // variableRateSlope2
    0n, // stableRateSlope1
    0n, // stableRateSlope2
    0n, // baseStableRateOffset
    0n, // stableRateExcessOffset
    (RAY * 20n) / 100n, // optimalStableToTotalDebtRatio
  ])

  if (params.reserves.length > 0) {
    tx.call({
      address: poolConfigurator,
      abi: configuratorAbi,
      functionName: 'initReserves',
      // Each reserve deploys three token proxies.
      gas: 2_000_000n + 2_500_000n * BigInt(params.reserves.length),
      args: [
        params.reserves.map((r) => ({
          aTokenImpl,
          stableDebtTokenImpl: stableDebtImpl,
          variableDebtTokenImpl: variableDebtImpl,
          underlyingAssetDecimals: r.decimals,
          interestRateStrategyAddress: interestRateStrategy,
          underlyingAsset: r.asset,
          treasury,
          incentivesController: zeroAddress,
          aTokenName: `Aave devnet ${r.symbol}`,
          aTokenSymbol: `a${r.symbol}`,
          variableDebtTokenName: `Aave devnet variable debt ${r.symbol}`,
          variableDebtTokenSymbol: `variableDebt${r.symbol}`,
          stableDebtTokenName: `Aave devnet stable debt ${r.symbol}`,
          stableDebtTokenSymbol: `stableDebt${r.symbol}`,
          params: '0x',
        })),
      ],
    })
    const configure = (functionName: string, args: readonly unknown[]) =>
      tx.call({ address: poolConfigurator, abi: configuratorAbi, functionName, args })
    for (const r of params.reserves) {
      if (BigInt(r.liquidationThresholdBps) > 0n) {
        configure('configureReserveAsCollateral', [
          r.asset,
          BigInt(r.ltvBps),
          BigInt(r.liquidationThresholdBps),
          BigInt(r.liquidationBonusBps),
        ])
      }
      if (r.borrowingEnabled) configure('setReserveBorrowing', [r.asset, true])
      const reserveFactor = BigInt(r.reserveFactorBps ?? 1_000)
      if (reserveFactor > 0n) configure('setReserveFactor', [r.asset, reserveFactor])
    }
  }
  const receipts = await tx.flush()
  const startBlock = receipts[0]!.blockNumber

  const dataProviderAbi = getArtifact('AaveProtocolDataProvider').abi
  const [poolRead, configuratorRead, ...tokens] = await Promise.all([
    ctx.client.readContract({ address: addressesProvider, abi: providerAbi, functionName: 'getPool' }) as Promise<Address>,
    ctx.client.readContract({ address: addressesProvider, abi: providerAbi, functionName: 'getPoolConfigurator' }) as Promise<Address>,
    ...params.reserves.map(
      (r) =>
        ctx.client.readContract({
          address: dataProvider,
          abi: dataProviderAbi,
          functionName: 'getReserveTokensAddresses',
          args: [r.asset],
        }) as Promise<readonly [Address, Address, Address]>,
    ),
  ])
  if (!isAddressEqual(poolRead as Address, pool) || !isAddressEqual(configuratorRead as Address, poolConfigurator)) {
    throw new AaveDeploymentMismatchError(pool, poolRead as Address)
  }
  const reserves: AaveV3Deployment['reserves'] = {}
  params.reserves.forEach((r, i) => {
    const [aToken, stableDebtToken, variableDebtToken] = tokens[i] as readonly [Address, Address, Address]
    reserves[r.symbol] = { aToken, variableDebtToken, stableDebtToken }
  })

  return {
    pool,
    addressesProvider,
    aclManager,
    poolConfigurator,
    oracle,
    dataProvider,
    interestRateStrategy,
    startBlock,
    reserves,
  }
}
