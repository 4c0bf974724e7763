/**
 * GUID tracking: follows messages from PacketSent on the source endpoint to PacketVerified, LzReceiveAlert and
 * PacketDelivered on the destination, by polling each endpoint's logs (chunked eth_getLogs). Destination events
 * carry no GUID: they are matched to the send by (srcEid, sender, nonce, receiver).
 */
import type { Address, Hex } from 'viem'
import type { ChainClient } from '../../evm/client.js'
import { getRpcLogsChunked } from '../../evm/logs.js'
import { decodeEndpointLog, endpointTopics, type LzEndpointEvent, type LzLogRef } from './events.js'
import type { LzReceiveOption } from './options.js'
import { addressToBytes32, pathNonceKey, type LzPacket } from './packet.js'

/** One endpoint to follow. */
export type LzTrackedChain = {
  eid: number
  client: ChainClient
  endpoint: Address
  /** First block scanned. @default 0n */
  fromBlock?: bigint
}

/** Where a message is: `sent` → `verified` → `delivered`; `alerted` when an executor reported a failed lzReceive (it may still be delivered later). */
export type LzMessageState = 'sent' | 'verified' | 'alerted' | 'delivered'

const RANK: Record<LzMessageState, number> = { sent: 0, verified: 1, alerted: 2, delivered: 3 }

/** A tracked message. `packet` is undefined while only destination events were seen. */
export type LzMessage = {
  guid: Hex
  state: LzMessageState
  packet?: LzPacket
  lzReceive?: LzReceiveOption
  sent?: LzLogRef
  verified?: LzLogRef
  delivered?: LzLogRef
  /** The last LzReceiveAlert: revert data of lzReceive. */
  alert?: { reason: Hex; log: LzLogRef }
}

/** Options of {@link LzMessageTracker}. */
export type LzMessageTrackerOptions = {
  chains: readonly LzTrackedChain[]
  /** Blocks per eth_getLogs. @default 5_000n */
  chunkSize?: bigint
  /** Messages kept; the oldest delivered ones are dropped beyond it. @default 100_000 */
  maxMessages?: number
}

export const defaultLzMessageTrackerOptions = { chunkSize: 5_000n, maxMessages: 100_000 } as const

/** Event of {@link LzMessageTracker}: a message changed state (`detail` is the message). */
export type LzMessageEvent = CustomEvent<LzMessage>

/**
 * Follows messages across endpoints. Call {@link poll} (e.g. on each new block or on a timer); listen to
 * `lz:message`, or await {@link waitFor}.
 *
 * @example
 * const tracker = new LzMessageTracker({ chains: [{ eid: 40101, client: a, endpoint: ea }, { eid: 40102, client: b, endpoint: eb }] })
 * await tracker.poll()
 * const m = await tracker.waitFor(guid, 'delivered', { timeoutMs: 10_000 })
 */
export class LzMessageTracker extends EventTarget {
  private readonly chains: Map<number, LzTrackedChain & { next: bigint }>
  private readonly byGuid = new Map<Hex, LzMessage>()
  private readonly guidByKey = new Map<string, Hex>()
  /** Destination events seen before their PacketSent, by path-nonce key. */
  private readonly early = new Map<string, LzEndpointEvent[]>()
  private readonly chunkSize: bigint
  private readonly maxMessages: number
  private polling?: Promise<number>

  constructor(options: LzMessageTrackerOptions) {
    super()
    this.chains = new Map(options.chains.map((c) => [c.eid, { ...c, next: c.fromBlock ?? 0n }]))
    this.chunkSize = options.chunkSize ?? defaultLzMessageTrackerOptions.chunkSize
    this.maxMessages = options.maxMessages ?? defaultLzMessageTrackerOptions.maxMessages
  }

  /** The message with this GUID, if seen. */
  get(guid: Hex): LzMessage | undefined {
    return this.byGuid.get(guid.toLowerCase() as Hex)
  }

  /** Every tracked message, in the order first seen. */
  list(): LzMessage[] {
    return [...this.byGuid.values()]
  }

  /** Next block scanned per EID. */
  cursors(): Record<number, bigint> {
    return Object.fromEntries([...this.chains].map(([eid, c]) => [eid, c.next]))
  }

  /**
   * Reads every endpoint's new logs (up to each chain's latest block) and applies them, sends first.
   * Concurrent calls share one poll. @returns the number of endpoint events applied.
   * @throws RpcUnavailableError, LogRangeRefusedError (the cursors stay where they were for the failed chain).
   */
  poll(signal?: AbortSignal): Promise<number> {
    this.polling ??= this.pollOnce(signal).finally(() => (this.polling = undefined))
    return this.polling
  }

  private async pollOnce(signal?: AbortSignal): Promise<number> {
    signal?.throwIfAborted()
    const fetched = await Promise.all(
      [...this.chains.values()].map(async (c) => {
        const head = await c.client.getBlockNumber({ cacheTime: 0 })
        if (head < c.next) return { c, head, events: [] as LzEndpointEvent[] }
        const logs = await getRpcLogsChunked(c.client, {
          address: c.endpoint,
          topics: [[endpointTopics.packetSent, endpointTopics.packetVerified, endpointTopics.packetDelivered, endpointTopics.lzReceiveAlert]],
          fromBlock: c.next,
          toBlock: head,
          chunkSize: this.chunkSize,
          signal,
        })
        const events: LzEndpointEvent[] = []
        for (const l of logs) {
          try {
            const e = decodeEndpointLog(l)
            if (e) events.push(e)
          } catch {
            // a malformed packet from a foreign send library: not ours to track
          }
        }
        return { c, head, events }
      }),
    )
    let applied = 0
    // Sends first, so that destination events of this poll find their message.
    for (const { events } of fetched) for (const e of events) if (e.kind === 'sent') applied += this.apply(e)
    for (const { c, head, events } of fetched) {
      for (const e of events) if (e.kind !== 'sent') applied += this.apply(e)
      c.next = head + 1n
    }
    this.prune()
    return applied
  }

  /**
   * Resolves once the message reaches `state` (or a later one).
   * @throws the signal's reason when aborted; a TimeoutError-named DOMException after `timeoutMs`.
   */
  async waitFor(guid: Hex, state: LzMessageState = 'delivered', opts: { timeoutMs?: number; pollMs?: number; signal?: AbortSignal } = {}): Promise<LzMessage> {
    const signal = opts.signal ?? AbortSignal.timeout(opts.timeoutMs ?? 30_000)
    const pollMs = opts.pollMs ?? 100
    for (;;) {
      signal.throwIfAborted()
      const m = this.get(guid)
      if (m && RANK[m.state] >= RANK[state]) return m
      await this.poll(signal)
      const again = this.get(guid)
      if (again && RANK[again.state] >= RANK[state]) return again
      await new Promise<void>((res) => {
        const onAbort = () => (clearTimeout(t), res())
        const t = setTimeout(() => (signal.removeEventListener('abort', onAbort), res()), pollMs)
        signal.addEventListener('abort', onAbort, { once: true })
      })
    }
  }

  /** Applies one event; returns 1 if it changed a message. */
  private apply(e: LzEndpointEvent): number {
    if (e.kind === 'sent') {
      const p = e.packet
      const key = pathNonceKey(p)
      let m = this.byGuid.get(p.guid)
      if (!m) {
        m = { guid: p.guid, state: 'sent' }
        this.byGuid.set(p.guid, m)
      }
      m.packet = p
      m.sent = e.log
      m.lzReceive = e.lzReceive
      this.guidByKey.set(key, p.guid)
      const pending = this.early.get(key)
      this.early.delete(key)
      this.emit(m)
      for (const x of pending ?? []) this.apply(x)
      return 1
    }
    const key = pathNonceKey({ ...e.origin, receiver: addressToBytes32(e.receiver) })
    const guid = e.kind === 'alert' ? e.guid : this.guidByKey.get(key)
    const m = guid ? this.byGuid.get(guid) : undefined
    if (!m || !m.packet) {
      const list = this.early.get(key) ?? []
      if (list.length < 8) list.push(e)
      this.early.set(key, list)
      if (this.early.size > this.maxMessages) this.early.delete(this.early.keys().next().value as string)
      return 0
    }
    const next: LzMessageState = e.kind === 'alert' ? 'alerted' : e.kind
    if (e.kind === 'verified') m.verified = e.log
    if (e.kind === 'delivered') m.delivered = e.log
    if (e.kind === 'alert') m.alert = { reason: e.reason, log: e.log }
    if (RANK[next] > RANK[m.state]) m.state = next
    this.emit(m)
    return 1
  }

  private emit(m: LzMessage): void {
    this.dispatchEvent(new CustomEvent('lz:message', { detail: m }))
  }

  private prune(): void {
    if (this.byGuid.size <= this.maxMessages) return
    for (const [guid, m] of this.byGuid) {
      if (this.byGuid.size <= this.maxMessages) break
      if (m.state !== 'delivered') continue
      this.byGuid.delete(guid)
      if (m.packet) this.guidByKey.delete(pathNonceKey(m.packet))
    }
  }
}
