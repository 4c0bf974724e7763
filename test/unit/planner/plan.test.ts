import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  encodePlan,
  plan,
  planHash,
  PlanInputError,
  type Plan,
  type PlanInputs,
  type PlanParams,
} from '../../../protocol/planner/index.js'
import { WAD } from '../../../protocol/risk/math.js'
import {
  healthFactor as morphoHealthFactor,
  maxSeizableCollateral,
  simulateLiquidation,
  type MorphoMarket,
} from '../../../protocol/risk/morpho.js'
import { collateralToSeize, maxDebtToCover } from '../../../protocol/risk/aave.js'
import { priceImpactBps } from '../../../protocol/risk/uniswap-v2.js'
import { aaveAccountData, morphoMarketState, type AaveContext } from '../../../protocol/planner/liquidation.js'
import { generate, prng } from './generate.js'

function shuffle<T>(xs: T[], rnd: () => number): T[] {
  const a = xs.slice()
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    ;[a[i], a[j]] = [a[j], a[i]]
  }
  return a
}

function permute(inputs: PlanInputs, seed: number): PlanInputs {
  const rnd = prng(seed)
  return {
    assets: shuffle(inputs.assets, rnd),
    morphoMarkets: shuffle(inputs.morphoMarkets, rnd),
    morphoPositions: shuffle(inputs.morphoPositions, rnd),
    aaveMarkets: shuffle(inputs.aaveMarkets, rnd).map((m) => ({ ...m, reserves: shuffle(m.reserves, rnd) })),
    aaveUsers: shuffle(inputs.aaveUsers, rnd).map((u) => ({ ...u, collateral: shuffle(u.collateral, rnd), debt: shuffle(u.debt, rnd) })),
    prices: shuffle(inputs.prices, rnd),
    venues: shuffle(inputs.venues, rnd).map((v) => (rnd() < 0.5 ? v : { ...v, pool: v.pool.toUpperCase().replace('0X', '0x') as `0x${string}` })),
  }
}

/**
 * Independent check of a plan against the protocol rules (protocol/risk), replaying the legs in sequence:
 * - each leg liquidates a liquidatable account and seizes no more than the protocol allows;
 * - each leg marked 'restored' leaves the account at or above the target health factor;
 * - the total sold into each pool stays within the per-round impact budget.
 */
function checkPlan(inputs: PlanInputs, params: PlanParams, p: Plan): void {
  const markets = new Map<string, MorphoMarket>()
  for (const m of inputs.morphoMarkets) markets.set(`${m.chainId}:${m.id.toLowerCase()}`, morphoMarketState(m.totalBorrowAssets, m.totalBorrowShares, m.totalSupplyAssets))
  const units = new Map(inputs.assets.map((a) => [a.symbol, 10n ** BigInt(a.decimals)]))
  const dec = new Map(inputs.assets.map((a) => [a.symbol, a.decimals]))
  for (const leg of p.legs.filter((l) => l.kind === 'liquidate')) {
    if (leg.protocol === 'morpho') {
      const key = `${leg.chainId}:${leg.market}`
      const m = inputs.morphoMarkets.find((x) => `${x.chainId}:${x.id.toLowerCase()}` === key)!
      const pos = inputs.morphoPositions.find((x) => `${x.chainId}:${x.marketId.toLowerCase()}` === key && x.borrower.toLowerCase() === leg.borrower)!
      const price = (inputs.prices.find((x) => x.kind === 'morpho' && `${x.chainId}:${x.marketId.toLowerCase()}` === key)!).price
      const position = { supplyShares: 0n, borrowShares: pos.borrowShares, collateral: pos.collateral }
      const market = markets.get(key)!
      assert.ok(morphoHealthFactor(position, market, price, m.lltv) < WAD, 'liquidated a healthy Morpho position')
      assert.ok(leg.seizedAssets <= maxSeizableCollateral(position, market, price, m.lltv), 'Morpho leg seizes more than liquidate allows')
      const sim = simulateLiquidation(position, market, price, m.lltv, leg.mode === 'repaidShares' ? { repaidShares: leg.repaidShares } : { seizedAssets: leg.seizedAssets })
      assert.equal(sim.seizedAssets, leg.seizedAssets)
      assert.equal(sim.repaidAssets, leg.repaidAssets)
      markets.set(key, sim.market)
      if (leg.outcome === 'restored') assert.ok(morphoHealthFactor(sim.position, sim.market, price, m.lltv) >= params.targetHealthFactor, 'restored below target')
    } else {
      const u = inputs.aaveUsers.find((x) => x.chainId === leg.chainId && x.pool.toLowerCase() === leg.market && x.user.toLowerCase() === leg.borrower)!
      const am = inputs.aaveMarkets.find((x) => x.chainId === leg.chainId && x.pool.toLowerCase() === leg.market)!
      const priceOf = (a: string) => (inputs.prices.find((x) => x.kind === 'aave' && x.chainId === leg.chainId && x.pool.toLowerCase() === leg.market && x.asset === a)!).price
      const ctx: AaveContext = { reserves: new Map(am.reserves.map((r) => [r.asset, r])), price: priceOf, decimals: (a) => dec.get(a)!, unit: (a) => units.get(a)! }
      const before = aaveAccountData(u, ctx)
      assert.ok(before.healthFactor < WAD, 'liquidated a healthy Aave account')
      const userDebt = u.debt.find((d) => d.asset === leg.debtAsset)!.balance
      assert.ok(leg.debtToCover <= maxDebtToCover(userDebt, before.healthFactor), 'Aave leg covers more than the close factor allows')
      const r = ctx.reserves.get(leg.collateralAsset)!
      const bal = u.collateral.find((c) => c.asset === leg.collateralAsset)!.balance
      const s = collateralToSeize({
        debtToCover: leg.debtToCover,
        debtAssetPrice: priceOf(leg.debtAsset),
        debtAssetDecimals: dec.get(leg.debtAsset)!,
        collateralPrice: priceOf(leg.collateralAsset),
        collateralDecimals: dec.get(leg.collateralAsset)!,
        userCollateralBalance: bal,
        liquidationBonusBps: r.liquidationBonusBps,
        liquidationProtocolFeeBps: r.liquidationProtocolFeeBps,
      })
      assert.equal(leg.seizedAssets, s.collateralAmount, 'Aave leg differs from _calculateAvailableCollateralToLiquidate')
      assert.equal(leg.repaidAssets, s.debtAmountNeeded)
      assert.ok(s.collateralAmount + s.protocolFee <= bal)
      if (leg.outcome === 'restored') {
        const after = {
          collateral: u.collateral.map((c) => (c.asset === leg.collateralAsset ? { ...c, balance: c.balance - s.collateralAmount - s.protocolFee } : c)),
          debt: u.debt.map((d) => (d.asset === leg.debtAsset ? { ...d, balance: d.balance - s.debtAmountNeeded } : d)),
        }
        assert.ok(aaveAccountData(after, ctx).healthFactor >= params.targetHealthFactor, 'restored below target')
      }
    }
  }
  // Impact budget per venue per round.
  const sold = new Map<string, { amount: bigint; asset: string }>()
  for (const leg of p.legs) {
    for (const v of leg.venues) {
      const k = `${v.chainId}:${v.pool}`
      const e = sold.get(k)
      if (e) {
        assert.equal(e.asset, leg.collateralAsset, 'a pool traded both ways in one round')
        e.amount += v.amountIn
      } else sold.set(k, { amount: v.amountIn, asset: leg.collateralAsset })
      assert.ok(v.minAmountOut <= v.expectedAmountOut)
    }
  }
  for (const [k, e] of sold) {
    const v = inputs.venues.find((x) => `${x.chainId}:${x.pool.toLowerCase()}` === k)!
    const [rin, rout] = v.token0 === e.asset ? [v.reserve0, v.reserve1] : [v.reserve1, v.reserve0]
    assert.ok(priceImpactBps(e.amount, rin, rout) <= params.maxImpactBpsPerVenuePerRound, `pool ${k} over the impact budget`)
  }
}

describe('planner: plan', () => {
  it('produces byte-identical plans across runs and input permutations', () => {
    const g = generate({ positions: 120, pools: 10, seed: 3, liquidatableShare: 0.6, follow: true })
    const first = encodePlan(plan(g.inputs, g.params))
    assert.equal(encodePlan(plan(g.inputs, g.params)), first)
    for (let s = 1; s <= 4; s++) assert.equal(encodePlan(plan(permute(g.inputs, s), g.params)), first, `permutation ${s}`)
    assert.match(planHash(plan(g.inputs, g.params)), /^0x[0-9a-f]{64}$/)
  })

  it('property: legs within protocol rules, restored accounts at target, pools within the impact budget', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 2, max: 12 }),
        fc.constantFrom(20n, 100n, 300n),
        fc.constantFrom(101n * 10n ** 16n, 105n * 10n ** 16n, 125n * 10n ** 16n),
        fc.double({ min: 0.02, max: 1, noNaN: true }),
        fc.boolean(),
        (seed, pools, impact, target, depth, follow) => {
          const g = generate({ positions: 40, pools, seed, depth, follow, liquidatableShare: 0.7 })
          const params = { ...g.params, maxImpactBpsPerVenuePerRound: impact, targetHealthFactor: target }
          const p = plan(g.inputs, params)
          checkPlan(g.inputs, params, p)
        },
      ),
      { numRuns: 25, seed: 11 },
    )
  })

  it('schedules what exceeds the per-round budget and never sets off a cascade in pool-following markets', () => {
    const g = generate({ positions: 200, pools: 4, seed: 5, depth: 0.02, follow: true, liquidatableShare: 0.5 })
    const p = plan(g.inputs, g.params)
    assert.ok(p.schedule.length > 0, 'expected a multi-round schedule on shallow pools')
    assert.ok(p.legs.some((l) => l.heldAmount > 0n))
    assert.deepEqual(p.deferred.filter((d) => d.reason === 'cascade'), [])
    for (const o of p.oraclesAfter) {
      for (const pos of g.inputs.morphoPositions) {
        if (pos.marketId.toLowerCase() !== o.market || pos.chainId !== o.chainId) continue
        if (p.legs.some((l) => l.borrower === pos.borrower.toLowerCase() && l.market === o.market)) continue
        const m = g.inputs.morphoMarkets.find((x) => x.id === pos.marketId && x.chainId === pos.chainId)!
        const price = (g.inputs.prices.find((x) => x.kind === 'morpho' && x.marketId === pos.marketId && x.chainId === pos.chainId)!).price
        const st = morphoMarketState(m.totalBorrowAssets, m.totalBorrowShares, m.totalSupplyAssets)
        const position = { supplyShares: 0n, borrowShares: pos.borrowShares, collateral: pos.collateral }
        if (morphoHealthFactor(position, st, price, m.lltv) < WAD) continue
        assert.ok(morphoHealthFactor(position, st, o.price, m.lltv) >= WAD, 'a healthy account became liquidatable')
      }
    }
  })

  it('falls back to a Dutch auction when the pools trade far below the oracle', () => {
    const g = generate({ positions: 10, pools: 3, seed: 9 })
    // Every pool 10% below the oracle: AMM execution breaks the 3% slippage bound.
    const venues = g.inputs.venues.map((v) => (v.token0 === 'USDC' ? { ...v, reserve0: (v.reserve0 * 9n) / 10n } : { ...v, reserve1: (v.reserve1 * 9n) / 10n }))
    const p = plan({ ...g.inputs, venues }, g.params)
    assert.ok(p.legs.length > 0)
    for (const l of p.legs) {
      assert.equal(l.execution, 'auction')
      assert.equal(l.venues.length, 0)
      assert.equal(l.auction.amount, l.seizedAssets)
      assert.ok(l.auction.startPrice > l.refPrice && l.auction.floorPrice < l.refPrice)
      assert.equal(l.auction.decayPerSecond, (l.auction.startPrice - l.auction.floorPrice) / g.params.auction.durationSeconds)
      assert.equal(l.deadline, l.auction.endTime)
    }
  })

  it('keeps to maxLegs and defers the rest, lowest health factor first', () => {
    const g = generate({ positions: 30, pools: 5, seed: 2 })
    const p = plan(g.inputs, { ...g.params, maxLegs: 7 })
    assert.equal(p.legs.length, 7)
    const worstDeferred = p.deferred.filter((d) => d.reason === 'maxLegs').reduce((m, d) => (d.healthFactor < m ? d.healthFactor : m), 2n ** 256n)
    for (const l of p.legs) assert.ok(l.healthFactorBefore <= worstDeferred)
    p.legs.forEach((l, i) => assert.equal(l.seq, i))
  })

  it('sells inventory held from earlier rounds', () => {
    const g = generate({ positions: 0, pools: 5, seed: 4 })
    const price = (g.inputs.prices.find((x) => x.kind === 'morpho')!).price
    const p = plan({ ...g.inputs, inventory: [{ chainId: 1, asset: 'T0', quoteAsset: 'USDC', amount: 10n ** 18n, refPrice: price }] }, g.params)
    assert.equal(p.legs.length, 1)
    assert.equal(p.legs[0].kind, 'sell')
    assert.equal(p.legs[0].execution, 'amm')
  })
})

describe('planner: bad input', () => {
  const g = generate({ positions: 10, pools: 3, seed: 1 })
  const cases: [string, (i: PlanInputs, p: PlanParams) => [PlanInputs, PlanParams], RegExp][] = [
    ['a zero reserve', (i, p) => [{ ...i, venues: i.venues.map((v, k) => (k === 1 ? { ...v, reserve0: 0n } : v)) }, p], /venues\[1\]\.reserve0/],
    ['a negative reserve', (i, p) => [{ ...i, venues: i.venues.map((v, k) => (k === 0 ? { ...v, reserve1: -5n } : v)) }, p], /venues\[0\]\.reserve1/],
    ['a Morpho position with no price', (i, p) => [{ ...i, prices: i.prices.filter((x) => x.kind !== 'morpho') }, p], /morphoPositions\[\d+\].*no price|position with no price/],
    ['an Aave position with no price', (i, p) => [{ ...i, morphoPositions: [], prices: i.prices.filter((x) => x.kind !== 'aave') }, p], /aaveUsers\[\d+\]/],
    ['a zero oracle price', (i, p) => [{ ...i, prices: i.prices.map((x, k) => (k === 0 ? { ...x, price: 0n } : x)) }, p], /prices\[0\]\.price/],
    ['a target health factor ≤ 1', (i, p) => [i, { ...p, targetHealthFactor: WAD }], /params\.targetHealthFactor/],
    ['an impact budget of 0', (i, p) => [i, { ...p, maxImpactBpsPerVenuePerRound: 0n }], /params\.maxImpactBpsPerVenuePerRound/],
    ['maxLegs of 0', (i, p) => [i, { ...p, maxLegs: 0 }], /params\.maxLegs/],
    ['an urgency out of range', (i, p) => [i, { ...p, urgencyWad: 11n * WAD }], /params\.urgencyWad/],
    ['a floor discount of 100%', (i, p) => [i, { ...p, auction: { ...p.auction, floorDiscountBps: 10_000n } }], /params\.auction\.floorDiscountBps/],
    ['an LLTV of 1', (i, p) => [{ ...i, morphoMarkets: i.morphoMarkets.map((m, k) => (k === 2 ? { ...m, lltv: WAD } : m)) }, p], /morphoMarkets\[2\]\.lltv/],
    ['an unknown asset', (i, p) => [{ ...i, venues: i.venues.map((v, k) => (k === 0 ? { ...v, token0: 'NOPE' } : v)) }, p], /venues\[0\]\.token0/],
    ['a following rule naming no market', (i, p) => [i, { ...p, oracleFollowsPools: [{ protocol: 'morpho', chainId: 1, marketId: `0x${'ab'.repeat(32)}` }] }], /params\.oracleFollowsPools\[0\]\.marketId/],
    ['a non-bigint amount', (i, p) => [{ ...i, morphoPositions: i.morphoPositions.map((x, k) => (k === 0 ? { ...x, collateral: 5 as unknown as bigint } : x)) }, p], /morphoPositions\[0\]\.collateral/],
  ]
  for (const [label, mutate, field] of cases) {
    it(`rejects ${label}, naming the input`, () => {
      const [inputs, params] = mutate(g.inputs, g.params)
      assert.throws(
        () => plan(inputs, params),
        (err: unknown) => {
          assert.ok(err instanceof PlanInputError, `expected PlanInputError, got ${String(err)}`)
          assert.equal(err.name, 'PlanInputError')
          assert.match(err.field + ' ' + err.message, field)
          return true
        },
      )
    })
  }
})
