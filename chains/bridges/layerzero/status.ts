/**
 * The delivery state of a packet as the destination EndpointV2 holds it (no logs needed):
 * - `unverified`: no payload hash stored and the nonce is above the lazy inbound nonce;
 * - `verified`: the packet's payload hash is stored (ready for lzReceive);
 * - `delivered`: the hash was cleared and the lazy inbound nonce reached the nonce (lzReceive succeeded; skipped or
 *   burnt nonces read the same);
 * - `nilified`: the OApp nilified the nonce (hash 0xff…ff).
 * Mirrors EndpointV2's `_verifiable` / `_clearPayload` (MessagingChannel.sol).
 */
import type { Address, Hex, PublicClient } from 'viem'
import { endpointV2Abi } from '../../../contracts/out/abis.js'
import { toChainError } from '../../evm/errors.js'
import { PayloadHashConflictError } from './errors.js'
import type { LzPacket } from './packet.js'

export type LzDeliveryState = 'unverified' | 'verified' | 'delivered' | 'nilified'

const EMPTY_PAYLOAD_HASH = `0x${'00'.repeat(32)}` as Hex
const NIL_PAYLOAD_HASH = `0x${'ff'.repeat(32)}` as Hex

/** What {@link readDeliveryState} read. */
export type LzDeliveryStatus = { state: LzDeliveryState; inboundPayloadHash: Hex; lazyInboundNonce: bigint }

/**
 * Reads `inboundPayloadHash` and `lazyInboundNonce` on the destination endpoint and classifies the packet.
 * @throws PayloadHashConflictError when another payload hash is stored at the packet's nonce;
 *         RpcUnavailableError / ChainReadError when the reads fail.
 */
export async function readDeliveryState(
  client: PublicClient,
  endpoint: Address,
  packet: Pick<LzPacket, 'srcEid' | 'sender' | 'nonce' | 'receiverAddress' | 'payloadHash' | 'guid'>,
): Promise<LzDeliveryStatus> {
  let hash: Hex
  let lazy: bigint
  try {
    ;[hash, lazy] = await Promise.all([
      client.readContract({ address: endpoint, abi: endpointV2Abi, functionName: 'inboundPayloadHash', args: [packet.receiverAddress, packet.srcEid, packet.sender, packet.nonce] }),
      client.readContract({ address: endpoint, abi: endpointV2Abi, functionName: 'lazyInboundNonce', args: [packet.receiverAddress, packet.srcEid, packet.sender] }),
    ])
  } catch (err) {
    throw toChainError(err, { abi: endpointV2Abi, address: endpoint, what: 'EndpointV2 inbound state' })
  }
  hash = hash.toLowerCase() as Hex
  const status = (state: LzDeliveryState): LzDeliveryStatus => ({ state, inboundPayloadHash: hash, lazyInboundNonce: lazy })
  if (hash === packet.payloadHash.toLowerCase()) return status('verified')
  if (hash === NIL_PAYLOAD_HASH) return status('nilified')
  if (hash === EMPTY_PAYLOAD_HASH) return status(packet.nonce <= lazy ? 'delivered' : 'unverified')
  throw new PayloadHashConflictError(packet.guid, packet.payloadHash, hash)
}
