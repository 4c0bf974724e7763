/**
 * Subscribers of `/v1/stream`: filters, and backpressure. Every frame goes to a subscriber only
 * while its socket's queued bytes stay under `maxBufferedBytes`; a subscriber that falls behind is
 * dropped with close code {@link STREAM_CLOSE.slowConsumer} (and its socket terminated after a
 * grace period if it does not read the close frame), so one slow reader never grows the node's memory.
 */
import type { FeedKind, SignedFeedItem } from './signing.js'
import type { StreamFilter } from './query.js'

/** WebSocket close codes of the stream (4000–4999: application codes). */
export const STREAM_CLOSE = {
  /** The subscriber did not read fast enough; reconnect and read faster (or filter more). */
  slowConsumer: 4001,
  /** Too many subscribers on this node (RFC 6455 "try again later"). */
  tooManySubscribers: 1013,
  /** The node is shutting down (RFC 6455 "going away"). */
  goingAway: 1001,
} as const

/** The part of a `ws` WebSocket the hub uses. */
export type StreamSocket = {
  readonly readyState: number
  readonly bufferedAmount: number
  send(data: string): void
  close(code?: number, reason?: string): void
  terminate(): void
}

export type Subscriber = { id: number; socket: StreamSocket; filter: StreamFilter; kinds: ReadonlySet<FeedKind>; sent: number }

export type StreamHubOptions = {
  maxSubscribers: number
  maxBufferedBytes: number
  /** Time a dropped subscriber has to read its close frame before the socket is destroyed, ms. @default 2000 */
  slowCloseGraceMs?: number
  onSent?: (kind: FeedKind) => void
  onDrop?: (reason: 'SLOW_CONSUMER' | 'TOO_MANY_SUBSCRIBERS') => void
  onCount?: (n: number) => void
}

const OPEN = 1

/** Does an item pass a subscriber's filter? chainId applies to accounts and pools; protocol and market to accounts; pair to pools. */
export function matches(sub: Pick<Subscriber, 'filter' | 'kinds'>, item: SignedFeedItem): boolean {
  if (!sub.kinds.has(item.kind)) return false
  const f = sub.filter
  if (item.kind === 'account') {
    const d = item.data as { chainId: number; protocol: string; market: string }
    return (f.chainId === undefined || d.chainId === f.chainId) && (f.protocol === undefined || d.protocol === f.protocol) && (f.market === undefined || d.market === f.market)
  }
  if (item.kind === 'liquidity') {
    const d = item.data as { chainId: number; pair: string }
    return (f.chainId === undefined || d.chainId === f.chainId) && f.protocol === undefined && f.market === undefined && (f.pair === undefined || d.pair.toLowerCase() === f.pair.toLowerCase())
  }
  return true
}

export class StreamHub {
  private readonly subs = new Map<number, Subscriber>()
  private nextId = 1

  constructor(private readonly o: StreamHubOptions) {}

  get size(): number {
    return this.subs.size
  }

  /** True if some subscriber would take an item of this kind on this chain (skip building items nobody wants). */
  wants(kind: FeedKind, chainId?: number): boolean {
    for (const s of this.subs.values()) if (s.kinds.has(kind) && (chainId === undefined || s.filter.chainId === undefined || s.filter.chainId === chainId)) return true
    return false
  }

  /** Adds a subscriber, or closes the socket with 1013 when full. Returns the subscriber or undefined. */
  add(socket: StreamSocket, filter: StreamFilter, kinds: readonly FeedKind[]): Subscriber | undefined {
    if (this.subs.size >= this.o.maxSubscribers) {
      this.o.onDrop?.('TOO_MANY_SUBSCRIBERS')
      socket.close(STREAM_CLOSE.tooManySubscribers, 'too many subscribers')
      return undefined
    }
    const sub: Subscriber = { id: this.nextId++, socket, filter, kinds: new Set(kinds), sent: 0 }
    this.subs.set(sub.id, sub)
    this.o.onCount?.(this.subs.size)
    return sub
  }

  remove(sub: Subscriber): void {
    if (this.subs.delete(sub.id)) this.o.onCount?.(this.subs.size)
  }

  /** Sends a frame to one subscriber, dropping it if its queue is full. */
  send(sub: Subscriber, frame: string): boolean {
    if (sub.socket.readyState !== OPEN) return false
    if (sub.socket.bufferedAmount + frame.length > this.o.maxBufferedBytes) {
      this.drop(sub)
      return false
    }
    sub.socket.send(frame)
    sub.sent++
    return true
  }

  /** Sends an item to every subscriber whose filter it passes. */
  publish(item: SignedFeedItem): number {
    let frame: string | undefined
    let n = 0
    for (const sub of this.subs.values()) {
      if (!matches(sub, item)) continue
      frame ??= JSON.stringify({ type: 'item', item })
      if (this.send(sub, frame)) {
        n++
        this.o.onSent?.(item.kind)
      }
    }
    return n
  }

  private drop(sub: Subscriber): void {
    this.remove(sub)
    this.o.onDrop?.('SLOW_CONSUMER')
    try {
      sub.socket.close(STREAM_CLOSE.slowConsumer, 'slow consumer')
    } catch {
      // already closing
    }
    setTimeout(() => sub.socket.terminate(), this.o.slowCloseGraceMs ?? 2000).unref()
  }

  /** Closes every subscriber (shutdown). */
  closeAll(): void {
    for (const sub of this.subs.values()) {
      try {
        sub.socket.close(STREAM_CLOSE.goingAway, 'node shutting down')
      } catch {
        // ignore
      }
    }
    this.subs.clear()
    this.o.onCount?.(0)
  }
}
