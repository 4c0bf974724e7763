/**
 * The consensus transport: QBFT packets over one gossipsub topic, `/liqnet/1/consensus`.
 *
 * Inbound, every packet goes through, in order:
 * 1. a size check (over `maxPacketBytes`: REJECT, `OVERSIZED`, nothing decoded);
 * 2. one bounded queue (FIFO, the oldest dropped when full: IGNORE, `QUEUE_FULL`), so a
 *    flooding peer costs memory and CPU bounded by the queue, never more;
 * 3. decoding with protocol/consensus's codec and its limits (REJECT `MALFORMED`, `OVERSIZED`,
 *    `TOO_MANY_JUSTIFICATIONS`);
 * 4. the packet handler (the QBFT node's `receive`: signer, signature, height and round
 *    windows, justifications, value validation).
 * Each outcome is reported to gossipsub at once (ACCEPT forwards; IGNORE drops; REJECT drops and
 * lowers the sending peer's score) and counted by packet type, outcome and reason code.
 *
 * Outbound, `broadcast` publishes the canonical bytes on the topic (gossipsub does not deliver
 * them back to the publisher; the QBFT node delivers its own messages to itself).
 */
import type { GossipSub, GossipsubMessage } from '@chainsafe/libp2p-gossipsub'
import { TopicValidatorResult, TypedEventEmitter } from '@libp2p/interface'
import type { Logger } from 'pino'
import { decodePacket, QbftDecodeError, type DecodeLimits, type QbftPacket, type QbftPacketType, type QbftTransport, type ReceiveOutcome, type RejectReason } from '../../protocol/consensus/index.js'
import { TOPIC_PREFIX, TOPIC_VERSION } from '../../protocol/topics.js'
import { GossipAction } from '../gossip/errors.js'
import { BoundedQueue, type GossipQueueOptions } from '../gossip/queue.js'
import type { ConsensusMetrics } from '../metrics/consensus.js'

/** The consensus topic: one per network (the operators of one hub). */
export const CONSENSUS_TOPIC = `${TOPIC_PREFIX}/${TOPIC_VERSION}/consensus`

/** Reasons of the transport itself, next to the QBFT receive reasons. Metric labels: add, never rename. */
export type TransportReason = 'QUEUE_FULL' | 'INTERNAL' | 'STOPPED'
export type ConsensusDropReason = RejectReason | TransportReason

/**
 * What gossipsub is told for a `rejected` receive outcome: REJECT (the peer's score drops) only
 * when the sender is at fault whatever our own state; otherwise IGNORE. A packet for a height
 * far ahead of ours, or a value we cannot validate with our view, is not proof of misbehaviour.
 */
export const rejectAction: { [K in RejectReason]: GossipAction.REJECT | GossipAction.IGNORE } = {
  MALFORMED: GossipAction.REJECT,
  OVERSIZED: GossipAction.REJECT,
  TOO_MANY_JUSTIFICATIONS: GossipAction.REJECT,
  UNKNOWN_SIGNER: GossipAction.REJECT,
  BAD_SIGNATURE: GossipAction.REJECT,
  WRONG_LEADER: GossipAction.REJECT,
  INVALID_JUSTIFICATION: GossipAction.REJECT,
  DIGEST_MISMATCH: GossipAction.REJECT,
  INVALID_SEAL: GossipAction.REJECT,
  EQUIVOCATION: GossipAction.IGNORE,
  INVALID_VALUE: GossipAction.IGNORE,
  OLD_HEIGHT: GossipAction.IGNORE,
  FUTURE_HEIGHT: GossipAction.IGNORE,
  BUFFER_FULL: GossipAction.IGNORE,
  OLD_ROUND: GossipAction.IGNORE,
  FUTURE_ROUND: GossipAction.IGNORE,
  DUPLICATE: GossipAction.IGNORE,
  DECIDED: GossipAction.IGNORE,
  NOT_STARTED: GossipAction.IGNORE,
}

/** The inbound queue. @default 1024 packets, FIFO, oldest dropped */
export const defaultConsensusQueueOptions: GossipQueueOptions = { maxLength: 1024, order: 'FIFO', drop: 'oldest' }

/** Handles one decoded inbound packet; must not throw (a throw counts as INTERNAL, IGNORE). */
export type PacketHandler = (packet: QbftPacket, bytes: Uint8Array, from: string) => Promise<ReceiveOutcome>

/** Detail of `consensus:packet`: every inbound packet that decoded, with its outcome. */
export type InboundPacketEvent = { packet: QbftPacket; from: string; outcome: ReceiveOutcome; receivedAt: number }
export type ConsensusTransportEvents = {
  'consensus:packet': CustomEvent<InboundPacketEvent>
  'consensus:dropped': CustomEvent<{ reason: ConsensusDropReason; action: GossipAction; type?: QbftPacketType; from?: string }>
}

export type ConsensusTransportInit = {
  pubsub: GossipSub
  /** Decoding limits (packet and value sizes, justification count ≈ n). */
  limits: DecodeLimits
  /** @default {@link defaultConsensusQueueOptions} */
  queue?: Partial<GossipQueueOptions>
  /** @default {@link CONSENSUS_TOPIC} */
  topic?: string
  metrics?: ConsensusMetrics
  log?: Logger
  /** @default Date.now */
  now?: () => number
}

type Pending = { bytes: Uint8Array; msgId: string; from: string; receivedAt: number }

const toResult: { [K in GossipAction]: TopicValidatorResult } = {
  [GossipAction.ACCEPT]: TopicValidatorResult.Accept,
  [GossipAction.IGNORE]: TopicValidatorResult.Ignore,
  [GossipAction.REJECT]: TopicValidatorResult.Reject,
}

/** The gossip action for a receive outcome. */
export function outcomeAction(outcome: ReceiveOutcome): GossipAction {
  if (outcome.status === 'accepted' || outcome.status === 'buffered') return GossipAction.ACCEPT
  if (outcome.status === 'ignored') return GossipAction.IGNORE
  return rejectAction[outcome.reason] ?? GossipAction.IGNORE
}

/**
 * @example
 * const transport = new ConsensusTransport({ pubsub: host.pubsub, limits })
 * transport.start((packet, bytes, from) => qbft.receive(packet))
 * // QbftConfig.transport = transport
 */
export class ConsensusTransport extends TypedEventEmitter<ConsensusTransportEvents> implements QbftTransport {
  readonly topic: string
  private readonly queue: BoundedQueue<Pending>
  private readonly now: () => number
  private handler: PacketHandler | undefined
  private running = false
  private draining: Promise<void> | undefined
  private readonly onMessage = (evt: CustomEvent<GossipsubMessage>) => this.receive(evt.detail)

  constructor(private readonly init: ConsensusTransportInit) {
    super()
    this.topic = init.topic ?? CONSENSUS_TOPIC
    this.queue = new BoundedQueue<Pending>({ ...defaultConsensusQueueOptions, ...init.queue })
    this.now = init.now ?? Date.now
  }

  /** Subscribes and hands every inbound packet to `handler`. */
  start(handler: PacketHandler): void {
    this.handler = handler
    if (this.running) return
    this.running = true
    this.init.pubsub.addEventListener('gossipsub:message', this.onMessage)
    this.init.pubsub.subscribe(this.topic)
  }

  /** Unsubscribes, drops what is queued (IGNORE) and waits for the packet being handled. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.init.pubsub.removeEventListener('gossipsub:message', this.onMessage)
    try {
      this.init.pubsub.unsubscribe(this.topic)
    } catch {
      // pubsub already stopped
    }
    for (const p of this.queue.clear()) this.report(p, GossipAction.IGNORE)
    await this.draining
  }

  /** QbftTransport: publishes a packet to every other operator. Never throws. */
  broadcast(packet: QbftPacket, bytes: Uint8Array): void {
    if (!this.running) return
    this.init.pubsub.publish(this.topic, bytes).then(
      () => this.init.metrics?.published.inc({ type: packet.type }),
      (err: unknown) => {
        this.init.metrics?.publishErrors.inc()
        this.init.log?.warn({ err, type: packet.type }, 'consensus publish failed')
      },
    )
  }

  /** Packets waiting to be handled. */
  get queued(): number {
    return this.queue.length
  }

  private receive(m: GossipsubMessage): void {
    if (m.msg.topic !== this.topic) return
    const from = m.propagationSource.toString()
    if (m.msg.data.length > this.init.limits.maxPacketBytes) {
      this.drop({ bytes: m.msg.data, msgId: m.msgId, from, receivedAt: this.now() }, 'OVERSIZED', GossipAction.REJECT)
      return
    }
    const dropped = this.queue.push({ bytes: m.msg.data, msgId: m.msgId, from, receivedAt: this.now() })
    if (dropped) {
      this.init.metrics?.queueDropped.inc()
      this.drop(dropped, 'QUEUE_FULL', GossipAction.IGNORE)
    }
    this.init.metrics?.queueLength.set(this.queue.length)
    if (!this.draining) this.draining = this.drain().finally(() => (this.draining = undefined))
  }

  private async drain(): Promise<void> {
    for (let p = this.queue.next(); p; p = this.queue.next()) {
      this.init.metrics?.queueLength.set(this.queue.length)
      await this.handle(p)
    }
  }

  private async handle(p: Pending): Promise<void> {
    let packet: QbftPacket
    try {
      packet = decodePacket(p.bytes, this.init.limits)
    } catch (err) {
      const reason = err instanceof QbftDecodeError ? err.code : 'MALFORMED'
      this.drop(p, reason, GossipAction.REJECT)
      return
    }
    let outcome: ReceiveOutcome
    try {
      outcome = this.handler ? await this.handler(packet, p.bytes, p.from) : { status: 'ignored', reason: 'NOT_STARTED' }
    } catch (err) {
      this.init.log?.error({ err, type: packet.type }, 'consensus packet handler failed')
      this.drop(p, 'INTERNAL', GossipAction.IGNORE, packet.type)
      return
    }
    const action = outcomeAction(outcome)
    this.report(p, action)
    this.init.metrics?.messages.inc({ type: packet.type, outcome: outcome.status })
    if (outcome.status === 'ignored' || outcome.status === 'rejected') this.init.metrics?.rejections.inc({ outcome: outcome.status, reason: outcome.reason })
    this.emit('consensus:packet', { packet, from: p.from, outcome, receivedAt: p.receivedAt })
  }

  private drop(p: Pending, reason: ConsensusDropReason, action: GossipAction, type?: QbftPacketType): void {
    this.report(p, action)
    this.init.metrics?.rejections.inc({ outcome: action === GossipAction.REJECT ? 'rejected' : 'ignored', reason })
    this.emit('consensus:dropped', { reason, action, type, from: p.from })
  }

  private report(p: Pending, action: GossipAction): void {
    try {
      this.init.pubsub.reportMessageValidationResult(p.msgId, p.from, toResult[action])
    } catch {
      // pubsub stopped meanwhile
    }
  }

  private emit<K extends keyof ConsensusTransportEvents>(type: K, detail: ConsensusTransportEvents[K] extends CustomEvent<infer D> ? D : never): void {
    if (this.listenerCount(type) === 0) return
    try {
      this.safeDispatchEvent(type, { detail } as never)
    } catch (err) {
      this.init.log?.error({ err, type }, 'event listener failed')
    }
  }
}
