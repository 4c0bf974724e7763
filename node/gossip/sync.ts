/**
 * Catch-up over a request/response protocol (`/liqnet/sync/1.0.0`, see docs/wire.md):
 * when a connection to a peer opens (a restarted node rejoining, or a new peer), the node
 * asks the peer for its latest signed snapshots and runs each through the same validation
 * as gossip (duplicates are IGNOREd, so asking twice is cheap). The serving side sends at
 * most `maxRecords` records, each at most the topic's size limit.
 *
 * Request: 8 bytes, u64 big-endian `sinceMs` (records observed before it are not sent).
 * Response: frames `u32 length ‖ u8 topic type (1 health, 2 liquidity) ‖ u64 chainId ‖ SignedEnvelope`.
 */
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import { MAX_GOSSIP_MESSAGE_BYTES } from '../../protocol/limits.js'
import { GossipType } from '../../protocol/topics.js'
import type { Store } from '../store/store.js'
import { KeyWriter, readU64 } from '../store/encoding.js'
import { Venue } from '../../protocol/proto/codec.js'
import type { GossipService } from './service.js'

export const SYNC_PROTOCOL = '/liqnet/sync/1.0.0'

const TYPE_CODE: { [K in GossipType]: number } = { [GossipType.health]: 1, [GossipType.liquidity]: 2 }
const CODE_TYPE: Record<number, GossipType> = { 1: GossipType.health, 2: GossipType.liquidity }

export type SyncOptions = {
  libp2p: Libp2p
  store: Store
  service: GossipService
  chainIds: readonly number[]
  /** Records older than this are neither asked for nor served, ms. @default 300_000 */
  maxAgeMs?: number
  /** Most records served per request. @default 4096 */
  maxRecords?: number
  /** Minimum time between two syncs with the same peer, ms. @default 10_000 */
  minIntervalMs?: number
  now?: () => number
  log?: Logger
}

/**
 * Reads a whole libp2p stream (the request or response of a request/response protocol).
 * @throws RangeError when more than `maxBytes` arrive; the signal's reason when it aborts.
 */
export async function readAll(stream: Stream, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of stream.source) {
    signal.throwIfAborted()
    const bytes = chunk.subarray()
    size += bytes.length
    if (size > maxBytes) throw new RangeError(`stream longer than ${maxBytes} bytes`)
    chunks.push(bytes)
  }
  return Buffer.concat(chunks)
}

export class SyncProtocol {
  private readonly lastSync = new Map<string, number>()
  private readonly o: Required<Omit<SyncOptions, 'log'>> & { log?: Logger }
  private readonly onConnection = (evt: CustomEvent<{ remotePeer: PeerId }>) => {
    void this.syncWith(evt.detail.remotePeer).catch((err) => this.o.log?.debug({ err }, 'sync failed'))
  }

  constructor(options: SyncOptions) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as SyncOptions
    this.o = { maxAgeMs: 300_000, maxRecords: 4096, minIntervalMs: 10_000, now: Date.now, ...defined }
  }

  async start(): Promise<void> {
    await this.o.libp2p.handle(SYNC_PROTOCOL, ({ stream }) => void this.serve(stream).catch(() => stream.abort(new Error('sync serve failed'))), { maxInboundStreams: 4 })
    this.o.libp2p.addEventListener('connection:open', this.onConnection as never)
  }

  async stop(): Promise<void> {
    this.o.libp2p.removeEventListener('connection:open', this.onConnection as never)
    await this.o.libp2p.unhandle(SYNC_PROTOCOL).catch(() => {})
  }

  /** Serves the latest records observed since the requested time. */
  private async serve(stream: Stream): Promise<void> {
    const req = await readAll(stream, 8, AbortSignal.timeout(5000)).catch(() => new Uint8Array(0))
    const since = req.length === 8 ? Math.max(readU64(req, 0), this.o.now() - this.o.maxAgeMs) : this.o.now() - this.o.maxAgeMs
    const frames: Uint8Array[] = []
    const add = (type: GossipType, chainId: number, envelope: Uint8Array) => {
      if (frames.length >= this.o.maxRecords) return
      frames.push(new KeyWriter(4 + 1 + 8 + envelope.length).u32(1 + 8 + envelope.length).u8(TYPE_CODE[type]).u64(chainId).bytes(envelope).done())
    }
    for (const l of await this.o.store.latestHealth.list())
      if (this.o.chainIds.includes(l.chainId) && l.record.observedAt >= since) add(GossipType.health, l.chainId, l.record.envelope)
    for (const chainId of this.o.chainIds)
      for (const l of await this.o.store.liquidity.listVenue(chainId, Venue.uniswapV2)) if (l.record.observedAt >= since) add(GossipType.liquidity, chainId, l.record.envelope)
    await stream.sink(frames)
  }

  /** Asks one peer for its latest snapshots and validates them. Returns how many were received. */
  async syncWith(peer: PeerId): Promise<number> {
    const id = peer.toString()
    const now = this.o.now()
    if (now - (this.lastSync.get(id) ?? -Infinity) < this.o.minIntervalMs) return 0
    this.lastSync.set(id, now)
    const signal = AbortSignal.timeout(10_000)
    const stream = await this.o.libp2p.dialProtocol(peer, SYNC_PROTOCOL, { signal })
    await stream.sink([new KeyWriter(8).u64(now - this.o.maxAgeMs).done()])
    const body = await readAll(stream, this.o.maxRecords * (MAX_GOSSIP_MESSAGE_BYTES + 13), signal)
    let o = 0
    const pending: Promise<unknown>[] = []
    while (o + 4 <= body.length) {
      const len = new DataView(body.buffer, body.byteOffset + o, 4).getUint32(0)
      if (len < 9 || len > MAX_GOSSIP_MESSAGE_BYTES + 9 || o + 4 + len > body.length) break
      const type = CODE_TYPE[body[o + 4]]
      const chainId = readU64(body, o + 5)
      const data = body.subarray(o + 13, o + 4 + len)
      o += 4 + len
      if (!type || !this.o.chainIds.includes(chainId)) continue
      pending.push(this.o.service.submit({ type, chainId }, data, 'gossip'))
    }
    await Promise.all(pending)
    return pending.length
  }
}
