/**
 * Collateral price history for the feed's volatility estimate (node/api/risk.ts): an injected
 * {@link PriceHistory}, and a level-backed implementation in the node's store (bucket 7), bounded
 * per series. The node appends a point per (chain, asset, quote, block) from each accepted health
 * snapshot (node/daemon/prices.ts); the API reads windows.
 *
 * A series is one asset priced in one quote on one chain, so points of different scales never mix:
 * - Morpho Blue market: asset = collateral token, quote = loan token, price = the market oracle's
 *   `price()` (1e36-scaled: collateral in loan-token units, IOracle in Morpho Blue);
 * - Aave V3 reserve: asset = reserve asset, quote = {@link BASE_CURRENCY} (the zero address, as
 *   `AaveOracle.BASE_CURRENCY` for USD), price = `AaveOracle.getAssetPrice` (USD 1e8).
 */
import { getAddress, hexToBytes, zeroAddress, type Address } from 'viem'
import { amountToBytes, bytesToAmount } from '../../protocol/proto/codec.js'
import { BaseError } from '../../protocol/errors.js'
import { Bucket } from '../store/buckets.js'
import { KeyWriter, prefixEnd, readU64 } from '../store/encoding.js'
import type { Db } from '../store/repositories.js'
import type { PriceSample } from './risk.js'

/** Quote of prices in an oracle's base currency (Aave V3's AaveOracle: USD, 1e8), as Aave names it: the zero address. */
export const BASE_CURRENCY: Address = zeroAddress

/** A price series: `asset` priced in `quote` (default {@link BASE_CURRENCY}). */
export type PriceSeries = { asset: Address; quote?: Address }

/**
 * One price observation of an asset on a chain, in `quote` units (default {@link BASE_CURRENCY}).
 * `price`: any fixed scale > 0, the same for every point of a series (e.g. USD 1e8 of an Aave
 * oracle, or a Morpho oracle's 1e36-scaled price of collateral in loan units).
 */
export type PricePoint = PriceSample & { chainId: number; asset: Address; quote?: Address }

export interface PriceHistory {
  /** Records points (a point of an existing (chain, asset, quote, block) replaces it). @throws InvalidPricePointError */
  append(points: readonly PricePoint[]): Promise<void>
  /** The newest `limit` points of a series, oldest first. */
  window(chainId: number, asset: Address, limit: number, quote?: Address): Promise<PricePoint[]>
}

export type LevelPriceHistoryOptions = {
  /**
   * Points kept per series (chain, asset, quote); older ones are deleted on append (checked on a series' first
   * append and every `max/16` appends after, so a series holds at most `max + max/16` points). @default 1024
   */
  maxPointsPerAsset?: number
}

export type InvalidPricePointErrorType = InvalidPricePointError
/** A price point that cannot be stored: names the field and the rule. */
export class InvalidPricePointError extends BaseError {
  override name = 'InvalidPricePointError'
  constructor(field: string, rule: string, p: Pick<PricePoint, 'chainId' | 'asset' | 'blockNumber'>) {
    super(`Price point ${field} ${rule} (chain ${p.chainId}, asset ${p.asset}, block ${p.blockNumber}).`, {
      metaMessages: ['Record only prices read from an oracle at a block: price > 0, block and timestamp safe non-negative integers, 20-byte addresses.'],
    })
  }
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const SERIES_PREFIX = 1 + 8 + 20 + 20
const BLOCK_OFFSET = SERIES_PREFIX

/** Bucket 7: key (chainId u64, asset 20, quote 20, block u64) → (timestamp u64, price minimal big-endian). */
export class LevelPriceHistory implements PriceHistory {
  private readonly max: number
  private readonly pruneEvery: number
  /** Appends per series since start (pruning cadence; bounded by the number of series). */
  private readonly appends = new Map<string, number>()
  constructor(
    private readonly db: Db,
    opts: LevelPriceHistoryOptions = {},
  ) {
    this.max = opts.maxPointsPerAsset ?? 1024
    if (!Number.isSafeInteger(this.max) || this.max < 2) throw new RangeError('maxPointsPerAsset must be an integer >= 2')
    this.pruneEvery = Math.max(1, Math.floor(this.max / 16))
  }

  private static prefix(chainId: number, asset: Address, quote: Address): Uint8Array {
    return new KeyWriter(SERIES_PREFIX).u8(Bucket.priceHistory).u64(chainId).bytes(hexToBytes(asset)).bytes(hexToBytes(quote)).done()
  }

  async append(points: readonly PricePoint[]): Promise<void> {
    if (points.length === 0) return
    const rows: { key: Uint8Array; value: Uint8Array }[] = []
    const touched = new Map<string, { chainId: number; asset: Address; quote: Address }>()
    for (const p of points) {
      const quote = p.quote ?? BASE_CURRENCY
      if (!Number.isSafeInteger(p.chainId) || p.chainId < 0) throw new InvalidPricePointError('chainId', 'must be a non-negative safe integer', p)
      if (!ADDRESS.test(p.asset)) throw new InvalidPricePointError('asset', 'must be a 20-byte 0x-hex address', p)
      if (!ADDRESS.test(quote)) throw new InvalidPricePointError('quote', 'must be a 20-byte 0x-hex address', p)
      if (p.blockNumber < 0n || p.blockNumber > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidPricePointError('blockNumber', 'must be a non-negative safe integer', p)
      if (!Number.isSafeInteger(p.timestamp) || p.timestamp < 0) throw new InvalidPricePointError('timestamp', 'must be a non-negative safe integer (ms)', p)
      if (p.price <= 0n) throw new InvalidPricePointError('price', 'must be > 0', p)
      const key = new KeyWriter(SERIES_PREFIX + 8).bytes(LevelPriceHistory.prefix(p.chainId, p.asset, quote)).u64(Number(p.blockNumber)).done()
      const price = amountToBytes(p.price, 'price')
      rows.push({ key, value: new KeyWriter(8 + price.length).u64(p.timestamp).bytes(price).done() })
      touched.set(`${p.chainId}:${p.asset.toLowerCase()}:${quote.toLowerCase()}`, { chainId: p.chainId, asset: p.asset, quote })
    }
    const batch = this.db.batch()
    for (const r of rows) batch.put(r.key, r.value)
    await batch.write()
    for (const s of touched.values()) await this.prune(s.chainId, s.asset, s.quote)
  }

  private async prune(chainId: number, asset: Address, quote: Address): Promise<void> {
    // Every `pruneEvery` appends of a series (and on its first): delete everything older than its newest `max` points.
    const id = `${chainId}:${asset.toLowerCase()}:${quote.toLowerCase()}`
    const n = this.appends.get(id) ?? 0
    this.appends.set(id, n + 1)
    if (n % this.pruneEvery !== 0) return
    const prefix = LevelPriceHistory.prefix(chainId, asset, quote)
    const newest = await this.db.keys({ gte: prefix, lt: prefixEnd(prefix), reverse: true, limit: this.max + 1 }).all()
    if (newest.length > this.max) await this.db.clear({ gte: prefix, lte: newest[this.max] })
  }

  async window(chainId: number, asset: Address, limit: number, quote: Address = BASE_CURRENCY): Promise<PricePoint[]> {
    if (!(limit > 0)) return []
    const prefix = LevelPriceHistory.prefix(chainId, asset, quote)
    const rows = await this.db.iterator({ gte: prefix, lt: prefixEnd(prefix), reverse: true, limit }).all()
    const a = getAddress(asset)
    const q = getAddress(quote)
    return rows.reverse().map(([k, v]) => ({ chainId, asset: a, quote: q, blockNumber: BigInt(readU64(k, BLOCK_OFFSET)), timestamp: readU64(v, 0), price: bytesToAmount(v.subarray(8)) }))
  }
}
