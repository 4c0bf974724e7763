/**
 * The libp2p host of a liqnet node (libp2p 2.x, pinned; see FINDINGS): TCP, noise,
 * yamux, identify, ping, bootstrap, and gossipsub (@chainsafe/libp2p-gossipsub 14)
 * with StrictSign, publisher-and-sequence-number message ids, peer scoring, async validation
 * (the gossip service reports ACCEPT/IGNORE/REJECT) and explicit peering between operators.
 *
 * Static peers are dialled at start and redialled while disconnected (a restarted node
 * finds its peers again, and they find it), and tagged KEEP_ALIVE.
 */
import { createHash } from 'node:crypto'
import { gossipsub, type GossipSub, type GossipsubOpts } from '@chainsafe/libp2p-gossipsub'
import { createPeerScoreParams, createTopicScoreParams } from '@chainsafe/libp2p-gossipsub/score'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { identify } from '@libp2p/identify'
import { KEEP_ALIVE, type Libp2p, type Message, type PeerId, type PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { BaseError } from '../../protocol/errors.js'
import { MAX_GOSSIP_MESSAGE_BYTES } from '../../protocol/limits.js'

export type P2POptions = {
  /** The node's libp2p identity (keep it to keep the peer id across restarts; see keys.ts). */
  privateKey: PrivateKey
  /** Listen multiaddrs. @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: string[]
  /** Addresses announced to peers instead of the listen addresses. */
  announce?: string[]
  /** Peers (multiaddrs ending in /p2p/<peerId>) to keep connected: dialled at start, redialled, KEEP_ALIVE. */
  staticPeers?: string[]
  /** Operators' peers (multiaddrs with /p2p/) for gossipsub explicit peering: every message is sent to them. */
  directPeers?: string[]
  /** Bootstrap multiaddrs (discovered once, like static peers but not redialled). */
  bootstrap?: string[]
  /** Topics that get peer-scoring parameters (the ones the node subscribes to). */
  topics?: string[]
  /** How often disconnected static peers are redialled, ms. @default 1000 */
  redialIntervalMs?: number
  /** Inbound connections accepted per host per second (libp2p's default of 5 breaks loopback clusters). @default 100 */
  inboundConnectionThreshold?: number
  /** @default 64 */
  maxConnections?: number
  /**
   * How messages reach the operators.
   * - `direct` (the default, for operator networks where every operator peers with every other):
   *   a node sends its own messages straight to every connected subscriber (gossipsub flood
   *   publish), keeps no mesh (degree 0) and relays nothing, so each operator receives each
   *   message once, one hop from its publisher. Lazy gossip (IHAVE/IWANT, every heartbeat)
   *   repairs a message missed while a connection was down.
   * - `mesh`: gossipsub's relaying mesh (mesh degree D, 6 by default): for networks where
   *   operators reach each other only through others. Each message then arrives 2–3 times.
   * @default 'direct'
   */
  relay?: 'direct' | 'mesh'
  /** gossipsub overrides (mesh degree D/Dlo/Dhi, heartbeatInterval, ...), applied after `relay`'s settings. */
  gossipsub?: Partial<GossipsubOpts>
  /**
   * Honour received IDONTWANTs when relaying (gossipsub v1.2: a peer that announced it has a
   * message is not sent it again). gossipsub 14.1.2 records them but never consults them.
   * @default true
   */
  enforceIdontwant?: boolean
}

export const defaultP2POptions = {
  listen: ['/ip4/127.0.0.1/tcp/0'],
  redialIntervalMs: 1000,
  inboundConnectionThreshold: 100,
  maxConnections: 64,
  relay: 'direct',
  enforceIdontwant: true,
} as const

/**
 * gossipsub settings of `relay: 'direct'`: flood publishing, no mesh, and lazy gossip (IHAVE) to
 * 2 peers per heartbeat. Every IHAVE that reaches a peer before the publisher's own copy (a busy
 * peer) makes it fetch a second copy with IWANT; gossipsub's default (6 peers, or a quarter of
 * them) took 16 nodes sharing 2 cores from 1.1 to 1.5 copies per message.
 */
const directRelayGossipsub = { floodPublish: true, D: 0, Dlo: 0, Dhi: 0, Dout: 0, Dscore: 0, Dlazy: 2, gossipFactor: 0 } as const

export type LiqnetServices = { pubsub: GossipSub; identify: unknown; ping: unknown }

export type P2PStartErrorType = P2PStartError
export class P2PStartError extends BaseError {
  override name = 'P2PStartError'
  constructor(cause: unknown, listen: string[]) {
    super('Cannot start the libp2p host.', { cause, metaMessages: [`Listen addresses: ${listen.join(', ')}`, 'Check that the addresses are valid multiaddrs and the ports are free.'] })
  }
}

export type InvalidPeerAddressErrorType = InvalidPeerAddressError
export class InvalidPeerAddressError extends BaseError {
  override name = 'InvalidPeerAddressError'
  constructor(address: string, cause?: unknown) {
    super(`Invalid peer address "${address}".`, { cause, metaMessages: ['Peer addresses are multiaddrs ending in /p2p/<peerId>, e.g. /ip4/127.0.0.1/tcp/9000/p2p/12D3Koo...'] })
  }
}

type PeerAddress = { id: PeerId; addr: Multiaddr }
function parsePeer(address: string): PeerAddress {
  try {
    const addr = multiaddr(address)
    const id = addr.getPeerId()
    if (!id) throw new Error('no /p2p/ component')
    return { id: peerIdFromString(id), addr }
  } catch (err) {
    throw new InvalidPeerAddressError(address, err)
  }
}

/** Content-addressed message id: sha256 of the data, truncated to 20 bytes (for unsigned messages). */
export function messageId(msg: Message): Uint8Array {
  return createHash('sha256').update(msg.data).digest().subarray(0, 20)
}

/**
 * Message id under StrictSign: the publisher's peer id (multihash bytes) ‖ the 8-byte sequence
 * number, as gossipsub's default, which the libp2p signature authenticates. Identical payloads
 * published twice get two ids; the validator then drops the second as a DUPLICATE. Unsigned
 * messages fall back to {@link messageId}. Hashing the 30–40 KB snapshot instead cost about
 * 0.2 ms per message received.
 */
export function publisherMessageId(msg: Message): Uint8Array {
  if (msg.type !== 'signed') return messageId(msg)
  const from = msg.from.toMultihash().bytes
  const id = new Uint8Array(from.length + 8)
  id.set(from, 0)
  new DataView(id.buffer).setBigUint64(from.length, BigInt.asUintN(64, msg.sequenceNumber))
  return id
}

type ForwardingGossipSub = {
  idontwants?: Map<string, Map<string, number>>
  forwardMessage?: (msgIdStr: string, raw: unknown, propagationSource?: string, excludePeers?: Set<string>) => void
}

/**
 * Makes gossipsub skip, when relaying a message, the peers that sent an IDONTWANT for it
 * (gossipsub v1.2 requires it; @chainsafe/libp2p-gossipsub 14.1.2 tracks received IDONTWANTs
 * per peer but never consults them, so every mesh peer got a copy it had already received).
 * Returns false when the gossipsub internals are not the expected ones (then nothing changes).
 */
export function enforceIdontwant(pubsub: GossipSub): boolean {
  const g = pubsub as unknown as ForwardingGossipSub
  const forward = g.forwardMessage
  if (!(g.idontwants instanceof Map) || typeof forward !== 'function') return false
  const idontwants = g.idontwants
  g.forwardMessage = function (msgIdStr, raw, propagationSource, excludePeers) {
    let exclude = excludePeers
    for (const [peer, ids] of idontwants) {
      if (!ids.has(msgIdStr)) continue
      if (exclude === excludePeers) exclude = new Set(excludePeers)
      exclude!.add(peer)
    }
    forward.call(this, msgIdStr, raw, propagationSource, exclude)
  }
  return true
}

/**
 * Turns relaying off (`relay: 'direct'`): a validated message is not forwarded, not even to
 * gossipsub's explicit peers, which would otherwise get a copy of every message from every
 * operator. Answers to IWANT (lazy-gossip repair) still go out. Returns false when the gossipsub
 * internals are not the expected ones (then nothing changes).
 */
export function disableRelay(pubsub: GossipSub): boolean {
  const g = pubsub as unknown as ForwardingGossipSub & { score?: { deliverMessage(from: string, id: string, topic: string): void } }
  if (typeof g.forwardMessage !== 'function' || typeof g.score?.deliverMessage !== 'function') return false
  const score = g.score
  g.forwardMessage = function (msgIdStr, raw, propagationSource) {
    // What gossipsub does besides sending: credit the peer that delivered a valid message.
    if (propagationSource != null) score.deliverMessage(propagationSource, msgIdStr, (raw as { topic: string }).topic)
  }
  return true
}

/**
 * Fast message id, computed before the StrictSign check: publisher ‖ sequence number. Copies of
 * one published message arriving from several mesh peers are dropped without verifying the
 * libp2p signature or hashing the data again (gossipsub caches it only after a valid signature,
 * so a forged copy cannot poison it).
 */
export function fastMessageId(msg: { from?: Uint8Array; seqno?: Uint8Array; data?: Uint8Array }): string {
  if (msg.from && msg.seqno) return `${Buffer.from(msg.from.buffer, msg.from.byteOffset, msg.from.length).toString('base64')}/${Buffer.from(msg.seqno.buffer, msg.seqno.byteOffset, msg.seqno.length).toString('base64')}`
  return createHash('sha256').update(msg.data ?? new Uint8Array(0)).digest('base64')
}

/** Peer-score parameters: invalid messages (REJECT) weigh heavily; delivery-rate penalties are off (topics are slow). */
export function liqnetScoreParams(topics: readonly string[]) {
  const topic = createTopicScoreParams({
    topicWeight: 1,
    timeInMeshWeight: 0.01,
    timeInMeshQuantum: 1000,
    timeInMeshCap: 300,
    firstMessageDeliveriesWeight: 1,
    firstMessageDeliveriesDecay: 0.9,
    firstMessageDeliveriesCap: 50,
    meshMessageDeliveriesWeight: 0,
    meshFailurePenaltyWeight: 0,
    invalidMessageDeliveriesWeight: -50,
    invalidMessageDeliveriesDecay: 0.9,
  })
  return createPeerScoreParams({
    topics: Object.fromEntries(topics.map((t) => [t, topic])),
    topicScoreCap: 50,
    // Operators may share hosts (and tests run on loopback): no colocation penalty.
    IPColocationFactorWeight: 0,
    behaviourPenaltyWeight: -10,
    behaviourPenaltyDecay: 0.9,
    decayInterval: 1000,
  })
}

export const liqnetScoreThresholds = {
  gossipThreshold: -500,
  publishThreshold: -1000,
  graylistThreshold: -2500,
  acceptPXThreshold: 100,
  opportunisticGraftThreshold: 5,
}

/** A running host and what the node needs from it. */
export type LiqnetHost = {
  libp2p: Libp2p<LiqnetServices>
  pubsub: GossipSub
  peerId: string
  /** The multiaddrs peers can dial, each ending in /p2p/<peerId>. */
  addresses(): string[]
  stop(): Promise<void>
}

/**
 * Creates and starts the host.
 * @throws P2PStartError, InvalidPeerAddressError
 */
export async function createLiqnetHost(options: P2POptions): Promise<LiqnetHost> {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as P2POptions
  const o = { ...defaultP2POptions, ...defined }
  const staticPeers = (o.staticPeers ?? []).map(parsePeer)
  const directPeers = (o.directPeers ?? []).map(parsePeer)
  let libp2p: Libp2p<LiqnetServices>
  try {
    libp2p = await createLibp2p({
      privateKey: o.privateKey,
      addresses: { listen: [...o.listen], announce: o.announce },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      peerDiscovery: o.bootstrap?.length ? [bootstrap({ list: o.bootstrap, timeout: 10 })] : [],
      connectionManager: {
        inboundConnectionThreshold: o.inboundConnectionThreshold,
        maxConnections: o.maxConnections,
        reconnectRetryInterval: 250,
        reconnectBackoffFactor: 1.5,
      },
      services: {
        identify: identify(),
        ping: ping(),
        pubsub: gossipsub({
          globalSignaturePolicy: 'StrictSign',
          asyncValidation: true,
          allowPublishToZeroTopicPeers: true,
          ignoreDuplicatePublishError: true,
          msgIdFn: publisherMessageId,
          fastMsgIdFn: fastMessageId,
          maxInboundDataLength: MAX_GOSSIP_MESSAGE_BYTES + 1024,
          directPeers: directPeers.map((p) => ({ id: p.id, addrs: [p.addr] })),
          directConnectTicks: 10,
          scoreParams: liqnetScoreParams(o.topics ?? []),
          scoreThresholds: liqnetScoreThresholds,
          heartbeatInterval: 500,
          // Mesh relay: own snapshots go to the mesh (and direct peers), not to every subscribed
          // peer: a 30 KB snapshot flooded to all peers is then relayed by the mesh to most of them
          // again. Large messages also trigger IDONTWANT (idontwantMinDataSize, 512 bytes by
          // default), so mesh peers skip copies already seen.
          floodPublish: false,
          ...(o.relay === 'direct' ? directRelayGossipsub : {}),
          ...o.gossipsub,
        }) as unknown as (components: any) => GossipSub, // typed as PubSub<GossipsubEvents>; it is the GossipSub class
      },
    })
  } catch (err) {
    throw new P2PStartError(err, [...o.listen])
  }
  const pubsub = libp2p.services.pubsub
  if (o.relay === 'direct') disableRelay(pubsub)
  else if (o.enforceIdontwant) enforceIdontwant(pubsub)
  const self = libp2p.peerId.toString()

  // Static peers: remember their addresses, keep them alive, and redial while disconnected.
  for (const p of [...staticPeers, ...directPeers]) {
    if (p.id.toString() === self) continue
    await libp2p.peerStore.merge(p.id, { multiaddrs: [p.addr], tags: { [KEEP_ALIVE]: { value: 1 } } })
  }
  const dialing = new Set<string>()
  const redial = () => {
    for (const p of staticPeers) {
      const id = p.id.toString()
      if (id === self || dialing.has(id) || libp2p.getConnections(p.id).length > 0) continue
      dialing.add(id)
      libp2p
        .dial(p.addr, { signal: AbortSignal.timeout(Math.max(1000, o.redialIntervalMs * 2)) })
        .catch(() => {})
        .finally(() => dialing.delete(id))
    }
  }
  redial()
  const timer = setInterval(redial, o.redialIntervalMs)
  timer.unref()

  return {
    libp2p,
    pubsub,
    peerId: self,
    addresses: () => libp2p.getMultiaddrs().map((a) => a.toString()),
    async stop() {
      clearInterval(timer)
      await libp2p.stop()
    },
  }
}
