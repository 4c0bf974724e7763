/**
 * LayerZero V2 packets: decoding and encoding of the `PacketV1Codec` layout (through
 * `@layerzerolabs/lz-v2-utilities`), GUIDs, and bytes32 ⇄ address conversion.
 *
 * Layout (EndpointV2 `PacketV1Codec.sol`), big-endian:
 * `version uint8 ‖ nonce uint64 ‖ srcEid uint32 ‖ sender bytes32 ‖ dstEid uint32 ‖ receiver bytes32 ‖ guid bytes32 ‖ message`.
 * `payloadHash = keccak256(guid ‖ message)` is what a DVN verifies and the endpoint stores per (receiver, srcEid, sender, nonce).
 */
import { PacketV1Codec } from '@layerzerolabs/lz-v2-utilities'
import { bytesToHex, encodePacked, getAddress, isHex, keccak256, pad, type Address, type Hex } from 'viem'
import { InvalidPacketError } from './errors.js'

/** Bytes of the packet header (version, nonce, srcEid, sender, dstEid, receiver). */
export const PACKET_HEADER_BYTES = 81
/** Header plus GUID: the shortest valid packet (empty message). */
export const PACKET_MIN_BYTES = PACKET_HEADER_BYTES + 32
/** The packet version EndpointV2 writes. */
export const PACKET_VERSION = 1

/** `Origin` of EndpointV2: where a message comes from. `sender` is the source OApp as bytes32. */
export type LzOrigin = { srcEid: number; sender: Hex; nonce: bigint }

/** A decoded packet. Addresses are checksummed; `sender` and `receiver` keep their bytes32 form too. */
export type LzPacket = {
  version: number
  nonce: bigint
  srcEid: number
  /** Source OApp, bytes32 (left-padded address on EVM chains). */
  sender: Hex
  senderAddress: Address
  dstEid: number
  /** Destination OApp, bytes32. */
  receiver: Hex
  receiverAddress: Address
  guid: Hex
  message: Hex
  /** keccak256(guid ‖ message). */
  payloadHash: Hex
  /** The packet as emitted (PacketSent `encodedPayload`). */
  encoded: Hex
}

/** Left-pads an EVM address to bytes32 (how OApps name peers). */
export function addressToBytes32(address: Address): Hex {
  return pad(address.toLowerCase() as Hex, { size: 32 })
}

/** The EVM address in a bytes32 (its low 20 bytes), checksummed. */
export function bytes32ToAddress(value: Hex): Address {
  return getAddress(`0x${value.slice(-40)}`)
}

/**
 * Decodes a packet (`PacketSent.encodedPayload`).
 * @throws InvalidPacketError for non-hex input, fewer than {@link PACKET_MIN_BYTES} bytes, or a version other than 1.
 * @example const p = decodePacket(log.args.encodedPayload); p.guid, p.nonce, p.message
 */
export function decodePacket(encoded: Hex | Uint8Array): LzPacket {
  const hex = typeof encoded === 'string' ? encoded : bytesToHex(encoded)
  if (!isHex(hex, { strict: true }) || hex.length % 2 !== 0) throw new InvalidPacketError('not hex bytes')
  const size = (hex.length - 2) / 2
  if (size < PACKET_MIN_BYTES) throw new InvalidPacketError(`${size} bytes, at least ${PACKET_MIN_BYTES} expected`)
  let codec: PacketV1Codec
  try {
    codec = PacketV1Codec.from(hex)
  } catch (err) {
    throw new InvalidPacketError('undecodable', { cause: err })
  }
  const version = codec.version()
  if (version !== PACKET_VERSION) throw new InvalidPacketError(`version ${version}, ${PACKET_VERSION} expected`)
  const sender = codec.sender().toLowerCase() as Hex
  const receiver = codec.receiver().toLowerCase() as Hex
  return {
    version,
    nonce: BigInt(codec.nonce()),
    srcEid: codec.srcEid(),
    sender,
    senderAddress: bytes32ToAddress(sender),
    dstEid: codec.dstEid(),
    receiver,
    receiverAddress: bytes32ToAddress(receiver),
    guid: codec.guid().toLowerCase() as Hex,
    message: codec.message().toLowerCase() as Hex,
    payloadHash: codec.payloadHash().toLowerCase() as Hex,
    encoded: hex.toLowerCase() as Hex,
  }
}

/** Encodes a packet in the PacketV1Codec layout (version 1). For tests and tools. */
export function encodePacket(p: Pick<LzPacket, 'nonce' | 'srcEid' | 'sender' | 'dstEid' | 'receiver' | 'guid' | 'message'>): Hex {
  return encodePacked(
    ['uint8', 'uint64', 'uint32', 'bytes32', 'uint32', 'bytes32', 'bytes32', 'bytes'],
    [PACKET_VERSION, p.nonce, p.srcEid, p.sender, p.dstEid, p.receiver, p.guid, p.message],
  )
}

/**
 * The GUID EndpointV2 gives a message (`GUID.generate`):
 * `keccak256(abi.encodePacked(nonce uint64, srcEid uint32, sender bytes32, dstEid uint32, receiver bytes32))`.
 */
export function computeGuid(p: { nonce: bigint; srcEid: number; sender: Hex; dstEid: number; receiver: Hex }): Hex {
  return keccak256(encodePacked(['uint64', 'uint32', 'bytes32', 'uint32', 'bytes32'], [p.nonce, p.srcEid, p.sender, p.dstEid, p.receiver]))
}

/** The `Origin` struct EndpointV2.lzReceive takes for this packet. */
export function originOf(p: Pick<LzPacket, 'srcEid' | 'sender' | 'nonce'>): LzOrigin {
  return { srcEid: p.srcEid, sender: p.sender, nonce: p.nonce }
}

/** A key identifying a message at its destination: `srcEid/sender/nonce/receiver` (lowercase). */
export function pathNonceKey(p: { srcEid: number; sender: Hex; nonce: bigint; receiver: Hex | Address }): string {
  const receiver = p.receiver.length === 66 ? p.receiver.toLowerCase() : addressToBytes32(p.receiver as Address)
  return `${p.srcEid}/${p.sender.toLowerCase()}/${p.nonce}/${receiver}`
}
