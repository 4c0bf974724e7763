import type { Account, Address, Hex } from 'viem'
import type { SettlementDeployment } from './deploy/settlement.js'
import type { Scenario, ScenarioInput } from './scenario.js'

export type { SettlementDeployment } from './deploy/settlement.js'
export type {
  PriceStep,
  Scenario,
  ScenarioAaveReserve,
  ScenarioBorrower,
  ScenarioChain,
  ScenarioInput,
  ScenarioMorphoMarket,
  ScenarioNetwork,
  ScenarioPosition,
  ScenarioToken,
  ScenarioUniswapV2Pair,
} from './scenario.js'

/** Morpho Blue `MarketParams` (the market id is keccak256 of its ABI encoding). `lltv` is WAD. */
export type MarketParams = {
  loanToken: Address
  collateralToken: Address
  oracle: Address
  irm: Address
  lltv: bigint
}

/** A deployed Morpho Blue market. */
export type DevnetMorphoMarket = {
  /** Market id: keccak256(abi.encode(MarketParams)). */
  id: Hex
  params: MarketParams
  /** The MorphoFeedOracle of the market (price 1e36-scaled, from the two USD feeds). */
  oracle: Address
  /** Block of `CreateMarket`: start here when scanning the market's events. */
  startBlock: bigint
}

/** A deployed Aave V3 reserve's tokens. */
export type DevnetAaveReserve = {
  aToken: Address
  variableDebtToken: Address
  stableDebtToken: Address
}

/** A deployed Uniswap V2 pair; `token0 < token1` as sorted by the factory. */
export type DevnetUniswapV2Pair = {
  address: Address
  token0: Address
  token1: Address
}

/**
 * Addresses of everything deployed on one devnet chain (what deployments.json
 * holds per chain; bigints are written as decimal strings there).
 */
export type ChainDeployment = {
  /** Multicall3-compatible aggregate3 contract, planted at the canonical 0xcA11bde05977b3631167028862bE2a173976CA11. */
  multicall3: Address
  /** symbol → ERC-20 (DevnetERC20, open mint). */
  tokens: Record<string, { address: Address; decimals: number }>
  /** symbol → USD price feed (Chainlink-style, 8 decimals: 1e8 = $1). */
  priceFeeds: Record<string, Address>
  morpho?: {
    address: Address
    irm: Address
    /** market name → market */
    markets: Record<string, DevnetMorphoMarket>
  }
  aave?: {
    pool: Address
    addressesProvider: Address
    oracle: Address
    dataProvider: Address
    /** Block of the Pool deployment: start here when scanning its events. */
    startBlock: bigint
    /** symbol → reserve tokens */
    reserves: Record<string, DevnetAaveReserve>
  }
  uniswapV2?: {
    factory: Address
    startBlock: bigint
    /** pair name → pair */
    pairs: Record<string, DevnetUniswapV2Pair>
  }
  layerzero: {
    endpoint: Address
    /** SimpleMessageLib, default send library for every other EID. */
    sendLib: Address
    /** SimpleMessageLib, default receive library for every other EID (same contract as sendLib). */
    receiveLib: Address
    /** This chain's EID. */
    eid: number
  }
  /** liqnet settlement (chains/devnet/deploy/settlement.ts): the hub on the hub chain, a spoke elsewhere. */
  settlement: SettlementDeployment
}

/** The accounts the devnet funds on a chain (keys are deterministic, see docs/scenario.md). */
export type DevnetAccounts = {
  /** Deploys and owns everything; supplies market liquidity (anvil account 0). */
  deployer: Account
  /** A funded account for liquidations (anvil account 1). */
  liquidator: Account
  /** The LayerZero relayer (DVN + executor): SimpleMessageLib's whitelisted caller (anvil account 2). */
  relayer: Account
  /** borrower name → account (same key on every chain). */
  borrowers: Record<string, Account>
}

/** One running devnet chain (an anvil process). */
export interface DevnetChain {
  name: string
  chainId: number
  /** LayerZero endpoint id. */
  eid: number
  /** http://127.0.0.1:<port> */
  rpcUrl: string
  /** ws://127.0.0.1:<port> */
  wsUrl: string
  /** PID of the anvil process. */
  pid: number
  /** Block time in ms after deployment (0 = automine). */
  blockTimeMs: number
  deployment: ChainDeployment
  accounts: DevnetAccounts
}

/** A running devnet: K anvil chains with the scenario deployed. */
export interface Devnet {
  chains: DevnetChain[]
  /** The validated scenario it runs. */
  scenario: Scenario
  /** Stops every anvil (SIGTERM, then SIGKILL), by PID. Idempotent. */
  stop(): Promise<void>
  /** true when deployed from nothing, false when reloaded from a state dump. */
  coldStart: boolean
  /** Seconds from the call to a devnet ready for use. */
  startSeconds: number
  /** Path of deployments.json. */
  deploymentFile: string
  /** Bulk borrowers opened at start-up (empty lists without `bulk`). */
  bulk: DevnetBulkSeeded
}

/** Options of `startDevnet`. */
export type StartDevnetOptions = {
  /** Path of a YAML/JSON scenario file, or the scenario itself. */
  scenario: string | ScenarioInput | Scenario
  /**
   * Where deployments.json and the state dumps go.
   * @default '.devnet'
   */
  stateDir?: string
  /**
   * Deploy from nothing even when a matching state dump exists (the dump is rewritten).
   * @default false
   */
  fresh?: boolean
  /** Receives progress lines and the one-line JSON start figure. */
  log?: (line: string) => void
  /**
   * Bulk positions to open after the scenario (with seedMorphoBorrowers / seedAaveUsers) and before the
   * state dump, so that a warm start gets them back at once. Part of the dump's key.
   */
  bulk?: DevnetBulkSeed
}

/** Bulk positions to open at start-up (for benchmarks). Amount options as in seedMorphoBorrowers / seedAaveUsers. */
export type DevnetBulkSeed = {
  morpho?: { chain: string; market: string; count: number; collateral?: bigint; minLtvOfLltvBps?: number; maxLtvOfLltvBps?: number }[]
  aave?: { chain: string; count: number; collateral?: string; debt?: string; collateralAmount?: bigint; minLtvOfLimitBps?: number; maxLtvOfLimitBps?: number }[]
}

/** Borrowers opened by `StartDevnetOptions.bulk`, in the order asked. */
export type DevnetBulkSeeded = {
  morpho: { chain: string; market: string; borrowers: Address[] }[]
  aave: { chain: string; borrowers: Address[] }[]
}
