/**
 * The on-chain form of a certified plan: what `LiquidationHub.submitPlan(plan, seals)` takes, what each
 * operator's commit seal signs, and how a planner `Plan` maps onto it.
 *
 * Solidity mirror (contracts/src/settlement/interfaces/ILiquidationHub.sol):
 *
 * ```solidity
 * struct SwapStep { address pool; uint256 amountIn; uint256 minAmountOut; }
 * struct Leg {
 *   uint32 seq; uint32 eid; uint8 protocol; address target; bytes32 marketId; address borrower;
 *   address collateralToken; address debtToken; uint256 seizedAssets; uint256 repaidShares; uint256 debtToCover;
 *   SwapStep[] swaps; uint64 deadline;
 * }
 * struct SettlementPlan { uint64 height; Leg[] legs; }
 * planDigest = keccak256(abi.encode(plan))
 * ```
 *
 * A commit seal is the EIP-712 signature of `CommitSeal(uint64 height,bytes32 planDigest)` in the liqnet domain
 * (`name` "liqnet", `version` "1", `chainId` = the hub chain's id, `verifyingContract` = the hub), by an operator key:
 * 65 bytes r ‖ s ‖ v, v ∈ {27, 28}, low s. 2f+1 seals by distinct operators make a certified plan.
 */
import { encodeAbiParameters, keccak256, zeroHash, type Address, type Hex } from 'viem'
import { BaseError } from '../errors.js'
import { createDomainSeparator, liqnetDomain, type SigningDomain } from '../signing/eip712.js'
import { defaultBackend, type Secp256k1Backend } from '../signing/secp256k1.js'
import type { Leg, Plan } from '../planner/types.js'

/** `Leg.protocol` values on chain. */
export const SettlementProtocol = { morphoBlue: 1, aaveV3: 2 } as const
export type SettlementProtocol = (typeof SettlementProtocol)[keyof typeof SettlementProtocol]

/** One sale of seized collateral for the debt token on a Uniswap V2 pair of the leg's chain. Amounts in base units. */
export type SwapStep = { pool: Address; amountIn: bigint; minAmountOut: bigint }

/**
 * One liquidation, executed by the hub (when `eid` is the hub's own EID) or by the spoke of that EID.
 * - Morpho Blue (`protocol` 1): `target` is the Morpho contract, `marketId` the market id; exactly one of
 *   `seizedAssets` (collateral base units) and `repaidShares` (borrow shares) is non-zero, as in `IMorpho.liquidate`.
 * - Aave V3 (`protocol` 2): `target` is the Pool, `marketId` is zero, `debtToCover` is `liquidationCall`'s argument (debt base units).
 * `swaps` sell the seized collateral, in order; their `minAmountOut` are the slippage bounds. `deadline` is unix seconds.
 */
export type SettlementLeg = {
  seq: number
  eid: number
  protocol: SettlementProtocol
  target: Address
  marketId: Hex
  borrower: Address
  collateralToken: Address
  debtToken: Address
  seizedAssets: bigint
  repaidShares: bigint
  debtToCover: bigint
  swaps: SwapStep[]
  deadline: bigint
}

/** A plan as the hub receives it. `height` is the QBFT height (the plan sequence number), uint64. */
export type SettlementPlan = { height: bigint; legs: SettlementLeg[] }

/** ABI parameter of `SettlementPlan` (field order is part of the digest: never reorder). */
export const SETTLEMENT_PLAN_ABI = {
  type: 'tuple',
  name: 'plan',
  components: [
    { type: 'uint64', name: 'height' },
    {
      type: 'tuple[]',
      name: 'legs',
      components: [
        { type: 'uint32', name: 'seq' },
        { type: 'uint32', name: 'eid' },
        { type: 'uint8', name: 'protocol' },
        { type: 'address', name: 'target' },
        { type: 'bytes32', name: 'marketId' },
        { type: 'address', name: 'borrower' },
        { type: 'address', name: 'collateralToken' },
        { type: 'address', name: 'debtToken' },
        { type: 'uint256', name: 'seizedAssets' },
        { type: 'uint256', name: 'repaidShares' },
        { type: 'uint256', name: 'debtToCover' },
        {
          type: 'tuple[]',
          name: 'swaps',
          components: [
            { type: 'address', name: 'pool' },
            { type: 'uint256', name: 'amountIn' },
            { type: 'uint256', name: 'minAmountOut' },
          ],
        },
        { type: 'uint64', name: 'deadline' },
      ],
    },
  ],
} as const

/** `abi.encode(plan)`, as Solidity computes it for a `SettlementPlan memory` argument. */
export function encodeSettlementPlan(plan: SettlementPlan): Hex {
  return encodeAbiParameters([SETTLEMENT_PLAN_ABI], [plan])
}

/** `keccak256(abi.encode(plan))`: the digest commit seals sign and the hub recomputes. */
export function settlementPlanDigest(plan: SettlementPlan): Hex {
  return keccak256(encodeSettlementPlan(plan))
}

/** EIP-712 types of a commit seal, in viem's form. */
export const commitSealTypes = {
  CommitSeal: [
    { name: 'height', type: 'uint64' },
    { name: 'planDigest', type: 'bytes32' },
  ],
} as const

/** `keccak256("CommitSeal(uint64 height,bytes32 planDigest)")`. */
export const COMMIT_SEAL_TYPEHASH = keccak256(new TextEncoder().encode('CommitSeal(uint64 height,bytes32 planDigest)'))

/** The hub a seal is bound to: the hub chain's id and the hub contract (the EIP-712 domain's `chainId` and `verifyingContract`). */
export type SealDomain = Required<SigningDomain>

/** Typed data of a commit seal for viem (`signTypedData`, `hashTypedData`, `recoverTypedDataAddress`). */
export function commitSealTypedData(domain: SealDomain, height: bigint, planDigest: Hex) {
  return {
    domain: liqnetDomain(domain),
    types: commitSealTypes,
    primaryType: 'CommitSeal' as const,
    message: { height, planDigest },
  }
}

/**
 * The EIP-712 digest of a commit seal: `keccak256(0x1901 ‖ domainSeparator ‖ keccak256(abi.encode(TYPEHASH, height, planDigest)))`.
 * Same 32 bytes as viem's `hashTypedData(commitSealTypedData(...))` and Solidity's `_hashTypedDataV4`.
 * @param domainSeparator from `createDomainSeparator({ chainId, verifyingContract })` (32 bytes).
 */
export function commitSealDigest(domainSeparator: Uint8Array, height: bigint, planDigest: Hex): Uint8Array {
  const structHash = keccak256(
    encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint64' }, { type: 'bytes32' }], [COMMIT_SEAL_TYPEHASH, height, planDigest]),
    'bytes',
  )
  const buf = new Uint8Array(66)
  buf[0] = 0x19
  buf[1] = 0x01
  buf.set(domainSeparator, 2)
  buf.set(structHash, 34)
  return keccak256(buf, 'bytes')
}

/** The domain separator of a hub (compute once). */
export function sealDomainSeparator(domain: SealDomain): Uint8Array {
  return createDomainSeparator(domain)
}

/** Signs a commit seal: 65 bytes r ‖ s ‖ v. */
export function signCommitSeal(
  domainSeparator: Uint8Array,
  height: bigint,
  planDigest: Hex,
  privateKey: Uint8Array,
  backend: Secp256k1Backend = defaultBackend,
): Uint8Array {
  return backend.sign(commitSealDigest(domainSeparator, height, planDigest), privateKey)
}

// ───────────────────────────── planner plan → settlement plan ─────────────────────────────

/** What the mapping needs to know about one chain of the network. */
export type SettlementChain = {
  chainId: number
  /** LayerZero V2 endpoint id of the chain. */
  eid: number
  /** symbol → ERC-20 address. */
  tokens: Record<string, Address>
  /** The Morpho Blue contract, if the chain has Morpho markets. */
  morpho?: Address
}

/** Thrown when a plan names a chain or a token the address book lacks. */
export class SettlementMappingError extends BaseError {
  override name = 'SettlementMappingError'
  constructor(what: string, leg: Pick<Leg, 'seq' | 'chainId'>) {
    super(`Cannot map leg ${leg.seq} on chain ${leg.chainId} to settlement: ${what}.`, {
      metaMessages: ['Every chain and token a plan names must be in the network configuration.'],
    })
  }
}

/**
 * Maps a planner `Plan` to the `SettlementPlan` the hub takes, for QBFT height `height`.
 * - Only `kind: 'liquidate'` legs go on chain; inventory `sell` legs are not settled by the hub and are left out.
 * - A leg's swaps are its venue fills on the leg's own chain, in the plan's order; fills on other chains are left out.
 * - Morpho legs keep the planner's mode: `seizedAssets` or `repaidShares`, the other argument 0.
 * @throws SettlementMappingError when a chain, a token or the Morpho address is missing from `chains`.
 */
export function toSettlementPlan(plan: Plan, height: bigint, chains: readonly SettlementChain[]): SettlementPlan {
  const byId = new Map(chains.map((c) => [c.chainId, c]))
  const legs: SettlementLeg[] = []
  for (const leg of plan.legs) {
    if (leg.kind !== 'liquidate' || leg.protocol === 'inventory') continue
    const chain = byId.get(leg.chainId)
    if (!chain) throw new SettlementMappingError('unknown chain', leg)
    const collateralToken = chain.tokens[leg.collateralAsset]
    const debtToken = chain.tokens[leg.debtAsset]
    if (!collateralToken) throw new SettlementMappingError(`unknown token ${leg.collateralAsset}`, leg)
    if (!debtToken) throw new SettlementMappingError(`unknown token ${leg.debtAsset}`, leg)
    const morpho = leg.protocol === 'morpho'
    if (morpho && !chain.morpho) throw new SettlementMappingError('no Morpho Blue address', leg)
    legs.push({
      seq: leg.seq,
      eid: chain.eid,
      protocol: morpho ? SettlementProtocol.morphoBlue : SettlementProtocol.aaveV3,
      target: morpho ? chain.morpho! : (leg.market as Address),
      marketId: morpho ? leg.market : zeroHash,
      borrower: leg.borrower,
      collateralToken,
      debtToken,
      seizedAssets: morpho && leg.mode === 'seizedAssets' ? leg.seizedAssets : 0n,
      repaidShares: morpho && leg.mode === 'repaidShares' ? leg.repaidShares : 0n,
      debtToCover: morpho ? 0n : leg.debtToCover,
      swaps: leg.venues
        .filter((v) => v.chainId === leg.chainId && v.amountIn > 0n)
        .map((v) => ({ pool: v.pool, amountIn: v.amountIn, minAmountOut: v.minAmountOut })),
      deadline: leg.deadline,
    })
  }
  return { height, legs }
}
