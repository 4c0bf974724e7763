import assert from 'node:assert/strict'
import { bytesToHex, hashTypedData, recoverTypedDataAddress, zeroHash, type Address } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import {
  commitSealDigest,
  commitSealTypedData,
  sealDomainSeparator,
  settlementPlanDigest,
  signCommitSeal,
  toSettlementPlan,
  SettlementMappingError,
  type SettlementPlan,
} from '../../../protocol/settlement/plan.js'
import type { Leg, Plan } from '../../../protocol/planner/types.js'

const hub: Address = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const domain = { chainId: 31337, verifyingContract: hub }
const key = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' as const

const plan: SettlementPlan = {
  height: 7n,
  legs: [
    {
      seq: 0,
      eid: 40101,
      protocol: 1,
      target: '0x0000000000000000000000000000000000000001',
      marketId: '0x' + 'ab'.repeat(32) as `0x${string}`,
      borrower: '0x0000000000000000000000000000000000000002',
      collateralToken: '0x0000000000000000000000000000000000000003',
      debtToken: '0x0000000000000000000000000000000000000004',
      seizedAssets: 10n ** 18n,
      repaidShares: 0n,
      debtToCover: 0n,
      swaps: [{ pool: '0x0000000000000000000000000000000000000005', amountIn: 10n ** 18n, minAmountOut: 1990n * 10n ** 6n }],
      deadline: 1_800_000_000n,
    },
  ],
}

describe('protocol/settlement: commit seals', () => {
  it('the fast digest equals viem hashTypedData, and the seal recovers to the signer', async () => {
    const digest = settlementPlanDigest(plan)
    const sep = sealDomainSeparator(domain)
    const fast = bytesToHex(commitSealDigest(sep, plan.height, digest))
    assert.equal(fast, hashTypedData(commitSealTypedData(domain, plan.height, digest)))
    const seal = signCommitSeal(sep, plan.height, digest, Buffer.from(key.slice(2), 'hex'))
    assert.equal(seal.length, 65)
    const signer = await recoverTypedDataAddress({ ...commitSealTypedData(domain, plan.height, digest), signature: bytesToHex(seal) })
    assert.equal(signer, privateKeyToAccount(key).address)
  })

  it('a different height or plan gives a different digest', () => {
    const sep = sealDomainSeparator(domain)
    const d = settlementPlanDigest(plan)
    assert.notEqual(bytesToHex(commitSealDigest(sep, 7n, d)), bytesToHex(commitSealDigest(sep, 8n, d)))
    const other = { ...plan, legs: [{ ...plan.legs[0]!, seizedAssets: 1n }] }
    assert.notEqual(settlementPlanDigest(other), d)
  })
})

describe('protocol/settlement: toSettlementPlan', () => {
  const baseLeg = {
    seq: 3, kind: 'liquidate', chainId: 1, protocol: 'aave', market: '0x00000000000000000000000000000000000000aa',
    borrower: '0x00000000000000000000000000000000000000bb', collateralAsset: 'WETH', debtAsset: 'USDC', mode: 'debtToCover',
    repaidShares: 0n, repaidAssets: 5n, debtToCover: 6n, seizedAssets: 7n, badDebtAssets: 0n, incentive: 0n, outcome: 'restored',
    healthFactorBefore: 0n, healthFactorAfter: 0n, refPrice: 0n, execution: 'amm',
    venues: [
      { chainId: 1, pool: '0x00000000000000000000000000000000000000cc', amountIn: 7n, expectedAmountOut: 9n, minAmountOut: 8n },
      { chainId: 2, pool: '0x00000000000000000000000000000000000000dd', amountIn: 1n, expectedAmountOut: 1n, minAmountOut: 1n },
    ],
    auction: { amount: 0n, startPrice: 0n, decayPerSecond: 0n, floorPrice: 0n, startTime: 0n, endTime: 0n },
    heldAmount: 0n, deadline: 100n,
  } satisfies Leg
  const p = (legs: Leg[]): Plan => ({ version: 1, legs, schedule: [], deferred: [], poolsAfter: [], oraclesAfter: [] })
  const chains = [{ chainId: 1, eid: 40101, tokens: { WETH: '0x00000000000000000000000000000000000000e1', USDC: '0x00000000000000000000000000000000000000e2' } as Record<string, Address> }]

  it('maps an Aave leg, keeps own-chain swaps only, and drops inventory sales', () => {
    const sell: Leg = { ...baseLeg, seq: 4, kind: 'sell', protocol: 'inventory' }
    const s = toSettlementPlan(p([baseLeg, sell]), 9n, chains)
    assert.equal(s.height, 9n)
    assert.equal(s.legs.length, 1)
    const l = s.legs[0]!
    assert.equal(l.protocol, 2)
    assert.equal(l.target, baseLeg.market)
    assert.equal(l.marketId, zeroHash)
    assert.equal(l.debtToCover, 6n)
    assert.equal(l.seizedAssets, 0n)
    assert.deepEqual(l.swaps, [{ pool: baseLeg.venues[0]!.pool, amountIn: 7n, minAmountOut: 8n }])
  })

  it('maps a Morpho leg by its mode and refuses unknown chains and tokens', () => {
    const m: Leg = { ...baseLeg, protocol: 'morpho', market: ('0x' + '11'.repeat(32)) as `0x${string}`, mode: 'repaidShares', repaidShares: 42n }
    assert.throws(() => toSettlementPlan(p([m]), 1n, chains), SettlementMappingError)
    const withMorpho = [{ ...chains[0]!, morpho: '0x00000000000000000000000000000000000000f0' as Address }]
    const l = toSettlementPlan(p([m]), 1n, withMorpho).legs[0]!
    assert.equal(l.repaidShares, 42n)
    assert.equal(l.seizedAssets, 0n)
    assert.equal(l.debtToCover, 0n)
    assert.equal(l.marketId, m.market)
    assert.throws(() => toSettlementPlan(p([{ ...baseLeg, chainId: 5 }]), 1n, chains), /unknown chain/)
    assert.throws(() => toSettlementPlan(p([{ ...baseLeg, debtAsset: 'DAI' }]), 1n, chains), /unknown token DAI/)
  })
})
