/**
 * A consensus node over an existing libp2p host: signing protection and the decisions store
 * (two LevelDB directories under `dataDir`), the gossipsub transport, and the consensus service,
 * opened in that order and closed in reverse.
 */
import { join } from 'node:path'
import type { GossipSub } from '@chainsafe/libp2p-gossipsub'
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import { hexToBytes, type Address, type Hex } from 'viem'
import { PACKET_OVERHEAD_BYTES, createValidatorSet, defaultQbftOptions, type DecodeLimits } from '../../protocol/consensus/index.js'
import { MAX_GOSSIP_MESSAGE_BYTES } from '../../protocol/limits.js'
import { sealDomainSeparator } from '../../protocol/settlement/plan.js'
import { createConsensusMetrics, type ConsensusMetrics } from '../metrics/consensus.js'
import { DecisionStore } from './decisions.js'
import { SigningProtection, type SigningProtectionOptions } from './protection.js'
import { ConsensusService, type ConsensusServiceOptions, type ConsensusValues } from './service.js'
import { ConsensusTransport, type ConsensusTransportInit } from './transport.js'
import { privateKeyToAddressBytes } from '../../protocol/signing/secp256k1.js'
import { bytesToHex } from 'viem'

export type ConsensusNodeOptions = ConsensusServiceOptions & {
  /** Directory for `protection/` and `decisions/` (the node's data directory). */
  dataDir: string
  /**
   * QBFT tunables. Packet and value limits default to what one gossipsub message carries:
   * `maxPacketBytes` = MAX_GOSSIP_MESSAGE_BYTES (192 KiB), `maxValueBytes` = that − PACKET_OVERHEAD_BYTES (112 KiB).
   */
  qbft?: ConsensusServiceOptions['qbft']
  /** The host's gossipsub (subscribe the consensus topic on the same host as the snapshot topics). */
  pubsub: GossipSub
  values: ConsensusValues
  operators: readonly Address[]
  /** The operator's secp256k1 key (32 bytes or 0x-hex). */
  privateKey: Uint8Array | Hex
  /** The hub that verifies commit seals: chain id and contract (the EIP-712 domain of seals and QBFT messages). */
  hub: { chainId: number | bigint; address: Address }
  protection?: Partial<Pick<SigningProtectionOptions, 'maxHeightsAhead' | 'keepHeights'>>
  queue?: ConsensusTransportInit['queue']
  /** Prometheus registry. @default a new Registry */
  register?: Registry
  log?: Logger
}

export type ConsensusNode = {
  service: ConsensusService
  transport: ConsensusTransport
  protection: SigningProtection
  decisions: DecisionStore
  metrics: ConsensusMetrics
  register: Registry
  /** The operator address of this node (lowercase). */
  address: Address
  domainSeparator: Uint8Array
  stop(): Promise<void>
}

/**
 * Opens the stores and starts consensus.
 * @throws SigningProtectionOpenError, SigningProtectionMismatchError, DecisionStoreOpenError, ConsensusServiceError, QbftConfigError
 */
export async function createConsensusNode(o: ConsensusNodeOptions): Promise<ConsensusNode> {
  const privateKey = typeof o.privateKey === 'string' ? hexToBytes(o.privateKey) : o.privateKey
  const address = bytesToHex(privateKeyToAddressBytes(privateKey)) as Address
  const domainSeparator = sealDomainSeparator({ chainId: BigInt(o.hub.chainId), verifyingContract: o.hub.address })
  const register = o.register ?? new Registry()
  const metrics = createConsensusMetrics(register)
  const protection = await SigningProtection.open({
    ...o.protection,
    maxHeightsAhead: o.protection?.maxHeightsAhead ?? o.qbft?.maxFutureHeights ?? defaultQbftOptions.maxFutureHeights,
    path: join(o.dataDir, 'protection'),
    operator: address,
    domainSeparator,
    onRefused: (code) => metrics.protectionRefusals.inc({ code }),
  })
  const decisions = new DecisionStore(join(o.dataDir, 'decisions'))
  try {
    await decisions.open()
  } catch (err) {
    await protection.close()
    throw err
  }
  const n = createValidatorSet(o.operators).n
  // A packet must fit gossipsub's inbound cap (MAX_GOSSIP_MESSAGE_BYTES): by default values get what the
  // packet overhead (signed message, seal, justifications) leaves of it (112 KiB).
  const maxPacketBytes = o.qbft?.maxPacketBytes ?? (o.qbft?.maxValueBytes !== undefined ? o.qbft.maxValueBytes + PACKET_OVERHEAD_BYTES : MAX_GOSSIP_MESSAGE_BYTES)
  const maxValueBytes = o.qbft?.maxValueBytes ?? maxPacketBytes - PACKET_OVERHEAD_BYTES
  const qbft = { ...o.qbft, maxValueBytes, maxPacketBytes }
  const limits: DecodeLimits = { maxValueBytes, maxPacketBytes, maxJustifications: n }
  const transport = new ConsensusTransport({ pubsub: o.pubsub, limits, queue: o.queue, metrics, log: o.log })
  let service: ConsensusService
  try {
    service = new ConsensusService({ ...o, qbft, privateKey, domainSeparator, protection, decisions, transport, metrics, log: o.log })
    await service.start()
  } catch (err) {
    await decisions.close()
    await protection.close()
    throw err
  }
  return {
    service,
    transport,
    protection,
    decisions,
    metrics,
    register,
    address,
    domainSeparator,
    async stop() {
      await service.stop()
      await decisions.close()
      await protection.close()
    },
  }
}
