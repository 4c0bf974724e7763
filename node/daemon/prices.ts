/**
 * Records the collateral prices the node observes into its price history (node/api/prices.ts), which
 * feeds the risk feed's realized volatility and so `risk.probability` (node/api/risk.ts).
 *
 * Every health snapshot the node accepts (its own and its peers', `snapshot:accepted` of the gossip
 * service) carries its market's prices at its block:
 * - Morpho Blue: `morpho.oraclePrice`, the market oracle's price of the collateral token in loan-token
 *   units (1e36-scaled) → series (chain, collateral token, loan token);
 * - Aave V3: each reserve's `price`, `AaveOracle.getAssetPrice` (USD 1e8) → series (chain, asset, BASE_CURRENCY).
 *
 * One point per (series, block), timed by the block's timestamp (the snapshot's `blockTimestamp`, else its
 * `observedAt`). Cheap by construction: the listener only dedupes in memory (newest block per series; older or
 * repeated blocks are skipped) and queues; the points of one block are appended in one batch shortly after
 * (`flushDelayMs`), off the validation path. A failed append is logged and counted, never thrown.
 *
 * Trust: a chain the node reads itself (a snapshot it published, `source: 'local'`) is recorded from its own
 * snapshots only; a chain it does not follow is recorded from its peers' accepted snapshots.
 */
import type { Logger } from 'pino'
import { Counter, type Registry } from 'prom-client'
import { bytesToHex, getAddress } from 'viem'
import { bytesToAmount, PayloadKind, type WireHealthSnapshot } from '../../protocol/proto/codec.js'
import { BASE_CURRENCY, type PriceHistory, type PricePoint } from '../api/prices.js'
import type { SnapshotEvents } from '../api/server.js'
import type { AcceptedEvent } from '../gossip/service.js'

export type PriceRecorderMetrics = ReturnType<typeof createPriceRecorderMetrics>

/** Metrics of the price recorder. The outcome label is a fixed code. */
export function createPriceRecorderMetrics(register: Registry) {
  return {
    points: new Counter({
      name: 'liqnet_price_history_points_total',
      help: 'Collateral price points, by outcome (appended, dropped: queue full, failed: append error)',
      labelNames: ['outcome'] as const,
      registers: [register],
    }),
  }
}

export type PriceRecorderOptions = {
  history: PriceHistory
  /** Delay between the first queued point and the batch append, ms (snapshots of one block arrive together). @default 50 */
  flushDelayMs?: number
  /** Points queued at most; beyond, new points are dropped (counted) until the next append. @default 4096 */
  maxPending?: number
  metrics?: PriceRecorderMetrics
  log?: Logger
}

export const defaultPriceRecorderOptions = { flushDelayMs: 50, maxPending: 4096 } as const

/** The price points of one health snapshot (see the module comment); none without a market state. */
export function pricePointsOf(s: WireHealthSnapshot): PricePoint[] {
  const blockNumber = BigInt(s.blockNumber)
  const timestamp = s.blockTimestamp ? s.blockTimestamp * 1000 : s.observedAt
  const out: PricePoint[] = []
  if (s.morpho) {
    const price = bytesToAmount(s.morpho.oraclePrice)
    if (price > 0n)
      out.push({ chainId: s.chainId, asset: getAddress(bytesToHex(s.morpho.collateralToken)), quote: getAddress(bytesToHex(s.morpho.loanToken)), blockNumber, timestamp, price })
  }
  for (const r of s.aaveReserves ?? []) {
    const price = bytesToAmount(r.price)
    if (price > 0n) out.push({ chainId: s.chainId, asset: getAddress(bytesToHex(r.asset)), quote: BASE_CURRENCY, blockNumber, timestamp, price })
  }
  return out
}

const seriesKey = (p: PricePoint): string => `${p.chainId}:${p.asset.toLowerCase()}:${(p.quote ?? BASE_CURRENCY).toLowerCase()}`

/** Appends the prices of accepted health snapshots to a {@link PriceHistory}, one batch per block. */
export class PriceRecorder {
  private readonly o: Required<Omit<PriceRecorderOptions, 'metrics' | 'log'>> & Pick<PriceRecorderOptions, 'metrics' | 'log'>
  /** Newest block recorded or queued per series (bounded by the number of series followed). */
  private readonly newest = new Map<string, bigint>()
  /** Chains this node publishes snapshots of itself. */
  private readonly ownChains = new Set<number>()
  private pending: PricePoint[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private writing: Promise<void> = Promise.resolve()
  private closed = false

  constructor(options: PriceRecorderOptions) {
    this.o = { ...defaultPriceRecorderOptions, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof this.o
  }

  /** The `snapshot:accepted` listener. */
  readonly onAccepted = (evt: CustomEvent<AcceptedEvent>): void => {
    const a = evt.detail.accepted
    if (a.kind !== PayloadKind.healthSnapshot) return
    this.observe(a.snapshot, evt.detail.source)
  }

  /** Queues the prices of one accepted health snapshot (dedupe in memory; no I/O here). */
  observe(s: WireHealthSnapshot, source: 'local' | 'gossip' = 'local'): void {
    if (this.closed) return
    if (source === 'local') this.ownChains.add(s.chainId)
    else if (this.ownChains.has(s.chainId)) return
    for (const p of pricePointsOf(s)) {
      const key = seriesKey(p)
      const last = this.newest.get(key)
      if (last !== undefined && p.blockNumber <= last) continue
      if (this.pending.length >= this.o.maxPending) {
        this.o.metrics?.points.inc({ outcome: 'dropped' })
        continue
      }
      this.newest.set(key, p.blockNumber)
      this.pending.push(p)
    }
    if (this.pending.length > 0 && this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined
        void this.flush()
      }, this.o.flushDelayMs)
      this.timer.unref?.()
    }
  }

  /** Appends what is queued now (one batch); resolves when every append so far is done. Never rejects. */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    const batch = this.pending
    this.pending = []
    if (batch.length > 0)
      this.writing = this.writing.then(async () => {
        try {
          await this.o.history.append(batch)
          this.o.metrics?.points.inc({ outcome: 'appended' }, batch.length)
        } catch (err) {
          this.o.metrics?.points.inc({ outcome: 'failed' }, batch.length)
          this.o.log?.warn({ err, points: batch.length }, 'price history append failed')
        }
      })
    return this.writing
  }

  /** Stops listening for new points and appends what is queued. */
  async close(): Promise<void> {
    this.closed = true
    await this.flush()
  }
}

/**
 * Records the prices of every health snapshot `events` accepts into `history`.
 * @example const rec = recordPrices(gossip.service, new LevelPriceHistory(gossip.store.db)); ...; await rec.stop()
 */
export function recordPrices(events: SnapshotEvents, history: PriceHistory, options: Omit<PriceRecorderOptions, 'history'> = {}): { recorder: PriceRecorder; stop(): Promise<void> } {
  const recorder = new PriceRecorder({ ...options, history })
  events.addEventListener('snapshot:accepted', recorder.onAccepted)
  return {
    recorder,
    async stop() {
      events.removeEventListener('snapshot:accepted', recorder.onAccepted)
      await recorder.close()
    },
  }
}
