/**
 * Publishing of the node's own snapshots. For every block of every chain it follows, the
 * publisher reads its {@link SnapshotSource} and signs and publishes:
 * - one HealthSnapshot per market per block (split into parts above `maxAccountsPerMessage`
 *   accounts or {@link MAX_HEALTH_PAYLOAD_BYTES} bytes), carrying the block timestamp, the
 *   market's state (Morpho market totals and oracle price, or the Aave reserves and prices) in
 *   every part, and only the accounts that changed since the last message, or whose health factor
 *   is within `nearLiquidationHfWad` — and every account (`full`) once per `fullRefreshMs`;
 * - one LiquiditySnapshot per pool per block (`liquidityEveryBlock`, the default, so that every
 *   block can be pinned by a proposal), or only when its reserves changed and at a full refresh.
 * It never signs two different snapshots for the same (chain, market, block, part): a block at
 * or below the last one published for a scope is skipped.
 */
import type { Address, Hex } from 'viem'
import { BaseError } from '../../protocol/errors.js'
import { MAX_ACCOUNTS_PER_SNAPSHOT, MAX_HEALTH_PAYLOAD_BYTES, MAX_SNAPSHOT_PARTS } from '../../protocol/limits.js'
import {
  PayloadKind,
  healthSnapshotToWire,
  liquiditySnapshotToWire,
  protoTypes,
  type AaveReserveState,
  type AccountHealth,
  type DepthPoint,
  type LendingProtocol,
  type MorphoMarketState,
  type Venue,
  type WireAccountHealth,
  type WireHealthSnapshot,
} from '../../protocol/proto/codec.js'
import { signPayload, type OperatorSigner } from '../../protocol/signing/envelope.js'
import { GossipType } from '../../protocol/topics.js'
import type { ValidationOutcome } from '../gossip/validator.js'

/** The block a source read was made at; `timestamp` in seconds (on-chain time). */
export type SourceBlock = { chainId: number; blockNumber: bigint; blockHash: Hex; timestamp?: bigint }

/** Every tracked account of one market at one block, and the market's state there. */
export type MarketHealth = {
  protocol: LendingProtocol
  /** Morpho market id, or an Aave pool address left-padded to 32 bytes (see `aaveMarketId`). */
  market: Hex
  accounts: AccountHealth[]
  /** Morpho Blue: the market's totals (accrued to the block), LLTV, oracle price and tokens. */
  morpho?: MorphoMarketState
  /** Aave V3: every reserve of the pool with its liquidation parameters and oracle price. */
  aaveReserves?: AaveReserveState[]
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
  /** Publish every pool's LiquiditySnapshot at every block (not only when its reserves change). @default true */
  liquidityEveryBlock?: boolean
  /** @default Date.now */
  now?: () => number
}

export const defaultPublisherOptions = {
  nearLiquidationHfWad: 1_100_000_000_000_000_000n,
  fullRefreshMs: 60_000,
  maxAccountsPerMessage: MAX_ACCOUNTS_PER_SNAPSHOT,
  publishEmpty: true,
  liquidityEveryBlock: true,
} as const

export type PublishSummary = { chainId: number; blockNumber: bigint; messages: number; accounts: number; full: number; skipped: number }

export type PublishErrorType = PublishError
export class PublishError extends BaseError {
  override name = 'PublishError'
  constructor(chainId: number, blockNumber: bigint, cause: unknown) {
    super(`Cannot publish the snapshots of chain ${chainId} at block ${blockNumber}.`, { cause, metaMessages: ['The source read failed; the next block retries.'] })
  }
}

const fingerprint = (a: AccountHealth) =>
  `${a.collateral}|${a.borrowAssets}|${a.healthFactor}|${a.liquidatable ? 1 : 0}|${a.maxSeizable}|${a.borrowShares ?? 0n}|${(a.balances ?? []).map((b) => `${b.asset}:${b.collateral}:${b.debt}`).join(',')}`

/** Encoded size of one account inside a HealthSnapshot (field tag, length prefix and message). */
function accountBytes(a: WireAccountHealth): number {
  const n = protoTypes.AccountHealth.encode(a).finish().length
  return 1 + (n < 128 ? 1 : n < 16_384 ? 2 : 3) + n
}

/**
 * Splits a market's selected accounts into parts of at most `per` accounts and at most
 * {@link MAX_HEALTH_PAYLOAD_BYTES} encoded bytes (header and market state included), keeping borrower order.
 */
function splitParts(header: WireHealthSnapshot, accounts: WireAccountHealth[], per: number): WireAccountHealth[][] {
  const base = protoTypes.HealthSnapshot.encode({ ...header, accounts: [], part: MAX_SNAPSHOT_PARTS, parts: MAX_SNAPSHOT_PARTS }).finish().length
  const out: WireAccountHealth[][] = [[]]
  let size = base
  for (const a of accounts) {
    const n = accountBytes(a)
    const cur = out[out.length - 1]
    if (cur.length > 0 && (cur.length >= per || size + n > MAX_HEALTH_PAYLOAD_BYTES)) {
      out.push([a])
      size = base + n
    } else {
      cur.push(a)
      size += n
    }
  }
  return out
}

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
      let whole: WireHealthSnapshot
      try {
        whole = healthSnapshotToWire({
          chainId, protocol: m.protocol, market: m.market, blockNumber: block.blockNumber, blockHash: block.blockHash, observedAt: now, full,
          part: 0, parts: 1, accounts: [], blockTimestamp: block.timestamp ?? 0n, morpho: m.morpho, aaveReserves: m.aaveReserves,
        })
        // Accounts in wire form in chunks (healthSnapshotToWire maps balances to reserve indexes and sorts).
        const wired: WireAccountHealth[] = []
        for (let i = 0; i < selected.length; i += MAX_ACCOUNTS_PER_SNAPSHOT)
          wired.push(...healthSnapshotToWire({ ...m, chainId, blockNumber: block.blockNumber, blockHash: block.blockHash, observedAt: now, full, part: 0, parts: 1, accounts: selected.slice(i, i + MAX_ACCOUNTS_PER_SNAPSHOT), morpho: undefined }).accounts)
        wired.sort((x, y) => Buffer.compare(x.borrower, y.borrower))
        whole.accounts = wired
      } catch (err) {
        throw new PublishError(chainId, block.blockNumber, err)
      }
      const chunks = splitParts(whole, whole.accounts, this.o.maxAccountsPerMessage)
      const parts = chunks.length
      if (parts > MAX_SNAPSHOT_PARTS) throw new PublishError(chainId, block.blockNumber, new Error(`market ${m.market} needs ${parts} parts`))
      for (let part = 0; part < parts; part++) {
        const snapshot: WireHealthSnapshot = { ...whole, part, parts, accounts: chunks[part] }
        const signed = signPayload({ kind: PayloadKind.healthSnapshot, snapshot }, this.o.signer, this.o.domainSeparator)
        sends.push(this.o.sink.publish({ type: GossipType.health, chainId }, signed.bytes))
        summary.messages++
        summary.accounts += chunks[part].length
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
      if (!full && !this.o.liquidityEveryBlock && state.sent.get('reserves') === print) continue
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
