import type { Address, Hex } from 'viem'
import type { DepthPoint } from '../protocol/risk/uniswap-v2.js'

/** Protocols and venues the chain readers know. */
export type ProtocolName = 'morpho-blue' | 'aave-v3' | 'uniswap-v2'

/** The block a read was made at. `timestamp` in seconds (on-chain time). */
export type BlockRef = {
  chainId: number
  blockNumber: bigint
  blockHash: Hex
  timestamp: bigint
}

/** A new head seen by the block follower. */
export type BlockUpdate = BlockRef & {
  parentHash: Hex
  /** How it was learnt: WebSocket newHeads or HTTP polling. */
  source: 'ws' | 'poll'
  /** True when this height was already emitted with another hash, or its parent is not the last head emitted. */
  reorg: boolean
}

/** Fields every account-health record carries. */
export type AccountHealthBase = {
  chainId: number
  blockNumber: bigint
  /** Health factor, WAD (1e18 = at the liquidation threshold); MAX_UINT256 without debt. */
  healthFactor: bigint
  /** Whether a liquidation at this block would pass the protocol's health check. */
  liquidatable: boolean
}

/**
 * One Morpho Blue borrower in one market at one block, evaluated as `Morpho._isHealthy` and
 * `Morpho.liquidate` would (market interest accrued to the block's timestamp first).
 */
export type MorphoAccountHealth = AccountHealthBase & {
  protocol: 'morpho-blue'
  /** Morpho Blue contract. */
  morpho: Address
  /** Market id (bytes32). */
  market: Hex
  borrower: Address
  loanToken: Address
  collateralToken: Address
  /** Collateral, collateral-token base units. */
  collateral: bigint
  borrowShares: bigint
  /** Borrowed assets after accrual, rounded up as in `_isHealthy`, loan-token base units. */
  borrowAssets: bigint
  /** collateral × price / 1e36 × LLTV, loan-token base units. */
  maxBorrow: bigint
  /** Oracle price, 1e36-scaled (Morpho's ORACLE_PRICE_SCALE). */
  oraclePrice: bigint
  /** WAD. */
  lltv: bigint
  /** Liquidation incentive factor, WAD: min(1.15, 1/(1 − 0.3·(1 − LLTV))). */
  liquidationIncentiveFactor: bigint
  /** Largest `seizedAssets` a `liquidate` accepts now, collateral base units (0 when healthy). */
  maxSeizable: bigint
  /** Borrow shares repaid when seizing `maxSeizable` (0 when healthy). */
  maxRepaidShares: bigint
}

/** One reserve of an Aave V3 user. Prices in the oracle's base currency (USD, 8 decimals). */
export type AaveReservePosition = {
  asset: Address
  decimals: number
  /** aToken balance (collateral side, includes accrued interest), asset base units. */
  aTokenBalance: bigint
  /** Variable + stable debt, asset base units. */
  totalDebt: bigint
  usageAsCollateralEnabled: boolean
  /** Oracle price, base currency units (USD 1e8). */
  priceBase: bigint
  /** Liquidation bonus, bps (10500 = 5% bonus; 0 when not usable as collateral). */
  liquidationBonusBps: bigint
  liquidationThresholdBps: bigint
  liquidationProtocolFeeBps: bigint
  /** Most of this debt one liquidationCall may repay (close factor applied), asset base units; 0 when healthy or no debt. */
  maxDebtToCover: bigint
}

/** One Aave V3 user at one block, from `Pool.getUserAccountData` and the per-reserve balances. */
export type AaveAccountHealth = AccountHealthBase & {
  protocol: 'aave-v3'
  pool: Address
  user: Address
  /** Base currency (USD 1e8). */
  totalCollateralBase: bigint
  totalDebtBase: bigint
  availableBorrowsBase: bigint
  /** Weighted average liquidation threshold, bps. */
  currentLiquidationThresholdBps: bigint
  ltvBps: bigint
  /** 5000 (50%) or 10000 (100% when the health factor is ≤ 0.95). */
  closeFactorBps: bigint
  /** The user's eMode category (0 = none). */
  eModeCategory: number
  /** Reserves where the user has collateral or debt (empty when reserves were not read). */
  reserves: AaveReservePosition[]
}

/** A Uniswap V2 pair's reserves at one block. */
export type UniswapV2PoolState = {
  protocol: 'uniswap-v2'
  chainId: number
  blockNumber: bigint
  pair: Address
  token0: Address
  token1: Address
  reserve0: bigint
  reserve1: bigint
  /** Seconds, as stored by the pair (mod 2^32). */
  blockTimestampLast: number
}

/** How much of one token a pair absorbs at each price-impact bound. */
export type UniswapV2Depth = {
  pair: Address
  tokenIn: Address
  tokenOut: Address
  blockNumber: bigint
  points: DepthPoint[]
}

export type { DepthPoint }
