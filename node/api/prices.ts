/**
 * Collateral price history for the feed's volatility estimate (node/api/risk.ts): an injected
 * {@link PriceHistory}, and a level-backed implementation in the node's store (bucket 7), bounded
 * per (chain, asset). Whoever reads prices (the chain followers) appends; the API reads windows.
 */
import { getAddress, hexToBytes, type Address } from 'viem'
import { amountToBytes, bytesToAmount } from '../../protocol/proto/codec.js'
import { Bucket } from '../store/buckets.js'
import { KeyWriter, prefixEnd, readU64 } from '../store/encoding.js'
import type { Db } from '../store/repositories.js'
import type { PriceSample } from './risk.js'

/** One price observation of an asset on a chain. `price`: any fixed scale, the same for every point of an asset (e.g. USD 1e8 of an Aave oracle, or a Morpho oracle's 1e36-scaled price). */
export type PricePoint = PriceSample & { chainId: number; asset: Address }

export interface PriceHistory {
  /** Records points (a point of an existing (chain, asset, block) replaces it). */
  append(points: readonly PricePoint[]): Promise<void>
  /** The newest `limit` points of an asset, oldest first. */
  window(chainId: number, asset: Address, limit: number): Promise<PricePoint[]>
}

export type LevelPriceHistoryOptions = {
  /** Points kept per (chain, asset); older ones are deleted on append. @default 1024 */
  maxPointsPerAsset?: number
}

/** Bucket 7: key (chainId u64, asset 20, block u64) → (timestamp u64, price minimal big-endian). */
export class LevelPriceHistory implements PriceHistory {
  private readonly max: number
  constructor(
    private readonly db: Db,
    opts: LevelPriceHistoryOptions = {},
  ) {
    this.max = opts.maxPointsPerAsset ?? 1024
    if (!Number.isSafeInteger(this.max) || this.max < 2) throw new RangeError('maxPointsPerAsset must be an integer >= 2')
  }

  private static prefix(chainId: number, asset: Address): Uint8Array {
    return new KeyWriter(29).u8(Bucket.priceHistory).u64(chainId).bytes(hexToBytes(asset)).done()
  }

  async append(points: readonly PricePoint[]): Promise<void> {
    if (points.length === 0) return
    const batch = this.db.batch()
    const touched = new Map<string, PricePoint>()
    for (const p of points) {
      if (p.price <= 0n) throw new RangeError(`price of ${p.asset} at block ${p.blockNumber} must be > 0`)
      const key = new KeyWriter(37).u8(Bucket.priceHistory).u64(p.chainId).bytes(hexToBytes(p.asset)).u64(Number(p.blockNumber)).done()
      const price = amountToBytes(p.price, 'price')
      batch.put(key, new KeyWriter(8 + price.length).u64(p.timestamp).bytes(price).done())
      touched.set(`${p.chainId}:${p.asset.toLowerCase()}`, p)
    }
    await batch.write()
    for (const p of touched.values()) await this.prune(p.chainId, p.asset)
  }

  private async prune(chainId: number, asset: Address): Promise<void> {
    const prefix = LevelPriceHistory.prefix(chainId, asset)
    const keys = await this.db.keys({ gte: prefix, lt: prefixEnd(prefix), reverse: true }).all()
    if (keys.length <= this.max) return
    await this.db.batch(keys.slice(this.max).map((key) => ({ type: 'del' as const, key })))
  }

  async window(chainId: number, asset: Address, limit: number): Promise<PricePoint[]> {
    const prefix = LevelPriceHistory.prefix(chainId, asset)
    const rows = await this.db.iterator({ gte: prefix, lt: prefixEnd(prefix), reverse: true, limit }).all()
    const checksummed = getAddress(asset)
    return rows.reverse().map(([k, v]) => ({ chainId, asset: checksummed, blockNumber: BigInt(readU64(k, 29)), timestamp: readU64(v, 0), price: bytesToAmount(v.subarray(8)) }))
  }
}
