import { createPublicClient, type Hex, webSocket } from 'viem'
import { BaseError } from '../../protocol/errors.js'
import type { BlockUpdate } from '../types.js'
import type { ChainClient } from './client.js'
import { toChainError } from './errors.js'

/** How the follower currently learns of new heads. */
export type FollowMode = 'ws' | 'poll' | 'stopped'

/** Events of a {@link BlockFollower}, namespaced like libp2p's. */
export type BlockFollowerEvents = {
  /** A new head (or a replacement head after a reorg), in increasing height order. */
  'follower:block': CustomEvent<BlockUpdate>
  /** The follower switched between WebSocket and polling. */
  'follower:mode': CustomEvent<{ mode: FollowMode; reason: string }>
  /** A non-fatal error (the follower keeps going): a failed poll, a dropped subscription. */
  'follower:error': CustomEvent<BaseError>
}

/** Options of {@link createBlockFollower}. Defaults in {@link defaultBlockFollowerOptions}. */
export type BlockFollowerOptions = {
  /** WebSocket URLs for newHeads; default `client.liqnet.wsUrls`. Empty: poll only. */
  wsUrls?: readonly string[]
  /** Polling interval when WebSocket is down. @default client.liqnet.pollingIntervalMs */
  pollingIntervalMs?: number
  /** In WebSocket mode, how long without a head before HTTP is asked whether the chain moved (stall check). @default 5_000 ms */
  stallTimeoutMs?: number
  /** In polling mode, how often to try WebSocket again. @default 15_000 ms */
  wsRetryIntervalMs?: number
  /** Most missed blocks fetched one by one after a gap; older ones are skipped. @default 64 */
  maxCatchUpBlocks?: number
}

export const defaultBlockFollowerOptions = {
  stallTimeoutMs: 5_000,
  wsRetryIntervalMs: 15_000,
  maxCatchUpBlocks: 64,
} as const

/** A stall or a dropped WebSocket subscription. */
export class WebSocketHeadsError extends BaseError {
  override name = 'WebSocketHeadsError' as const
  constructor(reason: string, cause?: unknown) {
    super(`WebSocket new-heads subscription failed: ${reason}.`, {
      cause,
      metaMessages: ['The follower polls over HTTP until WebSocket answers again.'],
    })
  }
}

/** A listener of a typed event: a function or an object with `handleEvent`. */
export type EventHandler<E> = ((evt: E) => void) | { handleEvent: (evt: E) => void }

/** Minimal typed EventTarget: `addEventListener('follower:block', (e) => e.detail.blockNumber)`. */
export class TypedEventTarget<Events extends Record<string, any>> extends EventTarget {
  override addEventListener<K extends keyof Events & string>(
    type: K,
    listener: EventHandler<Events[K]> | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListener, options)
  }
  override removeEventListener<K extends keyof Events & string>(
    type: K,
    listener?: EventHandler<Events[K]> | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, (listener ?? null) as EventListener, options)
  }
  /** Dispatches `new CustomEvent(type, { detail })`; only names of the event map are accepted. */
  safeDispatch<K extends keyof Events & string>(type: K, detail: Events[K] extends CustomEvent<infer D> ? D : never): void {
    this.dispatchEvent(new CustomEvent(type, { detail }))
  }
}

type HeadLike = { number: bigint | null; hash: Hex | null; parentHash: Hex; timestamp: bigint }

/**
 * Follows one chain's heads: newHeads over WebSocket (viem `watchBlocks` on a `webSocket`
 * transport) while it works, polling over the client's HTTP fallback otherwise (no WS URL,
 * subscription error, or no head for `stallTimeoutMs` while HTTP shows the chain moved).
 * While polling it retries WebSocket every `wsRetryIntervalMs`.
 *
 * Emits `follower:block` once per height in increasing order (missed heights are fetched,
 * up to `maxCatchUpBlocks`), and again for a height whose hash changed (a reorg, `reorg: true`).
 * `stop()` ends every timer, subscription and socket.
 *
 * @example
 * const f = createBlockFollower(client)
 * f.addEventListener('follower:block', (e) => console.log(e.detail.blockNumber))
 * await f.start()
 * ...
 * await f.stop()
 */
export class BlockFollower extends TypedEventTarget<BlockFollowerEvents> {
  readonly client: ChainClient
  private readonly opts: Required<BlockFollowerOptions>
  private modeValue: FollowMode = 'stopped'
  private last?: { number: bigint; hash: Hex }
  private unwatchWs?: () => void
  private wsClient?: { transport: { getRpcClient?: () => Promise<{ close: () => void }> } }
  private timer?: NodeJS.Timeout
  private lastHeadAt = 0
  private lastWsAttemptAt = 0
  private busy: Promise<void> = Promise.resolve()
  private stopped = true

  constructor(client: ChainClient, options: BlockFollowerOptions = {}) {
    super()
    this.client = client
    this.opts = {
      wsUrls: options.wsUrls ?? client.liqnet.wsUrls,
      pollingIntervalMs: options.pollingIntervalMs ?? client.liqnet.pollingIntervalMs,
      stallTimeoutMs: options.stallTimeoutMs ?? defaultBlockFollowerOptions.stallTimeoutMs,
      wsRetryIntervalMs: options.wsRetryIntervalMs ?? defaultBlockFollowerOptions.wsRetryIntervalMs,
      maxCatchUpBlocks: options.maxCatchUpBlocks ?? defaultBlockFollowerOptions.maxCatchUpBlocks,
    }
  }

  get mode(): FollowMode {
    return this.modeValue
  }

  /** The last head emitted. */
  get head(): { number: bigint; hash: Hex } | undefined {
    return this.last
  }

  /** Starts following from the current head (emitted at once). Resolves when the first head was emitted or the start failed over to polling. */
  async start(): Promise<void> {
    if (!this.stopped) return
    this.stopped = false
    await this.pollOnce().catch((err) => this.reportError(err))
    if (this.opts.wsUrls.length > 0) this.startWs('start')
    else this.setMode('poll', 'no WebSocket URL')
    this.schedule()
  }

  /** Stops every timer and subscription, closes the socket. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.stopWs()
    await this.busy.catch(() => {})
    this.setMode('stopped', 'stop()')
  }

  private setMode(mode: FollowMode, reason: string): void {
    if (this.modeValue === mode) return
    this.modeValue = mode
    this.safeDispatch('follower:mode', { mode, reason })
  }

  private reportError(err: unknown): void {
    if (this.stopped) return
    this.safeDispatch('follower:error', toChainError(err, { chainId: this.client.liqnet.chainId, what: 'Block follower' }))
  }

  private startWs(reason: string): void {
    this.lastWsAttemptAt = Date.now()
    const url = this.opts.wsUrls[0]
    try {
      const transport = webSocket(url, {
        retryCount: 0,
        timeout: Math.min(this.client.liqnet.timeoutMs, 5_000),
        reconnect: false,
        keepAlive: false,
      })
      const ws = createPublicClient({ transport, chain: this.client.chain })
      this.wsClient = ws as never
      this.unwatchWs = ws.watchBlocks({
        poll: false,
        onBlock: (block) => {
          if (this.stopped) return
          this.lastHeadAt = Date.now()
          this.enqueue(() => this.onHead(block as HeadLike, 'ws'))
        },
        onError: (err) => this.wsFailed(err),
      })
      this.lastHeadAt = Date.now()
      this.setMode('ws', reason)
    } catch (err) {
      this.wsFailed(err)
    }
  }

  private stopWs(): void {
    const unwatch = this.unwatchWs
    const ws = this.wsClient
    this.unwatchWs = undefined
    this.wsClient = undefined
    try {
      unwatch?.()
    } catch {
      // the socket may already be gone
    }
    // Close the socket itself: viem caches it per URL and keeps it open otherwise.
    ws?.transport.getRpcClient?.().then((rpc) => rpc.close(), () => {})
  }

  private wsFailed(err: unknown): void {
    if (this.stopped) return
    this.stopWs()
    const e = new WebSocketHeadsError(err instanceof Error ? err.message.split('\n')[0] : String(err), err)
    this.safeDispatch('follower:error', e)
    this.setMode('poll', 'websocket failed')
  }

  private schedule(): void {
    if (this.stopped) return
    const delay = this.modeValue === 'ws' ? Math.min(this.opts.stallTimeoutMs, 1_000) : this.opts.pollingIntervalMs
    this.timer = setTimeout(() => {
      this.enqueue(() => this.tick()).finally(() => this.schedule())
    }, delay)
    this.timer.unref?.()
  }

  private async tick(): Promise<void> {
    if (this.stopped) return
    const now = Date.now()
    if (this.modeValue === 'ws') {
      // Stall check: no head for a while, while HTTP shows a newer block.
      if (now - this.lastHeadAt < this.opts.stallTimeoutMs) return
      const n = await this.client.getBlockNumber().catch((err) => {
        this.reportError(err)
        return undefined
      })
      if (n !== undefined && this.last && n > this.last.number) {
        this.wsFailed(new Error(`no head for ${now - this.lastHeadAt} ms while the chain is at ${n}`))
        await this.pollOnce()
      }
      return
    }
    if (this.modeValue === 'poll') {
      await this.pollOnce().catch((err) => this.reportError(err))
      if (this.opts.wsUrls.length > 0 && !this.unwatchWs && now - this.lastWsAttemptAt >= this.opts.wsRetryIntervalMs)
        this.startWs('websocket back')
    }
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.busy.then(fn, fn).catch((err) => this.reportError(err))
    this.busy = run
    return run
  }

  private async pollOnce(): Promise<void> {
    const block = await this.client.getBlock({ blockTag: 'latest' })
    await this.onHead(block as HeadLike, 'poll')
  }

  private async onHead(head: HeadLike, source: 'ws' | 'poll'): Promise<void> {
    if (this.stopped || head.number === null || head.hash === null) return
    const last = this.last
    if (last && head.number === last.number && head.hash === last.hash) return
    if (last && head.number < last.number) {
      // An older height: only a reorg makes it interesting; the next head resolves it.
      return
    }
    if (last && head.number > last.number + 1n) {
      let from = last.number + 1n
      const lowest = head.number - BigInt(this.opts.maxCatchUpBlocks)
      if (from < lowest) from = lowest
      for (let n = from; n < head.number; n++) {
        if (this.stopped) return
        const b = (await this.client.getBlock({ blockNumber: n })) as HeadLike
        this.emit(b, source, false)
      }
    }
    const reorg = !!last && head.number === last.number && head.hash !== last.hash
    const parentMismatch = !!last && head.number === last.number + 1n && head.parentHash !== last.hash
    this.emit(head, source, reorg || parentMismatch)
  }

  private emit(b: HeadLike, source: 'ws' | 'poll', reorg: boolean): void {
    if (this.stopped || b.number === null || b.hash === null) return
    this.last = { number: b.number, hash: b.hash }
    this.safeDispatch('follower:block', {
      chainId: this.client.liqnet.chainId,
      blockNumber: b.number,
      blockHash: b.hash,
      parentHash: b.parentHash,
      timestamp: b.timestamp,
      source,
      reorg,
    })
  }
}

/** Creates a {@link BlockFollower} for the client's chain (not started). */
export function createBlockFollower(client: ChainClient, options: BlockFollowerOptions = {}): BlockFollower {
  return new BlockFollower(client, options)
}
