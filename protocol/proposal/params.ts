/**
 * The planner parameters' digest: every node of a network must plan with the same parameters; a proposal names
 * them by `keccak256(abi.encode(params))` with `deadlineBase` left out (it is derived from the value's pins).
 */
import { encodeAbiParameters, keccak256, type Hex } from 'viem'
import type { PlanParams } from '../planner/types.js'

const PARAMS_ABI = [
  { type: 'uint256', name: 'targetHealthFactor' },
  { type: 'uint256', name: 'maxImpactBpsPerVenuePerRound' },
  { type: 'uint32', name: 'maxLegs' },
  { type: 'uint64', name: 'legTtlSeconds' },
  { type: 'uint256', name: 'maxSlippageBps' },
  { type: 'uint256', name: 'minOutToleranceBps' },
  { type: 'uint256', name: 'urgencyWad' },
  { type: 'uint32', name: 'maxScheduleRounds' },
  {
    type: 'tuple',
    name: 'auction',
    components: [
      { type: 'uint256', name: 'startPremiumBps' },
      { type: 'uint256', name: 'floorDiscountBps' },
      { type: 'uint256', name: 'durationSeconds' },
    ],
  },
  {
    type: 'tuple[]',
    name: 'oracleFollowsPools',
    components: [
      { type: 'string', name: 'protocol' },
      { type: 'uint64', name: 'chainId' },
      { type: 'string', name: 'market' },
      { type: 'string', name: 'asset' },
      { type: 'string', name: 'quoteAsset' },
    ],
  },
  { type: 'uint256', name: 'cascadeGuardBps' },
  { type: 'bool', name: 'crossChainVenues' },
] as const

/**
 * `keccak256(abi.encode(...))` of the planner parameters except `deadlineBase`, in `PlanParams` field order;
 * pool-following rules as (protocol, chainId, market id or pool, asset, quote asset) strings.
 */
export function paramsDigest(p: PlanParams): Hex {
  return keccak256(
    encodeAbiParameters(PARAMS_ABI, [
      p.targetHealthFactor,
      p.maxImpactBpsPerVenuePerRound,
      p.maxLegs,
      p.legTtlSeconds,
      p.maxSlippageBps,
      p.minOutToleranceBps,
      p.urgencyWad,
      p.maxScheduleRounds,
      p.auction,
      p.oracleFollowsPools.map((r) =>
        r.protocol === 'morpho'
          ? { protocol: 'morpho', chainId: BigInt(r.chainId), market: r.marketId.toLowerCase(), asset: '', quoteAsset: '' }
          : { protocol: 'aave', chainId: BigInt(r.chainId), market: r.pool.toLowerCase(), asset: r.asset, quoteAsset: r.quoteAsset },
      ),
      p.cascadeGuardBps,
      p.crossChainVenues,
    ]),
  )
}
