/**
 * Deterministic generator of planner inputs for tests and the benchmark: liquidatable Morpho and Aave accounts across
 * several chains, constant-product pools at (about) the oracle prices, seeded PRNG (mulberry32).
 */
import { keccak256, toHex } from 'viem'
import { defaultPlanParams, type Hex, type PlanInputs, type PlanParams } from '../../../protocol/planner/index.js'

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

export const CHAINS = [1, 10, 42161]

const addr = (tag: string): Hex => keccak256(toHex(tag)).slice(0, 42) as Hex
const id32 = (tag: string): Hex => keccak256(toHex(tag))

export type GenOptions = {
  positions: number
  pools: number
  seed: number
  /** Share of Aave accounts, 0..1 (default 0.5). */
  aaveShare?: number
  /** Share of positions that are liquidatable (default 1). */
  liquidatableShare?: number
  /** Pool depth multiplier (default 1: $2M–$40M a side). */
  depth?: number
  /** Mark every Morpho market as following its pools. */
  follow?: boolean
}

export type GenCase = { inputs: PlanInputs; params: PlanParams }

/** USD prices ×1e8 of the generated assets. */
export function generate(opts: GenOptions): GenCase {
  const rnd = prng(opts.seed)
  const pairsCount = Math.max(1, Math.ceil(opts.pools / 5))
  const assets = [{ symbol: 'USDC', decimals: 6 }]
  const usd: Record<string, bigint> = { USDC: 100_000_000n }
  for (let i = 0; i < pairsCount; i++) {
    const symbol = `T${i}`
    const decimals = [18, 8, 18, 6][i % 4]
    assets.push({ symbol, decimals })
    usd[symbol] = BigInt(Math.floor((1 + rnd() * 3000) * 1e8))
  }
  const dec = (s: string) => BigInt(assets.find((a) => a.symbol === s)!.decimals)
  const inputs: PlanInputs = { assets, morphoMarkets: [], morphoPositions: [], aaveMarkets: [], aaveUsers: [], prices: [], venues: [] }

  // Pools: pools / pairsCount per pair, spread over the chains.
  for (let k = 0; k < opts.pools; k++) {
    const t = `T${k % pairsCount}`
    const chainId = CHAINS[k % CHAINS.length]
    const depthUsd = (2e6 + rnd() * 38e6) * (opts.depth ?? 1)
    const noise = 1 + (rnd() - 0.5) * 0.004
    const rUsdc = BigInt(Math.floor(depthUsd)) * 10n ** 6n
    const rT = (BigInt(Math.floor(depthUsd * noise * 1e6)) * 10n ** dec(t) * 100n) / usd[t]
    const flip = rnd() < 0.5
    inputs.venues.push({
      chainId,
      pool: addr(`pool:${k}`),
      token0: flip ? t : 'USDC',
      token1: flip ? 'USDC' : t,
      reserve0: flip ? rT : rUsdc,
      reserve1: flip ? rUsdc : rT,
    })
  }
  // Morpho markets: one per (chain, pair); Aave: one pool per chain with every asset.
  const lltvs = [860n, 915n, 770n, 945n].map((x) => x * 10n ** 15n)
  const morphoPrice = (t: string) => (usd[t] * 10n ** 6n * 10n ** 36n) / (usd.USDC * 10n ** dec(t))
  for (const chainId of CHAINS) {
    for (let i = 0; i < pairsCount; i++) {
      const t = `T${i}`
      const id = id32(`market:${chainId}:${t}`)
      inputs.morphoMarkets.push({ chainId, id, loanAsset: 'USDC', collateralAsset: t, lltv: lltvs[i % lltvs.length], totalBorrowAssets: 0n, totalBorrowShares: 0n, totalSupplyAssets: 0n })
      inputs.prices.push({ kind: 'morpho', chainId, marketId: id, price: morphoPrice(t) })
    }
    const pool = addr(`aave:${chainId}`)
    inputs.aaveMarkets.push({
      chainId,
      pool,
      reserves: assets.map((a) => ({
        asset: a.symbol,
        liquidationThresholdBps: a.symbol === 'USDC' ? 8700n : 8250n,
        liquidationBonusBps: a.symbol === 'USDC' ? 10450n : 10500n,
        liquidationProtocolFeeBps: 1000n,
      })),
    })
    for (const a of assets) inputs.prices.push({ kind: 'aave', chainId, pool, asset: a.symbol, price: usd[a.symbol] })
  }
  const aaveShare = opts.aaveShare ?? 0.5
  for (let n = 0; n < opts.positions; n++) {
    const t = `T${Math.floor(rnd() * pairsCount)}`
    const chainId = CHAINS[Math.floor(rnd() * CHAINS.length)]
    const debtUsd = Math.floor(Math.exp(Math.log(1e3) + rnd() * Math.log(1e3)))
    const liquidatable = rnd() < (opts.liquidatableShare ?? 1)
    const hf = liquidatable ? 0.7 + rnd() * 0.299 : 1.01 + rnd() * 0.6
    const debt = BigInt(debtUsd) * 10n ** 6n
    if (rnd() < aaveShare) {
      const collUsd = (debtUsd * hf) / 0.825
      const coll = (BigInt(Math.floor(collUsd * 1e6)) * 10n ** dec(t) * 100n) / usd[t]
      inputs.aaveUsers.push({ chainId, pool: addr(`aave:${chainId}`), user: addr(`user:${n}`), collateral: [{ asset: t, balance: coll }], debt: [{ asset: 'USDC', balance: debt }] })
    } else {
      const m = inputs.morphoMarkets.find((x) => x.chainId === chainId && x.collateralAsset === t)!
      const lltvF = Number(m.lltv) / 1e18
      const collUsd = (debtUsd * hf) / lltvF
      const coll = (BigInt(Math.floor(collUsd * 1e6)) * 10n ** dec(t) * 100n) / usd[t]
      const shares = debt * 10n ** 6n
      m.totalBorrowAssets += debt
      m.totalBorrowShares += shares
      m.totalSupplyAssets += debt * 2n
      inputs.morphoPositions.push({ chainId, marketId: m.id, borrower: addr(`borrower:${n}`), borrowShares: shares, collateral: coll })
    }
  }
  const params: PlanParams = {
    ...defaultPlanParams,
    maxLegs: 100_000,
    deadlineBase: 1_700_000_000n,
    oracleFollowsPools: opts.follow ? inputs.morphoMarkets.map((m) => ({ protocol: 'morpho' as const, chainId: m.chainId, marketId: m.id })) : [],
  }
  return { inputs, params }
}
