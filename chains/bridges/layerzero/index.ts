/**
 * LayerZero V2 adapter (EVM): executor options and fee quotes, packet decoding (`PacketV1Codec`), GUIDs,
 * endpoint events, the destination endpoint's delivery state, and a GUID tracker from PacketSent to delivery.
 * Built on `@layerzerolabs/lz-v2-utilities` and viem; the EndpointV2 ABI is the packaged artifact's.
 */
export * from './errors.js'
export * from './events.js'
export * from './fees.js'
export * from './options.js'
export * from './packet.js'
export * from './status.js'
export * from './tracker.js'
