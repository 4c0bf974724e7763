/**
 * EndpointV2 events a message goes through, decoded: PacketSent (source chain), PacketVerified, PacketDelivered
 * and LzReceiveAlert (destination chain). ABI: the EndpointV2 artifact of `@layerzerolabs/lz-evm-protocol-v2`
 * (`endpointV2Abi` in contracts/out/abis.ts).
 */
import { decodeEventLog, getAddress, type Address, type Hex, type Log, type RpcLog } from 'viem'
import { endpointV2Abi } from '../../../contracts/out/abis.js'
import { eventTopic } from '../../evm/logs.js'
import { decodeLzReceiveOption, type LzReceiveOption } from './options.js'
import { decodePacket, type LzOrigin, type LzPacket } from './packet.js'

/** topic0 of the EndpointV2 events the adapter follows. */
export const endpointTopics = {
  packetSent: eventTopic(endpointV2Abi, 'PacketSent').topic0,
  packetVerified: eventTopic(endpointV2Abi, 'PacketVerified').topic0,
  packetDelivered: eventTopic(endpointV2Abi, 'PacketDelivered').topic0,
  lzReceiveAlert: eventTopic(endpointV2Abi, 'LzReceiveAlert').topic0,
} as const

/** Where an event was emitted. */
export type LzLogRef = { address: Address; blockNumber: bigint; transactionHash: Hex; logIndex: number }

/** PacketSent: the source endpoint accepted a message. `lzReceive` is the executor option in `options`, if any. */
export type LzPacketSent = { kind: 'sent'; packet: LzPacket; options: Hex; sendLibrary: Address; lzReceive?: LzReceiveOption; log: LzLogRef }
/** PacketVerified: the destination endpoint stored the payload hash (a DVN / receive library verified it). */
export type LzPacketVerified = { kind: 'verified'; origin: LzOrigin; receiver: Address; payloadHash: Hex; log: LzLogRef }
/** PacketDelivered: lzReceive of the receiver returned without reverting. */
export type LzPacketDelivered = { kind: 'delivered'; origin: LzOrigin; receiver: Address; log: LzLogRef }
/** LzReceiveAlert: an executor reports that lzReceive reverted (`reason` = the revert data). */
export type LzReceiveAlert = {
  kind: 'alert'
  origin: LzOrigin
  receiver: Address
  executor: Address
  guid: Hex
  gas: bigint
  value: bigint
  message: Hex
  extraData: Hex
  reason: Hex
  log: LzLogRef
}
export type LzEndpointEvent = LzPacketSent | LzPacketVerified | LzPacketDelivered | LzReceiveAlert

function hexNum(x: string | bigint | number | null | undefined): bigint {
  return x === null || x === undefined ? 0n : BigInt(x)
}

function refOf(log: Log | RpcLog): LzLogRef {
  return {
    address: getAddress(log.address),
    blockNumber: hexNum(log.blockNumber as never),
    transactionHash: (log.transactionHash ?? '0x') as Hex,
    logIndex: Number(hexNum(log.logIndex as never)),
  }
}

type RawOrigin = { srcEid: number; sender: Hex; nonce: bigint }
const origin = (o: RawOrigin): LzOrigin => ({ srcEid: o.srcEid, sender: o.sender.toLowerCase() as Hex, nonce: o.nonce })

/**
 * Decodes one EndpointV2 log (as viem formats it, or raw from eth_getLogs).
 * @returns the event, or undefined when the log is none of the four.
 * @throws InvalidPacketError when a PacketSent carries a malformed packet; InvalidOptionsError for malformed options.
 */
export function decodeEndpointLog(log: Log | RpcLog): LzEndpointEvent | undefined {
  const t0 = log.topics[0]
  if (
    t0 !== endpointTopics.packetSent &&
    t0 !== endpointTopics.packetVerified &&
    t0 !== endpointTopics.packetDelivered &&
    t0 !== endpointTopics.lzReceiveAlert
  )
    return undefined
  const ev = decodeEventLog({ abi: endpointV2Abi, data: log.data, topics: log.topics as [Hex, ...Hex[]] })
  const ref = refOf(log)
  switch (ev.eventName) {
    case 'PacketSent': {
      const options = ev.args.options
      return {
        kind: 'sent',
        packet: decodePacket(ev.args.encodedPayload),
        options,
        sendLibrary: getAddress(ev.args.sendLibrary),
        lzReceive: decodeLzReceiveOption(options),
        log: ref,
      }
    }
    case 'PacketVerified':
      return { kind: 'verified', origin: origin(ev.args.origin), receiver: getAddress(ev.args.receiver), payloadHash: ev.args.payloadHash, log: ref }
    case 'PacketDelivered':
      return { kind: 'delivered', origin: origin(ev.args.origin), receiver: getAddress(ev.args.receiver), log: ref }
    case 'LzReceiveAlert':
      return {
        kind: 'alert',
        origin: origin(ev.args.origin),
        receiver: getAddress(ev.args.receiver),
        executor: getAddress(ev.args.executor),
        guid: ev.args.guid,
        gas: ev.args.gas,
        value: ev.args.value,
        message: ev.args.message,
        extraData: ev.args.extraData,
        reason: ev.args.reason,
        log: ref,
      }
    default:
      return undefined
  }
}
