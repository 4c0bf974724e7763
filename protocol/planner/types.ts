/**
 * Types of the deterministic liquidation planner: what goes in (`PlanInputs`, `PlanParams`) and what comes out (`Plan`).
 *
 * Units, everywhere in this module:
 * - token amounts are integer base units (bigint);
 * - ratios, health factors and the Almgren–Chriss urgency are WAD (1e18);
 * - Morpho oracle prices, auction prices and reference prices are 1e36-scaled "quote base units per asset base unit"
 *   (Morpho Blue's `ORACLE_PRICE_SCALE`), whatever the protocol the leg belongs to;
 * - Aave oracle prices are in the pool's base currency (USD, 1e8), as `AaveOracle.getAssetPrice` returns them;
 * - basis points are named `...Bps`; on-chain times are seconds.
 *
 * Everything is a plain structure of bigint / hex / number / string fields so that a plan can be ABI-encoded,
 * hashed (`planHash`) and signed as EIP-712 typed data.
 */

/** A 0x-prefixed hex string (addresses, bytes32 market ids). */
export type Hex = `0x${string}`

// ───────────────────────────── inputs ─────────────────────────────

/**
 * An asset of the plan, named by a symbol that is the same on every chain (WETH on chain A and WETH on chain B are
 * one asset: the network holds inventory of it on both).
 */
export type AssetInput = {
  symbol: string
  /** ERC-20 decimals, 0..36. */
  decimals: number
}

/** A Morpho Blue market (`MarketParams` plus the borrow totals of `Market`), already accrued to the snapshot's block. */
export type MorphoMarketInput = {
  chainId: number
  /** The market id, bytes32 (keccak256 of the `MarketParams`). */
  id: Hex
  /** Symbol of the loan token (the debt asset). */
  loanAsset: string
  /** Symbol of the collateral token. */
  collateralAsset: string
  /** Liquidation loan-to-value, WAD, in (0, 1e18). */
  lltv: bigint
  /** Loan-token base units. */
  totalBorrowAssets: bigint
  totalBorrowShares: bigint
  /** Loan-token base units (bad debt is taken from it). */
  totalSupplyAssets: bigint
}

/** A Morpho Blue position (`Position` of IMorpho) in one market. */
export type MorphoPositionInput = {
  chainId: number
  marketId: Hex
  borrower: Hex
  borrowShares: bigint
  /** Collateral-token base units. */
  collateral: bigint
}

/** The liquidation parameters of one Aave V3 reserve (`ReserveConfigurationMap`). */
export type AaveReserveInput = {
  /** Asset symbol. */
  asset: string
  /** Liquidation threshold, bps (e.g. 8250). */
  liquidationThresholdBps: bigint
  /** Liquidation bonus, bps ≥ 10000 (e.g. 10500 = 5 % bonus). */
  liquidationBonusBps: bigint
  /** Share of the bonus paid to the treasury, bps (0..10000). */
  liquidationProtocolFeeBps: bigint
}

/** An Aave V3 deployment (one `Pool` on one chain) and its reserves. */
export type AaveMarketInput = {
  chainId: number
  /** The `Pool` address (the "market" of Aave legs). */
  pool: Hex
  reserves: AaveReserveInput[]
}

/** One user of an Aave V3 pool: aToken balances (collateral enabled) and debt balances (stable + variable). */
export type AaveUserInput = {
  chainId: number
  pool: Hex
  user: Hex
  collateral: { asset: string; balance: bigint }[]
  debt: { asset: string; balance: bigint }[]
}

/**
 * An oracle price.
 * - `morpho`: the market oracle's `price()`, 1e36-scaled (loan base units per collateral base unit × 1e36);
 * - `aave`: `AaveOracle.getAssetPrice(asset)`, base currency (USD 1e8) per whole token.
 */
export type OraclePriceInput =
  | { kind: 'morpho'; chainId: number; marketId: Hex; price: bigint }
  | { kind: 'aave'; chainId: number; pool: Hex; asset: string; price: bigint }

/** A Uniswap V2 pair (0.3 % fee) with its reserves at the snapshot's block. */
export type VenueInput = {
  chainId: number
  /** The pair address. */
  pool: Hex
  /** Symbols of `token0` and `token1`. */
  token0: string
  token1: string
  /** Base units, > 0. */
  reserve0: bigint
  reserve1: bigint
}

/**
 * Collateral the network already holds from earlier rounds and still has to sell (the remaining schedule of the
 * previous plan, as executed). `refPrice` is the price it was seized at, 1e36-scaled quote per asset.
 */
export type InventoryInput = {
  chainId: number
  asset: string
  quoteAsset: string
  amount: bigint
  refPrice: bigint
}

/** Everything the plan is a pure function of (besides `PlanParams`). Arrays may come in any order. */
export type PlanInputs = {
  assets: AssetInput[]
  morphoMarkets: MorphoMarketInput[]
  morphoPositions: MorphoPositionInput[]
  aaveMarkets: AaveMarketInput[]
  aaveUsers: AaveUserInput[]
  prices: OraclePriceInput[]
  venues: VenueInput[]
  inventory?: InventoryInput[]
}

// ───────────────────────────── parameters ─────────────────────────────

/**
 * A market whose oracle follows the pool prices (an on-chain TWAP or spot of the venues instead of an external
 * feed). For Morpho the pair is the market's (collateral, loan); for Aave, `asset`'s price follows its pools
 * against `quoteAsset`.
 */
export type OracleFollowRule =
  | { protocol: 'morpho'; chainId: number; marketId: Hex }
  | { protocol: 'aave'; chainId: number; pool: Hex; asset: string; quoteAsset: string }

/** Dutch auction fallback settings (prices relative to the leg's oracle reference price). */
export type AuctionParams = {
  /** Start price above the reference price, bps (e.g. 200 = start at +2 %). */
  startPremiumBps: bigint
  /** Floor below the reference price, bps (e.g. 500 = never below −5 %). */
  floorDiscountBps: bigint
  /** Seconds from start price to floor, > 0. */
  durationSeconds: bigint
}

/** Planner parameters; see `defaultPlanParams` for sensible values. */
export type PlanParams = {
  /** Health factor every partially liquidated account is brought to, WAD, in (1e18, 3e18]. */
  targetHealthFactor: bigint
  /** The most a round's sales may move any one pool's marginal price, bps, 1..5000. */
  maxImpactBpsPerVenuePerRound: bigint
  /** The most legs in one plan, 1..100000. */
  maxLegs: number
  /** On-chain time the deadlines count from (the pinned block's timestamp), seconds, ≥ 0. */
  deadlineBase: bigint
  /** Lifetime of an AMM leg, seconds, > 0. */
  legTtlSeconds: bigint
  /** A leg whose AMM execution price is further than this below its oracle reference price goes to auction, bps, 1..10000. */
  maxSlippageBps: bigint
  /** minAmountOut = expected output × (1 − minOutToleranceBps), bps, 0..5000. */
  minOutToleranceBps: bigint
  /**
   * Almgren–Chriss urgency κτ per round, WAD, 0..10e18 (κ = √(λσ²/η); 0 = no risk aversion = TWAP).
   */
  urgencyWad: bigint
  /** The most rounds a sale schedule may span, 1..1000. */
  maxScheduleRounds: number
  auction: AuctionParams
  /** Markets whose oracle follows the pools (cascade awareness). */
  oracleFollowsPools: OracleFollowRule[]
  /** Margin kept between post-trade oracle prices and the highest liquidation price of healthy accounts, bps, 0..1000. */
  cascadeGuardBps: bigint
  /** Whether a sale may use pools on other chains than the seizure's (from the network's inventory there). */
  crossChainVenues: boolean
}

// ───────────────────────────── the plan ─────────────────────────────

/** A fill of one leg on one pool. */
export type VenueFill = {
  chainId: number
  pool: Hex
  /** Collateral (asset sold) base units. */
  amountIn: bigint
  /** Expected output with the plan's legs executed in sequence, quote base units. */
  expectedAmountOut: bigint
  /** Slippage bound passed to the swap, quote base units. */
  minAmountOut: bigint
}

/** Dutch auction terms of a leg (all zero when the leg is not auctioned). Prices 1e36-scaled quote per asset. */
export type AuctionTerms = {
  /** Collateral base units put up for auction. */
  amount: bigint
  startPrice: bigint
  /** Price decrease per second, 1e36-scaled. */
  decayPerSecond: bigint
  floorPrice: bigint
  /** Seconds (on-chain time). */
  startTime: bigint
  endTime: bigint
}

/**
 * One leg of a plan.
 * - `kind: 'liquidate'`: a liquidation (`Morpho.liquidate` or `Pool.liquidationCall`) whose seized collateral is
 *   sold this round on `venues` (AMM), put up for a Dutch auction (`auction`), or held for the schedule (`heldAmount`).
 * - `kind: 'sell'`: a sale of inventory held from earlier rounds (no borrower).
 */
export type Leg = {
  /** Position of the leg in the plan, 0-based; legs execute in this order. */
  seq: number
  kind: 'liquidate' | 'sell'
  chainId: number
  protocol: 'morpho' | 'aave' | 'inventory'
  /** Morpho market id, the Aave `Pool` address, or 0x for inventory. */
  market: Hex
  /** The borrower (zero address for inventory sales). */
  borrower: Hex
  /** Symbol of the asset seized and sold. */
  collateralAsset: string
  /** Symbol of the asset repaid and bought. */
  debtAsset: string
  /**
   * How the liquidation is called: Morpho `repaidShares` or `seizedAssets` (the other one is 0 in the call);
   * Aave `debtToCover`; `none` for inventory.
   */
  mode: 'repaidShares' | 'seizedAssets' | 'debtToCover' | 'none'
  /** Morpho borrow shares repaid (0 for Aave). */
  repaidShares: bigint
  /** Debt repaid, debt base units. */
  repaidAssets: bigint
  /** Aave: the `debtToCover` argument of `liquidationCall` (≥ repaidAssets when the collateral balance binds); 0 for Morpho. */
  debtToCover: bigint
  /** Collateral received by the liquidator (for inventory: the amount sold), collateral base units. */
  seizedAssets: bigint
  /** Debt left unbacked by this leg, debt base units: written off by Morpho (bad-debt realization); left on the books by Aave V3 once the collateral is gone. */
  badDebtAssets: bigint
  /** Liquidation incentive: seized value at the oracle minus the debt repaid, debt base units. */
  incentive: bigint
  /** 'restored': HF ≥ target after; 'closed': no debt left; 'badDebt': all collateral taken; 'capped': close factor / round limit bound. */
  outcome: 'restored' | 'closed' | 'badDebt' | 'capped' | 'sale'
  /** WAD (MAX_UINT256 without debt). */
  healthFactorBefore: bigint
  healthFactorAfter: bigint
  /** Oracle reference price of the collateral in the debt asset, 1e36-scaled. */
  refPrice: bigint
  /** 'amm' (some or all sold now on venues), 'auction', or 'hold' (all held for later rounds). */
  execution: 'amm' | 'auction' | 'hold'
  venues: VenueFill[]
  auction: AuctionTerms
  /** Collateral kept for later rounds of the schedule, base units. */
  heldAmount: bigint
  /** Seconds (on-chain time). */
  deadline: bigint
}

/** The sale of one (asset, quote) group in one future round, along the Almgren–Chriss trajectory. */
export type ScheduledSale = {
  /** Rounds after this one (1 = next round). */
  round: number
  /** Chain of the group, or 0 when the group spans chains (`crossChainVenues`). */
  chainId: number
  asset: string
  quoteAsset: string
  /** Base units of `asset`. */
  amount: bigint
}

/** A liquidatable (or cascade-threatened) account left out of this round. */
export type DeferredPosition = {
  chainId: number
  protocol: 'morpho' | 'aave'
  market: Hex
  borrower: Hex
  /** 'maxLegs': over the leg budget; 'noCollateral': nothing to seize; 'cascade': made liquidatable by this plan's own sales. */
  reason: 'maxLegs' | 'noCollateral' | 'cascade'
  /** WAD, at the price that made the decision. */
  healthFactor: bigint
}

/** A pool's reserves after this round's legs (as planned). */
export type PoolAfter = { chainId: number; pool: Hex; reserve0: bigint; reserve1: bigint }

/** The oracle price a pool-following market reads after this round's sales (1e36 for Morpho, base currency for Aave). */
export type OracleAfter = { protocol: 'morpho' | 'aave'; chainId: number; market: Hex; asset: string; price: bigint }

/** The output of `plan`. */
export type Plan = {
  /** Encoding version of this structure. */
  version: number
  legs: Leg[]
  schedule: ScheduledSale[]
  deferred: DeferredPosition[]
  poolsAfter: PoolAfter[]
  oraclesAfter: OracleAfter[]
}
