/**
 * The f+1 rule: from operators' signed snapshots at the pinned blocks to the planner's inputs.
 *
 * An input is one *item* — a Morpho market's state (totals, LLTV, tokens, oracle price), an Aave pool's reserves
 * (parameters and prices), one account of one market, one Uniswap V2 pair's reserves — and its *value* is the item's
 * fields as an operator signed them. Each operator has one vote per item (an operator that reports two different
 * values for one item, e.g. in two parts, loses its vote for it). An item enters the plan with the value attested by
 * the most operators, when that is at least f+1 operators and strictly more than any other value; otherwise it is
 * left out and reported in `excluded`. With f faulty operators, f+1 matching attestations include an honest one, so
 * no faulty coalition can move an input; it can only withhold it.
 *
 * Then the items are mapped to `PlanInputs` through the network description: token addresses → asset symbols
 * (tokens the network does not list leave their market, reserve or pair out), items of scopes the network does not
 * watch are ignored, and accounts enter only with their market's state (a Morpho position needs its market and
 * price; an Aave user needs every reserve it uses, priced). Aave reserves that cannot be collateral (liquidation
 * threshold 0) enter with a 100 % liquidation bonus, which the planner never uses for them.
 *
 * Pure and deterministic: the output does not depend on the order of the snapshots.
 */
import { bytesToHex, type Address, type Hex } from 'viem'
import { WAD } from '../risk/math.js'
import { LendingProtocol, PayloadKind, bytesToAmount, type WireHealthSnapshot, type WireLiquiditySnapshot } from '../proto/codec.js'
import { chainScopes, networkChain, tokenSymbol, type Network } from '../network.js'
import type { AaveMarketInput, AaveUserInput, AssetInput, MorphoMarketInput, MorphoPositionInput, OraclePriceInput, PlanInputs, VenueInput } from '../planner/types.js'

/** One operator's signed snapshot (signature already checked by the caller). `operator` lowercase. */
export type AttestedSnapshot =
  | { operator: Address; digest: Hex; kind: PayloadKind.healthSnapshot; snapshot: WireHealthSnapshot }
  | { operator: Address; digest: Hex; kind: PayloadKind.liquiditySnapshot; snapshot: WireLiquiditySnapshot }

/** Why an item was left out. */
export type ExclusionReason =
  /** Fewer than f+1 operators attested its most attested value (or two values tied). */
  | 'NO_MAJORITY'
  /** A token of the market, reserve or pair is not in the network's token list. */
  | 'UNKNOWN_TOKEN'
  /** Its market state did not enter (or is unusable: zero price, LLTV out of range). */
  | 'NO_MARKET'
  /** Fields the planner refuses (borrow shares above the market's total, bonus × threshold above 100 %, zero reserve). */
  | 'INVALID'

/** An item left out of the inputs, for logs and tests. `item` is `kind:chainId:scope[:borrower]`. */
export type Exclusion = { item: string; reason: ExclusionReason; attesters: number }

export type SelectedInputs = { inputs: PlanInputs; excluded: Exclusion[] }

const CONFLICT = '\u0000conflict'

type Item<T> = { key: string; votes: Map<Address, string>; values: Map<string, T> }

class Tally<T> {
  readonly items = new Map<string, Item<T>>()
  vote(key: string, operator: Address, valueKey: string, value: T): void {
    let it = this.items.get(key)
    if (!it) this.items.set(key, (it = { key, votes: new Map(), values: new Map() }))
    const prev = it.votes.get(operator)
    if (prev === undefined) it.votes.set(operator, valueKey)
    else if (prev !== valueKey) it.votes.set(operator, CONFLICT)
    if (!it.values.has(valueKey)) it.values.set(valueKey, value)
  }
  /** The winning value of every item (sorted by key), or undefined with the top count. */
  *winners(threshold: number): Generator<{ key: string; value: T | undefined; attesters: number }> {
    for (const key of [...this.items.keys()].sort()) {
      const it = this.items.get(key)!
      const counts = new Map<string, number>()
      for (const v of it.votes.values()) if (v !== CONFLICT) counts.set(v, (counts.get(v) ?? 0) + 1)
      let best: string | undefined
      let top = 0
      let second = 0
      for (const [v, c] of [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        if (c > top) {
          second = top
          top = c
          best = v
        } else if (c > second) second = c
      }
      yield { key, value: best !== undefined && top >= threshold && top > second ? it.values.get(best) : undefined, attesters: top }
    }
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex')
const amount = (b: Uint8Array | undefined): bigint => (b === undefined ? 0n : bytesToAmount(b))

type MorphoState = { chainId: number; market: Hex; loanToken: Hex; collateralToken: Hex; lltv: bigint; totalSupplyAssets: bigint; totalBorrowAssets: bigint; totalBorrowShares: bigint; price: bigint }
type AaveReserves = { chainId: number; pool: Hex; reserves: { asset: Hex; lt: bigint; bonus: bigint; fee: bigint; price: bigint }[] }
type Account = { chainId: number; protocol: LendingProtocol; market: Hex; borrower: Hex; collateral: bigint; borrowShares: bigint; balances: { asset: Hex; collateral: bigint; debt: bigint }[] }
type Pair = { chainId: number; pair: Hex; token0: Hex; token1: Hex; reserve0: bigint; reserve1: bigint }

/**
 * Applies the f+1 rule to the snapshots and maps the winners to planner inputs.
 * @param snapshots signed snapshots (any order; every part of every operator's snapshot the caller wants counted).
 * @param f faults tolerated; an item needs f+1 matching attestations.
 * @param network chains, scopes and tokens; assets are the network's token symbols.
 */
export function selectInputs(snapshots: readonly AttestedSnapshot[], f: number, network: Network): SelectedInputs {
  const threshold = f + 1
  const morpho = new Tally<MorphoState>()
  const aave = new Tally<AaveReserves>()
  const accounts = new Tally<Account>()
  const pairs = new Tally<Pair>()
  const watched = new Map<number, Set<string>>()
  for (const c of network.chains) {
    const s = chainScopes(c)
    watched.set(c.chainId, new Set([...s.health.map((h) => `1:${h}`), ...s.liquidity.map((l) => `2:${l}`)]))
  }

  for (const a of snapshots) {
    const op = a.operator.toLowerCase() as Address
    if (a.kind === PayloadKind.healthSnapshot) {
      const s = a.snapshot
      const market = bytesToHex(s.market)
      if (!watched.get(s.chainId)?.has(`1:${market}`)) continue
      const base = `${s.chainId}:${market}`
      if (s.protocol === LendingProtocol.morphoBlue && s.morpho) {
        const m = s.morpho
        const vk = [m.loanToken, m.collateralToken, m.lltv, m.totalSupplyAssets, m.totalBorrowAssets, m.totalBorrowShares, m.oraclePrice].map(hex).join('|')
        morpho.vote(`morpho:${base}`, op, vk, {
          chainId: s.chainId, market, loanToken: bytesToHex(m.loanToken), collateralToken: bytesToHex(m.collateralToken), lltv: amount(m.lltv),
          totalSupplyAssets: amount(m.totalSupplyAssets), totalBorrowAssets: amount(m.totalBorrowAssets), totalBorrowShares: amount(m.totalBorrowShares), price: amount(m.oraclePrice),
        })
      }
      const reserves = s.aaveReserves ?? []
      if (s.protocol === LendingProtocol.aaveV3 && reserves.length > 0) {
        const vk = reserves.map((r) => `${hex(r.asset)}:${r.liquidationThresholdBps}:${r.liquidationBonusBps}:${r.liquidationProtocolFeeBps}:${hex(r.price)}`).join('|')
        aave.vote(`aave:${base}`, op, vk, {
          chainId: s.chainId,
          pool: `0x${market.slice(26)}` as Hex,
          reserves: reserves.map((r) => ({ asset: bytesToHex(r.asset), lt: BigInt(r.liquidationThresholdBps), bonus: BigInt(r.liquidationBonusBps), fee: BigInt(r.liquidationProtocolFeeBps), price: amount(r.price) })),
        })
      }
      for (const acc of s.accounts) {
        // Balances by asset address (reserve indexes depend on the snapshot's reserve list).
        const balances = (acc.balances ?? []).map((b) => ({ asset: reserves[b.reserve] ? bytesToHex(reserves[b.reserve].asset) : ('0x' as Hex), collateral: amount(b.collateral), debt: amount(b.debt) }))
        const vk = [acc.collateral, acc.borrowAssets, acc.healthFactor, acc.maxSeizable, acc.borrowShares ?? new Uint8Array(0)].map(hex).join('|') + `|${acc.liquidatable ? 1 : 0}|` + balances.map((b) => `${b.asset}:${b.collateral}:${b.debt}`).join(',')
        const borrower = bytesToHex(acc.borrower)
        accounts.vote(`account:${base}:${borrower}`, op, vk, {
          chainId: s.chainId, protocol: s.protocol, market, borrower, collateral: amount(acc.collateral), borrowShares: amount(acc.borrowShares), balances,
        })
      }
    } else {
      const s = a.snapshot
      const scope = `0x${'00'.repeat(12)}${hex(s.pair)}`
      if (!watched.get(s.chainId)?.has(`2:${scope}`)) continue
      const vk = [s.token0, s.token1, s.reserve0, s.reserve1].map(hex).join('|')
      pairs.vote(`pair:${s.chainId}:${scope}`, op, vk, {
        chainId: s.chainId, pair: bytesToHex(s.pair), token0: bytesToHex(s.token0), token1: bytesToHex(s.token1), reserve0: amount(s.reserve0), reserve1: amount(s.reserve1),
      })
    }
  }

  const excluded: Exclusion[] = []
  const exclude = (item: string, reason: ExclusionReason, attesters: number) => excluded.push({ item, reason, attesters })

  // Assets: every token symbol of the network.
  const assets = new Map<string, AssetInput>()
  for (const c of network.chains) for (const [symbol, t] of Object.entries(c.tokens)) assets.set(symbol, { symbol, decimals: t.decimals })

  const morphoMarkets: MorphoMarketInput[] = []
  const prices: OraclePriceInput[] = []
  const morphoEntered = new Map<string, MorphoMarketInput>()
  for (const w of morpho.winners(threshold)) {
    if (!w.value) {
      exclude(w.key, 'NO_MAJORITY', w.attesters)
      continue
    }
    const m = w.value
    const chain = networkChain(network, m.chainId)!
    const loanAsset = tokenSymbol(chain, m.loanToken)
    const collateralAsset = tokenSymbol(chain, m.collateralToken)
    if (!loanAsset || !collateralAsset) {
      exclude(w.key, 'UNKNOWN_TOKEN', w.attesters)
      continue
    }
    if (loanAsset === collateralAsset || m.lltv <= 0n || m.lltv >= WAD || m.price <= 0n) {
      exclude(w.key, 'INVALID', w.attesters)
      continue
    }
    const input: MorphoMarketInput = {
      chainId: m.chainId, id: m.market, loanAsset, collateralAsset, lltv: m.lltv,
      totalBorrowAssets: m.totalBorrowAssets, totalBorrowShares: m.totalBorrowShares, totalSupplyAssets: m.totalSupplyAssets,
    }
    morphoMarkets.push(input)
    morphoEntered.set(`${m.chainId}:${m.market}`, input)
    prices.push({ kind: 'morpho', chainId: m.chainId, marketId: m.market, price: m.price })
  }

  const aaveMarkets: AaveMarketInput[] = []
  const aaveEntered = new Map<string, Map<string, string>>() // chain:pool → asset address → symbol (priced reserves)
  for (const w of aave.winners(threshold)) {
    if (!w.value) {
      exclude(w.key, 'NO_MAJORITY', w.attesters)
      continue
    }
    const a = w.value
    const chain = networkChain(network, a.chainId)!
    const market: AaveMarketInput = { chainId: a.chainId, pool: a.pool, reserves: [] }
    const usable = new Map<string, string>()
    for (const r of a.reserves) {
      const asset = tokenSymbol(chain, r.asset)
      if (!asset) {
        exclude(`${w.key}:${r.asset}`, 'UNKNOWN_TOKEN', w.attesters)
        continue
      }
      const bonus = r.lt === 0n && r.bonus < 10_000n ? 10_000n : r.bonus
      if (bonus < 10_000n || bonus > 20_000n || r.lt > 10_000n || r.fee > 10_000n || r.lt * bonus > 10_000n * 10_000n || r.price <= 0n) {
        exclude(`${w.key}:${r.asset}`, 'INVALID', w.attesters)
        continue
      }
      market.reserves.push({ asset, liquidationThresholdBps: r.lt, liquidationBonusBps: bonus, liquidationProtocolFeeBps: r.fee })
      prices.push({ kind: 'aave', chainId: a.chainId, pool: a.pool, asset, price: r.price })
      usable.set(r.asset, asset)
    }
    aaveMarkets.push(market)
    aaveEntered.set(`${a.chainId}:${a.pool}`, usable)
  }

  const morphoPositions: MorphoPositionInput[] = []
  const aaveUsers: AaveUserInput[] = []
  for (const w of accounts.winners(threshold)) {
    if (!w.value) {
      exclude(w.key, 'NO_MAJORITY', w.attesters)
      continue
    }
    const a = w.value
    if (a.protocol === LendingProtocol.morphoBlue) {
      const m = morphoEntered.get(`${a.chainId}:${a.market}`)
      if (!m) {
        exclude(w.key, 'NO_MARKET', w.attesters)
        continue
      }
      if (a.borrowShares > m.totalBorrowShares) {
        exclude(w.key, 'INVALID', w.attesters)
        continue
      }
      morphoPositions.push({ chainId: a.chainId, marketId: a.market, borrower: a.borrower, borrowShares: a.borrowShares, collateral: a.collateral })
    } else {
      const pool = `0x${a.market.slice(26)}` as Hex
      const usable = aaveEntered.get(`${a.chainId}:${pool}`)
      if (!usable) {
        exclude(w.key, 'NO_MARKET', w.attesters)
        continue
      }
      const user: AaveUserInput = { chainId: a.chainId, pool, user: a.borrower, collateral: [], debt: [] }
      let ok = true
      for (const b of a.balances) {
        const asset = usable.get(b.asset)
        if (!asset) {
          ok = false
          break
        }
        if (b.collateral > 0n) user.collateral.push({ asset, balance: b.collateral })
        if (b.debt > 0n) user.debt.push({ asset, balance: b.debt })
      }
      if (!ok) {
        exclude(w.key, 'NO_MARKET', w.attesters)
        continue
      }
      aaveUsers.push(user)
    }
  }

  const venues: VenueInput[] = []
  for (const w of pairs.winners(threshold)) {
    if (!w.value) {
      exclude(w.key, 'NO_MAJORITY', w.attesters)
      continue
    }
    const p = w.value
    const chain = networkChain(network, p.chainId)!
    const token0 = tokenSymbol(chain, p.token0)
    const token1 = tokenSymbol(chain, p.token1)
    if (!token0 || !token1) {
      exclude(w.key, 'UNKNOWN_TOKEN', w.attesters)
      continue
    }
    if (token0 === token1 || p.reserve0 <= 0n || p.reserve1 <= 0n) {
      exclude(w.key, 'INVALID', w.attesters)
      continue
    }
    venues.push({ chainId: p.chainId, pool: p.pair, token0, token1, reserve0: p.reserve0, reserve1: p.reserve1 })
  }

  return {
    inputs: { assets: [...assets.values()].sort((x, y) => (x.symbol < y.symbol ? -1 : 1)), morphoMarkets, morphoPositions, aaveMarkets, aaveUsers, prices, venues },
    excluded,
  }
}
