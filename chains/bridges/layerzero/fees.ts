/**
 * Fee quoting on EndpointV2 (`quote(MessagingParams, sender)`): what the sender must pay, in native wei
 * (and LZ token, when paying in it), for a message with these options. OApps expose the same through their own
 * quote functions; this reads the endpoint directly.
 */
import type { Address, Hex, PublicClient } from 'viem'
import { endpointV2Abi } from '../../../contracts/out/abis.js'
import { FeeQuoteError } from './errors.js'
import { addressToBytes32 } from './packet.js'

/** Parameters of {@link quoteFee}. */
export type QuoteFeeParameters = {
  /** EndpointV2 on the source chain. */
  endpoint: Address
  /** The sending OApp (its send library and configuration are used). */
  sender: Address
  dstEid: number
  /** Destination OApp, as an address or bytes32. */
  receiver: Address | Hex
  message: Hex
  /** Type-3 options (see lzReceiveOptions). */
  options: Hex
  /** @default false */
  payInLzToken?: boolean
  blockNumber?: bigint
}

/** A messaging fee: native wei and LZ token base units. */
export type LzFee = { nativeFee: bigint; lzTokenFee: bigint }

/**
 * Quotes a message's fee on the source endpoint.
 * @throws FeeQuoteError (the endpoint reverted, e.g. LZ_DefaultSendLibUnavailable, or the RPC failed; see `cause`).
 * @example const fee = await quoteFee(client, { endpoint, sender: hub, dstEid: 40102, receiver: spoke, message, options })
 */
export async function quoteFee(client: PublicClient, p: QuoteFeeParameters): Promise<LzFee> {
  const receiver = p.receiver.length === 66 ? (p.receiver as Hex) : addressToBytes32(p.receiver as Address)
  try {
    const fee = await client.readContract({
      address: p.endpoint,
      abi: endpointV2Abi,
      functionName: 'quote',
      args: [{ dstEid: p.dstEid, receiver, message: p.message, options: p.options, payInLzToken: p.payInLzToken ?? false }, p.sender],
      ...(p.blockNumber === undefined ? {} : { blockNumber: p.blockNumber }),
    })
    return { nativeFee: fee.nativeFee, lzTokenFee: fee.lzTokenFee }
  } catch (err) {
    throw new FeeQuoteError(p.dstEid, { cause: err })
  }
}
