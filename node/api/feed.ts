/**
 * The items of the risk feed, built from the level store (accounts, liquidity), the price history
 * (volatility) and the plan source. Amounts are decimal strings (token base units; health factors
 * WAD), addresses checksummed, market ids lower-case bytes32 hex, times ms since the Unix epoch.
 *
 * Collateral price series (the volatility behind `risk.probability`, see node/api/prices.ts): a Morpho Blue
 * market's collateral token priced in its loan token by the market oracle; an Aave V3 pool's most widely held
 * collateral reserve (the reserve most of its accounts hold as collateral in its latest full snapshot, or
 * the first snapshot seen; ties to the lowest address) priced in the oracle's base currency (USD). The node records both series from accepted snapshots.
 *
 * An account or pool seen by several operators is served at the newest block any operator
 * reported; `attestedBy` lists the operators whose view at that block agrees with the one served
 * (the largest agreeing group; ties to the lowest addresses).
 */
import { getAddress, bytesToHex, type Address, type Hex } from 'viem'
import {
  LendingProtocol,
  Venue,
  bytesToAmount,
  decodeEnvelope,
  decodeHealthSnapshot,
  decodeLiquiditySnapshot,
  type WireHealthSnapshot,
  type WireLiquiditySnapshot,
} from '../../protocol/proto/codec.js'
import { Bucket } from '../store/buckets.js'
import { readU64, type StoredAccountHealth } from '../store/encoding.js'
import type { Store } from '../store/store.js'
import type { LegSettlement, LegStatus, PlanRecord } from './plans.js'
import { BASE_CURRENCY, type PriceHistory, type PriceSeries } from './prices.js'
import { distanceToLiquidationBps, liquidationProbability, realizedVolatility, type VolatilityEstimate } from './risk.js'

// ---------------------------------------------------------------- names

export type ProtocolName = 'morpho-blue' | 'aave-v3'
export type VenueName = 'uniswap-v2'
export const protocolNames: { [K in LendingProtocol]: ProtocolName } = { [LendingProtocol.morphoBlue]: 'morpho-blue', [LendingProtocol.aaveV3]: 'aave-v3' }
export const venueNames: { [K in Venue]: VenueName } = { [Venue.uniswapV2]: 'uniswap-v2' }
export const protocolOfName = (n: ProtocolName): LendingProtocol => (n === 'morpho-blue' ? LendingProtocol.morphoBlue : LendingProtocol.aaveV3)
export const venueOfName = (_n: VenueName): Venue => Venue.uniswapV2

// ---------------------------------------------------------------- items

/** Estimator and model names, as documented in docs/openapi.yaml and node/api/risk.ts. */
export const RISK_MODEL = 'driftless-lognormal-first-passage'
export const VOLATILITY_ESTIMATOR = 'close-to-close-realized'

export type LiquidationRisk = {
  /** Relative collateral price fall that makes the account liquidatable, bps (0 = already liquidatable, 10000 = no debt). */
  distanceBps: number
  /** Probability of that fall within `horizonSeconds`; null without a volatility estimate. */
  probability: number | null
  horizonSeconds: number
  /** Annualised σ of the collateral price; null without enough price history. */
  volatility: number | null
  /** Log returns in the estimate. */
  volatilitySamples: number
  model: typeof RISK_MODEL
  estimator: typeof VOLATILITY_ESTIMATOR
  /** The price series used: the market's collateral asset on its chain, when known (Aave: the pool's most widely held collateral reserve). */
  collateralAsset: Address | null
}

export type AccountItem = {
  chainId: number
  protocol: ProtocolName
  /** Morpho market id, or the Aave pool address left-padded to 32 bytes. */
  market: Hex
  borrower: Address
  /** Block the view was read at (decimal string). */
  blockNumber: string
  observedAt: number
  /** WAD (1e18 = 1.0); 2^256−1 without debt. */
  healthFactor: string
  liquidatable: boolean
  /** Collateral base units (Aave: base currency, USD 1e8). */
  collateral: string
  /** Debt base units (Aave: base currency). */
  borrowAssets: string
  /** Collateral seizable by one liquidation now (0 when healthy). */
  maxSeizable: string
  risk: LiquidationRisk
  attestedBy: Address[]
}

export type DepthPointItem = { zeroForOne: boolean; impactBps: number; amountIn: string; amountOut: string }
export type LiquidityItem = {
  chainId: number
  venue: VenueName
  pair: Address
  token0: Address
  token1: Address
  blockNumber: string
  observedAt: number
  reserve0: string
  reserve1: string
  depth: DepthPointItem[]
  attestedBy: Address[]
}

export type PlanLegItem = Record<string, unknown> & { seq: number; settlement: Omit<LegSettlement, 'seq'> }
export type PlanItem = {
  height: string
  round: number
  planHash: Hex
  certifiedAt: number
  signers: Address[]
  /** planned while no leg moved; settling while some are in flight; settled when every leg is executed or failed. */
  status: 'planned' | 'settling' | 'settled'
  counts: Record<LegStatus, number>
  legs: PlanLegItem[]
  plan: Record<string, unknown>
}

/** Converts bigints to decimal strings, recursively (plans). */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString()
  if (Array.isArray(v)) return v.map(jsonSafe)
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, jsonSafe(x)]))
  return v
}

export function planItem(r: PlanRecord): PlanItem {
  const counts: Record<LegStatus, number> = { planned: 0, dispatched: 0, executed: 0, failed: 0 }
  const bySeq = new Map(r.legs.map((l) => [l.seq, l]))
  const legs = r.plan.legs.map((leg) => {
    const s = bySeq.get(leg.seq) ?? { seq: leg.seq, status: 'planned' as const }
    counts[s.status]++
    const { seq: _seq, ...settlement } = s
    return { ...(jsonSafe(leg) as Record<string, unknown>), seq: leg.seq, settlement: jsonSafe(settlement) as Omit<LegSettlement, 'seq'> }
  })
  const done = counts.executed + counts.failed
  const { legs: _legs, ...rest } = r.plan
  return {
    height: r.height.toString(),
    round: r.round,
    planHash: r.planHash.toLowerCase() as Hex,
    certifiedAt: r.certifiedAt,
    signers: r.signers.map((s) => getAddress(s)),
    status: legs.length > 0 && done === legs.length ? 'settled' : counts.planned === legs.length ? 'planned' : 'settling',
    counts,
    legs,
    plan: jsonSafe(rest) as Record<string, unknown>,
  }
}

// ---------------------------------------------------------------- reader

/**
 * The collateral price series of a market: its collateral asset on its chain (an address: priced in
 * {@link BASE_CURRENCY}), or an asset and its quote, if known. When it answers undefined, the series
 * learnt from the market's snapshots is used (see the module comment).
 */
export type CollateralResolver = (
  chainId: number,
  protocol: ProtocolName,
  market: Hex,
) => Address | PriceSeries | undefined | Promise<Address | PriceSeries | undefined>

export type RiskOptions = {
  /** @default 86_400 */
  horizonSeconds: number
  /** @default 256 */
  volatilityWindow: number
  /** @default 8 */
  minVolatilitySamples: number
}
export const defaultRiskOptions: RiskOptions = { horizonSeconds: 86_400, volatilityWindow: 256, minVolatilitySamples: 8 }

export type AccountsQuery = { chainId?: number; protocol?: ProtocolName; market?: Hex; borrower?: Address; liquidatable?: boolean; limit: number; offset: number }
export type LiquidityQuery = { chainId?: number; venue?: VenueName; pair?: Address; limit: number; offset: number }

export type FeedReaderOptions = {
  store: Store
  prices?: PriceHistory
  collateral?: CollateralResolver
  risk?: Partial<RiskOptions>
}

const lower = (h: string) => h.toLowerCase()
/** How long a market's volatility estimate is reused, ms (prices move once per block; the stream asks once per snapshot). */
const VOLATILITY_TTL_MS = 1000

/** Builds feed items from the store. */
export class FeedReader {
  readonly risk: RiskOptions
  /** (chainId, market) → protocol, learnt from the latest snapshots. */
  private readonly protocols = new Map<string, LendingProtocol>()
  /** (chainId, market) → collateral price series, learnt from snapshots (Morpho market state, Aave reserves and balances). */
  private readonly collaterals = new Map<string, Required<PriceSeries>>()

  constructor(private readonly o: FeedReaderOptions) {
    this.risk = { ...defaultRiskOptions, ...Object.fromEntries(Object.entries(o.risk ?? {}).filter(([, v]) => v !== undefined)) }
  }

  /** Remembers a market's protocol (the stream calls it for every accepted snapshot). */
  learnMarket(chainId: number, market: Hex, protocol: LendingProtocol): void {
    this.protocols.set(`${chainId}:${lower(market)}`, protocol)
  }

  /** Remembers what a snapshot says of its market: protocol and collateral price series (see the module comment). */
  learnSnapshot(s: WireHealthSnapshot): void {
    const market = bytesToHex(s.market)
    this.learnMarket(s.chainId, market, s.protocol)
    const key = `${s.chainId}:${lower(market)}`
    const series = collateralSeriesOf(s)
    // An Aave pool's choice counts holders, so only a full snapshot (every account) revises it.
    if (series && (s.morpho || s.full || !this.collaterals.has(key))) this.collaterals.set(key, series)
  }

  /** Every (chainId, market, protocol) in the store's latest snapshots. */
  async markets(): Promise<{ chainId: number; market: Hex; protocol: LendingProtocol }[]> {
    const out = new Map<string, { chainId: number; market: Hex; protocol: LendingProtocol }>()
    for (const row of await this.o.store.latestHealth.list()) {
      const key = `${row.chainId}:${lower(row.market)}`
      // Decode until the market's protocol and collateral series are known (an Aave part without collateral names none).
      if (out.has(key) && this.collaterals.has(key)) continue
      let protocol = this.protocols.get(key)
      if (protocol === undefined || !this.collaterals.has(key)) {
        try {
          const snapshot = decodeHealthSnapshot(decodeEnvelope(row.record.envelope).payload)
          this.learnSnapshot(snapshot)
          protocol = snapshot.protocol
        } catch {
          if (protocol === undefined) continue
        }
      }
      if (!out.has(key)) out.set(key, { chainId: row.chainId, market: lower(row.market) as Hex, protocol })
    }
    return [...out.values()]
  }

  /** Volatility and collateral asset of one market (memoised per call through `memo`). */
  /** Each market's collateral volatility, reused by the stream for {@link VOLATILITY_TTL_MS} (it asks once per snapshot); HTTP reads recompute. */
  private readonly volatilityCache = new Map<string, { at: number; v: { asset?: Address; vol?: VolatilityEstimate } }>()

  private async volatilityOf(chainId: number, protocol: ProtocolName, market: Hex, memo: Map<string, { asset?: Address; vol?: VolatilityEstimate }>, reuse = false) {
    const key = `${chainId}:${market}`
    let v = memo.get(key)
    const cached = v || !reuse ? undefined : this.volatilityCache.get(key)
    if (!v && cached && Date.now() - cached.at < VOLATILITY_TTL_MS) memo.set(key, (v = cached.v))
    if (!v) {
      const resolved = this.o.collateral ? await this.o.collateral(chainId, protocol, market) : undefined
      const series = (typeof resolved === 'string' ? { asset: resolved } : resolved) ?? this.collaterals.get(key)
      let vol: VolatilityEstimate | undefined
      if (series && this.o.prices)
        vol = realizedVolatility(await this.o.prices.window(chainId, series.asset, this.risk.volatilityWindow, series.quote ?? BASE_CURRENCY), this.risk.minVolatilitySamples)
      memo.set(key, (v = { asset: series && getAddress(series.asset), vol }))
      this.volatilityCache.set(key, { at: Date.now(), v })
    }
    return v
  }

  private riskOf(hf: bigint, v: { asset?: Address; vol?: VolatilityEstimate }): LiquidationRisk {
    const distanceBps = distanceToLiquidationBps(hf)
    return {
      distanceBps,
      probability: v.vol ? liquidationProbability(distanceBps, v.vol.sigma, this.risk.horizonSeconds) : distanceBps === 0 ? 1 : distanceBps === 10_000 ? 0 : null,
      horizonSeconds: this.risk.horizonSeconds,
      volatility: v.vol ? v.vol.sigma : null,
      volatilitySamples: v.vol ? v.vol.samples : 0,
      model: RISK_MODEL,
      estimator: VOLATILITY_ESTIMATOR,
      collateralAsset: v.asset ?? null,
    }
  }

  /** Accounts matching `q`, riskiest first (health factor ascending). */
  async accounts(q: AccountsQuery): Promise<{ total: number; items: AccountItem[] }> {
    let markets = await this.markets()
    if (q.chainId !== undefined) markets = markets.filter((m) => m.chainId === q.chainId)
    if (q.protocol !== undefined) markets = markets.filter((m) => protocolNames[m.protocol] === q.protocol)
    if (q.market !== undefined) markets = markets.filter((m) => m.market === lower(q.market!))
    const memo = new Map<string, { asset?: Address; vol?: VolatilityEstimate }>()
    const all: AccountItem[] = []
    for (const m of markets) {
      const protocol = protocolNames[m.protocol]
      const rows = q.borrower
        ? await this.o.store.accountHealth.getAccount(m.chainId, m.market, q.borrower)
        : await this.o.store.accountHealth.listMarket(m.chainId, m.market)
      const v = await this.volatilityOf(m.chainId, protocol, m.market, memo)
      for (const { row, attestedBy } of agreeingViews(rows, (r) => lower(r.account.borrower), accountValueKey)) {
        if (q.liquidatable !== undefined && row.account.liquidatable !== q.liquidatable) continue
        all.push(this.accountItem(m.chainId, protocol, m.market, row, attestedBy, v))
      }
    }
    all.sort((a, b) => {
      const ha = BigInt(a.healthFactor)
      const hb = BigInt(b.healthFactor)
      return ha < hb ? -1 : ha > hb ? 1 : a.chainId - b.chainId || a.market.localeCompare(b.market) || a.borrower.localeCompare(b.borrower)
    })
    return { total: all.length, items: all.slice(q.offset, q.offset + q.limit) }
  }

  private accountItem(chainId: number, protocol: ProtocolName, market: Hex, row: StoredAccountHealth, attestedBy: Address[], v: { asset?: Address; vol?: VolatilityEstimate }): AccountItem {
    const a = row.account
    return {
      chainId,
      protocol,
      market: lower(market) as Hex,
      borrower: getAddress(a.borrower),
      blockNumber: row.blockNumber.toString(),
      observedAt: row.observedAt,
      healthFactor: a.healthFactor.toString(),
      liquidatable: a.liquidatable,
      collateral: a.collateral.toString(),
      borrowAssets: a.borrowAssets.toString(),
      maxSeizable: a.maxSeizable.toString(),
      risk: this.riskOf(a.healthFactor, v),
      attestedBy,
    }
  }

  /** Account items of one accepted snapshot (the stream), attested by its signer. */
  async accountItemsOfSnapshot(s: WireHealthSnapshot, operator: Address): Promise<AccountItem[]> {
    const market = lower(bytesToHex(s.market)) as Hex
    const protocol = protocolNames[s.protocol]
    this.learnSnapshot(s)
    const v = await this.volatilityOf(s.chainId, protocol, market, new Map(), true)
    const signer = getAddress(operator)
    return s.accounts.map((w) =>
      this.accountItem(
        s.chainId,
        protocol,
        market,
        {
          chainId: s.chainId,
          market,
          operator: signer,
          blockNumber: BigInt(s.blockNumber),
          observedAt: s.observedAt,
          account: {
            borrower: bytesToHex(w.borrower),
            collateral: bytesToAmount(w.collateral),
            borrowAssets: bytesToAmount(w.borrowAssets),
            healthFactor: bytesToAmount(w.healthFactor),
            liquidatable: w.liquidatable,
            maxSeizable: bytesToAmount(w.maxSeizable),
          },
        },
        [signer],
        v,
      ),
    )
  }

  /** Pools matching `q`, by chain then pair. */
  async liquidity(q: LiquidityQuery): Promise<{ total: number; items: LiquidityItem[] }> {
    const chainIds = q.chainId !== undefined ? [q.chainId] : await this.liquidityChains()
    const all: LiquidityItem[] = []
    for (const chainId of chainIds.sort((a, b) => a - b)) {
      const rows = (await this.o.store.liquidity.listVenue(chainId, Venue.uniswapV2)).filter((r) => !q.pair || lower(r.pair) === lower(q.pair))
      const decoded: { pair: string; operator: Address; s: WireLiquiditySnapshot }[] = []
      for (const r of rows) {
        try {
          decoded.push({ pair: lower(r.pair), operator: r.operator, s: decodeLiquiditySnapshot(decodeEnvelope(r.record.envelope).payload) })
        } catch {
          // a stored record that no longer decodes is skipped
        }
      }
      for (const { row, attestedBy } of agreeingViews(
        decoded.map((d) => ({ ...d, blockNumber: BigInt(d.s.blockNumber) })),
        (d) => d.pair,
        (d) => `${bytesToAmount(d.s.reserve0)}|${bytesToAmount(d.s.reserve1)}`,
      ))
        all.push(this.liquidityItem(row.s, attestedBy))
    }
    return { total: all.length, items: all.slice(q.offset, q.offset + q.limit) }
  }

  /** Chains with liquidity records (a key scan of the liquidity bucket). */
  private async liquidityChains(): Promise<number[]> {
    const seen = new Set<number>()
    for await (const key of this.o.store.db.keys({ gte: Uint8Array.of(Bucket.liquidity), lt: Uint8Array.of(Bucket.liquidity + 1) })) seen.add(readU64(key, 1))
    return [...seen]
  }

  liquidityItem(s: WireLiquiditySnapshot, attestedBy: Address[]): LiquidityItem {
    return {
      chainId: s.chainId,
      venue: venueNames[s.venue as Venue] ?? 'uniswap-v2',
      pair: getAddress(bytesToHex(s.pair)),
      token0: getAddress(bytesToHex(s.token0)),
      token1: getAddress(bytesToHex(s.token1)),
      blockNumber: String(s.blockNumber),
      observedAt: s.observedAt,
      reserve0: bytesToAmount(s.reserve0).toString(),
      reserve1: bytesToAmount(s.reserve1).toString(),
      depth: s.depth.map((p) => ({ zeroForOne: p.zeroForOne, impactBps: p.impactBps, amountIn: bytesToAmount(p.amountIn).toString(), amountOut: bytesToAmount(p.amountOut).toString() })),
      attestedBy: attestedBy.map((a) => getAddress(a)),
    }
  }
}

/**
 * The collateral price series a snapshot names: a Morpho market's (collateral, loan) tokens; an Aave pool's
 * reserve held as collateral by the most of the snapshot's accounts (ties to the lowest asset), in the base currency.
 */
export function collateralSeriesOf(s: WireHealthSnapshot): Required<PriceSeries> | undefined {
  if (s.morpho) return { asset: getAddress(bytesToHex(s.morpho.collateralToken)), quote: getAddress(bytesToHex(s.morpho.loanToken)) }
  const reserves = s.aaveReserves ?? []
  if (reserves.length === 0) return undefined
  const holders = new Array<number>(reserves.length).fill(0)
  for (const a of s.accounts) for (const b of a.balances ?? []) if (b.collateral.length > 0 && b.reserve < reserves.length) holders[b.reserve]++
  let best = -1
  for (let i = 0; i < reserves.length; i++) {
    if (holders[i] === 0) continue
    // Reserves are in strictly ascending asset order, so the first of the most held is the lowest address.
    if (best < 0 || holders[i] > holders[best]) best = i
  }
  return best < 0 ? undefined : { asset: getAddress(bytesToHex(reserves[best].asset)), quote: getAddress(BASE_CURRENCY) }
}

function accountValueKey(r: StoredAccountHealth): string {
  const a = r.account
  return `${a.healthFactor}|${a.collateral}|${a.borrowAssets}|${a.liquidatable}|${a.maxSeizable}`
}

/**
 * Groups rows by subject (`idOf`), keeps the newest block, and among the rows at that block the
 * largest group of equal values (`valueOf`); returns one representative per subject with the
 * sorted, checksummed addresses of the operators that agree.
 */
export function agreeingViews<R extends { blockNumber: bigint; operator: Address }>(rows: readonly R[], idOf: (r: R) => string, valueOf: (r: R) => string): { row: R; attestedBy: Address[] }[] {
  const bySubject = new Map<string, R[]>()
  for (const r of rows) {
    const id = idOf(r)
    const list = bySubject.get(id)
    if (list) list.push(r)
    else bySubject.set(id, [r])
  }
  const out: { row: R; attestedBy: Address[] }[] = []
  for (const list of bySubject.values()) {
    let newest = list[0].blockNumber
    for (const r of list) if (r.blockNumber > newest) newest = r.blockNumber
    const groups = new Map<string, R[]>()
    for (const r of list) {
      if (r.blockNumber !== newest) continue
      const v = valueOf(r)
      const g = groups.get(v)
      if (g) g.push(r)
      else groups.set(v, [r])
    }
    const ranked = [...groups.values()].map((g) => g.sort((a, b) => lower(a.operator).localeCompare(lower(b.operator))))
    ranked.sort((a, b) => b.length - a.length || lower(a[0].operator).localeCompare(lower(b[0].operator)))
    const best = ranked[0]
    out.push({ row: best[0], attestedBy: best.map((r) => getAddress(r.operator)) })
  }
  return out
}
