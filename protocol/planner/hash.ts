/**
 * Canonical encoding and hash of a plan: the ABI encoding (viem `encodeAbiParameters`) of the plan as one tuple, in the
 * plan's own canonical order, and its keccak256. Every node computes the same bytes for the same plan; the agreement
 * step signs this digest (EIP-712 over the same structure).
 */
import { encodeAbiParameters, keccak256, type AbiParameter } from 'viem'
import type { Hex, Plan } from './types.js'

const venueFill = {
  type: 'tuple[]',
  name: 'venues',
  components: [
    { type: 'uint64', name: 'chainId' },
    { type: 'address', name: 'pool' },
    { type: 'uint256', name: 'amountIn' },
    { type: 'uint256', name: 'expectedAmountOut' },
    { type: 'uint256', name: 'minAmountOut' },
  ],
} as const

const auction = {
  type: 'tuple',
  name: 'auction',
  components: [
    { type: 'uint256', name: 'amount' },
    { type: 'uint256', name: 'startPrice' },
    { type: 'uint256', name: 'decayPerSecond' },
    { type: 'uint256', name: 'floorPrice' },
    { type: 'uint64', name: 'startTime' },
    { type: 'uint64', name: 'endTime' },
  ],
} as const

/** ABI type of one leg (field order = `Leg`). */
export const LEG_ABI = {
  type: 'tuple[]',
  name: 'legs',
  components: [
    { type: 'uint32', name: 'seq' },
    { type: 'string', name: 'kind' },
    { type: 'uint64', name: 'chainId' },
    { type: 'string', name: 'protocol' },
    { type: 'bytes', name: 'market' },
    { type: 'address', name: 'borrower' },
    { type: 'string', name: 'collateralAsset' },
    { type: 'string', name: 'debtAsset' },
    { type: 'string', name: 'mode' },
    { type: 'uint256', name: 'repaidShares' },
    { type: 'uint256', name: 'repaidAssets' },
    { type: 'uint256', name: 'debtToCover' },
    { type: 'uint256', name: 'seizedAssets' },
    { type: 'uint256', name: 'badDebtAssets' },
    { type: 'uint256', name: 'incentive' },
    { type: 'string', name: 'outcome' },
    { type: 'uint256', name: 'healthFactorBefore' },
    { type: 'uint256', name: 'healthFactorAfter' },
    { type: 'uint256', name: 'refPrice' },
    { type: 'string', name: 'execution' },
    venueFill,
    auction,
    { type: 'uint256', name: 'heldAmount' },
    { type: 'uint64', name: 'deadline' },
  ],
} as const

/** ABI parameters of the whole plan (field order = `Plan`). */
export const PLAN_ABI = [
  { type: 'uint32', name: 'version' },
  LEG_ABI,
  {
    type: 'tuple[]',
    name: 'schedule',
    components: [
      { type: 'uint32', name: 'round' },
      { type: 'uint64', name: 'chainId' },
      { type: 'string', name: 'asset' },
      { type: 'string', name: 'quoteAsset' },
      { type: 'uint256', name: 'amount' },
    ],
  },
  {
    type: 'tuple[]',
    name: 'deferred',
    components: [
      { type: 'uint64', name: 'chainId' },
      { type: 'string', name: 'protocol' },
      { type: 'bytes', name: 'market' },
      { type: 'address', name: 'borrower' },
      { type: 'string', name: 'reason' },
      { type: 'uint256', name: 'healthFactor' },
    ],
  },
  {
    type: 'tuple[]',
    name: 'poolsAfter',
    components: [
      { type: 'uint64', name: 'chainId' },
      { type: 'address', name: 'pool' },
      { type: 'uint256', name: 'reserve0' },
      { type: 'uint256', name: 'reserve1' },
    ],
  },
  {
    type: 'tuple[]',
    name: 'oraclesAfter',
    components: [
      { type: 'string', name: 'protocol' },
      { type: 'uint64', name: 'chainId' },
      { type: 'bytes', name: 'market' },
      { type: 'string', name: 'asset' },
      { type: 'uint256', name: 'price' },
    ],
  },
] as const satisfies readonly AbiParameter[]

/** The canonical ABI encoding of a plan. */
export function encodePlan(plan: Plan): Hex {
  return encodeAbiParameters(PLAN_ABI, [
    plan.version,
    plan.legs.map((l) => ({ ...l, chainId: BigInt(l.chainId), venues: l.venues.map((v) => ({ ...v, chainId: BigInt(v.chainId) })) })),
    plan.schedule.map((s) => ({ ...s, chainId: BigInt(s.chainId) })),
    plan.deferred.map((d) => ({ ...d, chainId: BigInt(d.chainId) })),
    plan.poolsAfter.map((p) => ({ ...p, chainId: BigInt(p.chainId) })),
    plan.oraclesAfter.map((o) => ({ ...o, chainId: BigInt(o.chainId) })),
  ])
}

/** keccak256 of {@link encodePlan}: the plan's stable digest. */
export function planHash(plan: Plan): Hex {
  return keccak256(encodePlan(plan))
}
