/**
 * The simulated world: constant-product pools with finite depth, arbitrage toward an exogenous fair price path,
 * oracles that read either the fair price (an external feed) or the pools, and Morpho Blue / Aave V3 markets whose
 * state moves only through the protocol math of `protocol/risk`. State is bigint; floats appear only when a scenario
 * is turned into amounts (seeded borrower sizes) and in the reports.
 */
import { keccak256, toHex, type Hex } from 'viem'
import { sqrt } from '../../protocol/risk/math.js'
import { ORACLE_PRICE_SCALE, type MorphoMarket, type MorphoPosition } from '../../protocol/risk/morpho.js'
import type { AaveAccount } from '../../protocol/planner/liquidation.js'
import type { Scenario } from './scenario.js'

/** A (collateral, debt) constant-product pool; token0 is the collateral, token1 the debt asset. */
export type SimPool = { chainId: number; pool: Hex; reserve0: bigint; reserve1: bigint }

export type SimMorphoMarket = {
  protocol: 'morpho'
  chainId: number
  id: Hex
  lltv: bigint
  oracle: 'external' | 'pools'
  state: MorphoMarket
  positions: Map<Hex, MorphoPosition>
}

export type SimAaveMarket = {
  protocol: 'aave'
  chainId: number
  pool: Hex
  oracle: 'external' | 'pools'
  liquidationThresholdBps: bigint
  liquidationBonusBps: bigint
  liquidationProtocolFeeBps: bigint
  users: Map<Hex, AaveAccount>
}

export type SimMarket = SimMorphoMarket | SimAaveMarket

export type World = {
  pools: SimPool[]
  markets: SimMarket[]
}

const PRICE_UNIT = 100_000_000n // USD 1e8

/** mulberry32, seeded. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Fair collateral price multiple at `step` (linear between keyframes, flat outside). */
export function fairMultiple(s: Scenario, step: number): number {
  const path = s.pricePath
  if (step <= path[0][0]) return path[0][1]
  for (let i = 1; i < path.length; i++) {
    const [s1, m1] = path[i]
    const [s0, m0] = path[i - 1]
    if (step <= s1) return m0 + ((m1 - m0) * (step - s0)) / (s1 - s0)
  }
  return path[path.length - 1][1]
}

/** USD price ×1e8 of the collateral at `step`. */
export function fairUsd1e8(s: Scenario, step: number): bigint {
  return BigInt(Math.round(s.collateral.priceUsd * fairMultiple(s, step) * 1e8))
}

/** Collateral price in debt units, 1e36-scaled (Morpho's oracle scale), from a collateral USD price ×1e8. */
export function price36FromUsd(s: Scenario, collUsd1e8: bigint): bigint {
  const debtUsd1e8 = BigInt(Math.round(s.debt.priceUsd * 1e8))
  return (collUsd1e8 * 10n ** BigInt(s.debt.decimals) * ORACLE_PRICE_SCALE) / (debtUsd1e8 * 10n ** BigInt(s.collateral.decimals))
}

/** Collateral USD price ×1e8 from a 1e36-scaled price in debt units. */
export function usdFromPrice36(s: Scenario, p36: bigint): bigint {
  const debtUsd1e8 = BigInt(Math.round(s.debt.priceUsd * 1e8))
  return (p36 * debtUsd1e8 * 10n ** BigInt(s.collateral.decimals)) / (10n ** BigInt(s.debt.decimals) * ORACLE_PRICE_SCALE)
}

/** Marginal price of a pool, debt per collateral, 1e36-scaled. */
export function poolPrice36(p: SimPool): bigint {
  return (p.reserve1 * ORACLE_PRICE_SCALE) / p.reserve0
}

/** Aggregate marginal price Σ reserve1 / Σ reserve0 of the pools on `chainId` (all pools if none there), 1e36. */
export function aggregatePrice36(pools: SimPool[], chainId: number): bigint {
  const on = pools.filter((p) => p.chainId === chainId)
  const set = on.length > 0 ? on : pools
  let r0 = 0n
  let r1 = 0n
  for (const p of set) {
    r0 += p.reserve0
    r1 += p.reserve1
  }
  return (r1 * ORACLE_PRICE_SCALE) / r0
}

/**
 * Arbitrage: arbitrageurs close `speedBps` of the gap between the pool's marginal price and the fair price, along the
 * constant-product curve (k kept): reserve0' = √(k·1e36 / P'), reserve1' = k / reserve0'.
 */
export function arbitrage(p: SimPool, fair36: bigint, speedBps: bigint): void {
  const cur = poolPrice36(p)
  const target = cur + ((fair36 - cur) * speedBps) / 10_000n
  if (target <= 0n || target === cur) return
  const k = p.reserve0 * p.reserve1
  const r0 = sqrt((k * ORACLE_PRICE_SCALE) / target)
  if (r0 === 0n) return
  p.reserve0 = r0
  p.reserve1 = k / r0
}

const addr = (tag: string): Hex => keccak256(toHex(tag)).slice(0, 42) as Hex

/** Builds the step-0 world of a scenario (deterministic in its seed). */
export function buildWorld(s: Scenario): World {
  const rnd = prng(s.seed)
  const p0 = price36FromUsd(s, fairUsd1e8(s, 0))
  const debtUnit = 10n ** BigInt(s.debt.decimals)
  const collUnit = 10n ** BigInt(s.collateral.decimals)
  const pools: SimPool[] = s.pools.map((p, i) => {
    const reserve1 = (BigInt(Math.round(p.depthUsd / s.debt.priceUsd)) * debtUnit) as bigint
    return { chainId: p.chainId, pool: addr(`${s.name}:pool:${i}`), reserve0: (reserve1 * ORACLE_PRICE_SCALE) / p0, reserve1 }
  })
  const gauss = () => {
    const u = Math.max(rnd(), 1e-12)
    const v = rnd()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }
  const markets: SimMarket[] = s.markets.map((m, mi) => {
    const draw = () => {
      const debtUsd = m.borrowers.debtUsd.median * Math.exp(m.borrowers.debtUsd.sigma * gauss())
      const hf = m.borrowers.healthFactor.min + rnd() * (m.borrowers.healthFactor.max - m.borrowers.healthFactor.min)
      const debt = BigInt(Math.max(1, Math.round((debtUsd / s.debt.priceUsd) * 1e6))) * (debtUnit / 1_000_000n > 0n ? debtUnit / 1_000_000n : 1n)
      return { debt, hf }
    }
    if (m.protocol === 'morpho') {
      const lltv = BigInt(Math.round(m.lltv * 1e6)) * 10n ** 12n
      const positions = new Map<Hex, MorphoPosition>()
      let totalBorrowAssets = 0n
      let totalBorrowShares = 0n
      for (let b = 0; b < m.borrowers.count; b++) {
        const { debt, hf } = draw()
        // collateral·p0/1e36·lltv = hf·debt
        const collateral = (debt * BigInt(Math.round(hf * 1e9)) * ORACLE_PRICE_SCALE * 10n ** 18n) / (10n ** 9n * lltv * p0)
        const shares = debt * 1_000_000n
        positions.set(addr(`${s.name}:m${mi}:b${b}`), { supplyShares: 0n, borrowShares: shares, collateral })
        totalBorrowAssets += debt
        totalBorrowShares += shares
      }
      return {
        protocol: 'morpho',
        chainId: m.chainId,
        id: keccak256(toHex(`${s.name}:market:${mi}`)),
        lltv,
        oracle: m.oracle,
        state: { totalSupplyAssets: (totalBorrowAssets * 3n) / 2n, totalSupplyShares: 0n, totalBorrowAssets, totalBorrowShares, lastUpdate: 1n, fee: 0n },
        positions,
      }
    }
    const users = new Map<Hex, AaveAccount>()
    const lt = BigInt(m.liquidationThresholdBps)
    for (let b = 0; b < m.borrowers.count; b++) {
      const { debt, hf } = draw()
      // collateral value·LT = hf·debt, in debt units at p0
      const collateral = (debt * BigInt(Math.round(hf * 1e9)) * 10_000n * ORACLE_PRICE_SCALE) / (10n ** 9n * lt * p0)
      users.set(addr(`${s.name}:a${mi}:u${b}`), {
        collateral: [{ asset: s.collateral.symbol, balance: collateral }],
        debt: [{ asset: s.debt.symbol, balance: debt }],
      })
    }
    void collUnit
    return {
      protocol: 'aave',
      chainId: m.chainId,
      pool: addr(`${s.name}:aave:${mi}`),
      oracle: m.oracle,
      liquidationThresholdBps: lt,
      liquidationBonusBps: BigInt(m.liquidationBonusBps),
      liquidationProtocolFeeBps: BigInt(m.liquidationProtocolFeeBps),
      users,
    }
  })
  return { pools, markets }
}

/** A deep copy of a world (each strategy runs on its own). */
export function cloneWorld(w: World): World {
  return {
    pools: w.pools.map((p) => ({ ...p })),
    markets: w.markets.map((m) =>
      m.protocol === 'morpho'
        ? { ...m, state: { ...m.state }, positions: new Map([...m.positions].map(([k, v]) => [k, { ...v }])) }
        : {
            ...m,
            users: new Map(
              [...m.users].map(([k, v]) => [k, { collateral: v.collateral.map((c) => ({ ...c })), debt: v.debt.map((d) => ({ ...d })) }]),
            ),
          },
    ),
  }
}

export { PRICE_UNIT }
