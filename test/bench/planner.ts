/**
 * Planner benchmark: time to plan 1,000 and 10,000 liquidatable positions across 50 pools (median of several runs),
 * and the quality of the venue split against the optimum on the same generated cases.
 *
 * qualityRatio = Σ output of the plan's per-pool sales / Σ output of the optimal split of the same amounts under the
 * same per-pool caps, worst group of the case (1.0 = optimal). The optimum is found independently of the planner's
 * closed form: bisection on the common post-trade marginal price, then exact `getAmountOut`.
 *
 * Prints one JSON object per line: {"bench":"planner","positions":…,"pools":50,"planMs":…,"qualityRatio":…,"cpuMs":…,"runs":…}
 * (planMs: median wall time; cpuMs: median process CPU time, which also counts the garbage collector's threads).
 * Options: --runs=N (default 7).
 */
import { plan } from '../../protocol/planner/index.js'
import { sqrt } from '../../protocol/risk/math.js'
import { getAmountOut, maxAmountInForImpact } from '../../protocol/risk/uniswap-v2.js'
import { splitAcrossPools, totalOut } from '../../protocol/planner/index.js'
import { generate, prng } from '../unit/planner/generate.js'

type P = { reserveIn: bigint; reserveOut: bigint; cap: bigint }

/** Optimal output for selling `total` across `pools` (caps respected), by bisection on t = (1000x + 997a)/√(xy). */
export function optimalOut(total: bigint, pools: P[]): bigint {
  const k = pools.map((p) => sqrt((p.reserveIn * p.reserveOut) << 128n))
  const alloc = (t: bigint) =>
    pools.map((p, i) => {
      const a = ((t * k[i]) >> 0n) / 1n
      const v = (a - 1000n * p.reserveIn * (1n << 64n)) / (997n * (1n << 64n))
      return v < 0n ? 0n : v > p.cap ? p.cap : v
    })
  const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n)
  let lo = 0n
  let hi = 1n
  while (sum(alloc(hi)) < total) hi *= 2n
  for (let it = 0; it < 400 && hi - lo > 1n; it++) {
    const mid = (lo + hi) / 2n
    if (sum(alloc(mid)) < total) lo = mid
    else hi = mid
  }
  const a = alloc(lo)
  // Place the last units one by one on the best marginal pool.
  let rest = total - sum(a)
  while (rest > 0n) {
    let best = -1
    let bestGain = -1n
    const step = rest > 1000n ? rest / 1000n : 1n
    pools.forEach((p, i) => {
      if (a[i] + step > p.cap) return
      const g = getAmountOut(a[i] + step, p.reserveIn, p.reserveOut) - (a[i] > 0n ? getAmountOut(a[i], p.reserveIn, p.reserveOut) : 0n)
      if (g > bestGain) {
        best = i
        bestGain = g
      }
    })
    if (best < 0) break
    a[best] += step
    rest -= step
  }
  return a.reduce((acc, x, i) => acc + (x > 0n ? getAmountOut(x, pools[i].reserveIn, pools[i].reserveOut) : 0n), 0n)
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

export async function run(args: string[]): Promise<void> {
  const runs = Number(args.find((a) => a.startsWith('--runs='))?.slice(7) ?? 7)
  for (const positions of [1000, 10000]) {
    const pools = 50
    const g = generate({ positions, pools, seed: 42 })
    plan(g.inputs, g.params) // warm-up
    const times: number[] = []
    const cpu: number[] = []
    let last = plan(g.inputs, g.params)
    for (let i = 0; i < runs; i++) {
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      last = plan(g.inputs, g.params)
      times.push(performance.now() - t0)
      const c = process.cpuUsage(c0)
      cpu.push((c.user + c.system) / 1000)
    }
    // Quality: per (asset) group, the plan's per-pool totals against the optimum for the same total and caps.
    const sold = new Map<string, { amount: bigint; asset: string }>()
    for (const leg of last.legs) for (const v of leg.venues) {
      const k = `${v.chainId}:${v.pool}`
      const e = sold.get(k) ?? { amount: 0n, asset: leg.collateralAsset }
      e.amount += v.amountIn
      sold.set(k, e)
    }
    let worst = 1
    const assets = new Set([...sold.values()].map((e) => e.asset))
    for (const asset of assets) {
      const venues = g.inputs.venues.filter((v) => v.token0 === asset || v.token1 === asset)
      const ps: P[] = venues.map((v) => {
        const [reserveIn, reserveOut] = v.token0 === asset ? [v.reserve0, v.reserve1] : [v.reserve1, v.reserve0]
        return { reserveIn, reserveOut, cap: maxAmountInForImpact(reserveIn, reserveOut, g.params.maxImpactBpsPerVenuePerRound) }
      })
      let total = 0n
      let got = 0n
      venues.forEach((v, i) => {
        const a = sold.get(`${v.chainId}:${v.pool.toLowerCase()}`)?.amount ?? 0n
        total += a
        if (a > 0n) got += getAmountOut(a, ps[i].reserveIn, ps[i].reserveOut)
      })
      if (total === 0n) continue
      const best = optimalOut(total, ps)
      const ratio = Number((got * 10n ** 12n) / best) / 1e12
      if (ratio < worst) worst = ratio
    }
    // Plus generated split cases below capacity (where the split matters): 50 pools, 10–90 % of the capacity.
    const rnd = prng(positions)
    for (let c = 0; c < 40; c++) {
      const ps: P[] = Array.from({ length: pools }, () => {
        const reserveIn = BigInt(Math.floor(1e6 + rnd() * 1e8)) * 10n ** 12n
        const reserveOut = (reserveIn * BigInt(Math.floor(2900 + rnd() * 200))) / 10n ** 12n
        return { reserveIn, reserveOut, cap: maxAmountInForImpact(reserveIn, reserveOut, 100n) }
      })
      const capacity = ps.reduce((a, p) => a + p.cap, 0n)
      const amount = (capacity * BigInt(10 + Math.floor(rnd() * 80))) / 100n
      const got = totalOut(ps, splitAcrossPools(amount, ps))
      const ratio = Number((got * 10n ** 12n) / optimalOut(amount, ps)) / 1e12
      if (ratio < worst) worst = ratio
    }
    console.log(JSON.stringify({ bench: 'planner', positions, pools, planMs: Number(median(times).toFixed(1)), qualityRatio: Number(worst.toFixed(6)), cpuMs: Number(median(cpu).toFixed(1)), runs }))
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2))
