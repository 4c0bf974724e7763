/**
 * Publishing of the node's own snapshots. For every block of every chain it follows, the
 * publisher reads its {@link SnapshotSource} and signs and publishes:
 * - one HealthSnapshot per market per block (split into parts above `maxAccountsPerMessage`),
 *   carrying only the accounts that changed since the last message, or whose health factor
 *   is within `nearLiquidationHfWad` — and every account (`full`) once per `fullRefreshMs`;
 * - one LiquiditySnapshot per pool per block when its reserves changed, or at a full refresh.
 * It never signs two different snapshots for the same (chain, market, block, part): a block at
 * or below the last one published for a scope is skipped.
 */
import type { Address, Hex } from 'viem'
import { BaseError } from '../../protocol/errors.js'
import { MAX_ACCOUNTS_PER_SNAPSHOT, MAX_SNAPSHOT_PARTS } from '../../protocol/limits.js'
import {
  PayloadKind,
  healthSnapshotToWire,
  liquiditySnapshotToWire,
  type AccountHealth,
  type DepthPoint,
  type LendingProtocol,
  type Venue,
} from '../../protocol/proto/codec.js'
import { signPayload, type OperatorSigner } from '../../protocol/signing/envelope.js'
import { GossipType } from '../../protocol/topics.js'
import type { ValidationOutcome } from '../gossip/validator.js'

/** The block a source read was made at. */
export type SourceBlock = { chainId: number; blockNumber: bigint; blockHash: Hex }

/** Every tracked account of one market at one block. */
export type MarketHealth = {
  protocol: LendingProtocol
  /** Morpho market id, or an Aave pool address left-padded to 32 bytes (see `aaveMarketId`). */
  market: Hex
  accounts: AccountHealth[]
}

/** One pool's reserves and depth curve at one block. */
export type PoolLiquidity = {
  venue: Venue
  pair: Address
  token0: Address
  token1: Address
  reserve0: bigint
  reserve1: bigint
  depth: DepthPoint[]
}

/** What the publisher reads; `chains/` readers are adapted to it in `chains-source.ts`. */
export interface SnapshotSource {
  /** Reads every market and pool the node follows on `chainId` at one block. */
  read(chainId: number, blockNumber: bigint): Promise<{ block: SourceBlock; health: MarketHealth[]; liquidity: PoolLiquidity[] }>
}

/** Where signed messages go (the gossip service). */
export interface SnapshotSink {
  publish(topic: { type: GossipType; chainId: number }, data: Uint8Array): Promise<ValidationOutcome>
}

export type PublisherOptions = {
  source: SnapshotSource
  sink: SnapshotSink
  signer: OperatorSigner
  domainSeparator: Uint8Array
  /** Accounts with a health factor at or below this (WAD) are sent every block. @default 1.1e18 */
  nearLiquidationHfWad?: bigint
  /** Period of full refreshes (every account), ms. @default 60_000 */
  fullRefreshMs?: number
  /** Most accounts per message; larger batches are split into parts. @default MAX_ACCOUNTS_PER_SNAPSHOT */
  maxAccountsPerMessage?: number
  /** Publish a market's snapshot even when no account is selected (an attestation that nothing changed). @default true */
  publishEmpty?: boolean
  /** @default Date.now */
  now?: () => number
}

export const defaultPublisherOptions = {
  nearLiquidationHfWad: 1_100_000_000_000_000_000n,
  fullRefreshMs: 60_000,
  maxAccountsPerMessage: MAX_ACCOUNTS_PER_SNAPSHOT,
  publishEmpty: true,
} as const

export type PublishSummary = { chainId: number; blockNumber: bigint; messages: number; accounts: number; full: number; skipped: number }

export type PublishErrorType = PublishError
export class PublishError extends BaseError {
  override name = 'PublishError'
  constructor(chainId: number, blockNumber: bigint, cause: unknown) {
    super(`Cannot publish the snapshots of chain ${chainId} at block ${blockNumber}.`, { cause, metaMessages: ['The source read failed; the next block retries.'] })
  }
}

const fingerprint = (a: AccountHealth) => `${a.collateral}|${a.borrowAssets}|${a.healthFactor}|${a.liquidatable ? 1 : 0}|${a.maxSeizable}`

type ScopeState = { lastBlock: bigint; lastFullAt: number; sent: Map<string, string> }

export class SnapshotPublisher {
  private readonly o: Required<Omit<PublisherOptions, 'now'>> & { now: () => number }
  private readonly scopes = new Map<string, ScopeState>()

  constructor(options: PublisherOptions) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as PublisherOptions
    this.o = { ...defaultPublisherOptions, now: Date.now, ...defined }
    if (this.o.maxAccountsPerMessage < 1 || this.o.maxAccountsPerMessage > MAX_ACCOUNTS_PER_SNAPSHOT)
      throw new BaseError(`maxAccountsPerMessage must be in [1, ${MAX_ACCOUNTS_PER_SNAPSHOT}].`)
  }

  /**
   * Reads, signs and publishes the snapshots of one block of one chain.
   * @throws PublishError when the source read fails.
   */
  async onBlock(chainId: number, blockNumber: bigint): Promise<PublishSummary> {
    let read: Awaited<ReturnType<SnapshotSource['read']>>
    try {
      read = await this.o.source.read(chainId, blockNumber)
    } catch (err) {
      throw new PublishError(chainId, blockNumber, err)
    }
    const { block } = read
    const now = this.o.now()
    const summary: PublishSummary = { chainId, blockNumber: block.blockNumber, messages: 0, accounts: 0, full: 0, skipped: 0 }
    const sends: Promise<unknown>[] = []
    for (const m of read.health) {
      const key = `h|${chainId}|${m.market.toLowerCase()}`
      const state = this.scopes.get(key) ?? { lastBlock: -1n, lastFullAt: -Infinity, sent: new Map() }
      if (block.blockNumber <= state.lastBlock) {
        summary.skipped++
        continue
      }
      const full = now - state.lastFullAt >= this.o.fullRefreshMs
      const selected = full
        ? m.accounts
        : m.accounts.filter((a) => a.healthFactor <= this.o.nearLiquidationHfWad || state.sent.get(a.borrower.toLowerCase()) !== fingerprint(a))
      if (selected.length === 0 && !this.o.publishEmpty) continue
      const per = this.o.maxAccountsPerMessage
      const parts = Math.max(1, Math.ceil(selected.length / per))
      if (parts > MAX_SNAPSHOT_PARTS) throw new PublishError(chainId, block.blockNumber, new Error(`market ${m.market} needs ${parts} parts`))
      for (let part = 0; part < parts; part++) {
        const accounts = selected.slice(part * per, (part + 1) * per)
        const snapshot = healthSnapshotToWire({ chainId, protocol: m.protocol, market: m.market, blockNumber: block.blockNumber, blockHash: block.blockHash, observedAt: now, full, part, parts, accounts })
        const signed = signPayload({ kind: PayloadKind.healthSnapshot, snapshot }, this.o.signer, this.o.domainSeparator)
        sends.push(this.o.sink.publish({ type: GossipType.health, chainId }, signed.bytes))
        summary.messages++
        summary.accounts += accounts.length
      }
      if (full) {
        summary.full++
        state.lastFullAt = now
        state.sent.clear()
      }
      for (const a of selected) state.sent.set(a.borrower.toLowerCase(), fingerprint(a))
      state.lastBlock = block.blockNumber
      this.scopes.set(key, state)
    }
    for (const p of read.liquidity) {
      const key = `l|${chainId}|${p.venue}|${p.pair.toLowerCase()}`
      const state = this.scopes.get(key) ?? { lastBlock: -1n, lastFullAt: -Infinity, sent: new Map() }
      if (block.blockNumber <= state.lastBlock) {
        summary.skipped++
        continue
      }
      const full = now - state.lastFullAt >= this.o.fullRefreshMs
      const print = `${p.reserve0}|${p.reserve1}`
      if (!full && state.sent.get('reserves') === print) continue
      const snapshot = liquiditySnapshotToWire({ chainId, venue: p.venue, pair: p.pair, token0: p.token0, token1: p.token1, blockNumber: block.blockNumber, blockHash: block.blockHash, observedAt: now, reserve0: p.reserve0, reserve1: p.reserve1, depth: p.depth })
      const signed = signPayload({ kind: PayloadKind.liquiditySnapshot, snapshot }, this.o.signer, this.o.domainSeparator)
      sends.push(this.o.sink.publish({ type: GossipType.liquidity, chainId }, signed.bytes))
      summary.messages++
      if (full) state.lastFullAt = now
      state.sent.set('reserves', print)
      state.lastBlock = block.blockNumber
      this.scopes.set(key, state)
    }
    await Promise.all(sends)
    return summary
  }
}
