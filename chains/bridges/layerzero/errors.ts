import { BaseError } from '../../../protocol/errors.js'

/**
 * Errors of the LayerZero V2 adapter. Each names the field or rule that failed and says what to do next.
 */

/** Bytes that are not a LayerZero V2 packet (`PacketV1Codec` layout: 81-byte header, 32-byte GUID, message). */
export class InvalidPacketError extends BaseError {
  override name = 'InvalidPacketError' as const
  constructor(rule: string, params: { cause?: unknown } = {}) {
    super(`Invalid LayerZero packet: ${rule}.`, {
      cause: params.cause,
      metaMessages: ['Pass the `encodedPayload` of an EndpointV2 PacketSent event (version 1 header, GUID, message).'],
    })
  }
}

/** Executor options that cannot be built or decoded (type-3 options, `OptionsBuilder` layout). */
export class InvalidOptionsError extends BaseError {
  override name = 'InvalidOptionsError' as const
  constructor(rule: string, params: { cause?: unknown } = {}) {
    super(`Invalid LayerZero options: ${rule}.`, {
      cause: params.cause,
      metaMessages: ['Build options with lzReceiveOptions(gas, value): type 3, one executor lzReceive option.'],
    })
  }
}

/** An EID that the adapter was not configured with. */
export class UnknownEidError extends BaseError {
  override name = 'UnknownEidError' as const
  readonly eid: number
  constructor(eid: number, known: readonly number[], what = 'endpoint') {
    super(`No ${what} is configured for EID ${eid}.`, { metaMessages: [`Configured EIDs: ${known.join(', ') || 'none'}.`] })
    this.eid = eid
  }
}

/** EndpointV2.quote (or an OApp's quote) failed: no path to the EID, no send library, or the RPC. */
export class FeeQuoteError extends BaseError {
  override name = 'FeeQuoteError' as const
  constructor(dstEid: number, params: { cause?: unknown } = {}) {
    super(`Cannot quote the LayerZero fee to EID ${dstEid}.`, {
      cause: params.cause,
      metaMessages: ['Check that the sender has a peer on that EID and the endpoint a send library for it.'],
    })
  }
}

/**
 * The destination endpoint holds a different payload hash for this packet's (receiver, srcEid, sender, nonce):
 * another packet was verified at that nonce. The relayer never delivers over it.
 */
export class PayloadHashConflictError extends BaseError {
  override name = 'PayloadHashConflictError' as const
  constructor(guid: string, expected: string, actual: string) {
    super(`The destination endpoint holds another payload hash for the nonce of packet ${guid}.`, {
      details: `expected ${expected}, endpoint has ${actual}`,
      metaMessages: ['Another verifier verified a different packet at this nonce: check the DVN configuration of the path.'],
    })
  }
}
